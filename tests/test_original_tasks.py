"""The original driver's task classes that make sense without DC/OS: ``tasks.exec.Run`` (a
command, with ``stdin``) and ``tasks.delay.Delay``; the DC/OS ones refused by name."""

from __future__ import annotations

import sys
import time
from typing import Any

import pytest

from interpreter.channels import TaskRunner, task_specs
from interpreter.config import load_yaml
from interpreter.core import EventBus, LogLineEvent, RunTaskCompletedEvent
from interpreter.errors import ConfigError
from tests import harness
from tests.harness import py
from tests.httpserver import serving

DEFINITIONS = {"python": sys.executable}


def _run(
    text: str, task: str = "setup", definitions: dict[str, Any] = DEFINITIONS
) -> tuple[list[str], RunTaskCompletedEvent, float]:
    """Run *task* of the ``tasks:`` list *text*; its output lines, completion and seconds."""
    bus = EventBus()
    runner = TaskRunner(task_specs(load_yaml(text, "perf.yaml")), bus, definitions)
    recorder = harness.Recorder(bus)
    started = time.monotonic()
    try:
        runner.run(task, parameters={"who": "world"})
        recorder.wait_for(lambda _: bool(recorder.of(RunTaskCompletedEvent)))
    finally:
        runner.close()
    elapsed = time.monotonic() - started
    lines = [e.line for e in recorder.events if isinstance(e, LogLineEvent)]
    return lines, recorder.of(RunTaskCompletedEvent)[0], elapsed


def test_exec_run_runs_its_command_with_stdin() -> None:
    code = "import sys; print(sys.stdin.read().strip().upper())"
    lines, done, _ = _run(
        f'- class: tasks.exec.Run\n  at: setup\n  cmdline: "{py(code)}"\n'
        "  stdin: 'hello {{who}}'\n"
    )
    assert lines == ["HELLO WORLD"]
    assert done.exitcodes == [0]


def test_a_plain_task_takes_stdin_too() -> None:
    code = "import sys; print(len(sys.stdin.read()))"
    lines, _, _ = _run(f'- at: setup\n  cmdline: "{py(code)}"\n  stdin: abc\n')
    assert lines == ["3"]


def test_delay_pauses_the_tasks_after_it() -> None:
    lines, done, elapsed = _run(
        "- class: tasks.delay.Delay\n  at: setup\n  delay: 300ms\n"
        f'- at: setup\n  cmdline: "{py("print(1)")}"\n'
    )
    assert lines == ["1"]
    assert done.exitcodes == [0, 0]
    assert elapsed >= 0.3


def test_http_request_sends_the_request_rendered_as_the_channel_renders_it() -> None:
    with serving() as server:
        lines, done, _ = _run(
            "- class: tasks.http.Request\n  at: setup\n"
            f"  url: '{server.url}/apps/{{{{who}}}}'\n  verb: POST\n  repeat: 2\n"
            "  headers: {X-Test: '{{who}}'}\n  body: '{\"n\": {{n|3}}}'\n",
            definitions={"dcos_auth_token": "secret"},
        )
        seen = server.wait_seen(2)
    assert done.exitcodes == [0]
    assert lines == [f"POST {server.url}/apps/world: HTTP 200"] * 2
    assert [(s.verb, s.target, s.body) for s in seen] == [("POST", "/apps/world", b'{"n": 3}')] * 2
    assert seen[0].headers["X-Test"] == "world"
    assert seen[0].headers["Authorization"] == "token=secret"
    assert seen[0].headers["Content-Type"] == "application/json"


def test_http_request_that_fails_fails_its_task() -> None:
    with serving() as server:
        lines, done, _ = _run(
            f"- class: tasks.http.Request\n  at: setup\n  url: '{server.url}/status/503'\n"
        )
    assert done.exitcodes == [1]
    assert lines == [f"GET {server.url}/status/503: HTTP 503"]


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        ("- class: tasks.delay.Delay\n  at: setup\n", 1, "[0].class", "missing key 'delay'"),
        (
            "- class: tasks.delay.Delay\n  at: setup\n  delay: soon\n",
            3,
            "[0].delay",
            "a duration such as 1.5s, written out",
        ),
        (
            "- class: tasks.delay.Delay\n  at: setup\n  delay: 1s\n  cmdline: x\n",
            4,
            "[0].cmdline",
            "unknown key 'cmdline' (tasks.delay.Delay has at, name and delay)",
        ),
        (
            "- class: tasks.exec.Run\n  at: setup\n  cmdline: x\n  shel: yes\n",
            4,
            "[0].shel",
            "unknown key 'shel' (did you mean shell?",
        ),
        ("- class: tasks.http.Request\n  at: setup\n", 1, "[0].class", "missing key 'url'"),
        (
            "- class: tasks.http.Request\n  at: setup\n  url: http://h/\n  concurrency: 2\n",
            4,
            "[0].concurrency",
            "unknown key 'concurrency' (tasks.http.Request has at, name, url, verb",
        ),
        (
            "- class: tasks.http.Request\n  at: setup\n  url: http://h/\n  verb: 5\n",
            4,
            "[0].verb",
            "expected a string",
        ),
        (
            "- class: tasks.marathon.RemoveAllApps\n  at: setup\n",
            1,
            "[0].class",
            "tasks.marathon.RemoveAllApps is a task of the original driver that perfchart does "
            "not implement",
        ),
        (
            "- class: tasks.exec.Runn\n  at: setup\n",
            1,
            "[0].class",
            "unknown task class 'tasks.exec.Runn': a perfchart task is a command (cmdline:)",
        ),
    ],
)
def test_task_class_errors_name_the_key(text: str, line: int, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as info:
        task_specs(load_yaml(text, "perf.yaml"))
    assert (info.value.file, info.value.line, info.value.key) == ("perf.yaml", line, key)
    assert message in info.value.message
