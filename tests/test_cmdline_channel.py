"""CmdlineChannel driven through a real bus, with real child processes."""

from __future__ import annotations

import json
import signal
import sys
import time
from collections.abc import Mapping
from typing import Any

import pytest

from interpreter.channels import ChannelContext
from interpreter.channels.cmdline import (
    CmdlineChannel,
    CmdlineExitEvent,
    CmdlineExitNonzeroEvent,
    CmdlineExitZeroEvent,
    CmdlineStartedEvent,
    LogLineEvent,
)
from interpreter.config import load_yaml, load_yaml_file
from interpreter.core import Event, EventBus, ParameterUpdateEvent, SessionStartEvent
from interpreter.errors import ConfigError
from interpreter.session.loader import channel_spec
from tests import harness
from tests.harness import py

DEFINITIONS = {"python": sys.executable}


class Recorder(harness.Recorder):
    def exits(self, trace: int | None = None) -> list[Event]:
        return self.of(CmdlineExitEvent, trace)

    def wait_exits(self, count: int = 1, trace: int | None = None) -> list[Event]:
        self.wait_for(lambda _: len(self.exits(trace)) >= count)
        return self.exits(trace)

    def lines(self, trace: int | None = None, stream: str | None = None) -> list[str]:
        return [
            e.line
            for e in self.events
            if isinstance(e, LogLineEvent)
            and (trace is None or trace in e.traceids)
            and stream in (None, e.stream)
        ]


