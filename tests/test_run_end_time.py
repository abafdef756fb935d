"""A run ends when the event that ended it happened, not when the chart got to it; a match a filter
decided later (``:after``) ends it when the filter decided.
"""

from __future__ import annotations

from interpreter.core import LogLineEvent
from interpreter.testing import PolicyHarness


def simple(end: str) -> PolicyHarness:
    return PolicyHarness("simple", f'parameters: {{apps: 1}}\nevents: {{end: "{end}"}}')  # type: ignore[arg-type]


def test_a_run_ends_at_the_time_its_ending_event_happened() -> None:
    h = simple("LogLineEvent[line='done']")
    h.advance(4)
    assert h.trace is not None
    # The line happened at 2.5 s; the chart is shown it at 4 s (a busy session thread).
    h.bus.publish(LogLineEvent(line="done", traceids=frozenset({h.trace})), 2.5)
    h.settle()
    assert h.final
    (run,) = h.runs
    assert run["duration"] == 2.5
    assert run["end"] == run["start"] + 2.5


def test_a_match_decided_later_ends_the_run_when_it_was_decided() -> None:
    h = simple("LogLineEvent[line='done']:after(3s)")
    h.advance(1)
    assert h.trace is not None
    h.bus.publish(LogLineEvent(line="done", traceids=frozenset({h.trace})))
    h.advance(3)
    assert h.final
    assert h.runs[0]["duration"] == 4


def test_an_untraced_match_ends_the_run_when_the_chart_answered_it() -> None:
    h = simple("LogLineEvent[line='done']:notrace")
    h.advance(4)
    # Published without the run's trace and stamped before the run began: it cannot date the end.
    h.bus.publish(LogLineEvent(line="done"), -10.0)
    h.settle()
    assert h.final
    assert h.runs[0]["duration"] == 4
