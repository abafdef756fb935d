"""The dry run's channel: it stands in for every channel and task, answers at once and runs nothing.

It is one more implementation of the channel seam (as a mock executor is
one more executor): it is subscribed to parameter updates like any channel
and publishes its answers on the bus, where the policies' bindings select
them through their filters exactly as they select a real channel's events.

A channel that can say what it would publish (``Channel.simulation``)
gets its simulated events published at their simulated times. When the
session has nothing else to do and no such event is pending, the simulator
publishes a traced :class:`SimulatedEvent` answering one of the policy's OK
bindings, one at a time, so a sweep runs through its whole plan under the
simulated clock in a fraction of a second per thousand runs. A binding made
with ``simulate=False`` (an event that ends a policy early) is answered only
when the chart waits for nothing else: no other binding and no time guard.
Tasks complete after their simulated duration, running none of their commands.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any, ClassVar, Protocol

from ..core import (
    Event,
    ParameterUpdateEvent,
    RunTaskCompletedEvent,
    SimulatedEvent,
    Timers,
    traces,
)
from ..errors import PerfchartError
from .base import Channel, ChannelContext, Simulation

#: Answers in a row that moved nothing before the simulator lets time pass instead.
PATIENCE = 100


class Bound(Protocol):
    """A binding as the simulator sees it: the role and filter a
    chart bound, with its attributes.
    """

    @property
    def role(self) -> str: ...
    @property
    def expression(self) -> str: ...
    @property
    def attrs(self) -> Mapping[str, Any]: ...
    @property
    def simulate(self) -> bool: ...


class Waiting(Protocol):
    """A policy as the simulator sees it: what it is bound to, and marks of its progress."""

    @property
    def name(self) -> str: ...
    @property
    def bindings(self) -> Sequence[Bound]: ...
    @property
    def trace(self) -> int | None: ...
    @property
    def transitions(self) -> int: ...
    @property
    def stalls(self) -> int: ...
    @property
    def timed(self) -> bool: ...

    def waiting(self) -> str: ...


class Simulator(Channel):
    """Answers for every channel and task of a dry run; *task_seconds* says how long a named task
    takes.

    *simulations* are the configured channels' own stand-ins (``Channel.simulation``).
    """

    names: ClassVar[tuple[str, ...]] = ()
    schema: ClassVar[Mapping[str, Any]] = {}
    events: ClassVar[tuple[type[Event], ...]] = (SimulatedEvent, RunTaskCompletedEvent)

    def __init__(
        self,
        context: ChannelContext,
        timers: Timers,
        simulations: Sequence[Simulation] = (),
        task_seconds: Mapping[str, float] | None = None,
    ) -> None:
        super().__init__({}, context)
        self.bus = context.bus
        self.timers = timers
        self.simulations = list(simulations)
        # With nothing to play, parameter updates need not reach it at all.
        self.subscribes = (ParameterUpdateEvent,) if self.simulations else ()
        self.task_seconds = dict(task_seconds or {})
        self._fruitless = 0
        self._stalls = 0
        self._progress_mark: tuple[Any, ...] = ()
        #: Channel events scheduled and not yet published.
        self._pending = 0
        #: The bindings last answered, and their answerable ones in the order they take turns:
        #: sorted again only when a chart binds or unbinds.
        self._bound: list[Bound] = []
        self._answerable: tuple[list[Bound], list[Bound]] = ([], [])

    def apply(self, update: ParameterUpdateEvent) -> None:
        """Play each configured channel's simulation of *update*."""
        for simulation in self.simulations:
            for delay, event in simulation(update):
                self.publish_later(delay, event)

    def close(self) -> None:
        """Nothing runs, so nothing is left to stop."""

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

    def run(
        self, task: str, traceids: Iterable[int] = (), parameters: Mapping[str, Any] | None = None
    ) -> None:
        """Complete a task after its simulated duration (at once by default), running none of its
        commands.

        The same call as ``TaskRunner.run``, so the session starts tasks one way in dry and real
        runs.
        """
        completed = RunTaskCompletedEvent(traceids=frozenset(traceids), task=task)
        seconds = self.task_seconds.get(task, 0.0)
        if seconds > 0:
            self.timers.call_later(seconds, lambda: self.bus.publish(completed))
        else:
            self.bus.publish(completed)

    def answer(self, runner: Waiting) -> bool:
        """Publish a traced answer to one OK (or status-less) binding; False when answering stopped
        helping.

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
            raise PerfchartError(
                f"dry run: policy {runner.name} is stuck {runner.waiting()}: nothing this dry run "
                "sends moves it, not even stalled"
            )
        if self._fruitless >= PATIENCE:
            return False
        answerable, bindings = self._answers(runner.bindings)
        if not bindings and not runner.timed:
            # Only an event that cuts the policy short could move it now: make that up rather than
            # stall.
            bindings = answerable
        if not bindings:
            return False
        # One answer at a time, taking turns in an order of their own, so the plan never depends on
        # the order of bind() calls.
        binding = bindings[self._fruitless % len(bindings)]
        self._fruitless += 1
        self.bus.publish(
            SimulatedEvent(
                traceids=traces(runner.trace), expression=binding.expression, role=binding.role
            )
        )
        return True

    def _answers(self, bound: Sequence[Bound]) -> tuple[list[Bound], list[Bound]]:
        """The OK (or status-less) bindings of *bound* in the order they take turns, and those of
        them a dry run may make up freely."""
        if len(bound) != len(self._bound) or any(
            a is not b for a, b in zip(bound, self._bound, strict=True)
        ):
            answerable = sorted(
                (b for b in bound if str(b.attrs.get("status", "OK")).upper() == "OK"),
                key=lambda b: ("status" not in b.attrs, b.role, b.expression),
            )
            self._bound = list(bound)
            self._answerable = (answerable, [b for b in answerable if b.simulate])
        return self._answerable