def wait_gone(pid: int, timeout: float = 3.0) -> bool:
    """Whether *pid* ends within *timeout*; a zombie nobody reaped yet counts as gone."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] in ("Z", "X"):
                    return True
        except FileNotFoundError:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.01)


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def make(bus: EventBus):
    """Build channels subscribed the way the session subscribes them; close them after the test."""
    channels: list[CmdlineChannel] = []

    def build(
        config: Mapping[str, Any], name: str = "cmdline", defaults: Mapping[str, Any] | None = None
    ) -> CmdlineChannel:
        CmdlineChannel.check(config)
        channel = CmdlineChannel(config, ChannelContext(bus, name, DEFINITIONS, defaults or {}))
        bus.subscribe(channel.handle, *channel.subscribes)
        channels.append(channel)
        return channel

    yield build
    for channel in channels:
        channel.close()


def update(
    bus: EventBus, trace: int, previous: Mapping[str, Any] | None = None, **changes: Any
) -> None:
    previous = dict(previous or {})
    bus.publish(
        ParameterUpdateEvent(
            parameters={**previous, **changes}, previous=previous, changes=changes, traceids=[trace]
        )
    )


ARGV = py("import json, sys; print(json.dumps(sys.argv[1:]))")


def test_value_with_spaces_stays_one_argument(bus, make) -> None:
    make({"cmdline": ARGV + " --name={{name}} {{name}} 'quoted {{name}}' plain"})
    recorder = Recorder(bus)
    update(bus, 1, name="a b  c")
    recorder.wait_exits()
    assert json.loads(recorder.lines()[0]) == ["--name=a b  c", "a b  c", "quoted a b  c", "plain"]


def test_macro_with_spaces_inside_braces_and_default(bus, make) -> None:
    make({"cmdline": ARGV + " {{ rate }} {{ unit | per second }}"})
    recorder = Recorder(bus)
    update(bus, 1, rate=5)
    recorder.wait_exits()
    assert json.loads(recorder.lines()[0]) == ["5", "per second"]


def test_shell_quotes_every_value(bus, make) -> None:
    make({"cmdline": "printf '%s\\n' {{msg}}; echo second", "shell": True})
    recorder = Recorder(bus)
    update(bus, 1, msg="it's $HOME; echo injected")
    recorder.wait_exits()
    assert recorder.lines() == ["it's $HOME; echo injected", "second"]
    (started,) = [e for e in recorder.events if isinstance(e, CmdlineStartedEvent)]
    assert started.argv[:2] == ["/bin/sh", "-c"]


def test_cwd_env_and_stdin_take_macros(bus, make, tmp_path) -> None:
    (tmp_path / "run-7").mkdir()
    make(
        {
            "cmdline": py(
                "import os, sys; print(os.path.basename(os.getcwd())); "
                "print(os.environ['RATE']); print(sys.stdin.read())"
            ),
            "cwd": str(tmp_path) + "/run-{{run}}",
            "env": {"RATE": "{{rate}}/s"},
            "stdin": "rate={{rate}}",
        }
    )
    recorder = Recorder(bus)
    update(bus, 1, run=7, rate=100)
    recorder.wait_exits()
    assert recorder.lines() == ["run-7", "100/s", "rate=100"]


def test_commands_run_next_to_their_config_file(bus, make, tmp_path) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "show.py").write_text(
        "import os, sys; print(os.path.basename(os.getcwd()), sys.argv[1])\n"
    )
    (tmp_path / "perf.yaml").write_text(
        "channels:\n"
        "  - cmdline: '{{python}} show.py {{x}}'\n"
        "  - cmdline: '{{python}} ../show.py {{x}}'\n"
        "    cwd: data\n"
    )
    for block in load_yaml_file(tmp_path / "perf.yaml")["channels"]:
        make(block)
    recorder = Recorder(bus)
    update(bus, 1, x="ok")
    recorder.wait_exits(count=2)
    assert sorted(recorder.lines()) == sorted([f"{tmp_path.name} ok", "data ok"])
    assert all(e.exitcode == 0 for e in recorder.exits())


def test_exit_classes_codes_and_traces_on_every_event(bus, make) -> None:
    make(
        {
            "cmdline": py(
                "import sys; print('out'); print('err', file=sys.stderr); "
                "sys.exit(int(sys.argv[1]))"
            )
            + " {{code}}"
        },
        name="load",
    )
    recorder = Recorder(bus)
    update(bus, 1, code=0)
    (zero,) = recorder.wait_exits(trace=1)
    update(bus, 2, code=3)
    (nonzero,) = recorder.wait_exits(trace=2)
    assert type(zero) is CmdlineExitZeroEvent
    assert zero.exitcode == 0
    assert not zero.timedout
    assert type(nonzero) is CmdlineExitNonzeroEvent
    assert nonzero.exitcode == 3
    assert "CmdlineExitEvent" in nonzero.names
    own = [e for e in recorder.events if not isinstance(e, ParameterUpdateEvent)]
    assert {type(e) for e in own} == {
        CmdlineStartedEvent,
        LogLineEvent,
        CmdlineExitZeroEvent,
        CmdlineExitNonzeroEvent,
    }
    assert all(len(e.traceids) == 1 and e.source == "load" for e in own)
    assert sorted(recorder.lines(trace=2)) == ["err", "out"]
    started = [e for e in own if isinstance(e, CmdlineStartedEvent)]
    assert [e.traceids for e in started] == [{1}, {2}]
    assert all(isinstance(e.pid, int) and e.argv[0] == sys.executable for e in started)


def test_run_events_are_ordered_started_lines_exit(bus, make) -> None:
    make({"cmdline": py("for i in range(200): print(i)") + " {{x}}"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_exits()
    own = [
        e for e in recorder.events if 1 in e.traceids and not isinstance(e, ParameterUpdateEvent)
    ]
    assert isinstance(own[0], CmdlineStartedEvent)
    assert isinstance(own[-1], CmdlineExitEvent)
    assert recorder.lines() == [str(i) for i in range(200)]


def test_timeout_kills_and_reports_timedout(bus, make) -> None:
    make({"cmdline": py("import time; time.sleep(30)") + " {{x}}", "timeout": "200ms"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    (exit_event,) = recorder.wait_exits()
    assert type(exit_event) is CmdlineExitNonzeroEvent
    assert exit_event.timedout
    assert exit_event.exitcode == -signal.SIGTERM


SLEEPER = (
    py("import sys, time; print('up', flush=True); time.sleep(float(sys.argv[1]))")
    + " {{duration}}"
)


def test_new_update_kills_the_run_it_supersedes(bus, make) -> None:
    make({"cmdline": SLEEPER})
    recorder = Recorder(bus)
    update(bus, 1, duration=30)
    recorder.wait_for(lambda _: recorder.lines(trace=1) == ["up"])
    update(bus, 2, {"duration": 30}, duration=0)
    recorder.wait_exits(trace=2)
    (old,) = recorder.exits(trace=1)
    assert old.exitcode == -signal.SIGTERM
    assert not old.timedout
    assert old.traceids == {1}
    order = [
        (type(e), e.traceids)
        for e in recorder.events
        if isinstance(e, (CmdlineStartedEvent, CmdlineExitEvent))
    ]
    assert order == [
        (CmdlineStartedEvent, {1}),
        (CmdlineExitNonzeroEvent, {1}),
        (CmdlineStartedEvent, {2}),
        (CmdlineExitZeroEvent, {2}),
    ]


def test_updates_in_a_burst_run_only_the_last(bus, make) -> None:
    channel = make({"cmdline": SLEEPER})
    recorder = Recorder(bus)
    for trace in (1, 2, 3):
        channel.handle(
            ParameterUpdateEvent(
                parameters={"duration": 0}, previous={}, changes={"duration": 0}, traceids=[trace]
            )
        )
    recorder.wait_exits(trace=3)
    started = [e.traceids for e in recorder.events if isinstance(e, CmdlineStartedEvent)]
    assert started[0] == {1}
    assert started[-1] == {3}
    assert {2} not in started


def test_update_of_an_unused_parameter_runs_nothing(bus, make) -> None:
    make({"cmdline": ARGV + " {{rate}}"})
    recorder = Recorder(bus)
    update(bus, 1, threads=4)
    update(bus, 2, {"threads": 4}, rate=10)
    recorder.wait_exits(trace=2)
    assert not [
        e for e in recorder.events if 1 in e.traceids and not isinstance(e, ParameterUpdateEvent)
    ]
    assert json.loads(recorder.lines()[0]) == ["10"]


def test_atstart_uses_defaults_and_no_trace(bus, make) -> None:
    make({"cmdline": ARGV + " {{rate}}", "atstart": True}, defaults={"rate": 5})
    recorder = Recorder(bus)
    bus.publish(SessionStartEvent())
    recorder.wait_exits()
    assert json.loads(recorder.lines()[0]) == ["5"]
    assert all(not e.traceids for e in recorder.events)


def test_without_atstart_session_start_runs_nothing(bus, make) -> None:
    make({"cmdline": ARGV + " {{rate}}"}, defaults={"rate": 5})
    recorder = Recorder(bus)
    bus.publish(SessionStartEvent())
    update(bus, 1, rate=6)
    recorder.wait_exits()
    assert json.loads(recorder.lines()[0]) == ["6"]
    assert all(
        1 in e.traceids
        for e in recorder.events
        if not isinstance(e, (SessionStartEvent, ParameterUpdateEvent))
    )


@pytest.mark.parametrize("key", ["restart", "relaunch"])
def test_restart_relaunches_with_same_values_and_trace(bus, make, key, tmp_path) -> None:
    runs = tmp_path / "runs"
    make(
        {
            "cmdline": py("import sys; open(sys.argv[1], 'a').write('x'); print(sys.argv[2])")
            + f" {runs} {{{{rate}}}}",
            key: True,
        }
    )
    recorder = Recorder(bus)
    update(bus, 1, rate=9)
    exits = recorder.wait_exits(count=2)
    assert all(e.traceids == {1} and e.exitcode == 0 for e in exits)
    assert recorder.lines()[:2] == ["9", "9"]
    assert len(runs.read_text()) >= 2


def test_no_restart_after_a_kill_or_at_session_end(bus, make) -> None:
    channel = make({"cmdline": SLEEPER, "restart": True})
    recorder = Recorder(bus)
    update(bus, 1, duration=30)
    recorder.wait_for(lambda _: recorder.lines() == ["up"])
    channel.close()
    recorder.wait_exits()
    update(bus, 2, duration=0)
    bus.dispatch(0.0)
    assert len([e for e in recorder.events if isinstance(e, CmdlineStartedEvent)]) == 1
    assert recorder.exits()[0].exitcode == -signal.SIGTERM


def test_close_kills_the_process_group_and_reports_exit(bus, make) -> None:
    code = (
        "import subprocess, sys, time\np = subprocess.Popen(['sleep', '30'])\n"
        "print(p.pid, flush=True)\ntime.sleep(30)"
    )
    channel = make({"cmdline": py(code) + " {{x}}"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_for(lambda _: bool(recorder.lines()))
    grandchild = int(recorder.lines()[0])
    channel.close()
    bus.dispatch(0.0)
    (exit_event,) = recorder.exits()
    assert exit_event.traceids == {1}
    assert wait_gone(grandchild)


def test_unlaunchable_command_is_an_exit_127(bus, make, tmp_path) -> None:
    make({"cmdline": f"{tmp_path}/missing {{{{x}}}}", "restart": True})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    (exit_event,) = recorder.wait_exits()
    assert type(exit_event) is CmdlineExitNonzeroEvent
    assert exit_event.exitcode == 127
    assert "missing" in recorder.lines(stream="stderr")[0]


def test_missing_macro_at_run_time_raises_config_error(bus, make) -> None:
    channel = make({"cmdline": "echo {{rate}} {{other}}"})
    with pytest.raises(ConfigError, match=r"\{\{other\}\} has no value") as info:
        channel.handle(
            ParameterUpdateEvent(parameters={"rate": 1}, previous={}, changes={"rate": 1})
        )
    assert info.value.key == "cmdline"


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("shell: yes", "cmdline", "missing: the command to run"),
        ("cmdline: [a, b]", "cmdline", "expected the command to run as a non-empty string"),
        ("cmdline: a\ntimeout: soon", "timeout", "expected a duration such as 10s"),
        ("cmdline: a\ntimeout: 0s", "timeout", "expected a positive duration"),
        ("cmdline: a\nshell: maybe", "shell", "shell 'maybe' is not found on PATH"),
        ("cmdline: a\nrestart: 1", "restart", "expected yes or no"),
        ("cmdline: a\nenv: [A]", "env", "expected a mapping"),
        ("cmdline: a\nenv:\n  A: null", "env.A", "expected a string or a number"),
        ("cmdline: a\ncwd: 3", "cwd", "expected a string"),
        ("cmdline: a 'b", "cmdline", "cannot split into arguments"),
        ("cmdline: a\nrestart: yes\nrelaunch: yes", "relaunch", "give only restart"),
    ],
)
def test_config_errors_name_the_key(bus, text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        CmdlineChannel.check(load_yaml(text, "perf.yaml"))
    assert info.value.key == key
    assert message in info.value.message
    assert str(info.value).startswith("perf.yaml:")


def test_unknown_key_is_named_with_a_hint_at_load() -> None:
    with pytest.raises(ConfigError) as info:
        channel_spec(0, load_yaml("class: cmdline\ncmdline: a\ncmd_line: b", "perf.yaml"))
    assert info.value.key == "cmd_line"
    assert info.value.message.startswith("unknown key 'cmd_line' (did you mean cmdline?")
    assert str(info.value).startswith("perf.yaml:3:")


def test_config_errors_without_yaml_still_name_the_key(bus) -> None:
    with pytest.raises(ConfigError) as info:
        CmdlineChannel.check({"cmdline": "a", "timeout": "x"})
    assert str(info.value).startswith("timeout: ")


def test_class_key_and_shell_without_split_are_accepted(bus) -> None:
    channel = CmdlineChannel(
        {"class": "channel.CmdlineChannel", "cmdline": "echo 'unbalanced", "shell": True},
        ChannelContext(bus, "cmdline", {}, {}),
    )
    assert channel.command.macros == frozenset()
