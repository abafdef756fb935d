"""The one event loop: real sessions, dry runs, session tasks and tests all turn it.

A turn runs the due timers (ticks, filter ``:after``, stall watches), checks
each active chart for staleness, steps the charts that have work or whose
time guard came due, and delivers queued bus events. When a turn finds
nothing to do, the loop waits: on the wall clock it blocks on the bus until
an event arrives or the next deadline; on the simulated clock it jumps
straight to that deadline, which is how an hour-long policy is tested in
milliseconds.

A turn delivers at most the bus's ``batch`` of events, so a chart steps
between batches however fast a channel publishes; when the bus had to hold
a channel back, each chart is asked whether one of its bindings is why.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TYPE_CHECKING

from sismic.clock import SimulatedClock

from ..core import EventBus, Timers

if TYPE_CHECKING:
    from .runner import PolicyRunner


class EventLoop:
    def __init__(self, bus: EventBus, timers: Timers) -> None:
        self.bus = bus
        self.timers = timers
        #: The charts being driven; one today, one per lane once lanes exist.
        self.runners: list[PolicyRunner] = []
        #: Asked in turn before the loop waits; one returning True means it made work (the dry-run
        #: simulator).
        self.idle_hooks: list[Callable[[], bool]] = []
        #: The bus's count of held-back producers when the charts were last asked who crowds it.
        self._holds = 0

    def turn(self) -> bool:
        """Do everything that is due now; True when anything happened."""
        busy = self.timers.run_due() > 0
        for runner in self.runners:
            runner.check_stale()
            if runner.has_work or runner.due():
                runner.step()
                busy = True
        if self.bus.dispatch(0.0, self.bus.batch):
            busy = True
        if self.bus.holds != self._holds:
            self._holds = self.bus.holds
            for runner in self.runners:
                runner.check_crowded()
        return busy

    def deadline(self) -> float | None:
        """The earliest moment anything could happen without an event: a timer, a time guard, a
        stale timeout.
        """
        deadlines = [self.timers.next_deadline(), *(runner.deadline() for runner in self.runners)]
        present = [d for d in deadlines if d is not None]
        return min(present) if present else None

    def wait(self) -> None:
        """Nothing is due: let an idle hook make work, else wait
        for an event or the next deadline.
        """
        for hook in self.idle_hooks:
            if hook():
                return
        deadline = self.deadline()
        clock = self.timers.clock
        if isinstance(clock, SimulatedClock):
            if deadline is None:
                raise RuntimeError(
                    "the simulated clock has nothing to wait for: the loop would spin forever"
                )
            if deadline > clock.time:
                clock.time = deadline
            return
        self.bus.dispatch(
            None if deadline is None else max(0.0, deadline - clock.time), self.bus.batch
        )

    def run_until(self, done: Callable[[], bool]) -> None:
        """Turn until *done* says so, waiting whenever a turn finds nothing to do.

        On the wall clock this thread becomes the bus's owner: the commands it starts are
        waited for in its own wait for the next event, with no other thread in between.
        """
        if not isinstance(self.timers.clock, SimulatedClock):
            self.bus.owner = threading.get_ident()
        while not done():
            if not self.turn():
                self.wait()
