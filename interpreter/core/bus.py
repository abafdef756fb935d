"""The event bus: any thread publishes, one session thread delivers.

sismic is not thread-safe, so every subscriber runs on the session thread,
in publication order. Waiting for the next event blocks on a queue with a
timeout (the next timer deadline), so a long command costs no CPU. The bus
stamps each event with the session clock as it is published, so results,
charts and timers share one time line.

The session thread may also wait on file descriptors through the bus
(:meth:`EventBus.watch`): a command it started is then waited for in the same
``poll`` as the next event, and its exit reaches the chart without another
thread waking up first and handing it over. Another thread's event wakes
that ``poll`` through a pipe, written only while the session thread waits in it.
"""

from __future__ import annotations

import os
import queue
import select
import weakref
from collections.abc import Callable, Collection

from sismic.clock import UtcClock

from .events import Event
from .timers import Clock

Subscriber = Callable[[Event], object]
#: Called on the session thread with ``poll``'s event mask when a watched descriptor is ready.
Watcher = Callable[[int], object]


class EventBus:
    def __init__(self, clock: Clock | None = None) -> None:
        self.clock: Clock = clock if clock is not None else UtcClock()
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._subscribers: list[tuple[Subscriber, tuple[type[Event], ...]]] = []
        self._routes: dict[type[Event], tuple[Subscriber, ...]] = {}
        #: The thread that waits on the watched descriptors: the session loop's, on a wall clock.
        self.owner: int | None = None
        self._watched: dict[int, tuple[Watcher, int]] = {}
        self._poll = select.poll()
        #: The session thread waits in ``poll``: an event from another thread must wake it.
        self._polling = False
        self._wake: tuple[int, int] | None = None

    def publish(self, event: Event, at: float | None = None) -> None:
        """Stamp *event* with the session clock and queue it for delivery; safe from any thread.

        *at* is when it happened, read from ``clock.time`` by a publisher
        that hands events over in groups; by default it happens now.
        """
        event.ts = self.clock.time if at is None else at
        self._queue.put(event)
        if self._polling:
            self._wake_up()

    def _wake_up(self) -> None:
        assert self._wake is not None
        try:
            os.write(self._wake[1], b"\0")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already

    def watch(self, fd: int, callback: Watcher, events: int = select.POLLIN) -> None:
        """Call *callback* on the session thread whenever *fd* is ready for *events* (a ``poll``
        mask), while it dispatches; only the :attr:`owner` thread may call this.
        """
        if self._wake is None:
            self._wake = os.pipe()
            for end in self._wake:
                os.set_blocking(end, False)
                weakref.finalize(self, os.close, end)  # a session's bus goes with its session
            self._poll.register(self._wake[0], select.POLLIN)
        self._watched[fd] = (callback, events)
        self._poll.register(fd, events)

    def unwatch(self, fd: int) -> None:
        if self._watched.pop(fd, None) is not None:
            self._poll.unregister(fd)

    def serve(self, timeout: float | None, only: Collection[int] | None = None) -> int:
        """Wait up to *timeout* seconds (None: without end) for a watched descriptor, or only for
        those in *only*, and run the callbacks of the ready ones; returns how many ran.

        Without *only*, an event published by another thread ends the wait too.
        """
        if only is None:
            poll = self._poll
        else:
            poll = select.poll()
            for fd in only:
                if fd in self._watched:
                    poll.register(fd, self._watched[fd][1])
        millis = None if timeout is None else max(0, int(timeout * 1000 + 0.999))
        self._polling = only is None
        try:
            if self._polling and not self._queue.empty():
                millis = 0
            ready = poll.poll(millis)
        finally:
            self._polling = False
        ran = 0
        for fd, events in ready:
            if self._wake is not None and fd == self._wake[0]:
                self._drain_wake_ups()
                continue
            watched = self._watched.get(fd)  # an earlier callback may have unwatched it
            if watched is not None and (only is None or fd in only):
                watched[0](events)
                ran += 1
        return ran

    def _drain_wake_ups(self) -> None:
        assert self._wake is not None
        try:
            while os.read(self._wake[0], 4096):
                pass
        except BlockingIOError:
            pass

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

        ``timeout=None`` waits indefinitely. Returns how many were delivered. While
        descriptors are watched, the wait is theirs too (:meth:`serve`).
        """
        if self._watched:
            self.serve(timeout)
            timeout = 0.0
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
