"""TaskRunner with real commands: ordering, completion, macros and config errors."""

from __future__ import annotations

import signal
import sys
import time

import pytest

from interpreter.channels import TaskRunner, task_specs
from interpreter.config import load_yaml, load_yaml_file
from interpreter.core import Event, EventBus, LogLineEvent, RunTaskCompletedEvent
from interpreter.errors import ConfigError
from tests import harness
from tests.harness import py

DEFINITIONS = {"python": sys.executable}


class Recorder(harness.Recorder):
    def completed(self, task: str | None = None) -> list[Event]:
        return [e for e in self.of(RunTaskCompletedEvent) if task in (None, e.task)]

    def wait_completed(self, task: str) -> Event:
        self.wait_for(lambda _: bool(self.completed(task)))
        return self.completed(task)[0]

    def lines(self) -> list[str]:
        return [e.line for e in self.events if isinstance(e, LogLineEvent)]


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def runners():
    made: list[TaskRunner] = []

    def build(entries, bus: EventBus, definitions=DEFINITIONS) -> TaskRunner:
        runner = TaskRunner(task_specs(entries), bus, definitions)
        made.append(runner)
        return runner

    yield build
    for runner in made:
        runner.close()


def test_entries_run_in_config_order_and_complete_once(bus, runners) -> None:
    entries = [
        {"at": "setup", "cmdline": py("import time; time.sleep(0.1); print('first')")},
        {"at": "teardown", "cmdline": py("print('not now')")},
        {"name": "seed-db", "at": "setup", "cmdline": py("print('second'); raise SystemExit(3)")},
        {"at": "setup", "cmdline": "echo third", "shell": True},
    ]
    runner = runners(entries, bus)
    recorder = Recorder(bus)
    runner.run("setup", traceids=[5])
    done = recorder.wait_completed("setup")
    assert recorder.lines() == ["first", "second", "third"]
    assert done.exitcodes == [0, 3, 0]
    assert all(e.traceids == {5} for e in recorder.events)
    assert {e.source for e in recorder.events if isinstance(e, LogLineEvent)} == {"task:setup"}
    assert recorder.events[-1] is done


def test_task_selected_by_name(bus, runners) -> None:
    runner = runners(
        [{"name": "seed-db", "at": "setup", "cmdline": "echo seeding", "shell": True}], bus
    )
    recorder = Recorder(bus)
    runner.run("seed-db")
    assert recorder.wait_completed("seed-db").exitcodes == [0]
    assert recorder.lines() == ["seeding"]
    assert recorder.events[0].source == "task:seed-db"


def test_task_without_entries_completes_at_once(bus, runners) -> None:
    runner = runners([{"at": "setup", "cmdline": "true"}], bus)
    recorder = Recorder(bus)
    runner.run("intertest", traceids=[2])
    assert bus.dispatch(0.0) == 1
    (done,) = recorder.completed()
    assert done.task == "intertest"
    assert done.exitcodes == []
    assert done.traceids == {2}


def test_run_returns_before_the_command_ends(bus, runners) -> None:
    runner = runners([{"at": "pretest", "cmdline": py("import time; time.sleep(30)")}], bus)
    started = time.monotonic()
    runner.run("pretest")
    assert time.monotonic() - started < 0.5
    runner.close()
    bus.dispatch(0.0)
    assert not Recorder(bus).completed()


def test_macros_from_definitions_and_parameters(bus, runners, tmp_path) -> None:
    entry = {
        "at": "posttest",
        "cmdline": py(
            "import os, sys; print(sys.argv[1:], os.path.basename(os.getcwd()), "
            "os.environ['LABEL'])"
        )
        + " --rate={{rate}} {{label}}",
        "cwd": "{{workdir}}",
        "env": {"LABEL": "{{label}}-{{rate|0}}"},
    }
    runner = runners([entry], bus, {**DEFINITIONS, "workdir": str(tmp_path), "label": "run one"})
    recorder = Recorder(bus)
    runner.run("posttest", parameters={"rate": 10})
    recorder.wait_completed("posttest")
    assert recorder.lines() == [f"['--rate=10', 'run one'] {tmp_path.name} run one-10"]


def test_tasks_run_next_to_their_config_file(bus, runners, tmp_path) -> None:
    (tmp_path / "prepare.sh").write_text("echo prepared in $(basename $(pwd))\n")
    (tmp_path / "perf.yaml").write_text("tasks:\n  - at: setup\n    cmdline: sh prepare.sh\n")
    runner = runners(load_yaml_file(tmp_path / "perf.yaml")["tasks"], bus)
    recorder = Recorder(bus)
    runner.run("setup")
    assert recorder.wait_completed("setup").exitcodes == [0]
    assert recorder.lines() == [f"prepared in {tmp_path.name}"]


def test_missing_macro_raises_config_error_before_anything_runs(bus, runners) -> None:
    runner = runners(
        load_yaml(
            "- at: setup\n  cmdline: echo ok\n- at: setup\n  cmdline: load {{rate}}\n", "perf.yaml"
        ),
        bus,
    )
    with pytest.raises(ConfigError, match=r"\{\{rate\}\} has no value") as info:
        runner.run("setup")
    assert str(info.value).startswith("perf.yaml:4: [1].cmdline: ")
    bus.dispatch(0.0)
    assert not Recorder(bus).events


def test_timeout_and_unlaunchable_commands_give_exit_codes(bus, runners, tmp_path) -> None:
    entries = [
        {"at": "setup", "cmdline": py("import time; time.sleep(30)"), "timeout": "150ms"},
        {"at": "setup", "cmdline": f"{tmp_path}/missing"},
    ]
    runner = runners(entries, bus)
    recorder = Recorder(bus)
    runner.run("setup")
    assert recorder.wait_completed("setup").exitcodes == [-signal.SIGTERM, 127]


def test_concurrent_runs_complete_separately(bus, runners) -> None:
    runner = runners(
        [
            {"at": "a", "cmdline": "echo a", "shell": True},
            {"at": "b", "cmdline": "echo b", "shell": True},
        ],
        bus,
    )
    recorder = Recorder(bus)
    runner.run("a", traceids=[1])
    runner.run("b", traceids=[2])
    recorder.wait_for(lambda _: len(recorder.completed()) == 2)
    assert {(e.task, tuple(e.traceids)) for e in recorder.completed()} == {("a", (1,)), ("b", (2,))}


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("- cmdline: echo", 1, "[0].at", "missing: when the task runs"),
        ("- at: setup", 1, "[0].cmdline", "missing: the command to run"),
        (
            "- at: setup\n  cmdline: echo\n  stdn: x",
            3,
            "[0].stdn",
            "unknown key 'stdn' (did you mean stdin? expected one of: at, name, cmdline",
        ),
        ("- at: [setup]\n  cmdline: echo", 1, "[0].at", "expected a string, got a list"),
        ("- at: ' '\n  cmdline: echo", 1, "[0].at", "expected a task name"),
        ("- at: setup\n  cmdline: echo\n  timeout: later", 3, "[0].timeout", "expected a duration"),
        ("- echo hi", 1, "[0]", "expected a task"),
    ],
)
def test_config_errors_name_the_key(bus, text: str, line: int, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        task_specs(load_yaml(text, "perf.yaml"))
    assert info.value.key == key
    assert message in info.value.message
    assert info.value.file == "perf.yaml"
    assert info.value.line == line


def test_tasks_must_be_a_list(bus) -> None:
    with pytest.raises(ConfigError, match="expected a list of tasks"):
        task_specs({"at": "setup", "cmdline": "echo"})
