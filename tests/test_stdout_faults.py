"""Standard output that cannot be written (``> /dev/full``): one clear line and exit 2, never an
internal error; a dry run's plan that cannot be written ends the plan, not the runs."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, sweep_config

FULL = Path("/dev/full")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not FULL.exists(), reason="needs /dev/full"),
]


def to_full(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    with FULL.open("w") as full:
        return subprocess.run(
            [*PERFCHART, *args], stdout=full, stderr=subprocess.PIPE, text=True, cwd=cwd, timeout=60
        )


@pytest.mark.parametrize(
    "args",
    [("policies",), ("schema", "config"), ("draw", "multivariable-explorer", "--format", "dot")],
    ids=["policies", "schema", "draw"],
)
def test_output_to_a_full_device_is_one_line(tmp_path: Path, args: tuple[str, ...]) -> None:
    done = to_full(*args, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr
        == "perfchart: error: cannot write to standard output: No space left on device\n"
    )


def test_a_dry_runs_plan_to_a_full_device_ends_the_plan_not_the_runs(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(
        sweep_config('"echo {{a}}"', matrix={"a": "{type: range, min: 1, max: 300, step: 1}"})
    )
    done = to_full("run", "c.yml", "--dry-run", "--results", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "cannot write to standard output: No space left on device" in done.stderr
    assert "internal error" not in done.stderr
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert (meta["status"], meta["runs"]) == ("finished", 300)


def test_a_real_run_with_stdout_on_a_full_device_finishes(tmp_path: Path) -> None:
    (tmp_path / "c.yml").write_text(sweep_config('"echo {{a}}"'))
    done = to_full("run", "c.yml", "-q", "--results", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert json.loads((tmp_path / "r" / "meta.json").read_text())["status"] == "finished"
