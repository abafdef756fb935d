"""Reading a results directory back: one reader, one set of rules, each problem one line naming its
file."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from interpreter.errors import UsageError
from interpreter.results import SessionReader

RECORDS = [
    {"index": i, "policy": "p", "repetition": 1, "parameters": {"a": i}, "ok": True}
    for i in range(1, 4)
]
SUMMARY = {"metrics": [], "parameters": ["a"], "varied": ["a"], "groups": []}


def lines(records: list[dict]) -> str:
    return "".join(json.dumps(record) + "\n" for record in records)


@pytest.fixture
def session(tmp_path: Path) -> Path:
    directory = tmp_path / "results"
    directory.mkdir()
    (directory / "meta.json").write_text(json.dumps({"status": "finished", "seed": 7}))
    (directory / "runs.jsonl").write_text(lines(RECORDS))
    (directory / "summary.json").write_text(json.dumps(SUMMARY))
    return directory


def error(call) -> str:
    with pytest.raises(UsageError) as raised:
        call()
    return str(raised.value)


# -- the directory and its files --------------------------------------------------


def test_a_missing_directory_is_refused_when_opened(tmp_path: Path) -> None:
    assert (
        error(lambda: SessionReader(tmp_path / "nowhere"))
        == f"{tmp_path / 'nowhere'}: no such results directory"
    )
    (tmp_path / "file").write_text("")
    assert (
        error(lambda: SessionReader(tmp_path / "file"))
        == f"{tmp_path / 'file'}: no such results directory"
    )


def test_meta_summary_and_runs_read_back(session: Path) -> None:
    reader = SessionReader(session)
    assert reader.directory == session
    assert reader.meta == {"status": "finished", "seed": 7}
    assert reader.summary == SUMMARY
    assert list(reader.runs()) == RECORDS


def test_missing_files_are_each_named(tmp_path: Path) -> None:
    reader = SessionReader(tmp_path)
    assert error(lambda: reader.meta) == f"{tmp_path}: no meta.json (not a results directory)"
    assert error(lambda: reader.summary) == f"{tmp_path}: no summary.json (not a results directory)"
    assert (
        error(lambda: list(reader.runs())) == f"{tmp_path}: no runs.jsonl (not a results directory)"
    )
    assert list(reader.runs(missing_ok=True)) == []
    assert reader.visits() == []
    # runs.jsonl without summary.json: a session that never finished, or an older perfchart's.
    (tmp_path / "runs.jsonl").write_text("")
    assert (
        error(lambda: SessionReader(tmp_path).summary)
        == f"{tmp_path}: no summary.json (a results directory from an older perfchart or an "
        "unfinished session)"
    )


def test_unreadable_meta_and_summary_are_named(session: Path) -> None:
    (session / "meta.json").write_text("{not json")
    (session / "summary.json").write_text("[]")
    reader = SessionReader(session)
    assert (
        error(lambda: reader.meta)
        == f"{session / 'meta.json'}: cannot be read: Expecting property name enclosed in double "
        "quotes: line 1 column 2 (char 1)"
    )
    assert error(lambda: reader.summary) == f"{session / 'summary.json'}: not a perfchart summary"
    (session / "meta.json").write_text("[1, 2]")
    assert (
        error(lambda: SessionReader(session).meta)
        == f"{session / 'meta.json'}: not the meta.json of a session"
    )
    (session / "summary.json").unlink()
    (session / "summary.json").mkdir()
    assert (
        error(lambda: SessionReader(session).summary)
        == f"{session}: no summary.json (a results directory from an older perfchart or an "
        "unfinished session)"
    )
    (session / "meta.json").unlink()
    (session / "meta.json").mkdir()
    assert (
        error(lambda: SessionReader(session).meta)
        == f"{session / 'meta.json'}: cannot be read: Is a directory"
    )


def test_meta_and_summary_are_read_once(session: Path) -> None:
    reader = SessionReader(session)
    assert reader.meta["seed"] == 7
    (session / "meta.json").write_text("{}")
    assert reader.meta["seed"] == 7


# -- runs.jsonl: one rule for every command ---------------------------------------


def test_runs_are_streamed(session: Path) -> None:
    """Records come one at a time: a bad line far down is only found when it is reached."""
    with (session / "runs.jsonl").open("a") as jsonl:
        jsonl.write("garbage\n")
    runs = SessionReader(session).runs()
    assert [next(runs) for _ in RECORDS] == RECORDS
    assert error(lambda: next(runs)) == f"{session / 'runs.jsonl'}:4: not a run record"


def test_a_last_line_cut_off_mid_write_is_skipped_with_a_warning_and_left_in_place(
    session: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (session / "runs.jsonl").open("a") as jsonl:
        jsonl.write('{"index": 4, "policy": "p", "par')
    before = (session / "runs.jsonl").read_bytes()
    with caplog.at_level(logging.WARNING, logger="perfchart"):
        assert list(SessionReader(session).runs()) == RECORDS
    assert [r.getMessage() for r in caplog.records] == [
        f"{session / 'runs.jsonl'}: skipping its last line, cut off mid-write (32 bytes)"
    ]
    assert (session / "runs.jsonl").read_bytes() == before


def test_a_last_line_without_its_newline_is_cut_off_even_when_it_parses(
    session: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The newline is written with the record: without it, the record may be missing its end, so it
    is never trusted."""
    (session / "runs.jsonl").write_text(lines(RECORDS[:2]) + json.dumps(RECORDS[2]))
    with caplog.at_level(logging.WARNING, logger="perfchart"):
        assert list(SessionReader(session).runs()) == RECORDS[:2]
    assert "skipping its last line, cut off mid-write" in caplog.text


