"""A command's output reaches the chart no faster than the chart steps: the bus holds the command
back (its pipe fills and it waits), so perfchart's memory stays bounded however much it prints, and
nothing is dropped. A binding that matches too much is named once, at its line.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import pytest

from interpreter.channels.commands import Command
from interpreter.channels.process import ChildProcess
from interpreter.core import Event, EventBus, LogLineEvent
from tests.measured import Measured, run_measured

#: Counts the output lines among the events its ``seen`` binding matches; the run ends with the
#: command's exit.
CHART = """\
perfchart:
  name: flood
  summary: Counts the events of one run.
  config:
    type: object
    properties:
      events: {type: object}
statechart:
  name: flood
  preamble: |
    seen = 0
    policy.set_total(1)
    policy.bind('seen', config['events']['seen'])
    policy.bind('ok', config['events']['ok'])
  root state:
    name: flood
    initial: Run
    transitions:
      - target: End
        event: interrupt
    states:
      - name: Run
        on entry: "trace = policy.set_parameters({'value': 1})"
        transitions:
          - event: seen
            action: "seen += hasattr(event.source, 'line')"
          - target: End
            event: ok
            guard: traced(event, trace)
            action: |
              policy.set_status('OK')
              policy.set_result('seen', seen)
      - name: End
        type: final
"""

#: Line 9 is the ``seen:`` binding.
CONFIG = """\
config:
  title: flood
  parameters:
    - name: value
      default: 0
policies:
  - statechart: flood.yaml
    events:
      seen: {seen}
      ok: CmdlineExitZeroEvent
channels:
  - class: cmdline
    cmdline: "{command}"
"""

PRINTER = """\
import sys
sys.stdout.writelines("%d\\n" % i for i in range(int(sys.argv[1]) * int(sys.argv[2])))
"""

#: Peak resident memory perfchart may reach, in bytes; it starts at about 40 MiB.
BOUND = 200 * 1024**2


def flood(tmp_path: Path, seen: str, command: str) -> Measured:
    """The session of one run of *command*, its ``seen`` binding matching *seen*, measured."""
    (tmp_path / "flood.yaml").write_text(CHART)
    (tmp_path / "flood.yml").write_text(CONFIG.format(seen=seen, command=command))
    (tmp_path / "flood.py").write_text(PRINTER)
    return run_measured("run", "flood.yml", "--results", "r", cwd=tmp_path)


def printing(lines: int) -> str:
    """A command printing *lines* numbered lines (times the run's ``value``, 1) as fast as Python
    can."""
    return f"{sys.executable} flood.py {lines} {{{{value}}}}"


@pytest.mark.slow
def test_a_binding_of_every_event_holds_the_command_back_and_drops_nothing(
    tmp_path: Path,
) -> None:
    lines = 1_000_000
    done = flood(tmp_path, "Event", printing(lines))
    assert done.returncode == 0, done.stderr
    assert done.peak < BOUND, f"peak RSS {done.peak / 1024**2:.0f} MiB"
    (record,) = [json.loads(line) for line in (tmp_path / "r/runs.jsonl").read_text().splitlines()]
    assert record["status"] == "OK"
    # Every line reached the chart, and output.log.
    meta = json.loads((tmp_path / "r/meta.json").read_text())
    assert meta["results"]["flood"]["seen"] == lines
    with open(tmp_path / "r/output.log", "rb") as log:
        assert sum(1 for _ in log) == lines
    said = " ".join(done.stderr.split())  # the log wraps a long warning
    assert said.count("matches too many events") == 1, done.stderr
    assert (
        "WARNING flood.yml:9: policies[0].events.seen: the binding 'seen' (Event) matches too "
        "many events: " in said
    ), done.stderr
    assert " LogLineEvent events reached the chart faster than it steps" in said


@pytest.mark.slow
def test_output_nothing_binds_is_streamed_to_output_log_in_bounded_memory(tmp_path: Path) -> None:
    lines = 3_000_000
    done = flood(tmp_path, "CmdlineStartedEvent", printing(lines))
    assert done.returncode == 0, done.stderr
    assert done.peak < BOUND // 2, f"peak RSS {done.peak / 1024**2:.0f} MiB"
    with open(tmp_path / "r/output.log", "rb") as log:
        assert sum(1 for _ in log) == lines
    assert "matches too many events" not in done.stderr


def test_a_full_bus_holds_its_producer_until_it_is_down_to_half() -> None:
    bus = EventBus(capacity=4)
    resumed: list[int] = []
    seen: list[Event] = []
    bus.subscribe(seen.append)
    for _ in range(3):
        bus.publish(Event())
    assert not bus.hold(lambda: resumed.append(1))  # 3 waiting: room for more
    bus.publish(Event())
    assert bus.hold(lambda: resumed.append(1))
    assert bus.holds == 1
    assert bus.dispatch(0.0, limit=1) == 1
    assert resumed == []  # 3 waiting: more than half
    assert bus.dispatch(0.0, limit=1) == 1
    assert resumed == [1]  # 2 waiting
    assert bus.dispatch(0.0) == 2
    assert len(seen) == 4
    assert resumed == [1]


def _lines_of(count: int) -> Command:
    code = f"import sys; sys.stdout.writelines('%d\\n' % i for i in range({count}))"
    return Command([sys.executable, "-c", code])


def test_a_held_command_loses_no_line_and_reports_its_exit_after_them() -> None:
    bus = EventBus(capacity=100)
    events: list[Event] = []
    bus.subscribe(events.append)
    exits: list[int | None] = []
    process = ChildProcess(
        _lines_of(50_000), bus, source="t", on_exit=lambda p: exits.append(p.returncode)
    )
    process.start()
    deadline = time.monotonic() + 60
    while not exits and time.monotonic() < deadline:
        bus.dispatch(0.05, limit=10)  # a slow session: 10 events at a time
    bus.dispatch(0.0)
    assert exits == [0]
    assert bus.holds > 0
    got = [e.line for e in events if isinstance(e, LogLineEvent)]
    assert got == [str(i) for i in range(50_000)]


def test_waiting_for_a_held_command_releases_it() -> None:
    bus = EventBus(capacity=100)
    process = ChildProcess(_lines_of(200_000), bus, source="t")
    process.start()
    deadline = time.monotonic() + 30
    while not bus.holds and time.monotonic() < deadline:
        time.sleep(0.01)
    assert bus.holds == 1
    # Nobody takes the bus's events: join() must not wait for them (the session thread would be
    # the one waiting).
    assert process.join(timeout=60)
    assert process.returncode == 0
    assert bus.dispatch(0.0) == 200_000  # every line, none dropped
