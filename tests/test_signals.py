"""Ctrl-C, once or twice, at any moment, with output to pipes: exit 130 and complete files, never a
lost run."""

from __future__ import annotations

import json
import os
import queue
import random
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, sweep_config

#: Run 1 is quick and OK; run 2 ignores SIGTERM and runs until killed, after writing its pid to a
#: file.
STUBBORN = sweep_config(
    "\"{{python}} -c 'import os, signal, sys, time; signal.signal(signal.SIGTERM, "
    "signal.SIG_IGN); a = {{a}}; a == 1 and sys.exit(0); "
    'open(sys.argv[1], \\"w\\").write(str(os.getpid())); time.sleep(120)\' {{marker}}"',
    matrix={"a": "{type: discrete, values: [1, 2]}"},
)


class Perfchart:
    """``perfchart run`` as a real process with its output to pipes, its stderr read line by
    line."""

    def __init__(self, config: Path, results: Path, *defines: str) -> None:
        args = [
            *PERFCHART,
            "run",
            str(config),
            "--results",
            str(results),
            "-D",
            f"python={sys.executable}",
        ]
        for define in defines:
            args += ["-D", define]
        self.process = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )
        self.results = results
        self.lines: queue.SimpleQueue[str] = queue.SimpleQueue()
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            self.stderr.append(line)
            self.lines.put(line)

    def wait_line(self, text: str, timeout: float = 20) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if text in self.lines.get(timeout=max(0.0, deadline - time.monotonic())):
                    return
            except queue.Empty:
                raise AssertionError(
                    f"no line with {text!r} within {timeout}s: {''.join(self.stderr)}"
                ) from None

    def signal(self, sig: int = signal.SIGINT) -> None:
        os.kill(self.process.pid, sig)

    def wait(self, timeout: float = 20) -> int:
        code = self.process.wait(timeout=timeout)
        self._reader.join(timeout)
        assert self.process.stdout is not None
        self.process.stdout.close()
        return code


def wait_file(path: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not (path.exists() and path.stat().st_size):
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.01)


def assert_complete(
    results: Path, status: str = "interrupted", exit_status: int = 130
) -> list[dict]:
    """meta.json final, every runs.jsonl line a record, runs.csv holding the same runs."""
    meta = json.loads((results / "meta.json").read_text())
    assert (meta["status"], meta["exit_status"]) == (status, exit_status)
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    assert meta["runs"] == len(records)
    assert len((results / "runs.csv").read_text().splitlines()) == len(records) + 1
    return records


def gone(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True


@pytest.fixture
def stubborn(tmp_path: Path) -> Path:
    config = tmp_path / "stubborn.yml"
    config.write_text(STUBBORN)
    return config


def test_a_second_ctrl_c_while_a_command_ignores_sigterm_still_completes_the_files(
    stubborn: Path, tmp_path: Path
) -> None:
    marker = tmp_path / "pid"
    run = Perfchart(stubborn, tmp_path / "r", f"marker={marker}")
    wait_file(marker)
    run.signal()
    run.wait_line("interrupted: ending the policy")
    run.signal()
    started = time.monotonic()
    assert run.wait() == 130, "".join(run.stderr)
    assert time.monotonic() - started < 1.5, "the second Ctrl-C must not wait for the SIGTERM grace"
    stderr = "".join(run.stderr)
    assert "Traceback" not in stderr
    assert "interrupted again" in stderr, stderr
    assert "results:" in stderr, stderr
    records = assert_complete(tmp_path / "r")
    assert [(r["run"], r["status"]) for r in records] == [(1, "OK"), (2, "interrupted")]
    assert gone(int(marker.read_text()))


@pytest.mark.parametrize("gap", [0.02, 0.035, 0.05])
def test_two_ctrl_c_20_to_50_ms_apart_exit_130_cleanly(
    stubborn: Path, tmp_path: Path, gap: float
) -> None:
    marker = tmp_path / "pid"
    run = Perfchart(stubborn, tmp_path / "r", f"marker={marker}")
    wait_file(marker)
    run.signal()
    time.sleep(gap)  # the gap between the two key presses is what is tested
    run.signal()
    assert run.wait() == 130, "".join(run.stderr)
    assert "Traceback" not in "".join(run.stderr)
    assert_complete(tmp_path / "r")
    assert gone(int(marker.read_text()))


def test_sigterm_then_sigint_ends_the_same_way(stubborn: Path, tmp_path: Path) -> None:
    marker = tmp_path / "pid"
    run = Perfchart(stubborn, tmp_path / "r", f"marker={marker}")
    wait_file(marker)
    run.signal(signal.SIGTERM)
    run.wait_line("interrupted: ending the policy")
    run.signal(signal.SIGINT)
    assert run.wait() == 130
    assert_complete(tmp_path / "r")


SWEEP = sweep_config(
    '"sleep 0.0{{a}}"', matrix={"a": "{type: range, min: 1, max: 30}"}, options={"shell": "yes"}
)


@pytest.mark.slow
def test_ctrl_c_at_20_random_moments_of_a_sweep_loses_no_finished_run(tmp_path: Path) -> None:
    config = tmp_path / "sweep.yml"
    config.write_text(SWEEP)
    rng = random.Random(20261130)
    for moment in range(20):
        results = tmp_path / f"r{moment}"
        run = Perfchart(config, results)
        wait_file(results / "meta.json")
        time.sleep(rng.uniform(0.0, 0.6))  # a random moment of the sweep is what is tested
        run.signal()
        if rng.random() < 0.5:
            time.sleep(rng.uniform(0.0, 0.1))
            run.signal()
        code = run.wait()
        assert code in (0, 130), "".join(run.stderr)
        records = assert_complete(
            results, *(("finished", 0) if code == 0 else ("interrupted", 130))
        )
        # Runs are recorded in order, none skipped; only the last may have been cut short.
        assert [r["run"] for r in records] == list(range(1, len(records) + 1))
        assert all(r["status"] == "OK" for r in records[:-1]), records
        assert all(r["status"] in ("OK", "interrupted") for r in records[-1:])
