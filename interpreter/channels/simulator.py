"""The dry-run stand-in for every channel and task: it answers at once and runs nothing.

A channel that can say what it would publish (``Channel.simulation``)
gets its simulated events published at their simulated times, so the
policy sees them through its filters as in a real run. When the session has
nothing else to do and no such event is pending, the simulator gives the
policy's bindings a traced OK answer, one at a time, so a sweep runs through its
whole plan under the simulated clock in a fraction of a second per
thousand runs. A binding made with ``simulate=False`` (an event that ends
a policy early) is answered only when the chart waits for nothing else: no
other binding and no time guard.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..core import Event, EventBus, RunTaskCompletedEvent, SimulatedEvent, Timers, traces
from ..errors import PerfchartError

if TYPE_CHECKING:
    from ..engine import PolicyRunner

#: Answers in a row that moved nothing before the simulator lets time pass instead.
PATIENCE = 100


class Simulator:
    """Answers for every channel and task of a dry run; *task_seconds* says how long a named task takes."""

    def __init__(self, bus: EventBus, timers: Timers, task_seconds: Mapping[str, float]) -> None:
        self.bus = bus
        self.timers = timers
        self.task_seconds = dict(task_seconds)
        self._fruitless = 0
        self._stalls = 0
        self._progress_mark: tuple[Any, ...] = ()
        #: Channel events scheduled and not yet published.
        self._pending = 0

    def publish_later(self, delay: float, event: Event) -> None:
        """Publish a channel's simulated *event* after *delay* simulated seconds."""
        if delay <= 0:
            self.bus.publish(event)
            return
        self._pending += 1

        def publish() -> None:
            self._pending -= 1
            self.bus.publish(event)

        self.timers.call_later(delay, publish)

    def run_task(self, task: str, traceids: Iterable[int] = ()) -> None:
        """Complete a task after its simulated duration (at once by default), running none of its commands."""
        completed = RunTaskCompletedEvent(traceids=frozenset(traceids), task=task)
        seconds = self.task_seconds.get(task, 0.0)
        if seconds > 0:
            self.timers.call_later(seconds, lambda: self.bus.publish(completed))
        else:
            self.bus.publish(completed)

    def answer(self, runner: PolicyRunner) -> bool:
        """Give one OK (or status-less) binding a traced event; False when answering stopped helping.

        Bindings with an explicit OK status come first, then by role and
        filter, and take turns while answers move nothing. While channel
        events are pending it gives none, so time passes until they arrive.
        """
        if self._pending:
            return False
        mark = (runner.trace, runner.transitions)
        if mark != self._progress_mark:
            self._progress_mark = mark
            self._fruitless = 0
            self._stalls = runner.stalls
        elif runner.stalls > self._stalls:
            raise PerfchartError(f"dry run: policy {runner.name} is stuck {runner.waiting()}: nothing this dry run sends moves it, not even stalled")
        if self._fruitless >= PATIENCE:
            return False
        answerable = sorted(
            (b for b in runner.bindings if str(b.attrs.get("status", "OK")).upper() == "OK"),
            key=lambda b: ("status" not in b.attrs, b.role, b.expression),
        )
        bindings = [b for b in answerable if b.simulate]
        if not bindings and runner.evaluator.deadline is None:
            # Only an event that cuts the policy short could move it now: make that up rather than stall.
            bindings = answerable
        if not bindings:
            return False
        # One answer at a time, taking turns in an order of their own, so the plan never depends on the order of bind() calls.
        binding = bindings[self._fruitless % len(bindings)]
        self._fruitless += 1
        traceids = traces(runner.trace)
        runner.send(
            binding.role,
            source=SimulatedEvent(traceids=traceids, expression=binding.expression),
            traceids=traceids,
            notrace=False,
            **binding.attrs,
        )
        return True
