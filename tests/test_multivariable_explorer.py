"""The bundled MultivariableExplorer chart, executed by sismic, driven event by event."""

from __future__ import annotations

import itertools
import logging
from typing import Any

import pytest

from interpreter.charts import resolve
from interpreter.core import Event, StalledEvent
from interpreter.errors import ConfigError
from interpreter.testing import PolicyHarness


class DeployedEvent(Event):
    """Stands for a system's success signal."""


class DeployFailedEvent(Event):
    """Stands for a system's failure signal."""


class DeployRetriedEvent(Event):
    """A second event class mapped to the same status as DeployedEvent."""


class ReadyEvent(Event):
    """Stands for 'the system under test is up'."""


POLICY = """
matrix:
  apps: {type: discreet, values: [1, 2]}
  size: {type: range, min: 10, max: 12}
events:
  signal:
    OK: DeployedEvent
    FAILED: DeployFailedEvent
"""


def explorer(policy: str, **kwargs: Any) -> PolicyHarness:
    """The explorer chart with *policy* as its block; the test event classes are not in the
    catalogue, so no schema check."""
    return PolicyHarness("multivariable-explorer", policy, validate_config=False, **kwargs)


def finish_run(h: PolicyHarness, event_class: type[Event] = DeployedEvent) -> None:
    h.publish(event_class(traceids=[h.trace]))
    h.complete("intertest")


def test_every_permutation_runs_once_in_product_order() -> None:
    h = explorer(POLICY)
    while not h.runner.final:
        finish_run(h)
    expected = [{"apps": a, "size": s} for a, s in itertools.product([1, 2], [10, 11, 12])]
    assert h.parameters() == expected
    assert [list(update.changes) for update in h.updates] == [["apps", "size"]] * 6
    assert h.runner.total == 6
    assert h.statuses() == ["OK"] * 6


def test_each_run_gets_a_fresh_trace_and_flags_carry_it() -> None:
    h = explorer(POLICY)
    finish_run(h)
    finish_run(h, DeployFailedEvent)
    traces = [min(update.traceids) for update in h.updates[:2]]
    assert traces[0] != traces[1]
    assert [(flag.value, set(flag.traceids)) for flag in h.flags] == [
        ("OK", {traces[0]}),
        ("FAILED", {traces[1]}),
    ]
    assert [set(end.traceids) for end in h.run_ends] == [{traces[0]}, {traces[1]}]


def test_signal_count_expression_uses_the_run_index() -> None:
    h = explorer(POLICY.replace("events:", "events:\n  signalEventCount: '_i + apps'"))
    # run 1: apps=1, _i=1 -> 2 signals; run 2: apps=1, _i=2 -> 3 signals
    for needed in (2, 3):
        trace = h.trace
        for _ in range(needed - 1):
            h.publish(DeployedEvent(traceids=[trace]))
            assert h.states[-1] == "Waiting"
            assert ("intertest", (trace,)) not in h.tasks
        h.publish(DeployedEvent(traceids=[trace]))
        assert h.states[-1] == "Intertest"
        h.complete("intertest")
    assert len(h.updates) == 3


def test_several_event_classes_for_one_status() -> None:
    h = explorer(POLICY.replace("OK: DeployedEvent", "OK: [DeployedEvent, DeployRetriedEvent]"))
    finish_run(h, DeployRetriedEvent)
    finish_run(h, DeployedEvent)
    assert h.statuses() == ["OK", "OK"]
    assert len(h.updates) == 3


def test_a_signal_from_another_run_is_ignored_with_a_warning(
    caplog: pytest.LogCaptureFixture,
) -> None:
    h = explorer(POLICY)
    with caplog.at_level(logging.WARNING, logger="perfchart.policy"):
        h.publish(DeployedEvent(traceids=[h.trace + 100]))
        h.publish(DeployedEvent())
    assert h.states[-1] == "Waiting"
    assert h.flags == []
    assert len(h.updates) == 1
    assert [r.getMessage() for r in caplog.records] == [
        "multivariable-explorer: DeployedEvent from another run ignored"
    ] * 2


def test_notrace_filter_accepts_untraced_signals() -> None:
    h = explorer(POLICY.replace("OK: DeployedEvent", "OK: 'DeployedEvent:notrace'"))
    h.publish(DeployedEvent())
    assert h.statuses() == ["OK"]
    assert h.states[-1] == "Intertest"