def test_resuming_truncates_the_cut_off_last_line(
    session: Path, caplog: pytest.LogCaptureFixture
) -> None:
    whole = (session / "runs.jsonl").read_bytes()
    with (session / "runs.jsonl").open("a") as jsonl:
        jsonl.write('{"index": 4')
    with caplog.at_level(logging.WARNING, logger="perfchart"):
        assert list(SessionReader(session).runs(resuming=True)) == RECORDS
    assert [r.getMessage() for r in caplog.records] == [
        f"{session / 'runs.jsonl'}: dropping its last line, cut off mid-write (11 bytes)"
    ]
    assert (session / "runs.jsonl").read_bytes() == whole
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="perfchart"):
        assert list(SessionReader(session).runs(resuming=True)) == RECORDS
    assert caplog.records == []


@pytest.mark.parametrize(
    ("bad", "resuming"),
    [
        ("garbage", False),
        ("", False),
        ("[1, 2]", False),
        ('"a string"', False),
        ("\udcff", False),
        ("garbage", True),
    ],
)
def test_any_other_bad_line_is_refused_with_its_line_number(
    session: Path, bad: str, resuming: bool
) -> None:
    text = lines(RECORDS).splitlines(keepends=True)
    text[1] = bad + "\n"
    (session / "runs.jsonl").write_bytes("".join(text).encode("utf-8", "surrogateescape"))
    before = (session / "runs.jsonl").read_bytes()
    why = "; this file cannot be resumed" if resuming else ""
    assert (
        error(lambda: list(SessionReader(session).runs(resuming=resuming)))
        == f"{session / 'runs.jsonl'}:2: not a run record{why}"
    )
    assert (session / "runs.jsonl").read_bytes() == before


def test_a_bad_line_is_refused_before_a_cut_off_last_line_is_truncated(session: Path) -> None:
    text = lines(RECORDS).splitlines(keepends=True)
    text[0] = "garbage\n"
    (session / "runs.jsonl").write_text("".join(text) + '{"index": 4')
    before = (session / "runs.jsonl").read_bytes()
    assert (
        error(lambda: list(SessionReader(session).runs(resuming=True)))
        == f"{session / 'runs.jsonl'}:1: not a run record; this file cannot be resumed"
    )
    assert (session / "runs.jsonl").read_bytes() == before


def test_an_unreadable_runs_jsonl_is_named(session: Path) -> None:
    (session / "runs.jsonl").unlink()
    (session / "runs.jsonl").mkdir()
    assert (
        error(lambda: list(SessionReader(session).runs()))
        == f"{session / 'runs.jsonl'}: cannot be read: Is a directory"
    )


def test_a_reader_warns_of_a_cut_off_line_once_however_often_it_reads(
    session: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with (session / "runs.jsonl").open("a") as jsonl:
        jsonl.write('{"index": 4')
    reader = SessionReader(session)
    with caplog.at_level(logging.WARNING, logger="perfchart"):
        assert list(reader.runs()) == list(reader.runs()) == RECORDS
    assert len(caplog.records) == 1


# -- visits -----------------------------------------------------------------------


def test_visits_come_in_policy_then_repetition_order(session: Path) -> None:
    for index, repetition in [(1, 2), (0, 2), (1, 1), (0, 1)]:
        (session / f"visits-{index}-p-{repetition}.json").write_text(
            json.dumps({"index": index, "repetition": repetition, "policy": "p"})
        )
    assert [(v["index"], v["repetition"]) for v in SessionReader(session).visits()] == [
        (0, 1),
        (0, 2),
        (1, 1),
        (1, 2),
    ]


def test_an_unreadable_visits_record_is_named(session: Path) -> None:
    (session / "visits-0-p-1.json").write_text("{")
    assert (
        error(lambda: SessionReader(session).visits())
        == f"{session / 'visits-0-p-1.json'}: unreadable visits record (Expecting property name "
        "enclosed in double quotes: line 1 column 2 (char 1))"
    )
    (session / "visits-0-p-1.json").write_text("[]")
    assert (
        error(lambda: SessionReader(session).visits())
        == f"{session / 'visits-0-p-1.json'}: unreadable visits record (not a JSON object)"
    )
