"""Nothing a run started survives perfchart: not a descendant that left its process group
(coreutils ``timeout``, ``setsid``, a double fork), not when perfchart is SIGKILLed, not after
SIGHUP or SIGQUIT. Each test lists the processes in /proc, and kills what it finds on the way
out, so a failure leaves nothing behind either.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, sweep_config

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")


def living(token: str) -> list[int]:
    """Pids of the processes (zombies left out) whose command line holds *token*."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                argv = cmdline.read()
            with open(f"/proc/{entry}/stat", "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        if token.encode() in argv and state not in (b"Z", b"X"):
            found.append(int(entry))
    return found


def wait_for(condition: object, seconds: float) -> bool:
    """Poll *condition* (a callable) every 20 ms for at most *seconds*."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return bool(condition())  # type: ignore[operator]


@pytest.fixture
def token() -> Iterator[str]:
    """A number no other process sleeps for; whatever still sleeps for it afterwards is killed."""
    value = f"{100 + secrets.randbelow(10**6) / 10**7:.7f}"
    yield value
    for pid in living(value):
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass


#: A command with three descendants out of its group: one under coreutils timeout, one in a
#: session of its own (setsid -f forks), one double-forked; and one that stays, so the run goes on.
ESCAPES = (
    '"timeout 100 sleep {t}1 & setsid -f sleep {t}2; (setsid sleep {t}3 &); '
    'exec sleep {t}{{{{a}}}}"'
)


def start(tmp_path: Path, token: str) -> subprocess.Popen[bytes]:
    config = tmp_path / "c.yml"
    config.write_text(
        sweep_config(
            ESCAPES.format(t=token),
            matrix={"a": "{type: discrete, values: [4]}"},
            options={"shell": "yes"},
        )
    )
    process = subprocess.Popen(
        [*PERFCHART, "run", str(config), "-q", "--results", str(tmp_path / "r")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    if not wait_for(lambda: all(living(f"{token}{i}") for i in range(1, 5)), 20):
        process.kill()
        process.wait(10)
        pytest.fail(f"the command's four sleeps never all ran: {living(token)}")
    return process


def test_after_sigkill_no_descendant_survives(tmp_path: Path, token: str) -> None:
    process = start(tmp_path, token)
    process.kill()
    process.wait(10)
    assert wait_for(lambda: not living(token), 5), f"survivors: {living(token)}"
    # The keeper that killed them is gone too.
    assert wait_for(lambda: not living(f"keeper.py\0{process.pid}-"), 5)


@pytest.mark.parametrize(
    "sig", [signal.SIGHUP, signal.SIGQUIT, signal.SIGTERM], ids=["SIGHUP", "SIGQUIT", "SIGTERM"]
)
def test_after_a_hangup_or_quit_the_session_ends_cleanly_and_nothing_survives(
    tmp_path: Path, token: str, sig: signal.Signals
) -> None:
    process = start(tmp_path, token)
    process.send_signal(sig)
    try:
        _, stderr = process.communicate(timeout=15)
    finally:
        process.kill()
    assert process.returncode == 130, stderr.decode()
    # Gone when perfchart exits, not later: the keeper is not what ended them.
    assert not living(token), f"survivors: {living(token)}"
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert (meta["status"], meta["exit_status"]) == ("interrupted", 130)
    assert (tmp_path / "r" / "runs.csv").is_file()


def test_a_run_that_leaves_escaped_descendants_is_cleaned_up_when_the_session_ends(
    tmp_path: Path, token: str
) -> None:
    """The command exits at once; what it left in other groups is killed by the session's end."""
    config = tmp_path / "c.yml"
    command = '"timeout 100 sleep {t}1 & setsid -f sleep {t}2; (setsid sleep {t}3 &); : {{{{a}}}}"'
    config.write_text(
        sweep_config(
            command.format(t=token),
            matrix={"a": "{type: discrete, values: [1, 2]}"},
            options={"shell": "yes"},
        )
    )
    done = subprocess.run(
        [*PERFCHART, "run", str(config), "-q", "--results", str(tmp_path / "r")],
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr.decode()
    assert not living(token), f"survivors: {living(token)}"


def test_a_descendant_that_left_its_group_is_still_the_runs_and_its_kill_ends_it(
    token: str,
) -> None:
    """What the next run of a channel does to the previous one: kill() reaches past the group."""
    from sismic.clock import SimulatedClock

    from interpreter.channels.commands import Command
    from interpreter.channels.process import ChildProcess, adopt_orphans
    from interpreter.core import EventBus

    assert adopt_orphans(True)
    try:
        command = Command(args=["sh", "-c", f"setsid -f sleep {token}"])
        process = ChildProcess(command, EventBus(SimulatedClock()), source="test")
        process.start()
        assert process.join(10)
        assert process.returncode == 0
        assert wait_for(lambda: living(token), 5)
        assert process.group_alive()  # its group is empty, but the run is not over
        process.kill()
        assert wait_for(lambda: not living(token), 5), f"survivors: {living(token)}"
        assert wait_for(lambda: not process.group_alive(), 5)
    finally:
        adopt_orphans(False)
