"""A command's output reaches the chart no faster than the chart steps: the bus holds the command
back (its pipe fills and it waits), so perfchart's memory stays bounded however much it prints, and
nothing is dropped. A binding that matches too much is named once, at its line.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from tests.conftest import PERFCHART

#: Counts the output lines among the events its ``seen`` binding matches; the run ends with the command's exit.
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


def run_measured(tmp_path: Path, seen: str, command: str) -> tuple[int, str, int]:
    """``perfchart run`` in a child, reaped with ``os.wait4``: exit status, stderr, peak RSS."""
    (tmp_path / "flood.yaml").write_text(CHART)
    (tmp_path / "flood.yml").write_text(CONFIG.format(seen=seen, command=command))
    (tmp_path / "flood.py").write_text(PRINTER)
    stderr_path = tmp_path / "stderr"
    with open(stderr_path, "wb") as stderr:
        process = subprocess.Popen(
            [*PERFCHART, "run", "flood.yml", "--results", "r"],
            cwd=tmp_path,
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )
    # A guard against a hang, not a speed target: wait4 blocks, so a timer kills a stuck session.
    guard = threading.Timer(600, process.kill)
    guard.start()
    try:
        _, status, usage = os.wait4(process.pid, 0)
    finally:
        guard.cancel()
    process.returncode = os.waitstatus_to_exitcode(status)
    return process.returncode, stderr_path.read_text(), usage.ru_maxrss * 1024


def printing(lines: int) -> str:
    """A command printing *lines* numbered lines (times the run's ``value``, 1) as fast as Python
    can."""
    return f"{sys.executable} flood.py {lines} {{{{value}}}}"


@pytest.mark.slow
def test_a_binding_of_every_event_holds_the_command_back_and_drops_nothing(
    tmp_path: Path,
) -> None:
    lines = 1_000_000
    status, stderr, peak = run_measured(tmp_path, "Event", printing(lines))
    assert status == 0, stderr
    assert peak < BOUND, f"peak RSS {peak / 1024**2:.0f} MiB"
    (record,) = [json.loads(line) for line in (tmp_path / "r/runs.jsonl").read_text().splitlines()]
    assert record["status"] == "OK"
    # Every line reached the chart, and output.log.
    meta = json.loads((tmp_path / "r/meta.json").read_text())
    assert meta["results"]["flood"]["seen"] == lines
    with open(tmp_path / "r/output.log", "rb") as log:
        assert sum(1 for _ in log) == lines
    said = " ".join(stderr.split())  # the log wraps a long warning
    assert said.count("matches too many events") == 1, stderr
    assert (
        "WARNING flood.yml:9: policies[0].events.seen: the binding 'seen' (Event) matches too "
        "many events: " in said
    ), stderr
    assert " LogLineEvent events reached the chart faster than it steps" in said


@pytest.mark.slow
def test_output_nothing_binds_is_streamed_to_output_log_in_bounded_memory(tmp_path: Path) -> None:
    lines = 3_000_000
    status, stderr, peak = run_measured(tmp_path, "CmdlineStartedEvent", printing(lines))
    assert status == 0, stderr
    assert peak < BOUND // 2, f"peak RSS {peak / 1024**2:.0f} MiB"
    with open(tmp_path / "r/output.log", "rb") as log:
        assert sum(1 for _ in log) == lines
    assert "matches too many events" not in stderr
