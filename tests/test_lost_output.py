"""Output that goes away never stops the runs nor gives an internal error: ``perfchart run … 2>&1 |
head -n 2`` completes every run, and standard output that is a regular file on a full disk (a
small tmpfs, filled up) is one line and exit 2 for the commands whose output is the point, a
warning and every run for ``run``."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, sweep_config

#: Each run prints more than a pipe holds, so a reader that left is noticed at once.
LOUD = '"seq 1 20000; echo {{a}} >&2"'
RUNS = 20


def test_a_run_piped_into_head_completes_every_run(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(
        sweep_config(
            LOUD, matrix={"a": f"{{type: range, min: 1, max: {RUNS}}}"}, options={"shell": "yes"}
        )
    )
    command = shlex.join([*PERFCHART, "run", "c.yml", "--results", "r", "--progress-interval", "0"])
    done = subprocess.run(
        ["bash", "-c", f"{command} 2>&1 | head -n 2; exit ${{PIPESTATUS[0]}}"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert len(done.stdout.splitlines()) == 2, done.stdout
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert (meta["status"], meta["runs"]) == ("finished", RUNS)
    records = [
        json.loads(line) for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()
    ]
    assert [r["parameters"]["a"] for r in records] == list(range(1, RUNS + 1))
    assert {r["status"] for r in records} == {"OK"}


@pytest.fixture
def full_disk(tmp_path: Path) -> Iterator[Path]:
    """A directory on a 64 KiB tmpfs with no space left; skipped where mounting one is not
    allowed.
    """
    mount = tmp_path / "full"
    mount.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        filler = os.open(mount / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(filler, b"\0" * 4096):
                pass
        except OSError:
            pass
        finally:
            os.close(filler)
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def to_file(full: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    with (full / "out.txt").open("w") as out:
        return subprocess.run(
            [*PERFCHART, *args], stdout=out, stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=120
        )


COMMANDS = {
    "policies": ("policies",),
    "schema": ("schema", "config"),
    "draw-mermaid": ("draw", "simple", "--format", "mermaid"),
    "draw-png": ("draw", "simple", "--format", "png", "-o", "-"),
    "compare": ("compare", "r", "r"),
    "report": ("report", "r", "-o", "-"),
}


@pytest.mark.parametrize("name", COMMANDS)
def test_output_to_a_file_on_a_full_disk_is_one_line_and_exit_2(
    tmp_path: Path, full_disk: Path, name: str
) -> None:
    if name in ("compare", "report"):
        (tmp_path / "c.yml").write_text(sweep_config('"echo {{a}}"'))
        made = subprocess.run(
            [*PERFCHART, "run", "c.yml", "-q", "--results", "r"], cwd=tmp_path, timeout=120
        )
        assert made.returncode == 0
    done = to_file(full_disk, *COMMANDS[name], cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines()[-1] == (
        "perfchart: error: cannot write to standard output: No space left on device"
    )
    assert "internal error" not in done.stderr


@pytest.mark.parametrize("mode", [(), ("--dry-run",)], ids=["real", "dry"])
def test_a_run_with_its_output_on_a_full_disk_completes_every_run(
    tmp_path: Path, full_disk: Path, mode: tuple[str, ...]
) -> None:
    (tmp_path / "c.yml").write_text(
        sweep_config(
            LOUD, matrix={"a": f"{{type: range, min: 1, max: {RUNS}}}"}, options={"shell": "yes"}
        )
    )
    done = to_file(full_disk, "run", "c.yml", "--results", "r", *mode, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "internal error" not in done.stderr
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert (meta["status"], meta["runs"]) == ("finished", RUNS)
    assert os.path.getsize(full_disk / "out.txt") == 0
