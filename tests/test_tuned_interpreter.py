"""The tuned interpreter is sismic with its structural answers cached: it must take the very same
steps.

Every bundled chart runs through a whole dry-run session twice, on stock
sismic and on the tuned interpreter, and every macro step (its event, the
transitions fired, the states left and entered) must be the same. A chart
built to exercise nesting, priorities, internal events and orthogonal
regions is also driven by random event sequences on both.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sismic.exceptions import NonDeterminismError
from sismic.interpreter import Interpreter
from sismic.io import import_from_yaml
from sismic.model import MacroStep, Statechart, Transition

from interpreter.engine import runner as runner_module
from interpreter.engine.tuned import CACHE_LIMIT, TunedInterpreter
from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
CHART = Path(__file__).parent / "data" / "semantics_chart.yaml"
EVENTS = ["go", "back", "poke", "split", "again", "echo", "stop"]

Step = tuple[Any, ...]


def describe(macro: MacroStep) -> Step:
    """What a macro step did, in terms both interpreters share."""
    event = macro.event.name if macro.event is not None else None
    micro = tuple(
        (
            (step.transition.source, step.transition.target, step.transition.event)
            if step.transition is not None
            else None,
            tuple(step.exited_states),
            tuple(step.entered_states),
            tuple(e.name for e in step.sent_events),
        )
        for step in macro.steps
    )
    return (event, micro)


class StockChartInterpreter(Interpreter):
    """Stock sismic with the runner's one addition: naming the transitions of a non-deterministic
    choice."""

    def _sort_transitions(self, transitions: list[Transition]) -> list[Transition]:
        try:
            return super()._sort_transitions(transitions)
        except NonDeterminismError:
            raise runner_module.NonDeterminism(transitions) from None


def dry_run_trace(
    perfchart: Perfchart,
    config: Path,
    folder: Path,
    engine: type[Interpreter],
    monkeypatch: pytest.MonkeyPatch,
) -> list[tuple[str, Step]]:
    """Every macro step of every policy in a dry run of *config* on *engine*, and the run
    statuses."""
    trace: list[tuple[str, Step]] = []
    counted = runner_module.PolicyRunner._count

    def count(runner: runner_module.PolicyRunner, macro: MacroStep) -> None:
        trace.append((runner.name, describe(macro)))
        counted(runner, macro)

    with monkeypatch.context() as patch:
        patch.setattr(runner_module, "COMPILED", False)
        patch.setattr(runner_module, "ChartInterpreter", engine)
        patch.setattr(runner_module.PolicyRunner, "_count", count)
        assert perfchart(
            "run", str(config), "--dry-run", "-q", "--results", str(folder), cwd=config.parent
        ).returncode in (0, 1)
    return trace


EXAMPLES = sorted(
    p
    for p in (ROOT / "examples").iterdir()
    if p.suffix == ".yml" and "\npolicies:" in p.read_text()
)


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.name)
def test_every_example_session_steps_alike_on_stock_and_tuned_sismic(
    perfchart: Perfchart, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stock = dry_run_trace(perfchart, config, tmp_path / "stock", StockChartInterpreter, monkeypatch)
    tuned = dry_run_trace(
        perfchart, config, tmp_path / "tuned", runner_module.ChartInterpreter, monkeypatch
    )
    assert len(stock) >= 3
    assert tuned == stock
    assert (tmp_path / "tuned" / "runs.csv").read_text().count("\n") == (
        tmp_path / "stock" / "runs.csv"
    ).read_text().count("\n")


def test_the_examples_cover_every_bundled_chart(
    perfchart: Perfchart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from interpreter.charts import bundled

    names = {chart.name for chart in bundled()}
    used: set[str] = set()
    for config in EXAMPLES:
        used |= {
            name
            for name, _ in dry_run_trace(
                perfchart,
                config,
                tmp_path / config.stem,
                runner_module.ChartInterpreter,
                monkeypatch,
            )
        }
    assert names <= used


def run_both(statechart: Statechart, events: list[str]) -> tuple[list[Step], list[Step], Any, Any]:
    stock = Interpreter(statechart, ignore_contract=True)
    tuned = TunedInterpreter(statechart, ignore_contract=True)
    traces: tuple[list[Step], list[Step]] = ([], [])
    for interpreter, trace in zip((stock, tuned), traces, strict=True):
        trace.extend(describe(m) for m in interpreter.execute())
        for name in events:
            interpreter.queue(name)
            trace.extend(describe(m) for m in interpreter.execute(max_steps=50))
    return traces[0], traces[1], stock, tuned


@pytest.mark.slow
@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(EVENTS), max_size=40))
def test_random_event_sequences_step_alike(events: list[str]) -> None:
    stock, tuned, a, b = run_both(import_from_yaml(filepath=str(CHART)), events)
    assert tuned == stock
    assert b.configuration == a.configuration
    assert b.context["n"] == a.context["n"]
    assert b.context["log"] == a.context["log"]


def test_the_semantics_chart_reaches_what_it_is_meant_to_exercise() -> None:
    events = [
        "poke",
        "poke",
        "poke",
        "go",
        "go",
        "poke",
        "poke",
        "split",
        "again",
        "go",
        "go",
        "back",
        "again",
        "poke",
        "go",
        "split",
        "stop",
    ]
    stock, tuned, _, _ = run_both(import_from_yaml(filepath=str(CHART)), events)
    assert tuned == stock
    fired = {micro[0] for _, steps in stock for micro in steps if micro[0] is not None}
    entered = {name for _, steps in stock for micro in steps for name in micro[2]}
    assert {"inner", "other", "l2", "r2", "done"} <= entered
    assert ("r2", "r1", "again_inside") in fired  # an internal event, sent on entry
    assert ("busy", "idle", None) in fired  # an eventless transition, once its guard holds


def test_history_states_and_listeners_fall_back_to_stock_sismic() -> None:
    chart = import_from_yaml(
        """
        statechart:
          name: history
          root state:
            name: root
            initial: a
            states:
              - name: a
                initial: a1
                transitions: [{target: b, event: out}]
                states:
                  - {name: h, type: shallow history}
                  - {name: a1, transitions: [{target: a2, event: next}]}
                  - name: a2
              - name: b
                transitions: [{target: h, event: in}]
        """
    )
    events = ["next", "out", "in", "out", "in"]
    stock, tuned, a, b = run_both(chart, events)
    assert tuned == stock
    assert b.configuration == a.configuration == ["root", "a", "a2"]
    seen: list[str] = []
    listened = TunedInterpreter(chart)
    listened.attach(lambda meta: seen.append(meta.name))
    listened.execute()
    assert "state entered" in seen
    assert "step ended" in seen


def test_caches_stay_bounded() -> None:
    tuned = TunedInterpreter(import_from_yaml(filepath=str(CHART)), ignore_contract=True)
    tuned.execute()
    for _ in range(CACHE_LIMIT * 2):
        tuned._select_transitions(None, {"root", "idle", f"unknown-{_}"})
    assert len(tuned._plans) <= CACHE_LIMIT + 1
