"""A parameter value is data: wherever a macro stands in a command line, no value runs as shell
code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.channels import ChannelContext, TaskRunner, task_specs
from interpreter.channels.cmdline import CmdlineChannel, CmdlineExitEvent
from interpreter.channels.commands import Command, CommandTemplate
from interpreter.config import load_yaml
from interpreter.core import EventBus, LogLineEvent, ParameterUpdateEvent, RunTaskCompletedEvent
from interpreter.errors import ConfigError
from tests.harness import Recorder

HOSTILE = [
    "$(touch pwned)",
    "`touch pwned`",
    "'; touch pwned; '",
    '"; touch pwned; "',
    "' \"$(touch pwned)\" '",
    "\\'$(touch pwned)\\'",
    "a\nb; touch pwned",
    "$HOME ${PATH} $((1+1))",
    "x' && touch pwned && echo 'y",
    "*",
    "",
    "-n",
]

#: One placement per quoting context a macro can stand in; each prints the value alone on its line.
PLACEMENTS = [
    "printf '%s\\n' {{v}}",
    "printf '%s\\n' '{{v}}'",
    "printf '%s\\n' \"{{v}}\"",
    "printf '%s\\n' \"$(printf '%s' '{{v}}')\"",
    "printf '%s\\n' \"$(printf '%s' \"{{v}}\")\"",
    "printf '%s\\n' \"`printf '%s' \"{{v}}\"`\"",
    "printf '%s\\n' 'pre {{v}} post'",
    "printf '%s\\n' \"pre {{v}} post\"",
    "printf '%s\\n' pre{{v}}post",
    "v='{{v}}'; printf '%s\\n' \"$v\"",
]

EXPECTED = {
    "printf '%s\\n' 'pre {{v}} post'": "pre {} post",
    "printf '%s\\n' \"pre {{v}} post\"": "pre {} post",
    "printf '%s\\n' pre{{v}}post": "pre{}post",
}


def run(command: Command, cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run a rendered command exactly as a ChildProcess does: its argv and its environment added."""
    done = subprocess.run(
        command.argv,
        cwd=cwd,
        env={"PATH": "/usr/bin:/bin", **command.env},
        capture_output=True,
        timeout=10,
    )
    return subprocess.CompletedProcess(
        done.args, done.returncode, done.stdout.decode(), done.stderr.decode()
    )


@pytest.mark.parametrize("placement", PLACEMENTS)
@pytest.mark.parametrize("value", HOSTILE)
def test_no_value_runs_as_shell_code_wherever_its_macro_stands(
    placement: str, value: str, tmp_path: Path
) -> None:
    done = run(
        CommandTemplate({"cmdline": placement, "shell": True}).render({"v": value}), tmp_path
    )
    assert not (tmp_path / "pwned").exists()
    assert done.returncode == 0, done.stderr
    assert done.stdout == EXPECTED.get(placement, "{}").format(value) + "\n"


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(
    value=st.text(
        alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="\x00"),
        max_size=40,
    )
)
def test_any_text_is_printed_back_unchanged(
    value: str, tmp_path_factory: pytest.TempPathFactory
) -> None:
    cwd = tmp_path_factory.mktemp("fuzz")
    for placement in ("printf '%s' {{v}}", "printf '%s' '{{v}}'", "printf '%s' \"{{v}}\""):
        done = run(CommandTemplate({"cmdline": placement, "shell": True}).render({"v": value}), cwd)
        assert done.stdout == value
        assert list(cwd.iterdir()) == []


def test_the_script_holds_no_value_only_quoted_references() -> None:
    command = CommandTemplate({"cmdline": "echo {{v}} '{{v}}' \"{{w|d}}\"", "shell": True}).render(
        {"v": "$(x)"}
    )
    assert command.args == 'echo "${PERFCHART_v}" \'\'"${PERFCHART_v}"\'\' "${PERFCHART_w}"'
    assert command.env == {"PERFCHART_v": "$(x)", "PERFCHART_w": "d"}


def test_a_macro_in_a_here_document_is_refused_at_load() -> None:
    block = load_yaml('cmdline: "cat <<EOF\\n{{v}}\\nEOF"\nshell: yes\n', "c.yml")
    with pytest.raises(
        ConfigError,
        match=r"c.yml:1: cmdline: macro \{\{v\}\} is in a here-document.*stdin: or env:",
    ):
        CommandTemplate(block)


def test_the_channel_and_tasks_run_hostile_values_as_data(tmp_path: Path) -> None:
    bus = EventBus()
    recorder = Recorder(bus)
    value = "'$(touch pwned)'`touch pwned`\"; touch pwned"
    block = {"cmdline": "echo '{{v}}' \"{{v}}\"", "shell": True, "cwd": str(tmp_path)}
    channel = CmdlineChannel(block, ChannelContext(bus, "c", {}, {}))
    bus.subscribe(channel.handle, *channel.subscribes)
    tasks = TaskRunner(task_specs([{"at": "setup", **block}]), bus, {"v": value})
    try:
        bus.publish(
            ParameterUpdateEvent(
                parameters={"v": value}, previous={}, changes={"v": value}, traceids=[1]
            )
        )
        recorder.wait_for(lambda events: any(isinstance(e, CmdlineExitEvent) for e in events))
        tasks.run("setup")
        recorder.wait_for(lambda events: any(isinstance(e, RunTaskCompletedEvent) for e in events))
    finally:
        channel.close()
        tasks.close()
    assert [e.line for e in recorder.of(LogLineEvent)] == [f"{value} {value}"] * 2
    assert not (tmp_path / "pwned").exists()


def test_without_shell_a_value_is_one_argument_whatever_it_holds(tmp_path: Path) -> None:
    command = CommandTemplate(
        {"cmdline": f"{sys.executable} -c 'import sys; print(sys.argv[1:])' '{{{{v}}}}' {{{{v}}}}"}
    ).render({"v": "$(touch pwned) ' \""})
    done = run(command, tmp_path)
    assert done.stdout == repr(["$(touch pwned) ' \""] * 2) + "\n"
    assert not (tmp_path / "pwned").exists()


def test_a_nul_byte_in_a_value_fails_the_run_not_perfchart(tmp_path: Path) -> None:
    bus = EventBus()
    recorder = Recorder(bus)
    channel = CmdlineChannel(
        {"cmdline": "echo {{v}}", "shell": True}, ChannelContext(bus, "c", {}, {})
    )
    bus.subscribe(channel.handle, *channel.subscribes)
    try:
        bus.publish(
            ParameterUpdateEvent(
                parameters={"v": "a\x00b"}, previous={}, changes={"v": "a\x00b"}, traceids=[1]
            )
        )
        events = recorder.wait_for(
            lambda events: any(isinstance(e, CmdlineExitEvent) for e in events)
        )
    finally:
        channel.close()
    assert [e.exitcode for e in events if isinstance(e, CmdlineExitEvent)] == [127]
    assert "null byte" in recorder.of(LogLineEvent)[0].line
