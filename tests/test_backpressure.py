"""A command's output reaches the chart no faster than the chart steps: the bus holds the command
back (its pipe fills and it waits), so perfchart's memory stays bounded however much it prints, and
nothing is dropped. A binding that matches too much is named once, at its line.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

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
