"""ChildProcess against real children: output, exit, timeouts and process groups."""

from __future__ import annotations

import os
import selectors
import signal
import sys
import threading
import time

import pytest

from interpreter.channels import process as process_module
from interpreter.channels.commands import Command
from interpreter.channels.process import MAX_LINE, ChildProcess, stop_all
from interpreter.core import Event, EventBus, LogLineEvent
from tests.harness import OpenEvent, Recorder

PY = sys.executable


def is_exit(event: Event) -> bool:
    return type(event) is OpenEvent and hasattr(event, "exitcode")


def has_exit(events: list[Event]) -> bool:
    return any(is_exit(e) for e in events)


def launch(bus: EventBus, command: Command, **kwargs) -> ChildProcess:
    """Start *command*; its exit is published as a bare Event carrying ``exitcode``."""
    process = ChildProcess(
        command,
        bus,
        source=kwargs.pop("source", "test"),
        on_exit=lambda p: bus.publish(
            OpenEvent(exitcode=p.returncode, timedout=p.timedout, traceids=p.traceids)
        ),
        **kwargs,
    )
    process.start()
    return process


def lines(events: list[Event], stream: str | None = None) -> list[str]:
    return [e.line for e in events if isinstance(e, LogLineEvent) and stream in (None, e.stream)]


def gone(pid: int) -> bool:
    """The process no longer runs; a zombie nobody reaped yet counts as gone."""
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except FileNotFoundError:
        return True
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        return False


