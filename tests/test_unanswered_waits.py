"""A policy that waits for an event nothing in its configuration can publish is refused before
anything starts: one line naming the file, line, key, event and the channels there are, exit 2,
real and dry, and by ``check``; what something can publish is still accepted."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.conftest import Perfchart

#: A setup task that leaves a mark: a refused config must not even get to it.
SETUP = """\
tasks:
  - at: setup
    cmdline: "{python} -c \\"open('started', 'w')\\""
"""
CMDLINE = """\
channels:
  - class: cmdline
    cmdline: "{python} -c pass"
"""
HTTP = """\
channels:
  - class: http
    url: "http://127.0.0.1:9/"
"""

REFUSED = {
    "simple-http-end-with-a-cmdline-channel": (
        """\
policies:
  - class: simple
    events:
      end: HTTPResponseEndEvent
    timeout: 5s
"""
        + CMDLINE,
        4,
        "policies[0].events.end",
        "HTTPResponseEndEvent",
        "only the http channel publishes it; its channels: channels[0] cmdline",
    ),
    "explorer-signal-with-no-channel": (
        """\
policies:
  - class: multivariable-explorer
    matrix: {a: {type: discrete, values: [1, 2]}}
    events:
      signal:
        OK: CmdlineExitZeroEvent
""",
        6,
        "policies[0].events.signal.OK",
        "CmdlineExitZeroEvent",
        "only the cmdline channel publishes it; this config has no channels",
    ),
    "explorer-signal-list-with-an-http-channel": (
        """\
policies:
  - class: multivariable-explorer
    matrix: {a: {type: discrete, values: [1]}}
    events:
      signal:
        OK:
          - HTTPResponseEndEvent
          - CmdlineExitZeroEvent[exitcode=0] CmdlineStartedEvent
"""
        + HTTP,
        8,
        "policies[0].events.signal.OK[1]",
        "CmdlineExitZeroEvent or CmdlineStartedEvent",
        "only the cmdline channel publishes it; its channels: channels[0] http",
    ),
    "multi-step-advance-on-http": (
        """\
policies:
  - class: multi-step
    steps:
      - values: [{parameter: a, values: [1, 2]}]
        events:
          advance: HTTPResponseEndEvent:first
"""
        + CMDLINE,
        6,
        "policies[0].steps[0].events.advance",
        "HTTPResponseEndEvent",
        "only the http channel publishes it",
    ),
    "time-evolution-end-on-a-command": (
        """\
policies:
  - class: time-evolution
    evolve:
      - {parameter: a, interval: 1s, min: 1, max: 2}
    events:
      end: CmdlineExitNonzeroEvent
"""
        + HTTP,
        6,
        "policies[0].events.end",
        "CmdlineExitNonzeroEvent",
        "only the cmdline channel publishes it; its channels: channels[0] http",
    ),
    "simple-start-on-http-with-only-a-task": (
        """\
policies:
  - class: simple
    events:
      start: HTTPFirstResponseEndEvent
      end: StalledEvent
