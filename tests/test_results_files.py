"""runs.csv written as runs close: every finished run is in it at once, and the session's end reads
nothing back."""

from __future__ import annotations

import csv
import io
import json
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

from rich.console import Console

from interpreter.cli.ui import ConsoleUI
from interpreter.engine import Record
from interpreter.metrics import DEFAULT_SUMMARIZERS, MetricSpec, summarizers
from interpreter.results import FIXED_COLUMNS, ExportContext, Previous, open_exports
from interpreter.session import Session, load_config
from tests.conftest import PERFCHART

DRY_RUN = Path(__file__).resolve().parent.parent / "benchmarks" / "dry_run.yml"


class ResultsFiles:
    """Every registered exporter of a results directory, fed records the way the run ledger closes
    them."""

    def __init__(
        self,
        directory: Path,
        *,
        metrics: list[str] = (),  # type: ignore[assignment]
        previous: Previous | None = None,
    ) -> None:
        specs = [MetricSpec(name, summarizers(DEFAULT_SUMMARIZERS)) for name in metrics]
        self.exports = open_exports(ExportContext(directory, specs, previous=previous))
        self.exports.started({"status": "running"})

    def write_run(self, record: Record) -> None:
        for exporter in self.exports.exporters:
            exporter.finish(record)
        for exporter in self.exports.exporters:
            exporter.closed(record)

    def finish(self, meta: dict[str, Any]) -> None:
        self.exports.finished(meta)


def closed(
    index: int, parameters: dict[str, Any], flags: dict[str, Any] | None = None, **fields: Any
) -> Record:
    """A record as the run ledger closes it."""
    record: Record = {
        "index": index,
        "repetition": 1,
        "policy": "p",
        "run": index,
        "trace": index,
        "parameters": parameters,
        "flags": {"status": "OK", **(flags or {})},
        "start": 10.0 + index,
        "exitcodes": [0],
        "timedout": False,
        "last_stderr": None,
        "status": "OK",
        "ok": True,
        "end": 10.5 + index,
        "duration": 0.5,
    }
    record.update(fields)
    return record


def table(results: Path) -> list[list[str]]:
    with (results / "runs.csv").open(newline="", encoding="utf-8") as handle:
        return list(csv.reader(handle))


def raw(results: Path) -> str:
    """runs.csv as written, line ends included."""
    return (results / "runs.csv").read_bytes().decode("utf-8")


