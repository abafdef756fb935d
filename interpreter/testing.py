"""A pytest-friendly harness for policy authors: one chart, a real sismic interpreter, simulated
time.

The harness turns the same :class:`~interpreter.engine.loop.EventLoop` that
runs sessions, on sismic's simulated clock, so a test of an hour-long
policy takes milliseconds and every timestamp is exact::

    from interpreter.testing import PolicyHarness

    def test_two_runs():
        h = PolicyHarness("multivariable-explorer", '''
            matrix: {apps: {type: discreet, values: [1, 2]}}
            events: {signal: {OK: CmdlineExitZeroEvent}}
        ''')
        h.signal(CmdlineExitZeroEvent, exitcode=0)
        h.complete("intertest")
        ...
        assert [run["status"] for run in h.runs] == ["OK", "OK"]

Nothing here reaches into sismic's private state: inputs go through the bus
and the chart's bindings exactly as in a session.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from sismic.clock import SimulatedClock

from .charts import PolicyChart, resolve
from .config import LocatedDict, load_yaml, validate
from .core import (
    Event,
    EventBus,
    FlagUpdateEvent,
    ParameterUpdateEvent,
    RunEndEvent,
    RunTaskCompletedEvent,
    Timers,
    traces,
)
from .engine import EventLoop, ParameterBatch, PolicyRunner, Record, RunLedger, RunListener

__all__ = ["PolicyHarness"]

#: Turns without rest before the harness decides the chart loops forever.
MAX_TURNS = 10_000


class PolicyHarness:
    """One policy chart driven by hand: publish events, complete tasks, advance time, inspect the
    outcome.

    *chart* is a bundled policy's name or alias, a chart file's path, or a
    loaded :class:`PolicyChart`; *config* is the policy's block (YAML text or
    a mapping), checked against the chart's schema unless *validate_config*
    is false; then ``bind()`` also accepts event classes only the test
    defines. Tasks the chart runs are recorded in :attr:`tasks` and complete
    only when the test says so (:meth:`complete`).
    """

    def __init__(
        self,
        chart: str | Path | PolicyChart,
        config: str | Mapping[str, Any],
        *,
        definitions: Mapping[str, Any] | None = None,
        parameters: Mapping[str, Any] | None = None,
        seed: int = 1,
        stale_timeout: float = 60.0,
        validate_config: bool = True,
    ) -> None:
        self.chart = chart if isinstance(chart, PolicyChart) else resolve(str(chart), Path.cwd())
        block = load_yaml(config, "policy.yml") if isinstance(config, str) else config
        if validate_config and self.chart.config_schema is not None:
            validate(block, self.chart.config_schema)
        self.clock = SimulatedClock()
        self.timers = Timers(self.clock)
        self.bus = EventBus(self.clock)
        self.loop = EventLoop(self.bus, self.timers)
        self.batch = ParameterBatch(self.bus, parameters or {})
        self.ledger = RunLedger(self.bus, self.batch, dry_run=True)
        #: Every run record closed so far, in order.
        self.runs: list[Record] = []
        self.ledger.add(_Closed(self.runs))
        self.updates: list[ParameterUpdateEvent] = []
        self.flags: list[FlagUpdateEvent] = []
        self.run_ends: list[RunEndEvent] = []
        #: Each task the chart asked for: its name and the traces it carries.
        self.tasks: list[tuple[str, tuple[int, ...]]] = []
        self.bus.subscribe(self._record, ParameterUpdateEvent, FlagUpdateEvent, RunEndEvent)
        self.runner = PolicyRunner(
            self.chart,
            block if isinstance(block, LocatedDict) else LocatedDict(block),
            cursor=self.ledger.cursor(self.chart.name, 1),
            bus=self.bus,
            batch=self.batch,
            clock=self.clock,
            timers=self.timers,
            definitions=definitions or {},
            seed=seed,
            stale_timeout=stale_timeout,
            run_task=lambda task, traceids: self.tasks.append((task, tuple(sorted(traceids)))),
            check_classes=validate_config,
        )
        self.bus.subscribe(self.runner.handle)
        self.loop.runners.append(self.runner)
        self.settle()

    def _record(self, event: Event) -> None:
        if isinstance(event, ParameterUpdateEvent):
            self.updates.append(event)
        elif isinstance(event, FlagUpdateEvent):
            self.flags.append(event)
        elif isinstance(event, RunEndEvent):
            self.run_ends.append(event)

    # -- inputs ----------------------------------------------------------------

    def settle(self) -> None:
        """Turn the loop until nothing is left to do now; the clock does not move."""
        for _ in range(MAX_TURNS):
            if not self.loop.turn():
                return
        raise AssertionError(f"the policy never settled (states: {self.states})")

    def publish(self, event: Event) -> None:
        """Publish *event* as it is (with whatever traces it carries) and settle."""
        self.bus.publish(event)
        self.settle()

    def signal(self, cls: type[Event], *, traced: bool = True, **fields: Any) -> Event:
        """Publish a *cls* event carrying the current run's trace
        (or none with ``traced=False``).
        """
        event = cls(traceids=traces(self.trace) if traced else frozenset(), **fields)
        self.publish(event)
        return event

    def complete(self, task: str, exitcodes: Iterable[int] = ()) -> None:
        """Report task *task* complete, as a task runner would."""
        self.publish(RunTaskCompletedEvent(task=task, exitcodes=list(exitcodes)))

    def interrupt(self) -> None:
        """Send the chart ``interrupt``, as Ctrl-C does in a session."""
        self.runner.send("interrupt")
        self.settle()

    def advance(self, seconds: float) -> None:
        """Let *seconds* of simulated time pass, stopping at every deadline on the way.

        Time guards, filter ``:after`` timers and the stale timeout fire at
        their exact time, not at the end of the step.
        """
        target = self.clock.time + seconds
        self.settle()
        while True:
            deadline = self.loop.deadline()
            if deadline is None or deadline > target:
                break
            if deadline > self.clock.time:
                self.clock.time = deadline
            self.settle()
        self.clock.time = target
        self.settle()

    # -- what happened ---------------------------------------------------------

    @property
    def trace(self) -> int | None:
        """The trace of the latest run the chart started."""
        return self.runner.trace

    @property
    def states(self) -> list[str]:
        """The chart's active states, outermost first."""
        return list(self.runner.interpreter.configuration)

    @property
    def final(self) -> bool:
        """The chart reached a final state: the policy is over."""
        return self.runner.final

    @property
    def results(self) -> dict[str, Any]:
        """The policy's answers so far (``policy.set_result``)."""
        return dict(self.runner.results)

    @property
    def open_runs(self) -> list[Record]:
        """Records of runs still in progress."""
        return self.ledger.open_runs

    def statuses(self) -> list[Any]:
        """Every ``status`` flag the chart set, in order."""
        return [flag.value for flag in self.flags if flag.name == "status"]

    def parameters(self) -> list[dict[str, Any]]:
        """The parameters each run changed, in order."""
        return [dict(update.changes) for update in self.updates]


class _Closed(RunListener):
    """Keeps every closed record, in order."""

    def __init__(self, runs: list[Record]) -> None:
        self.runs = runs

    def closed(self, record: Record) -> None:
        self.runs.append(record)
