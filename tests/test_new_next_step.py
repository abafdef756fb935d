"""``perfchart new NAME``: the next step it prints works as printed, or it says what to install."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_printed_next_step_passes_as_printed(perfchart: Perfchart, tmp_path: Path) -> None:
    done = perfchart("new", "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    step = next(line for line in done.stderr.splitlines() if line.startswith("next: "))
    command = step.removeprefix("next: ")
    # The interpreter perfchart ran in is the one the step names (``python`` when that is it).
    assert "-m pytest demo" in command
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{Path(sys.executable).parent}:"
           + os.environ.get("PATH", "")}  # fmt: skip
    ran = subprocess.run(
        ["sh", "-c", command], cwd=tmp_path, capture_output=True, text=True, env=env, timeout=120
    )
    assert ran.returncode == 0, ran.stdout + ran.stderr
    assert " passed" in ran.stdout, ran.stdout
    assert "failed" not in ran.stdout, ran.stdout


def test_without_pytest_it_says_what_to_install(
    perfchart: Perfchart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pytest" else found(name, *a)
    )
    done = perfchart("new", "demo", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    step = next(line for line in done.stderr.splitlines() if line.startswith("next: "))
    assert "install pytest first (pip install pytest, or pip install -e '.[test]'" in step
    assert step.endswith("-m pytest demo")