def csv_from_jsonl(results: Path, metrics: list[str]) -> str:
    """runs.csv as the session's end used to write it: runs.jsonl streamed back, columns in order of
    appearance."""
    records = [
        json.loads(line)
        for line in (results / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    parameters = list(dict.fromkeys(name for r in records for name in r["parameters"]))
    flags = list(dict.fromkeys(name for r in records for name in r["flags"] if name != "status"))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        FIXED_COLUMNS + parameters + [f"flag:{f}" for f in flags] + [f"metric:{m}" for m in metrics]
    )
    for r in records:
        row = [r.get(column) for column in FIXED_COLUMNS]
        row[FIXED_COLUMNS.index("exitcodes")] = " ".join(
            str(code) for code in r.get("exitcodes") or ()
        )
        row += [r["parameters"].get(p) for p in parameters] + [r["flags"].get(f) for f in flags]
        row += [(r.get("metrics") or {}).get(m) for m in metrics]
        writer.writerow(row)
    return out.getvalue()


def test_each_run_is_in_runs_csv_as_soon_as_it_closes(tmp_path: Path) -> None:
    files = ResultsFiles(tmp_path / "r", metrics=["latency"])
    assert table(tmp_path / "r") == [FIXED_COLUMNS + ["metric:latency"]]
    for index in range(1, 4):
        files.write_run(closed(index, {"a": index, "b": "x"}, metrics={"latency": index / 4}))
        rows = table(tmp_path / "r")
        assert rows[0] == FIXED_COLUMNS + ["a", "b", "metric:latency"]
        assert [row[0] for row in rows[1:]] == [str(i) for i in range(1, index + 1)]
        assert rows[-1][-3:] == [str(index), "x", str(index / 4)]


def test_a_run_with_known_columns_appends_and_a_new_column_rewrites_the_file(
    tmp_path: Path,
) -> None:
    results = tmp_path / "r"
    files = ResultsFiles(results)
    files.write_run(closed(1, {"a": 1}))
    inode = (results / "runs.csv").stat().st_ino
    files.write_run(closed(2, {"a": 2}))
    assert (results / "runs.csv").stat().st_ino == inode
    files.write_run(closed(3, {"a": 3, "c": "late"}, {"reason": "slow"}))
    assert (results / "runs.csv").stat().st_ino != inode
    rows = table(results)
    assert rows[0][len(FIXED_COLUMNS) :] == ["a", "c", "flag:reason"]
    assert [row[len(FIXED_COLUMNS) :] for row in rows[1:]] == [
        ["1", "", ""],
        ["2", "", ""],
        ["3", "late", "slow"],
    ]
    files.write_run(closed(4, {"a": 4}))
    assert [row[len(FIXED_COLUMNS) :] for row in table(results)[1:]][-1] == ["4", "", ""]
    assert not list(results.glob("*.tmp"))


def test_runs_csv_holds_what_runs_jsonl_holds_cell_for_cell(tmp_path: Path) -> None:
    """Values JSON changes (a tuple, a non-JSON object) are written as runs.jsonl has them, before a
    rewrite and after."""
    results = tmp_path / "r"
    metrics = ["m", "absent"]
    files = ResultsFiles(results, metrics=metrics)
    tricky = [
        closed(
            1,
            {"a": (1, 2), "s": 'quote " comma, new\nline'},
            exitcodes=[0, None],
            metrics={"m": 1.5},
        ),
        closed(
            2,
            {"a": 2.5, "s": "ü"},
            {"detail": {"why": Path("x"), "n": (3,)}},
            status="FAILED",
            ok=False,
            metrics={"m": None},
        ),
        closed(3, {"a": True, "s": None}, exitcodes=[], timedout=True),
        closed(4, {"a": [1, (2, 3)], "s": "z", "late": 1}),
    ]
    for record in tricky:
        files.write_run(record)
        assert raw(results) == csv_from_jsonl(results, metrics)
    files.finish({})
    assert raw(results) == csv_from_jsonl(results, metrics)


def test_finish_completes_runs_csv_without_reading_runs_jsonl(tmp_path: Path) -> None:
    results = tmp_path / "r"
    files = ResultsFiles(results)
    for index in range(1, 6):
        files.write_run(closed(index, {"a": index}))
    # The session's end must not read the runs back: with runs.jsonl gone from the directory, it
    # still completes.
    (results / "runs.jsonl").unlink()
    files.finish({"status": "finished", "runs": 5})
    assert [row[0] for row in table(results)[1:]] == ["1", "2", "3", "4", "5"]
    assert json.loads((results / "meta.json").read_text()) == {"status": "finished", "runs": 5}


def test_a_resumed_session_rewrites_runs_csv_from_the_runs_it_continues_then_appends(
    tmp_path: Path,
) -> None:
    results = tmp_path / "r"
    first = ResultsFiles(results)
    first.write_run(closed(1, {"a": 1}, {"reason": "slow"}))
    first.write_run(closed(2, {"a": 2}, status="interrupted"))
    first.finish({})
    (results / "runs.csv").write_text("left by a crash, half a row\n1,1,p")
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    resumed = ResultsFiles(results, previous=Previous(results, {}, records))
    rows = table(results)
    assert rows[0][len(FIXED_COLUMNS) :] == ["a", "flag:reason"]
    assert [row[0] for row in rows[1:]] == ["1", "2"]
    resumed.write_run(closed(3, {"a": 2}))
    resumed.write_run(closed(4, {"a": 3, "b": 0}))
    resumed.finish({})
    assert raw(results) == csv_from_jsonl(results, [])
    assert [row[len(FIXED_COLUMNS) :] for row in table(results)[1:]] == [
        ["1", "", "slow"],
        ["2", "", ""],
        ["2", "", ""],
        ["3", "0", ""],
    ]


class RowsSeen(ConsoleUI):
    """A terminal UI that, as each run closes, reads runs.csv as another program would."""

    def __init__(self, results: Path) -> None:
        super().__init__(Console(file=io.StringIO()))
        self.results = results
        self.seen: list[list[str]] = []

    def run_closed(self, record: dict[str, Any]) -> None:
        super().run_closed(record)
        self.seen.append([row[0] for row in table(self.results)[1:]])


def test_a_session_has_each_run_in_runs_csv_when_the_run_closes(tmp_path: Path) -> None:
    results = tmp_path / "r"
    ui = RowsSeen(results)
    assert (
        Session(
            load_config(DRY_RUN, {"a": 3, "b": 2}), results_dir=results, dry_run=True, ui=ui
        ).run()
        == 0
    )
    assert ui.seen == [[str(i) for i in range(1, n + 1)] for n in range(1, 7)]


def test_a_killed_session_leaves_a_runs_csv_with_every_run_of_runs_jsonl(tmp_path: Path) -> None:
    results = tmp_path / "r"
    argv = [
        *PERFCHART,
        "run",
        str(DRY_RUN),
        "--dry-run",
        "-q",
        "-D",
        "b=1000",
        "--results",
        str(results),
    ]
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while (
            not (results / "runs.jsonl").exists()
            or (results / "runs.jsonl").stat().st_size < 20_000
        ):
            assert process.poll() is None, "the sweep never wrote 20 kB of runs"
            assert time.monotonic() < deadline, "the sweep never wrote 20 kB of runs"
            time.sleep(0.01)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    lines = (results / "runs.jsonl").read_bytes().split(b"\n")
    recorded = [json.loads(line)["index"] for line in lines[:-1]]
    rows = table(results)
    assert rows[0][len(FIXED_COLUMNS) :] == ["a", "b"]
    indexes = [int(row[0]) for row in rows[1:] if len(row) == len(rows[0])]
    # Every recorded run has its row; at most the one being written when the kill came is in
    # runs.csv alone.
    assert indexes[: len(recorded)] == recorded
    assert len(indexes) - len(recorded) in (0, 1)