""",
        4,
        "policies[0].events.start",
        "HTTPFirstResponseEndEvent",
        "this config has no channels",
    ),
}


def write(tmp_path: Path, text: str) -> None:
    """*text* with a marking setup task, as ``c.yml`` in *tmp_path*."""
    (tmp_path / "c.yml").write_text((text + SETUP).replace("{python}", sys.executable))


@pytest.mark.parametrize("case", REFUSED)
@pytest.mark.parametrize("mode", [(), ("--dry-run",)], ids=["real", "dry"])
def test_a_wait_nothing_can_answer_is_refused_before_anything_starts(
    perfchart: Perfchart, tmp_path: Path, case: str, mode: tuple[str, ...]
) -> None:
    text, line, key, event, channels = REFUSED[case]
    write(tmp_path, text)
    done = perfchart("run", "c.yml", "-q", "--results", "r", *mode, cwd=tmp_path, timeout=20)
    assert done.returncode == 2, done.stderr
    (message,) = done.stderr.splitlines()
    assert message.startswith(f"perfchart: error: c.yml:{line}: {key}: "), message
    assert f"nothing this config runs publishes {event}, so the policy would wait" in message
    assert channels in message
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "started").exists()
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    "case", ["simple-http-end-with-a-cmdline-channel", "multi-step-advance-on-http"]
)
def test_a_real_process_is_refused_and_check_names_it(
    perfchart: Perfchart, tmp_path: Path, case: str
) -> None:
    text, line, key, event, _ = REFUSED[case]
    write(tmp_path, text)
    done = perfchart("run", "c.yml", cwd=tmp_path, timeout=20, subprocess=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.splitlines() == [
        line_ for line_ in done.stderr.splitlines() if f"c.yml:{line}: {key}: " in line_
    ]
    assert not (tmp_path / "started").exists()
    checked = perfchart("check", "c.yml", cwd=tmp_path, timeout=20)
    assert checked.returncode == 2
    assert f"c.yml:{line}: {key}: nothing this config runs publishes {event}" in checked.stdout + (
        checked.stderr
    )


ACCEPTED = {
    # A clause of a filter that something publishes is enough.
    "one-clause-answered": "      end: HTTPResponseEndEvent CmdlineExitZeroEvent\n",
    # The runtime publishes these in every session; a task's output is a line.
    "stalled": "      end: StalledEvent\n",
    "a-task-line": "      end: 'LogLineEvent[line~=never]'\n",
    # Any event, and the negation of one: something always answers them.
    "any": "      end: '*'\n",
    "base": "      end: Event\n",
    "negation": "      end: ':not(HTTPResponseEndEvent)'\n",
}


@pytest.mark.parametrize("case", ACCEPTED)
def test_a_wait_something_publishes_is_accepted(
    perfchart: Perfchart, tmp_path: Path, case: str
) -> None:
    text = "policies:\n  - class: simple\n    timeout: 1s\n    events:\n" + ACCEPTED[case]
    if case == "one-clause-answered":
        text += CMDLINE
    write(tmp_path, text)
    done = perfchart("run", "c.yml", "-q", "--dry-run", "--results", "r", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "r" / "meta.json").is_file()


CHART = """\
statechart:
  name: Waits
  root state:
    name: root
    initial: Run
    states:
      - name: Run
        on entry: |
          policy.set_parameters({'a': 1})
          policy.bind('done', 'HTTPResponseEndEvent')
        transitions:
          - target: End
            event: done
      - name: End
        type: final
"""


@pytest.mark.parametrize("mode", [(), ("--dry-run",)], ids=["real", "dry"])
def test_a_filter_the_charts_code_binds_is_refused_at_its_line(
    perfchart: Perfchart, tmp_path: Path, mode: tuple[str, ...]
) -> None:
    (tmp_path / "waits.yaml").write_text(CHART)
    write(tmp_path, "policies:\n  - statechart: waits.yaml\n" + CMDLINE)
    done = perfchart("run", "c.yml", "-q", "--results", "r", *mode, cwd=tmp_path, timeout=20)
    assert done.returncode == 2, done.stderr
    (message,) = done.stderr.splitlines()
    assert message == (
        "perfchart: error: waits.yaml:10: state Run (on entry): nothing this "
        "config runs publishes HTTPResponseEndEvent, so policies[0] would wait for it for ever "
        "(only the http channel publishes it; its channels: channels[0] cmdline)"
    )
    assert not (tmp_path / "started").exists()
    # With a channel that publishes it, the same chart is accepted.
    write(tmp_path, "policies:\n  - statechart: waits.yaml\n" + HTTP)
    done = perfchart("check", "c.yml", cwd=tmp_path, timeout=20)
    assert done.returncode == 0, done.stdout + done.stderr


def test_a_plugin_channel_that_declares_no_events_may_answer_anything() -> None:
    from interpreter.config import LocatedDict
    from interpreter.session.waits import Waits, unanswered

    class Silent:
        names = ("channel.Silent", "silent")
        events: tuple[type, ...] = ()

    class Unknown:
        names = ("channel.Unknown", "unknown")

    schema = {"properties": {"end": {"type": "string", "format": "event-filter"}}}
    block = LocatedDict({"end": "HTTPResponseEndEvent"}, file="c.yml", line=3, path="policies[0]")
    block.lines = {"end": 4}
    policy = Waits("policies[0]", block, schema, ())
    (refused,) = unanswered([policy], [("channels[0]", Silent)], tasks=False)  # type: ignore[list-item]
    assert str(refused).startswith("c.yml:4: policies[0].end: nothing this config runs publishes")
    assert str(refused).endswith("its channels: channels[0] silent)")
    assert unanswered([policy], [("channels[0]", Unknown)], tasks=False) == []  # type: ignore[list-item]