def wait_gone(pid: int, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if gone(pid):
            return True
        time.sleep(0.01)
    return gone(pid)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


def test_lines_in_order_with_streams_and_none_after_exit(bus: EventBus) -> None:
    code = (
        "import sys\nfor i in range(300):\n    print(i)\nprint('oops', file=sys.stderr)\n"
        "print('tail', end='')"
    )
    process = launch(bus, Command([PY, "-c", code]), source="load")
    events = Recorder(bus).wait_for(has_exit)
    assert process.join(timeout=5)
    bus.dispatch(0.0)
    exit_index = next(i for i, e in enumerate(events) if is_exit(e))
    assert all(not isinstance(e, LogLineEvent) for e in events[exit_index + 1 :])
    assert lines(events, "stdout") == [str(i) for i in range(300)] + ["tail"]
    assert lines(events, "stderr") == ["oops"]
    assert {e.source for e in events if isinstance(e, LogLineEvent)} == {"load"}
    assert events[exit_index].exitcode == 0


def test_traceids_on_every_event_and_exit_code(bus: EventBus) -> None:
    launch(bus, Command([PY, "-c", "print('a'); raise SystemExit(3)"]), traceids=[7, 9])
    events = Recorder(bus).wait_for(has_exit)
    assert events
    assert all(e.traceids == {7, 9} for e in events)
    assert [e.exitcode for e in events if is_exit(e)] == [3]


def test_undecodable_output_and_crlf(bus: EventBus) -> None:
    code = "import sys; sys.stdout.buffer.write(b'caf\\xe9\\r\\nok\\n')"
    launch(bus, Command([PY, "-c", code]))
    events = Recorder(bus).wait_for(has_exit)
    assert lines(events) == ["caf\ufffd", "ok"]


def test_cwd_env_and_stdin(bus: EventBus, tmp_path) -> None:
    code = (
        "import os, sys; print(os.getcwd()); print(os.environ['PERF_RATE']); "
        "print(sys.stdin.read().upper())"
    )
    launch(
        bus, Command([PY, "-c", code], cwd=str(tmp_path), env={"PERF_RATE": "42"}, stdin="hello")
    )
    events = Recorder(bus).wait_for(has_exit)
    assert lines(events) == [os.path.realpath(tmp_path), "42", "HELLO"]


def test_without_stdin_the_child_reads_nothing(bus: EventBus) -> None:
    launch(bus, Command([PY, "-c", "import sys; print(repr(sys.stdin.read()))"]))
    events = Recorder(bus).wait_for(has_exit)
    assert lines(events) == ["''"]


def test_shell_command(bus: EventBus) -> None:
    launch(bus, Command("echo one; echo two >&2; exit 4", shell=True))
    events = Recorder(bus).wait_for(has_exit)
    assert lines(events, "stdout") == ["one"]
    assert lines(events, "stderr") == ["two"]
    assert [e.exitcode for e in events if is_exit(e)] == [4]


GRANDCHILD = (
    "import subprocess, sys, time\np = subprocess.Popen(['sleep', '30'])\n"
    "print(p.pid, flush=True)\ntime.sleep(30)"
)


def test_timeout_kills_the_whole_process_group(bus: EventBus) -> None:
    started = time.monotonic()
    process = launch(bus, Command([PY, "-c", GRANDCHILD], timeout=0.3))
    events = Recorder(bus).wait_for(has_exit)
    grandchild = int(lines(events)[0])
    (exit_event,) = [e for e in events if is_exit(e)]
    assert exit_event.timedout
    assert process.timedout
    assert exit_event.exitcode == -signal.SIGTERM
    assert time.monotonic() - started < 3
    assert wait_gone(grandchild)


def test_kill_stops_the_whole_process_group(bus: EventBus) -> None:
    recorder = Recorder(bus)
    process = launch(bus, Command([PY, "-c", GRANDCHILD]))
    recorder.wait_for(lambda events: bool(lines(events)))
    grandchild = int(lines(recorder.events)[0])
    process.kill()
    assert process.join(timeout=5)
    events = recorder.wait_for(has_exit)
    assert process.killed
    assert not process.timedout
    assert [e.exitcode for e in events if is_exit(e)] == [-signal.SIGTERM]
    assert wait_gone(grandchild)


def test_sigterm_ignored_is_followed_by_sigkill(bus: EventBus) -> None:
    code = (
        "import signal, time\nsignal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        "print('ready', flush=True)\ntime.sleep(30)"
    )
    recorder = Recorder(bus)
    process = launch(bus, Command([PY, "-c", code]), grace=0.2)
    recorder.wait_for(lambda events: bool(lines(events)))
    process.kill()
    events = recorder.wait_for(has_exit)
    assert [e.exitcode for e in events if is_exit(e)] == [-signal.SIGKILL]


def test_background_descendant_holding_output_does_not_delay_exit(bus: EventBus) -> None:
    process = launch(bus, Command("sleep 30 & echo $!", shell=True), drain_grace=0.2)
    events = Recorder(bus).wait_for(has_exit, timeout=3)
    daemon = int(lines(events)[0])
    try:
        assert process.returncode == 0
        assert not gone(daemon), "a descendant left behind on purpose is not killed"
    finally:
        os.kill(daemon, signal.SIGKILL)


def test_command_that_cannot_run_reports_exit_127(bus: EventBus, tmp_path) -> None:
    process = launch(bus, Command([str(tmp_path / "no-such-program")]), traceids=[1])
    events = Recorder(bus).wait_for(has_exit)
    assert [e.exitcode for e in events if is_exit(e)] == [127]
    assert "no-such-program" in lines(events, "stderr")[0]
    assert isinstance(process.error, FileNotFoundError)
    assert all(e.traceids == {1} for e in events)


def test_kill_after_exit_and_join_are_harmless(bus: EventBus) -> None:
    process = launch(bus, Command([PY, "-c", "pass"]))
    assert process.join(timeout=5)
    process.kill()
    assert process.finished
    assert not process.killed
    assert process.returncode == 0


def test_a_long_line_arrives_in_pieces_of_max_line(bus: EventBus) -> None:
    code = f"import sys; sys.stdout.write('x' * {2 * MAX_LINE + 10} + '\\n' + 'end')"
    launch(bus, Command([PY, "-c", code]))
    events = Recorder(bus).wait_for(has_exit)
    assert [len(line) for line in lines(events)] == [MAX_LINE, MAX_LINE, 10, 3]


def test_stdin_larger_than_a_pipe_is_fed_whole(bus: EventBus) -> None:
    text = "y" * (1 << 20)
    launch(bus, Command([PY, "-c", "import sys; print(len(sys.stdin.read()))"], stdin=text))
    events = Recorder(bus).wait_for(has_exit)
    assert lines(events) == [str(len(text))]


def test_a_command_that_exits_without_reading_its_stdin_is_not_an_error(bus: EventBus) -> None:
    launch(bus, Command([PY, "-c", "print('done')"], stdin="z" * (1 << 20)))
    events = Recorder(bus).wait_for(has_exit)
    assert lines(events) == ["done"]
    assert [e.exitcode for e in events if is_exit(e)] == [0]


def test_children_share_one_watcher_thread(bus: EventBus) -> None:
    launch(bus, Command([PY, "-c", "pass"])).join(timeout=5)
    before = threading.active_count()
    processes = [launch(bus, Command(["sleep", "30"])) for _ in range(10)]
    try:
        assert threading.active_count() == before
    finally:
        stop_all(processes, grace=0.5)
    assert all(p.finished and p.killed for p in processes)


def test_without_pidfd_or_epoll_the_exit_still_follows_the_output(
    bus: EventBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    """As on a system without Linux's pidfd and epoll: a thread waits for the exit, the watcher is
    woken to watch."""
    monkeypatch.setattr(process_module, "_pidfd", lambda pid: None)
    monkeypatch.setattr(
        process_module, "_watcher", process_module._Watcher(selectors.PollSelector())
    )
    launch(bus, Command([PY, "-c", "for i in range(200): print(i)\nraise SystemExit(5)"]))
    events = Recorder(bus).wait_for(has_exit)
    exit_index = next(i for i, e in enumerate(events) if is_exit(e))
    assert lines(events[:exit_index]) == [str(i) for i in range(200)]
    assert events[exit_index].exitcode == 5


def test_a_failing_exit_callback_leaves_the_other_children_watched(
    bus: EventBus, caplog: pytest.LogCaptureFixture
) -> None:
    def fail(process: ChildProcess) -> None:
        raise RuntimeError("broken callback")

    broken = ChildProcess(Command([PY, "-c", "pass"]), bus, source="broken", on_exit=fail)
    with caplog.at_level("ERROR", logger="perfchart"):
        broken.start()
        assert broken.join(timeout=5)
        launch(bus, Command([PY, "-c", "raise SystemExit(2)"]))
        events = Recorder(bus).wait_for(has_exit)
    assert [e.exitcode for e in events if is_exit(e)] == [2]
    assert "broken callback" in caplog.text


def test_command_shape_is_checked() -> None:
    with pytest.raises(TypeError):
        Command(["echo", "x"], shell=True)
    with pytest.raises(TypeError):
        Command("echo x")
    assert Command("echo x", shell=True).argv == ["/bin/sh", "-c", "echo x"]
