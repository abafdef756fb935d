"""Every catchable signal whose default action kills a process ends a session like SIGTERM: SIGUSR1,
SIGUSR2, SIGALRM, SIGVTALRM, SIGPROF, SIGPWR, SIGXCPU and a real-time signal, sent to a real
``perfchart run`` mid-sweep. Exit 130, ``meta.json`` ``interrupted``, every finished run kept in
``runs.jsonl`` and ``runs.csv``, and no descendant of the command left, not even one that left
its process group. Processes are listed in /proc.
"""

from __future__ import annotations

import csv
import json
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, sweep_config
from tests.test_nothing_survives import living, token, wait_for

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")

__all__ = ["token"]  # the fixture, used by name

#: Runs a=1 and a=2 exit at once; run a=3 starts a descendant under coreutils timeout, one in a
#: session of its own, one that moves to a process group of its own (setpgid), and then sleeps
#: itself, until the signal comes.
COMMAND = (
    '"test {{{{a}}}} -lt 3 && exit 0; timeout 100 sleep {t}1 & setsid -f sleep {t}2; '
    "{python} -c 'import os, sys, time; os.setpgid(0, 0); time.sleep(float(sys.argv[1]))' {t}4 & "
    'exec sleep {t}3"'
)

SIGNALS = {
    name: getattr(signal, name)
    for name in ("SIGUSR1", "SIGUSR2", "SIGALRM", "SIGVTALRM", "SIGPROF", "SIGPWR", "SIGXCPU")
    if hasattr(signal, name)
}
SIGNALS["SIGRTMIN+3"] = signal.SIGRTMIN + 3


@pytest.mark.parametrize("name", SIGNALS)
def test_a_terminating_signal_ends_the_session_cleanly_and_nothing_survives(
    tmp_path: Path, token: str, name: str
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(
        sweep_config(
            COMMAND.format(t=token, python=sys.executable),
            matrix={"a": "{type: discrete, values: [1, 2, 3]}"},
            options={"shell": "yes"},
        )
    )
    results = tmp_path / "r"
    process = subprocess.Popen(
        [*PERFCHART, "run", str(config), "-q", "--results", str(results)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        if not wait_for(lambda: all(living(f"{token}{i}") for i in range(1, 5)), 20):
            pytest.fail(f"the last run's four sleeps never all ran: {living(token)}")
        process.send_signal(SIGNALS[name])
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == 130, stderr.decode()
    # Gone when perfchart exits: the session killed them, not the keeper afterwards.
    assert not living(token), f"survivors: {living(token)}"
    meta = json.loads((results / "meta.json").read_text())
    assert (meta["status"], meta["exit_status"]) == ("interrupted", 130)
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    assert [(r["parameters"]["a"], r["status"]) for r in records[:2]] == [(1, "OK"), (2, "OK")]
    assert len(records) == 3
    assert records[2]["parameters"]["a"] == 3
    assert records[2]["status"] != "OK"
    with (results / "runs.csv").open(newline="") as rows:
        assert len(list(csv.DictReader(rows))) == 3
