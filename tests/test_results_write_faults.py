"""Results files that cannot be written mid-session (a full disk, simulated by a file size limit; a
file deleted; a path taken by a directory): the session ends cleanly with what could be kept, one
line naming the file and exit 2, never an internal error."""

from __future__ import annotations

import json
import resource
import subprocess
import time
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, Perfchart, sweep_config

pytestmark = pytest.mark.slow

#: Without the built-in metrics, so the file that fills up first is runs.jsonl, as named below.
SWEEP = sweep_config('"echo {{a}}"', matrix={"a": "{type: range, min: 1, max: 300, step: 1}"})
SWEEP = "config:\n  builtinMetrics: false\n" + SWEEP


def full_disk_at(size: int) -> None:
    """In the child: any file grows to *size* bytes at most, as on a disk that fills up there
    (Python ignores SIGXFSZ, so the write fails with EFBIG)."""
    resource.setrlimit(resource.RLIMIT_FSIZE, (size, size))


def test_a_disk_that_fills_up_mid_session_ends_it_cleanly(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "c.yml").write_text(SWEEP)
    done = subprocess.run(
        [*PERFCHART, "run", "c.yml", "--dry-run", "-q", "--results", "r"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=lambda: full_disk_at(30_000),
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        "perfchart: error: r/runs.jsonl: cannot write: File too large; the session ends here, "
        "keeping what was written before\n"
    )
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["status"] == "error"
    assert 0 < meta["runs"] < 300
    # What was written stays readable: the report skips the record the full disk cut off.
    report = perfchart("report", str(tmp_path / "r"))
    assert report.returncode == 0, report.stderr
    assert "cut off mid-write" in report.stderr


def test_runs_jsonl_deleted_mid_session_ends_it_naming_the_file(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(
        sweep_config('"sleep 0.05"', matrix={"a": "{type: range, min: 1, max: 100, step: 1}"})
    )
    process = subprocess.Popen(
        [*PERFCHART, "run", "c.yml", "-q", "--results", "r"],
        cwd=tmp_path,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = tmp_path / "r" / "runs.jsonl"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and (not runs.exists() or runs.read_text().count("\n") < 3):
        time.sleep(0.02)
    runs.unlink()
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 2, stderr
    assert stderr == (
        "perfchart: error: r/runs.jsonl: cannot write: it was deleted during the session; the "
        "session ends here, keeping what was written before\n"
    )
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["status"] == "error"
    assert (tmp_path / "r" / "runs.csv").read_text().count("\n") >= 4  # header and three runs


def test_a_file_that_cannot_be_completed_leaves_the_others_complete(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "c.yml").write_text(sweep_config('"echo {{a}}"'))
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "summary.json.tmp").mkdir()  # where the summary is written before its rename
    done = perfchart("run", "c.yml", "--dry-run", "-q", "--results", "r", cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert "cannot write: Is a directory; the session ends here" in done.stderr
    assert "internal error" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["status"] == "finished"
    assert (tmp_path / "r" / "runs.jsonl").read_text().count("\n") == 3
