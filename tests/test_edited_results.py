"""A results directory edited by hand or damaged: ``--resume``, ``report``, ``compare`` and ``draw
--run`` refuse it with one line naming the file, the line and the first bad key, exit 2; never an
internal error (exit 70)."""

from __future__ import annotations

import json
import math
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import Perfchart, sweep_config

CONFIG = sweep_config('"echo {{a}}"', matrix={"a": "{type: discrete, values: [1, 2]}"})


@pytest.fixture(scope="module")
def finished(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real session of two runs: its config is ``c.yml`` beside its results ``good/``."""
    from tests.conftest import run_perfchart

    root = tmp_path_factory.mktemp("session")
    (root / "c.yml").write_text(CONFIG)
    done = run_perfchart("run", str(root / "c.yml"), "--results", str(root / "good"), "-q")
    assert done.returncode == 0, done.stderr
    return root / "good"


def commands(directory: Path, good: Path) -> dict[str, list[str]]:
    """Each command that reads a results directory back, on *directory*."""
    return {
        "resume": ["run", str(good.parent / "c.yml"), "--resume", str(directory), "-q", "--force"],
        "report": ["report", str(directory), "-o", str(directory / "report.html")],
        "compare": ["compare", str(good), str(directory)],
        "draw": [
            "draw",
            "--run",
            str(directory),
            "--format",
            "dot",
            "-o",
            str(directory / "x.dot"),
        ],
    }


Edit = Callable[[Any], None]


def json_edit(name: str, change: Edit, line: int = 0) -> Callable[[Path], None]:
    """Change one JSON document of a results directory (one line of runs.jsonl) in place."""

    def edit(directory: Path) -> None:
        path = directory / name
        if name == "runs.jsonl":
            lines = path.read_text().splitlines()
            record = json.loads(lines[line])
            change(record)
            lines[line] = json.dumps(record)
            path.write_text("\n".join(lines) + "\n")
        else:
            for each in directory.glob(name):
                document = json.loads(each.read_text())
                change(document)
                each.write_text(json.dumps(document))

    return edit


def put(key: str, value: Any) -> Edit:
    return lambda document: document.__setitem__(key, value)


def mean_of_first_group(value: Any) -> Edit:
    return lambda summary: summary["groups"][0]["metrics"]["duration"].__setitem__("mean", value)


#: (edit, the commands that read what it changes, the file named, the message after it)
CASES: dict[str, tuple[Callable[[Path], None], str, str, str]] = {
    "meta-policies-a-number": (
        json_edit("meta.json", put("policies", 1)),
        "resume report compare",
        "meta.json",
        "policies: expected a list, got an integer 1",
    ),
    "meta-resumes-a-number": (
        json_edit("meta.json", put("resumes", 1)),
        "resume report compare",
        "meta.json",
        "resumes: expected a list, got an integer 1",
    ),
    "meta-definitions-a-list": (
        json_edit("meta.json", put("definitions", [])),
        "resume report compare",
        "meta.json",
        "definitions: expected a mapping, got a list",
    ),
    "repetition-x": (
        json_edit("runs.jsonl", put("repetition", "x")),
        "resume report compare",
        "runs.jsonl:1",
        "repetition: expected an integer or null, got a string 'x'",
    ),
    "index-infinity": (
        json_edit("runs.jsonl", put("index", math.inf)),
        "resume report compare",
        "runs.jsonl:1",
        "index: expected an integer or null, got inf",
    ),
    "trace-nan": (
        json_edit("runs.jsonl", put("trace", math.nan), line=1),
        "resume report compare",
        "runs.jsonl:2",
        "trace: expected an integer or null, got nan",
    ),
    "parameters-a-list": (
        json_edit("runs.jsonl", put("parameters", [1])),
        "resume report compare",
        "runs.jsonl:1",
        "parameters: expected a mapping, got a list",
    ),
    "no-parameters": (
        json_edit("runs.jsonl", lambda record: record.pop("parameters")),
        "resume report compare",
        "runs.jsonl:1",
        "parameters: expected a mapping (it is missing)",
    ),
    "exitcodes-a-number": (
        json_edit("runs.jsonl", put("exitcodes", 1)),
        "resume report compare",
        "runs.jsonl:1",
        "exitcodes: expected a list, got an integer 1",
    ),
    "summary-holding-strings": (
        json_edit("summary.json", mean_of_first_group("fast")),
        "report compare",
        "summary.json",
        "groups[0].metrics.duration.mean: expected a finite number or null, got a string 'fast'",
    ),
    "summary-groups-a-number": (
        json_edit("summary.json", put("groups", 1)),
        "report compare",
        "summary.json",
        "groups: expected a list, got an integer 1",
    ),
    "visits-states-a-number": (
        json_edit("visits-*.json", put("states", 1)),
        "draw",
        "visits-0-multivariable-explorer-1.json",
        "states: expected a mapping, got an integer 1",
    ),
    "visits-index-x": (
        json_edit("visits-*.json", put("index", "x")),
        "draw",
        "visits-0-multivariable-explorer-1.json",
        "index: expected an integer or null, got a string 'x'",
    ),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES)
def test_an_edited_results_directory_is_one_line_naming_the_bad_key(
    perfchart: Perfchart, finished: Path, tmp_path: Path, case: str
) -> None:
    edit, readers, name, message = CASES[case]
    for command in readers.split():
        directory = tmp_path / command
        shutil.copytree(finished, directory)
        edit(directory)
        done = perfchart(*commands(directory, finished)[command])
        assert done.returncode == 2, (command, done.stderr)
        why = "; this file cannot be resumed" if command == "resume" and ":" in name else ""
        assert done.stderr.strip().splitlines()[-1] == (
            f"perfchart: error: {directory / name}: {message}{why}"
        ), command


@pytest.mark.slow
@pytest.mark.parametrize("command", ["resume", "report", "compare"])
def test_invalid_utf8_in_runs_jsonl_is_named_by_its_line(
    perfchart: Perfchart, finished: Path, tmp_path: Path, command: str
) -> None:
    directory = tmp_path / "bad"
    shutil.copytree(finished, directory)
    runs = directory / "runs.jsonl"
    first, rest = runs.read_bytes().split(b"\n", 1)
    runs.write_bytes(first + b"\n" + b'{"policy": "\xff\xfe"}\n' + rest)
    done = perfchart(*commands(directory, finished)[command])
    assert done.returncode == 2, done.stderr
    assert f"{runs}:2: not a run record" in done.stderr


# -- generated edits: any JSON value at any key of any results file -------------------------

VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats()
    | st.text(max_size=5)
    | st.sampled_from([math.inf, -math.inf, math.nan, "x", 10**30]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner),
    max_leaves=6,
)


def keys_of(document: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path to a value in *document*."""
    found = [prefix] if prefix else []
    items = (
        document.items()
        if isinstance(document, dict)
        else enumerate(document)
        if isinstance(document, list)
        else ()
    )
    for key, value in items:
        found.extend(keys_of(value, (*prefix, key)))
    return found


@pytest.mark.slow
@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_edit_of_a_results_file_gives_an_answer_or_one_line(
    finished: Path, tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    from tests.conftest import run_perfchart

    directory = tmp_path_factory.mktemp("edited") / "r"
    shutil.copytree(finished, directory)
    name = data.draw(
        st.sampled_from(["meta.json", "summary.json", "runs.jsonl", "visits-*.json"]), "file"
    )
    line = data.draw(st.integers(0, 1), "line")
    path = next(directory.glob(name)) if "*" in name else directory / name
    documents = (
        [json.loads(text) for text in path.read_text().splitlines()]
        if name == "runs.jsonl"
        else [json.loads(path.read_text())]
    )
    document = documents[line if name == "runs.jsonl" else 0]
    key = data.draw(st.sampled_from(keys_of(document)), "key")
    value = data.draw(VALUES, "value")
    parent = document
    for part in key[:-1]:
        parent = parent[part]
    if data.draw(st.booleans(), "delete") and isinstance(parent, dict):
        del parent[key[-1]]
    else:
        parent[key[-1]] = value
    text = "".join(json.dumps(each) + "\n" for each in documents)
    path.write_text(text if name == "runs.jsonl" else text.strip())
    command = data.draw(st.sampled_from(["resume", "report", "compare", "draw"]), "command")
    done = run_perfchart(*commands(directory, finished)[command], timeout=60)
    assert done.returncode in (0, 1, 2), (command, key, value, done.stderr)
    assert "internal error" not in done.stderr
    assert "Traceback" not in done.stderr
