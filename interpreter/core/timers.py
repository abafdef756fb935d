"""One-shot timers measured on the session's clock.

The session thread owns them: it asks for the next deadline to know how
long it may sleep, and runs the due ones. Under sismic's simulated clock the
session jumps straight to that deadline, so timed behaviour is tested
without sleeping.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable
from typing import Protocol


class Clock(Protocol):
    """Any sismic clock: something with a ``time`` in seconds."""

    @property
    def time(self) -> float: ...


class Timer:
    """A pending callback; ``cancel()`` stops it from running."""

    __slots__ = ("when", "callback", "cancelled")

    def __init__(self, when: float, callback: Callable[[], object]) -> None:
        self.when = when
        self.callback = callback
        self.cancelled = False

    def cancel(self) -> None:
        self.cancelled = True


class Timers:
    """A heap of timers on one clock. Not thread-safe: only the session thread uses it."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()

    def now(self) -> float:
        return self.clock.time

    def call_at(self, when: float, callback: Callable[[], object]) -> Timer:
        timer = Timer(when, callback)
        heapq.heappush(self._heap, (when, next(self._order), timer))
        return timer

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        return self.call_at(self.clock.time + delay, callback)

    def next_deadline(self) -> float | None:
        """When the earliest live timer is due, or None when there is none."""
        while self._heap and self._heap[0][2].cancelled:
            heapq.heappop(self._heap)
        return self._heap[0][0] if self._heap else None

    def run_due(self) -> int:
        """Run every timer due by now, in deadline order; return how many ran."""
        ran = 0
        now = self.clock.time
        while self._heap and self._heap[0][0] <= now:
            _, _, timer = heapq.heappop(self._heap)
            if not timer.cancelled:
                timer.cancelled = True
                timer.callback()
                ran += 1
        return ran
