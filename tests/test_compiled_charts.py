"""A compiled chart takes the very steps sismic takes: the same trace on the same events.

Every example session runs as a dry run on sismic and on the compiled
table, and every macro step (its event, the transitions fired, the states
left and entered, the events sent) must be the same. Each bundled chart is
then driven through its policy runner by 1,000 random streams of events and
clock jumps on both engines, and the test chart ``data/compiled_chart.yaml``
(nesting, priorities, internal and delayed events, self transitions, time
guards, final states) by 1,000 more on stock sismic and the compiled
interpreter directly, listeners included. A chart outside the subset runs on
sismic, and says so.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sismic.clock import SimulatedClock
from sismic.exceptions import NonDeterminismError
from sismic.interpreter import Interpreter
from sismic.io import import_from_yaml
from sismic.model import MacroStep, MetaEvent

from interpreter.charts import resolve
from interpreter.config import load_yaml
from interpreter.core import EventBus, Timers
from interpreter.engine import Cursor, ParameterBatch, PolicyRunner
from interpreter.engine import runner as runner_module
from interpreter.engine.compiled import CompiledInterpreter, compile_chart, subset_problem
from interpreter.errors import PerfchartError
from tests.conftest import Perfchart
from tests.test_tuned_interpreter import EXAMPLES, describe

DATA = Path(__file__).parent / "data"
CHART = DATA / "compiled_chart.yaml"
EVENTS = ["go", "back", "poke", "again", "wait", "dive", "reset", "up", "park", "tick", "stop"]

Step = tuple[Any, ...]


@contextmanager
def engine(compiled: bool) -> Iterator[None]:
    """Runners built inside run charts compiled (True) or on sismic (False)."""
    before = runner_module.COMPILED
    runner_module.COMPILED = compiled
    try:
        yield
    finally:
        runner_module.COMPILED = before


def dry_run_trace(
    perfchart: Perfchart, config: Path, folder: Path, monkeypatch: pytest.MonkeyPatch
) -> list[tuple[str, str, Step]]:
    """Every macro step of every policy in a dry run of *config*, with the engine that took it."""
    trace: list[tuple[str, str, Step]] = []
    counted = runner_module.PolicyRunner._count

    def count(runner: runner_module.PolicyRunner, macro: MacroStep) -> None:
        trace.append((runner.name, runner.engine, describe(macro)))
        counted(runner, macro)

    with monkeypatch.context() as patch:
        patch.setattr(runner_module.PolicyRunner, "_count", count)
        assert perfchart(
            "run", str(config), "--dry-run", "-q", "--results", str(folder), cwd=config.parent
        ).returncode in (0, 1)
    return trace


@pytest.mark.parametrize("config", EXAMPLES, ids=lambda p: p.name)
def test_every_example_session_steps_alike_on_sismic_and_compiled(
    perfchart: Perfchart, config: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with engine(False):
        stock = dry_run_trace(perfchart, config, tmp_path / "sismic", monkeypatch)
    with engine(True):
        compiled = dry_run_trace(perfchart, config, tmp_path / "compiled", monkeypatch)
    assert len(stock) >= 3
    assert {e for _, e, _ in stock} == {"sismic"}
    assert {e for _, e, _ in compiled} == {"compiled"}
    assert [(n, s) for n, _, s in compiled] == [(n, s) for n, _, s in stock]
    for name in ("runs.csv", "summary.csv"):
        ours, theirs = tmp_path / "compiled" / name, tmp_path / "sismic" / name
        if theirs.exists():
            assert ours.read_text().count("\n") == theirs.read_text().count("\n")


# -- the bundled charts, through their runners, on random streams --------------------------------

CONFIGS = {
    "multivariable-explorer": """
        matrix: {a: {type: discrete, values: [1, 2, 3]}, b: {type: discrete, values: [x, y]}}
        events:
          signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}
          signalEventCount: 2
    """,
    "simple": """
        parameters: {a: 1}
        events: {end: CmdlineExitZeroEvent}
        timeout: 5
    """,
    "time-evolution": """
        evolve:
          - {parameter: a, interval: 1, max: 3}
          - {parameter: b, interval: 2, min: 1, max: 5}
        events: {end: CmdlineExitZeroEvent}
    """,
    "multi-step": """
        steps:
          - name: one
            values: [{parameter: a, values: [1, 2]}]
            events: {advance: CmdlineExitZeroEvent, end: CmdlineExitNonzeroEvent}
            advance_condition: {events: 2, timeout: 3}
            end_condition: {linger: 1}
            tasks: {start: begin, end: finish}
          - name: two
            values: [{parameter: b, min: 1, max: 2, step: 1}]
            events: {start: CmdlineExitZeroEvent}
    """,
}
NAMES = ["signal", "task_completed", "start", "restart", "stalled", "interrupt", "end", "advance"]
TASKS = ["intertest", "begin", "finish", "other"]

#: One input: send an event (name, carrying the current run's trace or not, status, task) or
#: let the clock run for a while.
Input = tuple[str, Any, Any, Any]
INPUTS = st.one_of(
    st.tuples(
        st.just("send"),
        st.sampled_from(NAMES),
        st.booleans(),
        st.tuples(st.sampled_from(["OK", "FAILED"]), st.sampled_from(TASKS)),
    ),
    st.tuples(st.just("wait"), st.sampled_from([0.5, 1.0, 2.0, 7.0]), st.none(), st.none()),
)


class Source:
    """What a chart reads of the bus event behind a statechart event."""

    event_name = "CmdlineExitZeroEvent"

    def __repr__(self) -> str:
        return "Source()"


def policy_runner(name: str) -> tuple[PolicyRunner, SimulatedClock, list[Any]]:
    """A runner of the bundled chart *name* on a simulated clock, and what it publishes."""
    clock = SimulatedClock()
    bus = EventBus(clock)
    published: list[Any] = []
    bus.subscribe(lambda e: published.append((type(e).__name__, sorted(vars(e).items(), key=str))))
    batch = ParameterBatch(bus, {})
    runner = PolicyRunner(
        resolve(name),
        load_yaml(CONFIGS[name], "policy.yml"),
        bus=bus,
        batch=batch,
        cursor=Cursor(batch, name, 1),
        clock=clock,
        timers=Timers(clock),
        definitions={},
        seed=1,
        stale_timeout=10.0,
        run_task=lambda task, traceids: published.append(("task", task)),
    )
    return runner, clock, published


def drive(name: str, inputs: list[Input], compiled: bool) -> list[Any]:
    """Everything the chart did on *inputs*: its macro steps, what it published, where it ended,
    or the error that ended it."""
    with engine(compiled):
        runner, clock, published = policy_runner(name)
    assert runner.engine == ("compiled" if compiled else "sismic")
    trace: list[Any] = []
    execute = runner.interpreter.execute_once

    def recorded() -> MacroStep | None:
        macro = execute()
        if macro is not None:
            trace.append(describe(macro))
        return macro

    runner.interpreter.execute_once = recorded  # type: ignore[method-assign]
    try:
        runner.step()
        for kind, value, own, attributes in inputs:
            if runner.final:
                break
            if kind == "wait":
                clock.time += value
                runner.check_stale()
            else:
                traceids = frozenset([runner.trace if own and runner.trace else -1])
                status, task = attributes
                runner.send(value, traceids=traceids, status=status, task=task, source=Source())
            runner.step()
            runner.bus.dispatch(0.0)
            trace.append(("published", published[:]))
            published.clear()
    except PerfchartError as exc:
        trace.append(("error", str(exc)))
    context = runner.evaluator.context
    trace.append(("end", runner.final, sorted(runner.interpreter.configuration)))
    # Values whose repr is an address (iterators, the policy object) cannot be compared.
    values = {k: repr(v) for k, v in context.items() if k[0] != "_"}
    trace.append(("context", sorted((k, v) for k, v in values.items() if " at 0x" not in v)))
    return trace


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_every_bundled_chart_is_in_the_compiled_subset(name: str) -> None:
    assert subset_problem(resolve(name).statechart()) is None


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_random_streams_step_alike_through_the_runner(name: str) -> None:
    seen: set[int] = set()

    @settings(max_examples=1000, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(INPUTS, max_size=30))
    def alike(inputs: list[Input]) -> None:
        stock = drive(name, inputs, compiled=False)
        assert drive(name, inputs, compiled=True) == stock
        seen.add(len(stock))

    alike()
    assert max(seen) > 10  # the streams took the charts somewhere


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_a_stream_that_walks_each_bundled_chart_steps_alike(name: str) -> None:
    inputs: list[Input] = []
    for _ in range(8):
        inputs += [
            ("send", "start", True, ("OK", "begin")),
            ("send", "signal", True, ("OK", "intertest")),
            ("send", "advance", True, ("OK", "intertest")),
            ("send", "signal", False, ("FAILED", "intertest")),
            ("wait", 2.0, None, None),
            ("send", "task_completed", True, ("OK", "intertest")),
            ("send", "task_completed", True, ("OK", "begin")),
            ("send", "task_completed", True, ("OK", "finish")),
        ]
    stock = drive(name, inputs, compiled=False)
    assert drive(name, inputs, compiled=True) == stock
    updates = [e for step in stock if step[0] == "published" for e in step[1] if "Update" in e[0]]
    assert len(stock) > 20
    assert updates  # the walk set parameters


# -- the test chart, on stock sismic and the compiled interpreter directly ------------------------

StreamInput = tuple[str, Any]
STREAM = st.lists(
    st.one_of(
        st.tuples(st.just("event"), st.sampled_from([*EVENTS, "unknown"])),
        st.tuples(st.just("wait"), st.sampled_from([0.5, 1.0, 2.5, 4.0])),
    ),
    max_size=40,
)


def meta(event: MetaEvent) -> tuple[Any, ...]:
    """A meta-event in terms both interpreters share."""
    data = {k: getattr(v, "name", v) for k, v in event.data.items()}
    return (event.name, sorted(data.items(), key=str))


def run_both(inputs: list[StreamInput]) -> tuple[list[Any], list[Any]]:
    """The trace of the test chart on stock sismic and on the compiled interpreter."""
    statechart = import_from_yaml(filepath=str(CHART))
    traces: tuple[list[Any], list[Any]] = ([], [])
    for trace, build in zip(traces, (Interpreter, CompiledInterpreter), strict=True):
        clock = SimulatedClock()
        interpreter: Any = build(statechart, clock=clock, ignore_contract=True)
        interpreter.attach(lambda e, trace=trace: trace.append(meta(e)))
        try:
            trace.extend(describe(m) for m in interpreter.execute(max_steps=50))
            for kind, value in inputs:
                if kind == "wait":
                    clock.time += value
                else:
                    interpreter.queue(value)
                trace.extend(describe(m) for m in interpreter.execute(max_steps=50))
        except NonDeterminismError:
            trace.append("non-deterministic")
        trace.append((interpreter.final, interpreter.configuration))
        trace.append((interpreter.context["n"], interpreter.context["log"]))
    return traces


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(STREAM)
def test_random_streams_step_alike_on_the_test_chart(inputs: list[StreamInput]) -> None:
    stock, compiled = run_both(inputs)
    assert compiled == stock


def test_the_test_chart_reaches_what_it_is_meant_to_exercise() -> None:
    inputs: list[StreamInput] = [
        ("event", e)
        for e in ["poke", "go", "go", "go", "echo", "park", "reset", "up", "back", "again"]
    ]
    inputs += [("event", "wait"), ("wait", 1.5), ("event", "poke"), ("event", "wait")]
    inputs += [("wait", 4.0), ("event", "dive"), ("event", "go"), ("event", "go")]
    inputs += [("event", "back"), ("event", "go")] + [("event", "go")] * 6 + [("wait", 2.5)]
    inputs += [("event", "tick"), ("event", "stop")]
    stock, compiled = run_both(inputs)
    assert compiled == stock
    steps = [s for s in stock if isinstance(s, tuple) and len(s) == 2 and isinstance(s[1], tuple)]
    fired = {micro[0] for _, micros in steps for micro in micros if micro[0] is not None}
    entered = {name for _, micros in steps for micro in micros for name in micro[2]}
    assert {"inner", "other", "parked", "waiting", "deep", "done"} <= entered
    assert ("inner", "other", "echo") in fired  # an internal event, sent on entry
    assert ("waiting", "idle", None) in fired  # an eventless transition, once after() holds
    assert ("outer", "busy", "up") in fired  # to an ancestor
    assert ("busy", "outer", "reset") in fired  # to a descendant
    assert stock[-2] == (True, [])


def test_the_table_is_plain_data_that_marshal_keeps() -> None:
    import marshal

    from interpreter.engine.compiled import CompiledChart

    table = compile_chart(import_from_yaml(filepath=str(CHART)))
    back = CompiledChart.from_data(marshal.loads(marshal.dumps(table.as_data())))
    assert back is not None
    assert (back.plans, back.moves, back.settle) == (table.plans, table.moves, table.settle)
    assert back.code.keys() == table.code.keys()


# -- outside the subset ---------------------------------------------------------------------------


def test_a_chart_outside_the_subset_is_refused_by_the_compiled_interpreter() -> None:
    statechart = import_from_yaml(filepath=str(DATA / "semantics_chart.yaml"))
    assert subset_problem(statechart) == ("uses an orthogonal state", "split")
    with pytest.raises(ValueError, match="orthogonal"):
        CompiledInterpreter(statechart)
