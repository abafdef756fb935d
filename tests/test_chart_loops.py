"""A chart that loops without events ends, and says where: the eventless bound, signals while chart
code runs, a chart that ignores ``stalled``, waits no clock can keep, and ``check --strict``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from interpreter.errors import ConfigError
from interpreter.testing import PolicyHarness
from tests.conftest import PERFCHART, Perfchart

#: A → B → A without event or guard (lines 12 and 15), and a way out nothing sends.
LOOP = """\
statechart:
  name: Loop
  root state:
    name: R
    initial: A
    transitions:
      - target: Done
        event: interrupt
    states:
      - name: A
        transitions:
          - target: B{action}
      - name: B
        transitions:
          - target: A
          - target: Done
            event: never
      - name: Done
        type: final
"""

#: An internal event the chart sends itself for ever.
SELF_SENT = """\
statechart:
  name: Echo
  root state:
    name: R
    initial: A
    states:
      - name: A
        on entry: send('again')
        transitions:
          - event: again
            action: send('again')
          - target: Done
            event: never
      - name: Done
        type: final
"""

CONFIG = """\
policies:
  - statechart: chart.yaml
channels:
  - class: cmdline
    cmdline: "true"
"""


def write(tmp_path: Path, chart: str) -> Path:
    (tmp_path / "chart.yaml").write_text(chart)
    config = tmp_path / "c.yml"
    config.write_text(CONFIG)
    return config


@pytest.mark.parametrize("dry", [False, True], ids=["real", "dry"])
def test_an_eventless_loop_exits_2_within_2_seconds_naming_its_states(
    perfchart: Perfchart, tmp_path: Path, dry: bool
) -> None:
    config = write(tmp_path, LOOP.format(action=""))
    started = time.monotonic()
    done = perfchart(
        "run", str(config), "-q", "--results", str(tmp_path / "r"), *(["--dry-run"] if dry else [])
    )
    took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert took < 2, f"took {took:.1f}s"
    assert done.stderr == (
        f"perfchart: error: {tmp_path / 'chart.yaml'}:12: the chart loops without an event: "
        "B -> A -> B took 10000 macro steps in a row with no external event (transitions at lines "
        "12, 15); give the loop a guard or an event\n"
    )
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert (meta["status"], meta["exit_status"]) == ("error", 2)


def test_an_internal_event_sent_for_ever_is_a_loop(perfchart: Perfchart, tmp_path: Path) -> None:
    config = write(tmp_path, SELF_SENT)
    done = perfchart("run", str(config), "-q", "--dry-run", "--results", str(tmp_path / "r"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith(
        f"perfchart: error: {tmp_path / 'chart.yaml'}:10: the chart loops without an event: A -> A"
    )


def test_check_strict_flags_a_guardless_eventless_loop(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "chart.yaml").write_text(LOOP.format(action=""))
    done = perfchart("check", "--strict", str(tmp_path / "chart.yaml"))
    assert done.returncode == 1, done.stderr
    assert (
        f"warning: {tmp_path / 'chart.yaml'}:12: states A -> B -> A loop through transitions with "
        "neither event nor guard: once there the policy would loop for ever; give one of them a "
        "guard or an event\n"
    ) in done.stderr


def test_check_leaves_a_guarded_loop_alone(perfchart: Perfchart, tmp_path: Path) -> None:
    chart = LOOP.format(action="").replace(
        "          - target: A\n", "          - target: A\n            guard: False\n"
    )
    (tmp_path / "chart.yaml").write_text(chart)
    done = perfchart("check", str(tmp_path / "chart.yaml"))
    assert "loop through" not in done.stderr


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_one_signal_stops_chart_code_that_loops_slowly_within_a_second(
    tmp_path: Path, sig: signal.Signals
) -> None:
    """Each turn of the loop sleeps 50 ms: the eventless bound is minutes away, the signal acts."""
    action = "\n            action: |\n              import time as t\n              t.sleep(0.05)"
    config = write(tmp_path, LOOP.format(action=action))
    process = subprocess.Popen(
        [*PERFCHART, "run", str(config), "--results", str(tmp_path / "r")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "r" / "meta.json").exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # well into the loop
        process.send_signal(sig)
        signalled = time.monotonic()
        _, stderr = process.communicate(timeout=10)
        took = time.monotonic() - signalled
    finally:
        process.kill()
        process.wait(10)
    assert process.returncode == 130, stderr.decode()
    assert took < 1.5, f"took {took:.1f}s"
    assert "chart code still running after a signal; stopping it" in stderr.decode()
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["status"] == "interrupted"


WAITER = """\
statechart:
  name: Waiter
  root state:
    name: R
    initial: W
    states:
      - name: W
        transitions:
          - target: Done
            event: never{extra}
      - name: Done
        type: final
"""


def test_a_chart_that_ignores_stalled_is_ended_after_a_second_stale_period(
    tmp_path: Path,
) -> None:
    (tmp_path / "chart.yaml").write_text(WAITER.format(extra=""))
    harness = PolicyHarness(tmp_path / "chart.yaml", {}, stale_timeout=60, validate_config=False)
    harness.advance(60)
    assert harness.runner.stalls == 1
    with pytest.raises(ConfigError) as raised:
        harness.advance(60)
    assert str(raised.value) == (
        f"{tmp_path / 'chart.yaml'}:7: the policy ignores stalled: in W with no transition for "
        "120s, 60s of them after stalled was sent; give the state a transition on stalled"
    )


def test_a_chart_that_answers_stalled_is_not_ended(tmp_path: Path) -> None:
    extra = "\n          - event: stalled\n            action: policy.log('still here')"
    (tmp_path / "chart.yaml").write_text(WAITER.format(extra=extra))
    harness = PolicyHarness(tmp_path / "chart.yaml", {}, stale_timeout=60, validate_config=False)
    harness.advance(600)
    assert harness.runner.stalls == 10


@pytest.mark.parametrize(
    ("wait", "shown"),
    [("float('inf')", "inf"), ("float('nan')", "nan"), ("1e10", "10000000000.0"), ("'5'", None)],
)
def test_a_wait_no_clock_can_keep_is_a_located_error(
    perfchart: Perfchart, tmp_path: Path, wait: str, shown: str | None
) -> None:
    chart = WAITER.format(extra=f"\n          - target: Done\n            guard: after({wait})")
    config = write(tmp_path, chart)
    done = perfchart("run", str(config), "-q", "--dry-run", "--results", str(tmp_path / "r"))
    assert done.returncode == 2, done.stderr
    message = (
        f"after({shown}): expected a finite number of seconds up to 1e+07"
        if shown is not None
        else "after() expects a number of seconds, got '5'"
    )
    assert done.stderr.startswith(f"perfchart: error: {tmp_path / 'chart.yaml'}:"), done.stderr
    assert message in done.stderr
    assert len(done.stderr.splitlines()) == 1
