"""A command started on the session thread is waited for by that thread, with real children.

The session thread is the bus's owner; its commands' pidfd and pipes join the
``poll`` in which it waits for the next event, so no other thread runs for
them, and a run's exit is stamped when it was noticed.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from interpreter.channels import process as process_module
from interpreter.channels.commands import Command
from interpreter.channels.process import ChildProcess
from interpreter.core import Event, EventBus, LogLineEvent
from tests.harness import OpenEvent, Recorder

PY = sys.executable

pytestmark = pytest.mark.skipif(
    not hasattr(os, "pidfd_open"), reason="the session thread waits itself only with pidfds"
)


@pytest.fixture
def bus() -> EventBus:
    """A bus whose owner is this thread, as the event loop makes it on the wall clock."""
    bus = EventBus()
    bus.owner = threading.get_ident()
    return bus


def launch(bus: EventBus, command: Command, **kwargs: object) -> tuple[ChildProcess, list[str]]:
    """Start *command*; its exit is published as an OpenEvent; the list gets the name of the
    thread the exit callback ran on.
    """
    threads: list[str] = []

    def exited(process: ChildProcess) -> None:
        threads.append(threading.current_thread().name)
        bus.publish(OpenEvent(exitcode=process.returncode, timedout=process.timedout))

    process = ChildProcess(command, bus, source="test", on_exit=exited, **kwargs)  # type: ignore[arg-type]
    process.start()
    return process, threads


def has_exit(events: list[Event]) -> bool:
    return any(type(e) is OpenEvent for e in events)


def lines(events: list[Event], stream: str) -> list[str]:
    return [e.line for e in events if isinstance(e, LogLineEvent) and e.stream == stream]


def test_the_exit_is_handled_on_the_starting_thread_after_all_the_output(bus: EventBus) -> None:
    code = "import sys\nfor i in range(3000): print(i)\nprint('e', file=sys.stderr)\nsys.exit(3)"
    process, threads = launch(bus, Command([PY, "-c", code]))
    events = Recorder(bus).wait_for(has_exit, timeout=30)
    assert threads == [threading.current_thread().name]
    exit_index = next(i for i, e in enumerate(events) if type(e) is OpenEvent)
    assert lines(events[:exit_index], "stdout") == [str(i) for i in range(3000)]
    assert lines(events[:exit_index], "stderr") == ["e"]
    assert events[exit_index].exitcode == 3
    assert process.rusage is not None
    assert process.rusage.ru_utime > 0


def test_the_watcher_thread_watches_none_of_them(bus: EventBus) -> None:
    process, _ = launch(bus, Command(["sleep", "30"]))
    try:
        watcher = process_module._watcher
        assert watcher is not None
        registered = {key.fd for key in watcher._selector.get_map().values()}
        assert registered == {watcher._wake_read}
        assert process._fds
        assert process._fds <= set(bus._watched)
    finally:
        process.kill()
        assert process.join(timeout=30)
    assert not bus._watched


def test_a_child_started_on_another_thread_is_the_watchers(bus: EventBus) -> None:
    started: list[tuple[ChildProcess, list[str]]] = []
    thread = threading.Thread(target=lambda: started.append(launch(bus, Command(["true"]))))
    thread.start()
    thread.join()
    process, threads = started[0]
    assert process.join(timeout=30)
    assert threads == ["perfchart:children"]


def test_join_on_the_owner_thread_waits_without_dispatching(bus: EventBus) -> None:
    process, threads = launch(bus, Command([PY, "-c", "print('x' * 100000)"]))
    assert process.join(timeout=30)
    assert process.returncode == 0
    assert threads == [threading.current_thread().name]
    queued = []
    bus.subscribe(queued.append)
    bus.dispatch(0.0)
    assert "".join(lines(queued, "stdout")) == "x" * 100000


def test_stdin_is_fed_by_the_session_thread(bus: EventBus) -> None:
    text = "".join(f"{i}\n" for i in range(50000))
    code = "import sys\nprint(sum(int(line) for line in sys.stdin))"
    launch(bus, Command([PY, "-c", code], stdin=text))
    events = Recorder(bus).wait_for(has_exit, timeout=30)
    assert lines(events, "stdout") == [str(sum(range(50000)))]


def test_a_timeout_kills_a_child_the_session_thread_waits_for(bus: EventBus) -> None:
    process, _ = launch(bus, Command(["sleep", "30"], timeout=0.2))
    events = Recorder(bus).wait_for(has_exit, timeout=30)
    exit_event = next(e for e in events if type(e) is OpenEvent)
    assert exit_event.timedout
    assert exit_event.exitcode == -signal.SIGTERM
    assert process.duration is not None
    assert process.duration < 10


def test_a_daemon_holding_the_output_does_not_hold_the_exit(bus: EventBus) -> None:
    process, _ = launch(bus, Command("sleep 30 & echo $!", shell=True), drain_grace=0.2)
    try:
        events = Recorder(bus).wait_for(has_exit, timeout=30)
        daemon = int(lines(events, "stdout")[0])
        assert process.returncode == 0
        assert process.group_alive(0.0), "the daemon is still in the run's process group"
    finally:
        os.kill(daemon, signal.SIGKILL)
    process.kill()


def test_an_event_from_another_thread_ends_the_wait(bus: EventBus) -> None:
    process, _ = launch(bus, Command(["sleep", "30"]))
    try:
        recorder = Recorder(bus)
        threading.Timer(0.05, lambda: bus.publish(Event())).start()
        events = recorder.wait_for(lambda events: any(type(e) is Event for e in events), 20)
        assert not has_exit(events)
    finally:
        process.kill()
        assert process.join(timeout=30)


def test_the_exit_is_stamped_when_it_was_noticed(bus: EventBus, tmp_path: Path) -> None:
    """The child writes the time of its last instruction; the exit's stamp follows it closely,
    and comes before the output was handed over.
    """
    stamp = tmp_path / "end"
    end = f"pathlib.Path({str(stamp)!r}).write_text(repr(time.time()))"
    code = f"import time, pathlib\nprint('x')\n{end}"
    process, _ = launch(bus, Command([PY, "-c", code]))
    Recorder(bus).wait_for(has_exit, timeout=30)
    assert process.exited_at is not None
    assert process.ended_at is not None
    ended = float(stamp.read_text())
    assert 0.0 <= process.exited_at - ended < 5.0
    assert process.exited_at <= bus.clock.time


#: Run in a fresh interpreter, whose only children are the ones it starts: this one's other
#: tests leave children of their own about.
LOOKS = """
import os, signal, threading
from interpreter.channels import process as process_module
from interpreter.channels.commands import Command
from interpreter.channels.process import ChildProcess, adopt_orphans
from interpreter.core import EventBus

