"""The bundled MultiStep chart on the simulated clock, and against a real command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from interpreter.charts import resolve
from interpreter.config import load_yaml
from interpreter.core import LogLineEvent
from interpreter.engine import PolicyRunner
from interpreter.errors import ConfigError
from interpreter.session import Session, load_config
from interpreter.testing import PolicyHarness

OK = "\"LogLineEvent[line='ok']\""
END = "\"LogLineEvent[line='end']\""
FAIL = "\"LogLineEvent[line='fail']\""


def multi(config: str, **kwargs: object) -> PolicyHarness:
    return PolicyHarness("multi-step", config, **kwargs)  # type: ignore[arg-type]


def advance(h: PolicyHarness, task: str = "intertest") -> None:
    """Advance the current value with one traced event, then complete its post-value task."""
    h.signal(LogLineEvent, line="ok")
    h.complete(task)


def step(values: str, extra: str = "") -> str:
    return f"steps:\n  - name: only\n    values: {values}\n    events: {{advance: {OK}}}\n{extra}"


def test_the_runs_are_the_product_of_the_value_kinds_in_the_order_listed() -> None:
    h = multi(step("[{parameter: a, values: [1, 2]}, {parameter: b, min: 0, max: 1, step: 0.5}]"))
    while not h.final:
        advance(h)
    assert h.parameters() == [{"a": a, "b": b} for a in (1, 2) for b in (0, 0.5, 1.0)]
    assert h.runner.total == 6


def test_inclusive_no_leaves_out_max() -> None:
    h = multi(step("[{parameter: n, min: 10, max: 40, step: 10, inclusive: no}]"))
    while not h.final:
        advance(h)
    assert h.parameters() == [{"n": 10}, {"n": 20}, {"n": 30}]


def test_a_sample_draws_distinct_values_reproducibly() -> None:
    config = step(
        "[{parameter: n, min: 1, max: 10, sample: 10}, {parameter: m, min: 0, max: 1000, step: "
        "5, sample: 4}]"
    )
    first, again, other = (multi(config, seed=seed) for seed in (3, 3, 4))
    for h in (first, again, other):
        while not h.final:
            advance(h)
    assert sorted({p["n"] for p in first.parameters()}) == list(range(1, 11))
    drawn = [p["m"] for p in first.parameters()[:4]]
    assert len(set(drawn)) == 4
    assert drawn == sorted(drawn)
    assert all(v % 5 == 0 for v in drawn)
    assert first.parameters() == again.parameters()
    assert first.parameters() != other.parameters()


def test_a_sample_honours_inclusive_no() -> None:
    h = multi(step("[{parameter: n, min: 1, max: 5, sample: 4, inclusive: no}]"))
    while not h.final:
        advance(h)
    assert h.parameters() == [{"n": 1}, {"n": 2}, {"n": 3}, {"n": 4}]


def test_a_sample_larger_than_its_range_is_an_error_before_any_run() -> None:
    with pytest.raises(ConfigError) as caught:
        multi(step("\n      - {parameter: n, min: 1, max: 5, sample: 6}"))
    assert str(caught.value).startswith("policy.yml:4: steps[0].values[0].sample")
    assert "6 distinct values from a range of 5" in str(caught.value)


def test_value_expressions_see_definitions_and_the_combination_whose_names_win() -> None:
    values = (
        "[{parameter: a, values: [1, 2]}, {parameter: total, value: 'a * scale'}, {parameter: "
        "mode, value: fast}, {parameter: n, value: 7}]"
    )
    h = multi(step(values), definitions={"scale": 10, "a": 100})
    while not h.final:
        advance(h)
    assert h.parameters() == [
        {"a": 1, "total": 10, "mode": "fast", "n": 7},
        {"a": 2, "total": 20, "mode": "fast", "n": 7},
    ]


def test_a_step_of_fixed_values_is_one_run() -> None:
    h = multi(step("[{parameter: a, value: 1}, {parameter: b, value: 'a + 1'}]"))
    advance(h)
    assert h.final
    assert h.parameters() == [{"a": 1, "b": 2}]


def test_a_broken_value_expression_names_its_key() -> None:
    with pytest.raises(ConfigError) as caught:
        multi(step("\n      - {parameter: a, value: 'nope + 1'}"))
    assert str(caught.value).startswith("policy.yml:4: steps[0].values[0].value")


def test_the_start_event_is_untraced_then_the_start_task_runs_before_the_first_value() -> None:
    h = multi(
        step(
            "[{parameter: a, values: [1]}]",
            f"    events: {{start: \"LogLineEvent[line='ready']\", advance: {OK}}}\n"
            f"    tasks: {{start: warmup}}\n",
        ).replace(f"    events: {{advance: {OK}}}\n", "")
    )
    h.advance(10)
    assert h.updates == []
    assert h.tasks == []
    h.signal(LogLineEvent, traced=False, line="ready")
    assert h.tasks == [("warmup", ())]
    assert h.updates == []
    h.complete("warmup")
    assert h.parameters() == [{"a": 1}]


def test_pre_value_runs_before_each_value_and_post_value_after_it() -> None:
    h = multi(
        step(
            "[{parameter: a, values: [1, 2]}]",
            "    tasks: {pre_value: prepare, post_value: settle}\n",
        )
    )
    assert h.updates == []
    assert [task for task, _ in h.tasks] == ["prepare"]
    h.complete("prepare")
    assert h.parameters() == [{"a": 1}]
    h.signal(LogLineEvent, line="ok")
    assert [task for task, _ in h.tasks] == ["prepare", "settle"]
    h.complete("intertest")
    assert len(h.updates) == 1
    h.complete("settle")
    h.complete("prepare")
    assert h.parameters() == [{"a": 1}, {"a": 2}]


def test_the_advance_count_is_an_expression_and_only_this_runs_events_count() -> None:
    h = multi(
        step("[{parameter: a, values: [2, 3]}]", "    advance_condition: {events: 'a + _i'}\n")
    )
    first = h.trace
    h.publish(LogLineEvent(traceids=[first + 50], line="ok"))
    h.publish(LogLineEvent(line="ok"))
    for _ in range(2):
        h.signal(LogLineEvent, line="ok")
    assert "SendStepParameters" in h.states
    h.signal(LogLineEvent, line="ok")  # a=2, _i=1: three
    assert "PostValue" in h.states
    h.complete("intertest")
    for _ in range(5):  # a=3, _i=2: five
        assert "SendStepParameters" in h.states
        h.signal(LogLineEvent, line="ok")
    assert "PostValue" in h.states


def test_notrace_lifts_the_trace_requirement() -> None:
    h = multi(
        step("[{parameter: a, values: [1, 2]}]").replace(OK, "\"LogLineEvent[line='ok']:notrace\"")
    )
    h.signal(LogLineEvent, traced=False, line="ok")
    h.complete("intertest")
    assert len(h.updates) == 2


def test_without_an_advance_event_each_value_advances_at_once() -> None:
    h = multi("steps:\n  - values: [{parameter: a, values: [1, 2, 3]}]\n")
    for _ in range(3):
        h.complete("intertest")
    assert h.final
    assert len(h.updates) == 3


def test_the_advance_timeout_sets_its_status_and_advances_anyway() -> None:
    h = multi(
        step(
            "[{parameter: a, values: [1, 2]}]",
            "    advance_condition: {timeout: 30s, timeout_status: SLOW}\n",
        )
    )
    h.advance(29)
    assert "SendStepParameters" in h.states
    h.advance(1)
    assert "PostValue" in h.states
    h.complete("intertest")
    h.advance(30)
    h.complete("intertest")
    assert h.statuses() == ["SLOW", "SLOW"]
    assert [run["status"] for run in h.runs] == ["SLOW", "SLOW"]


def test_the_default_timeout_status_is_timeout() -> None:
    h = multi(step("[{parameter: a, values: [1]}]", "    advance_condition: {timeout: 5}\n"))
    h.advance(5)
    assert h.statuses() == ["TIMEOUT"]


def test_values_exhausted_set_ok_and_the_next_step_starts() -> None:
    h = multi(
        step("[{parameter: a, values: [1, 2]}]") + "  - values: [{parameter: b, values: [9]}]\n"
    )
    advance(h)
    advance(h)
    assert h.parameters() == [{"a": 1}, {"a": 2}, {"b": 9}]
    assert [run["status"] for run in h.runs] == [None, "OK"]


def test_end_and_fail_events_of_any_run_of_the_step_count_at_any_moment() -> None:
    extra = "    end_condition: {events: 2}\n"
    h = multi(
        step("[{parameter: a, values: [1, 2, 3, 4]}]", extra).replace(
            f"advance: {OK}", f"advance: {OK}, end: {END}, fail: {FAIL}"
        )
        + "  - values: [{parameter: b, values: [9]}]\n"
    )
    first = h.trace
    advance(h)
    # the first run's, arriving during the second
    h.publish(LogLineEvent(traceids=[first], line="fail"))
    assert "SendStepParameters" in h.states
    h.publish(LogLineEvent(traceids=[first], line="end"))
    assert h.parameters() == [{"a": 1}, {"a": 2}, {"b": 9}]  # values 3 and 4 skipped
    assert h.statuses() == ["FAILED", "OK"]


def test_end_events_of_another_step_are_ignored() -> None:
    h = multi(
        step("[{parameter: a, values: [1]}]") + f"  - values: [{{parameter: b, values: [2, 3]}}]\n"
        f"    events: {{end: {END}, advance: {OK}}}\n"
    )
    old = h.trace
    advance(h)
    h.publish(LogLineEvent(traceids=[old], line="end"))
    assert h.parameters() == [{"a": 1}, {"b": 2}]
    h.signal(LogLineEvent, line="end")
    h.complete("intertest")
    assert h.final


def test_with_an_end_condition_the_step_waits_for_events_then_lingers_then_runs_its_end_task() -> (
    None
):
    extra = "    end_condition: {events: 1, linger: 20s}\n    tasks: {end: cleanup}\n"
    h = multi(
        step("[{parameter: a, values: [1]}]", extra).replace(
            f"advance: {OK}", f"advance: {OK}, end: {END}"
        )
    )
    advance(h)
    assert h.states[-1] == "AwaitEnd"
    assert h.statuses() == ["OK"]
    h.advance(50)
    h.signal(LogLineEvent, line="end")
    h.advance(19)
    assert h.states[-1] == "Linger"
    assert h.runs == []
    h.advance(1)
    assert h.tasks[-1][0] == "cleanup"
    assert [(run["status"], run["duration"]) for run in h.runs] == [("OK", 70)]
    h.complete("cleanup")
    assert h.final


def test_an_end_condition_without_events_only_lingers() -> None:
    h = multi(
        step("[{parameter: a, values: [1]}]", "    end_condition: {linger: 3}\n").replace(
            f"advance: {OK}", f"advance: {OK}, end: {END}"
        )
    )
    advance(h)
    assert h.states[-1] == "Linger"
    h.advance(3)
    assert h.final
    assert [(run["status"], run["duration"]) for run in h.runs] == [("OK", 3)]


def test_a_step_that_stalls_completes_with_status_stalled() -> None:
    h = multi(
        step("[{parameter: a, values: [1]}]", "    end_condition: {events: 1}\n").replace(
            f"advance: {OK}", f"advance: {OK}, end: {END}"
        ),
        stale_timeout=30,
    )
    advance(h)
    h.advance(30)
    assert h.statuses() == ["OK", "stalled"]
    assert h.final


def test_two_multi_step_policies_on_one_bus_never_advance_each_other() -> None:
    h = multi(step("[{parameter: a, values: [1, 2]}]"))
    other = PolicyRunner(
        resolve("multi-step"),
        load_yaml(step("[{parameter: b, values: [1, 2]}]"), "other.yml"),
        bus=h.bus,
        batch=h.batch,
        cursor=h.ledger.cursor("multi-step", 1),
        clock=h.clock,
        timers=h.timers,
        definitions={},
        seed=1,
        run_task=lambda task, traces: None,
    )
    h.bus.subscribe(other.handle)
    h.loop.runners.append(other)
    h.settle()
    mine, theirs = h.trace, other.trace
    assert mine is not None
    assert theirs is not None
    assert mine != theirs
    h.publish(LogLineEvent(traceids=[theirs], line="ok"))
    assert "PostValue" in other.interpreter.configuration
    assert "SendStepParameters" in h.states


def test_an_interrupt_ends_the_policy_and_marks_the_run() -> None:
    h = multi(step("[{parameter: a, values: [1, 2]}]"))
    h.advance(7)
    h.interrupt()
    assert h.final
    assert [(run["status"], run["duration"]) for run in h.runs] == [("interrupted", 7)]


def test_the_chart_reads_as_the_policy() -> None:
    statechart = resolve("policy.MultiStepPolicy").statechart()
    assert {
        "Start",
        "StartStep",
        "RunStep",
        "NextStepValue",
        "SendStepParameters",
        "CompleteStep",
        "End",
    } <= set(statechart.states)
    # One transition on the step catches end and fail at any moment of it.
    assert "traced(event, updates) and ended + 1 >= needed" in [
        t.guard for t in statechart.transitions_from("Step")
    ]


CONFIG = """
policies:
  - class: policy.MultiStepPolicy
    steps:
      - name: warm
        values: [{parameter: load, values: [1, 2]}]
        events: {advance: CmdlineExitZeroEvent}
      - name: hot
        values: [{parameter: load, min: 10, max: 30, step: 10, inclusive: no}, \
{parameter: double, value: load * 2}]
        events: {advance: CmdlineExitZeroEvent, fail: CmdlineExitNonzeroEvent}