def test_events_no_binding_wants_never_reach_sismic() -> None:
    h = explorer(POLICY)
    consumed: list[str] = []
    h.runner.interpreter.attach(
        lambda meta: consumed.append(meta.event.name) if meta.name == "event consumed" else None
    )
    h.publish(ReadyEvent(traceids=[h.trace]))
    h.publish(Event(traceids=[h.trace]))
    assert consumed == []
    h.publish(DeployedEvent(traceids=[h.trace]))
    assert consumed == ["signal"]


def test_waits_for_the_start_event_before_the_first_run() -> None:
    h = explorer(POLICY.replace("events:", "events:\n  start: ReadyEvent"))
    h.advance(30)
    assert h.updates == []
    assert h.states[-1] == "Start"
    h.publish(DeployedEvent())
    assert h.updates == []
    h.publish(ReadyEvent())
    assert h.parameters() == [{"apps": 1, "size": 10}]
    h.publish(ReadyEvent())
    assert len(h.updates) == 1


def test_restart_skips_the_start_event() -> None:
    h = explorer(POLICY.replace("events:", "events:\n  start: ReadyEvent"))
    h.runner.send("restart")
    h.settle()
    assert h.parameters() == [{"apps": 1, "size": 10}]


def test_a_stalled_run_gets_status_stalled_and_the_policy_continues() -> None:
    h = explorer(POLICY, stale_timeout=120)
    first = h.trace
    assert h.runner.deadline() == pytest.approx(120)
    h.advance(119)
    assert h.flags == []
    stalls: list[Event] = []
    h.bus.subscribe(stalls.append, StalledEvent)
    h.advance(1)
    assert [(set(e.traceids), e.policy) for e in stalls] == [({first}, "multivariable-explorer")]
    assert h.statuses() == ["stalled"]
    assert set(h.flags[0].traceids) == {first}
    assert h.states[-1] == "Intertest"
    h.complete("intertest")
    assert h.trace != first
    assert h.parameters()[-1] == {"apps": 1, "size": 11}


def test_the_intertest_task_runs_between_runs_and_gates_the_next() -> None:
    h = explorer(POLICY)
    first = h.trace
    h.publish(DeployedEvent(traceids=[first]))
    assert h.tasks == [("intertest", (first,))]
    assert len(h.updates) == 1
    h.publish(DeployedEvent(traceids=[first]))
    assert len(h.updates) == 1
    h.complete("pretest")
    assert len(h.updates) == 1
    h.complete("intertest")
    assert len(h.updates) == 2


def test_interrupt_ends_the_policy_through_its_final_state() -> None:
    h = explorer(POLICY)
    h.runner.send("interrupt")
    h.settle()
    assert h.runner.final
    assert len(h.updates) == 1


def test_a_sampled_axis_is_reproducible_with_the_seed() -> None:
    policy = POLICY.replace(
        "size: {type: range, min: 10, max: 12}", "size: {min: 0, max: 1000, samples: 4}"
    )
    first, second, other = (explorer(policy, seed=s) for s in (5, 5, 6))
    for h in (first, second, other):
        while not h.runner.final:
            finish_run(h)
    assert first.parameters() == second.parameters()
    assert first.parameters() != other.parameters()
    assert len(first.parameters()) == 8


@pytest.mark.parametrize(
    ("matrix", "message"),
    [
        ("apps: {type: range, min: 5, max: 1}", "min"),
        ("apps: {type: range, min: 1, max: 5, step: 0}", "step"),
        ("apps: {type: squares, values: [1]}", "squares"),
    ],
)
def test_matrix_errors_name_the_file_line_and_key(matrix: str, message: str) -> None:
    policy = f"matrix:\n  {matrix}\nevents:\n  signal: {{OK: DeployedEvent}}\n"
    with pytest.raises(ConfigError) as caught:
        explorer(policy)
    text = str(caught.value)
    assert text.startswith("policy.yml:2: matrix.apps")
    assert message in text


def test_a_bad_count_expression_names_its_key() -> None:
    with pytest.raises(ConfigError) as caught:
        explorer(POLICY.replace("events:", "events:\n  signalEventCount: 'apps + nope'"))
    assert "policy.yml:6: events.signalEventCount" in str(caught.value)
    assert "nope" in str(caught.value)


def test_the_chart_reads_as_the_policy() -> None:
    chart = resolve("policy.MultivariableExplorerPolicy")
    statechart = chart.statechart()
    assert {"Start", "Run", "Deploy", "Waiting", "Intertest", "End"} <= set(statechart.states)
    guards = [t.guard for t in statechart.transitions_from("Waiting")]
    assert "not traced(event, trace)" in guards
    assert any("remaining > 1" in (g or "") for g in guards)
