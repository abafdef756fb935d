"""The shared ``perfchart`` fixture: in this process it gives what a fresh one gives, and leaves the
process as it found it."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import SIGNALS, CommandTimeout, Perfchart, sweep_config

#: Without the built-in CPU and memory figures, which differ from one run to the next.
CONFIG = sweep_config(
    "\"{{python}} -c 'import sys; sys.exit({{a}} == 2)'\"",
    head="\nconfig:\n  builtinMetrics: false\n",
)


@pytest.mark.parametrize(
    "args",
    [
        ["--version"],
        ["run"],
        ["policies"],
        ["draw", "multivariable-explorer", "--format", "mermaid"],
        ["run", "absent.yml"],
        ["check", "absent.yaml"],
    ],
    ids=["version", "usage", "policies", "draw", "missing-config", "missing-chart"],
)
def test_in_process_and_subprocess_give_the_same_answer(
    perfchart: Perfchart, tmp_path: Path, args: list[str]
) -> None:
    inside = perfchart(*args, cwd=tmp_path)
    outside = perfchart(*args, cwd=tmp_path, subprocess=True)
    assert (inside.returncode, inside.stdout, inside.stderr) == (
        outside.returncode,
        outside.stdout,
        outside.stderr,
    )


@pytest.mark.slow
def test_a_run_in_process_gives_what_a_run_in_a_subprocess_gives(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    answers = []
    for where, subprocess in (("inside", False), ("outside", True)):
        (tmp_path / where).mkdir()
        (tmp_path / where / "c.yml").write_text(CONFIG)
        done = perfchart(
            "run",
            "c.yml",
            "-D",
            f"python={sys.executable}",
            "--results",
            "r",
            cwd=tmp_path / where,
            subprocess=subprocess,
        )
        runs = [
            json.loads(line)["status"]
            for line in (tmp_path / where / "r" / "runs.jsonl").read_text().splitlines()
        ]
        # The same lines, but for the durations the runs took (and the widths they take in the
        # summary, and which set ran fastest).
        summary = re.sub(r"[0-9]+\.[0-9]+", "T", done.stdout).split("Summary")[0]
        answers.append(
            (
                done.returncode,
                re.sub(r"[ ─]+", " ", summary),
                re.sub(r"[0-9.]+ ms", "T", done.stderr),
                runs,
            )
        )
    assert answers[0] == answers[1]
    assert answers[0][0] == 1
    assert answers[0][3] == ["OK", "FAILED", "OK"]
    assert "3 runs, 2 OK, 1 not OK (finished)" in answers[0][1]


def test_an_in_process_run_leaves_signals_logging_cwd_and_environment_as_they_were(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "c.yml").write_text(CONFIG)
    root = logging.getLogger()
    before = (
        {sig: signal.getsignal(sig) for sig in SIGNALS},
        list(root.handlers),
        root.level,
        os.getcwd(),
        dict(os.environ),
        sys.stdout,
        sys.stderr,
    )
    env = {**os.environ, "PERFCHART_TEST_VARIABLE": "1"}
    done = perfchart(
        "run",
        "c.yml",
        "-v",
        "-D",
        f"python={sys.executable}",
        "--results",
        "r",
        cwd=tmp_path,
        env=env,
    )
    assert done.returncode == 1
    assert "DEBUG" in done.stderr
    after = (
        {sig: signal.getsignal(sig) for sig in SIGNALS},
        list(root.handlers),
        root.level,
        os.getcwd(),
        dict(os.environ),
        sys.stdout,
        sys.stderr,
    )
    assert after == before
    assert signal.getsignal(signal.SIGINT) is not signal.SIG_IGN


@pytest.mark.slow
def test_an_in_process_command_is_stopped_at_its_timeout(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "c.yml").write_text(sweep_config('"sleep 30 # {{a}}"', options={"shell": "yes"}))
    started = time.monotonic()
    with pytest.raises(CommandTimeout, match="still running after 0.5s"):
        perfchart("run", "c.yml", "-q", "--results", "r", cwd=tmp_path, timeout=0.5)
    assert time.monotonic() - started < 10


def test_an_exception_main_lets_through_is_a_traceback_and_status_1(
    perfchart: Perfchart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With -v main raises what it did not expect; the interpreter would print the traceback and
    exit 1."""
    import interpreter.cli

    def broken(args: object) -> int:
        raise RuntimeError("broken on purpose")

    monkeypatch.setattr(interpreter.cli, "run", broken)
    (tmp_path / "c.yml").write_text(CONFIG)
    quiet = perfchart("run", str(tmp_path / "c.yml"))
    assert (quiet.returncode, quiet.stderr) == (
        70,
        "perfchart: internal error: RuntimeError: broken on purpose (run with -v for the "
        "traceback)\n",
    )
    verbose = perfchart("run", str(tmp_path / "c.yml"), "-v")
    assert verbose.returncode == 1
    assert verbose.stderr.startswith("Traceback (most recent call last):\n")
    assert verbose.stderr.endswith("RuntimeError: broken on purpose\n")


def test_the_fixture_is_the_helper_tests_import(perfchart: Perfchart) -> None:
    """pytest loaded conftest.py as tests.conftest, the module tests import from: one copy of the
    helper and the configs."""
    from tests import conftest

    assert perfchart is conftest.run_perfchart