channels:
  - class: cmdline
    cmdline: "{{python}} -c \\"import sys; sys.exit(sys.argv[1] == '20')\\" {{load}} {{double|0}}"
"""


def test_real_commands_advance_the_values_and_a_failure_ends_its_step(tmp_path: Path) -> None:
    path = tmp_path / "steps.yml"
    path.write_text(CONFIG)
    config = load_config(path, {"python": sys.executable})
    assert Session(config, results_dir=tmp_path / "results").run() == 1
    runs = [
        json.loads(line) for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines()
    ]
    assert [(run["parameters"]["load"], run["status"], run["exitcodes"]) for run in runs] == [
        (1, None, [0]),
        (2, "OK", [0]),
        (10, None, [0]),
        (20, "FAILED", [1]),
    ]
    assert runs[-1]["parameters"]["double"] == 40


def test_a_dry_run_plans_every_value_of_every_step(tmp_path: Path) -> None:
    path = tmp_path / "steps.yml"
    path.write_text(
        CONFIG.replace("fail: CmdlineExitNonzeroEvent", "end: CmdlineExitZeroEvent") + ""
    )
    config = load_config(path, {"python": sys.executable})
    assert Session(config, results_dir=tmp_path / "results", dry_run=True).run() == 0
    runs = [
        json.loads(line) for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines()
    ]
    assert [run["parameters"]["load"] for run in runs] == [1, 2, 10, 20]
