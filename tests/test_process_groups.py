"""Whatever a run started is gone when the run ends and when perfchart exits: process groups, not
pipes."""

from __future__ import annotations

from pathlib import Path

import pytest

from interpreter.channels import ChannelContext, TaskRunner, task_specs
from interpreter.channels.cmdline import CmdlineChannel, CmdlineExitEvent
from interpreter.channels.commands import Command
from interpreter.core import EventBus, LogLineEvent, ParameterUpdateEvent, RunTaskCompletedEvent
from tests.conftest import Perfchart, sweep_config
from tests.harness import Recorder
from tests.test_process import gone, has_exit, launch, lines, wait_gone

#: Every test here waits for process groups to empty: half a second to four each.
pytestmark = pytest.mark.slow

#: A descendant that ignores SIGTERM and detaches from the command's output, then prints its pid.
STUBBORN = "(trap '' TERM; exec sleep 60 </dev/null >/dev/null 2>&1) & echo $!"


def test_a_timeout_kills_a_descendant_that_ignores_sigterm_and_closed_its_output() -> None:
    bus = EventBus()
    launch(bus, Command(STUBBORN + "; sleep 60", shell=True, timeout=0.3), grace=0.3)
    events = Recorder(bus).wait_for(has_exit)
    daemon = int(lines(events)[0])
    assert wait_gone(daemon), (
        "SIGKILL must follow SIGTERM once the leader is reaped and the pipes closed"
    )


def test_the_next_run_of_a_channel_ends_what_the_previous_run_left_running() -> None:
    bus = EventBus()
    recorder = Recorder(bus)
    channel = CmdlineChannel(
        {"cmdline": STUBBORN + " # {{a}}", "shell": True}, ChannelContext(bus, "c", {}, {})
    )
    bus.subscribe(channel.handle, *channel.subscribes)
    try:
        bus.publish(
            ParameterUpdateEvent(parameters={"a": 1}, previous={}, changes={"a": 1}, traceids=[1])
        )
        recorder.wait_for(lambda events: any(isinstance(e, CmdlineExitEvent) for e in events))
        daemon = int(recorder.of(LogLineEvent)[0].line)
        assert not gone(daemon), "a descendant outlives its command until the run is over"
        bus.publish(
            ParameterUpdateEvent(
                parameters={"a": 2}, previous={"a": 1}, changes={"a": 2}, traceids=[2]
            )
        )
        recorder.wait_for(lambda events: len(recorder.of(CmdlineExitEvent)) == 2)
        assert wait_gone(daemon, timeout=5)
        second = int(recorder.of(LogLineEvent)[1].line)
    finally:
        channel.close()
    assert gone(second), "close returns only when every process group is empty"


def test_closing_the_tasks_ends_what_a_finished_task_left_running() -> None:
    bus = EventBus()
    recorder = Recorder(bus)
    tasks = TaskRunner(task_specs([{"at": "setup", "cmdline": STUBBORN, "shell": True}]), bus, {})
    try:
        tasks.run("setup")
        recorder.wait_for(lambda events: any(isinstance(e, RunTaskCompletedEvent) for e in events))
        daemon = int(recorder.of(LogLineEvent)[0].line)
        assert not gone(daemon), "a setup task may leave a server running for the session"
    finally:
        tasks.close()
    assert gone(daemon)


CONFIG = sweep_config(
    "\"(trap '' TERM; exec sleep 60 </dev/null >/dev/null 2>&1) & echo $! > {{pidfile}}; sleep "
    '60 # {{a}}"',
    matrix={"a": "{type: discrete, values: [1]}"},
    options={"shell": "yes", "timeout": "0.3s"},
)


def test_nothing_a_run_started_outlives_perfchart(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CONFIG)
    pidfile = tmp_path / "pid"
    # A real process: what is tested is that its exit leaves nothing behind.
    done = perfchart(
        "run",
        str(config),
        "-q",
        "-D",
        f"pidfile={pidfile}",
        "--results",
        str(tmp_path / "r"),
        timeout=30,
        subprocess=True,
    )
    assert done.returncode == 1, done.stderr
    assert gone(int(pidfile.read_text())), (
        "the last run timed out; its SIGTERM-proof descendant must not survive perfchart"
    )
