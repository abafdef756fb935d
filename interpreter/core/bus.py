"""The event bus: any thread publishes, one session thread delivers.

sismic is not thread-safe, so every subscriber runs on the session thread,
in publication order. Waiting for the next event blocks on a queue with a
timeout (the next timer deadline), so a long command costs no CPU. The bus
stamps each event with the session clock as it is published, so results,
charts and timers share one time line.
"""

from __future__ import annotations

import queue
from collections.abc import Callable

from sismic.clock import UtcClock

from .events import Event
from .timers import Clock

Subscriber = Callable[[Event], object]


class EventBus:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else UtcClock()
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._subscribers: list[tuple[Subscriber, tuple[type[Event], ...]]] = []
        self._routes: dict[type[Event], tuple[Subscriber, ...]] = {}

    def publish(self, event: Event, at: float | None = None) -> None:
        """Stamp *event* with the session clock and queue it for delivery; safe from any thread.

        *at* is when it happened, read from ``clock.time`` by a publisher
        that hands events over in groups; by default it happens now.
        """
        event.ts = self.clock.time if at is None else at
        self._queue.put(event)

    def subscribe(self, callback: Subscriber, *classes: type[Event]) -> None:
        """Deliver events of *classes* (and subclasses) to
        *callback*; no classes means every event.
        """
        self._subscribers.append((callback, classes))
        self._routes.clear()

    def unsubscribe(self, callback: Subscriber) -> None:
        self._subscribers = [(cb, cls) for cb, cls in self._subscribers if cb != callback]
        self._routes.clear()

    def _route(self, cls: type[Event]) -> tuple[Subscriber, ...]:
        route = self._routes.get(cls)
        if route is None:
            route = tuple(
                cb for cb, classes in self._subscribers if not classes or issubclass(cls, classes)
            )
            self._routes[cls] = route
        return route

    def deliver(self, event: Event) -> None:
        """Hand *event* to its subscribers now, on the calling (session) thread."""
        for callback in self._route(type(event)):
            callback(event)

    def pending(self) -> bool:
        return not self._queue.empty()

    def dispatch(self, timeout: float | None = 0.0) -> int:
        """Deliver queued events, first waiting up to *timeout* seconds for one.

        ``timeout=None`` waits indefinitely. Returns how many were delivered.
        """
        try:
            event = self._queue.get(timeout=timeout) if timeout != 0.0 else self._queue.get_nowait()
        except queue.Empty:
            return 0
        count = 0
        while True:
            self.deliver(event)
            count += 1
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return count
