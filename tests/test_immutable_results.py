"""A results directory made immutable mid-session (``chattr +i``, which stops root too) ends the
session with one line naming the file that could not be written and exit 2, never an internal
error; what was written before is kept, and resumed once the directory can be written again."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, sweep_config

RUNS = 10


@pytest.fixture
def results(tmp_path: Path) -> Iterator[Path]:
    """Where the session writes; made mutable again afterwards so that it can be removed."""
    path = tmp_path / "r"
    probe = tmp_path / "probe"
    probe.mkdir()
    if (
        shutil.which("chattr") is None
        or subprocess.run(["chattr", "+i", str(probe)], capture_output=True).returncode
    ):
        pytest.skip("chattr +i is not available on this file system")
    subprocess.run(["chattr", "-i", str(probe)], check=True)
    yield path
    subprocess.run(["chattr", "-R", "-i", str(path)], capture_output=True)


def wait_for_runs(path: Path, count: int, seconds: float) -> bool:
    """Whether ``runs.jsonl`` under *path* holds *count* records within *seconds*."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if len((path / "runs.jsonl").read_text().splitlines()) >= count:
                return True
        except OSError:
            pass
        time.sleep(0.02)
    return False


@pytest.mark.parametrize("what", ["directory", "every-file"])
def test_results_made_immutable_mid_session_end_it_with_one_line(
    tmp_path: Path, results: Path, what: str
) -> None:
    (tmp_path / "c.yml").write_text(
        sweep_config('"sleep 0.2"', matrix={"a": f"{{type: range, min: 1, max: {RUNS}}}"})
    )
    process = subprocess.Popen(
        [*PERFCHART, "run", "c.yml", "-q", "--results", str(results)],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert wait_for_runs(results, 2, 30), "the first two runs never closed"
        flags = ["-R", "+i"] if what == "every-file" else ["+i"]
        subprocess.run(["chattr", *flags, str(results)], check=True)
        _, stderr = process.communicate(timeout=60)
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == 2, stderr
    (line,) = stderr.splitlines()
    assert line.startswith(f"perfchart: error: {results}/"), line
    assert "cannot write: Operation not permitted; the session ends here" in line
    records = [json.loads(text) for text in (results / "runs.jsonl").read_text().splitlines()]
    assert len(records) >= 2
    assert [r["parameters"]["a"] for r in records] == list(range(1, len(records) + 1))
    # What was kept is a session to resume once the directory can be written again.
    subprocess.run(["chattr", "-R", "-i", str(results)], check=True)
    resumed = subprocess.run(
        [*PERFCHART, "run", "c.yml", "-q", "--resume", str(results)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr
    records = [json.loads(text) for text in (results / "runs.jsonl").read_text().splitlines()]
    assert sorted(r["parameters"]["a"] for r in records) == list(range(1, RUNS + 1))
    assert json.loads((results / "meta.json").read_text())["status"] == "finished"