looks = []
real = process_module.marked
process_module.marked = lambda *a, **k: looks.append(1) or real(*a, **k)
bus = EventBus()
bus.owner = threading.get_ident()
assert adopt_orphans(True)


def run():
    process = ChildProcess(Command(["true"]), bus, source="test")
    process.start()
    assert process.join(timeout=30)
    assert not process.group_alive(0.0)


run()
print(len(looks))
stray = os.spawnv(os.P_NOWAIT, "/bin/sleep", ["sleep", "30"])
run()
print(len(looks))
os.kill(stray, signal.SIGKILL)
os.waitpid(stray, 0)
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/task"), reason="needs Linux's /proc")
def test_an_empty_group_is_not_looked_for_in_proc() -> None:
    """Once the group is empty and no child is unaccounted for, /proc is not searched; a child
    nobody accounts for makes the search necessary again.
    """
    done = subprocess.run([PY, "-c", LOOKS], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    before, after = map(int, done.stdout.split())
    assert before == 0
    assert after > 0


def test_a_session_waits_for_its_commands_on_its_own_thread(tmp_path: Path) -> None:
    """A real session: every exit callback of a run of the command channel runs on the session
    thread, and each run's recorded end is its exit, not later than the session saw it.
    """
    from interpreter.session import Session, load_config

    config = tmp_path / "c.yml"
    config.write_text(
        "policies:\n"
        "  - class: multivariable-explorer\n"
        "    matrix: {i: {type: range, min: 1, max: 5}}\n"
        "    events: {signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}}\n"
        "channels:\n"
        "  - class: cmdline\n"
        f"    cmdline: {PY} -c 'import time; print(repr(time.time()))' {{{{i}}}}\n"
    )
    threads: set[int] = set()
    real = ChildProcess._finish

    def finish(self: ChildProcess) -> None:
        threads.add(threading.get_ident())
        real(self)

    ChildProcess._finish = finish  # type: ignore[method-assign]
    try:
        Session(load_config(config), results_dir=tmp_path / "r").run()
    finally:
        ChildProcess._finish = real  # type: ignore[method-assign]
    assert threads == {threading.get_ident()}
    import json

    records = [
        json.loads(line) for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()
    ]
    printed = [
        float(line.split(" stdout: ")[1])
        for line in (tmp_path / "r" / "output.log").read_text().splitlines()
        if " stdout: " in line
    ]
    assert len(records) == len(printed) == 5
    for record, last in zip(records, printed, strict=True):
        assert record["start"] <= last <= record["end"]
        assert record["duration"] == pytest.approx(record["end"] - record["start"], abs=1e-5)
    assert time.time() >= records[-1]["end"]


@pytest.mark.skipif(not os.path.isdir("/proc/self/fd"), reason="needs Linux's /proc")
def test_a_bus_that_watched_leaves_no_descriptor_behind() -> None:
    """Each session's bus makes a wake-up pipe once it watches; it is closed with the bus."""
    before = len(os.listdir("/proc/self/fd"))
    for _ in range(20):
        bus = EventBus()
        bus.owner = threading.get_ident()
        process, _ = launch(bus, Command(["true"]))
        assert process.join(timeout=30)
        del bus, process
    import gc

    gc.collect()
    assert len(os.listdir("/proc/self/fd")) <= before
