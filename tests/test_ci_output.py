"""``perfchart run`` in CI: no terminal, pipes for stdout and stderr, a reader that may leave.

Progress comes as plain lines, a run each (at most one every
``--progress-interval`` seconds) while the session runs; the summary is on
stdout; ``-q`` still says where the results are; ``--export-markdown`` and
``GITHUB_STEP_SUMMARY`` get the summary as Markdown; and ``| head -1``
leaves the session to finish every run and complete its files.
"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, Perfchart, environ, sweep_config

ROOT = Path(__file__).resolve().parent.parent
#: Four runs of about a fifth of a second; a=3 fails.
CONFIG = sweep_config(
    "\"{{python}} -c 'import sys, time; time.sleep(0.2); sys.exit({{a}} == 3)' {{a}}\"",
    matrix={"a": "{type: discrete, values: [1, 2, 3, 4]}"},
)
# The tests read the layout of the summary, not the command's built-in metrics.
CONFIG = "config:\n  builtinMetrics: false\n" + CONFIG
PROGRESS = re.compile(
    r"^\[(\d+)/4\] multivariable-explorer #1: run (\d+) (OK|FAILED) in [0-9.]+ ms"
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "ci.yml"
    path.write_text(CONFIG)
    return path


def meta(results: Path) -> dict[str, object]:
    loaded: dict[str, object] = json.loads((results / "meta.json").read_text())
    return loaded


def records(results: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_with_pipes_a_progress_line_per_run_comes_while_the_session_runs(
    config: Path, tmp_path: Path
) -> None:
    process = subprocess.Popen(
        [*PERFCHART, "run", str(config), "-D", f"python={sys.executable}"]
        + ["--results", str(tmp_path / "r"), "--progress-interval", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environ(PYTHONPATH=str(ROOT)),
    )
    assert process.stderr is not None
    assert process.stdout is not None
    summary = tmp_path / "r" / "summary.json"  # written when the last run has closed
    seen: list[tuple[str, bool]] = []  # each line, and whether the session was still running
    for line in process.stderr:
        seen.append((line.rstrip("\n"), process.poll() is None and not summary.exists()))
    stdout = process.stdout.read()
    assert process.wait(timeout=60) == 1  # a=3 failed
    progress = [(PROGRESS.match(line), running) for line, running in seen if PROGRESS.match(line)]
    assert [(m[1], m[2], m[3]) for m, _ in progress if m] == [
        ("1", "1", "OK"),
        ("2", "2", "OK"),
        ("3", "3", "FAILED"),
        ("4", "4", "OK"),
    ], seen
    # The first three came before the session wrote its summary: a CI log is not silent.
    assert all(running for _, running in progress[:3]), seen
    assert "4 runs, 3 OK, 1 not OK (finished)" in stdout
    assert "metrics per parameter set" in stdout
    assert "runs," not in "".join(line for line, _ in seen)
    assert f"results: {tmp_path / 'r'}" in [line for line, _ in seen]


@pytest.mark.slow
def test_progress_lines_come_at_most_every_interval(
    perfchart: Perfchart, config: Path, tmp_path: Path
) -> None:
    done = perfchart(
        "run",
        str(config),
        "-D",
        f"python={sys.executable}",
        "--results",
        str(tmp_path / "r"),
        "--progress-interval",
        "3600",
    )
    assert done.returncode == 1, done.stderr
    lines = [line for line in done.stderr.splitlines() if line.startswith("[")]
    assert [line[:5] for line in lines] == ["[1/4]"], done.stderr


@pytest.mark.slow
@pytest.mark.parametrize("both", [True, False], ids=["2>&1 | head -1", "| head -1"])
def test_a_reader_that_leaves_does_not_end_the_session(
    config: Path, tmp_path: Path, both: bool
) -> None:
    command = shlex.join(
        [*PERFCHART, "run", str(config), "-D", f"python={sys.executable}"]
        + ["--results", str(tmp_path / "r"), "--progress-interval", "0"]
    )
    pipe = f"{command} 2>&1 | head -1" if both else f"{command} | head -1"
    done = subprocess.run(
        ["sh", "-c", pipe],
        capture_output=True,
        text=True,
        timeout=60,
        env=environ(PYTHONPATH=str(ROOT)),
    )
    assert done.stdout.count("\n") == 1, done.stdout
    # head left after its line; the session went on to the last run and completed its files.
    deadline = time.monotonic() + 30
    while meta(tmp_path / "r").get("status") is None and time.monotonic() < deadline:
        time.sleep(0.1)
    document = meta(tmp_path / "r")
    assert (document["status"], document["runs"], document["ok"]) == ("finished", 4, 3)
    assert [r["status"] for r in records(tmp_path / "r")] == ["OK", "OK", "FAILED", "OK"]
    assert (tmp_path / "r" / "summary.json").exists()
    assert "Traceback" not in done.stderr, done.stderr


@pytest.mark.slow
def test_quiet_still_says_where_the_results_are(
    perfchart: Perfchart, config: Path, tmp_path: Path
) -> None:
    done = perfchart(
        "run", str(config), "-D", f"python={sys.executable}", "--results", str(tmp_path / "r"), "-q"
    )
    assert (done.returncode, done.stdout, done.stderr) == (1, f"results: {tmp_path / 'r'}\n", "")


@pytest.mark.slow
@pytest.mark.parametrize("quiet", [False, True], ids=["summary", "quiet"])
def test_the_markdown_summary_goes_to_the_file_and_to_githubs_job_summary(
    perfchart: Perfchart, config: Path, tmp_path: Path, quiet: bool
) -> None:
    step = tmp_path / "step-summary.md"
    step.write_text("## an earlier step\n")
    done = perfchart(
        "run",
        str(config),
        "-D",
        f"python={sys.executable}",
        "--results",
        str(tmp_path / "r"),
        "--export-markdown",
        str(tmp_path / "summary.md"),
        *(["-q"] if quiet else []),
        env=environ(GITHUB_STEP_SUMMARY=str(step)),
    )
    assert done.returncode == 1, done.stderr
    text = (tmp_path / "summary.md").read_text()
    assert step.read_text() == "## an earlier step\n" + text + "\n"  # appended, not replaced
    lines = text.splitlines()
    assert lines[0] == "### perfchart: 4 runs, 3 OK, 1 not OK (finished)"
    status_rows = [line for line in lines if re.match(r"\| (OK|FAILED) \|", line)]
    assert [row.split(" | ")[:2] for row in status_rows] == [["| FAILED", "1"], ["| OK", "3"]]
    assert "| parameters | runs | duration |" in lines
    sets = [line for line in lines if line.startswith("| a=")]
    assert [row.split(" | ")[0] for row in sets] == ["| a=1", "| a=2", "| a=3", "| a=4"]
    for row in sets:
        assert re.search(r"\| 1 \| [0-9.]+ ms<br>[0-9.]+ ms … [0-9.]+ ms \|$", row), row
    assert re.search(r"^`a=\d` ran [0-9.]+ times faster than `a=\d`$", text, re.MULTILINE), text
    assert lines[-1] == f"results: `{tmp_path / 'r'}`"


@pytest.mark.slow
def test_no_github_summary_without_the_variable(
    perfchart: Perfchart, config: Path, tmp_path: Path
) -> None:
    env = environ()
    env.pop("GITHUB_STEP_SUMMARY", None)
    done = perfchart(
        "run",
        str(config),
        "-D",
        f"python={sys.executable}",
        "--results",
        str(tmp_path / "r"),
        env=env,
    )
    assert done.returncode == 1, done.stderr
    assert list(tmp_path.glob("*.md")) == []


@pytest.mark.slow
def test_the_readme_ci_command_runs_as_written(perfchart: Perfchart, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    (line,) = [
        line.split("#")[0].split()
        for line in readme.splitlines()
        if line.startswith("perfchart run examples/sweep.yml -q --export-markdown")
    ]
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = perfchart(*line[1:], cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (results,) = (tmp_path / "perfchart-results").iterdir()
    assert done.stdout == f"results: {Path('perfchart-results') / results.name}\n"
    text = (tmp_path / "summary.md").read_text()
    assert text.startswith("### perfchart: 18 runs, 18 OK, 0 not OK (finished)\n")
    assert (
        "| parameters | runs | hash_time | throughput | cpu_user | cpu_system | max_rss "
        "| duration |" in text
    )
