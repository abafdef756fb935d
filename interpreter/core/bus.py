"""The event bus: any thread publishes, one session thread delivers.

sismic is not thread-safe, so every subscriber runs on the session thread,
in publication order. Waiting for the next event blocks on a queue with a
timeout (the next timer deadline), so a long command costs no CPU. The bus
stamps each event with the session clock as it is published, so results,
charts and timers share one time line.

The queue is bounded by back-pressure rather than by dropping: a producer
that can wait (a command's output reader) asks :meth:`EventBus.hold` after
publishing; once ``capacity`` events wait for the session thread it stops
reading, so the command blocks on its full pipe, and it is resumed when the
session has worked the queue down to half. The event loop delivers at most
``BATCH`` events per turn, so the charts step between batches and their own
queues stay bounded too. Nothing is dropped.

The session thread may also wait on file descriptors through the bus
(:meth:`EventBus.watch`): a command it started is then waited for in the same
``poll`` as the next event, and its exit reaches the chart without another
thread waking up first and handing it over. Another thread's event wakes
that ``poll`` through a pipe, written only while the session thread waits in it.
Those descriptors are read by the consumer itself, so their back-pressure is
simpler: while ``capacity`` events wait, the session thread delivers before
it reads any more (counted in ``holds`` like a held producer).
"""

from __future__ import annotations

import os
import queue
import select
import threading
import weakref
from collections.abc import Callable, Collection

from sismic.clock import UtcClock

from .events import Event
from .timers import Clock

Subscriber = Callable[[Event], object]
#: Called on the session thread with ``poll``'s event mask when a watched descriptor is ready.
Watcher = Callable[[int], object]

#: Events waiting for the session thread beyond which a producer that can wait is held back.
CAPACITY = 10_000
#: Events the event loop delivers per turn at most, so that a chart steps between batches.
BATCH = 1_000


class EventBus:
    def __init__(self, clock: Clock | None = None, capacity: int = CAPACITY) -> None:
        self.clock: Clock = clock if clock is not None else UtcClock()
        self.capacity = capacity
        #: What the event loop delivers per turn at most.
        self.batch = BATCH
        #: How many times a producer was held back: the session fell behind its events.
        self.holds = 0
        self._queue: queue.SimpleQueue[Event] = queue.SimpleQueue()
        self._held: list[Callable[[], object]] = []
        self._hold_lock = threading.Lock()
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

    def hold(self, resume: Callable[[], object]) -> bool:
        """Back-pressure for a producer on another thread: True when ``capacity`` events are queued,
        and then the producer stops until *resume* is called.

        *resume* runs on the session thread once the queue is down to half.
        Checked under a lock against the queue's size, so a producer held
        here always has at least ``capacity`` events ahead of it, and a
        dispatch after them resumes it.
        """
        if self._queue.qsize() < self.capacity:
            return False
        with self._hold_lock:
            if self._queue.qsize() < self.capacity:
                return False
            self._held.append(resume)
            self.holds += 1
        return True

    def _release(self) -> None:
        """Resume the held producers once the queue is down to half its capacity."""
        if not self._held or self._queue.qsize() > self.capacity // 2:
            return
        with self._hold_lock:
            held, self._held = self._held, []
        for resume in held:
            resume()

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

    def dispatch(self, timeout: float | None = 0.0, limit: int | None = None) -> int:
        """Deliver queued events, first waiting up to *timeout* seconds for one.

        ``timeout=None`` waits indefinitely; at most *limit* events are
        delivered (all that come, by default). Returns how many were. While
        descriptors are watched, the wait is theirs too (:meth:`serve`), unless
        ``capacity`` events are already waiting: those go first.
        """
        if self._watched:
            if self._queue.qsize() < self.capacity:
                self.serve(timeout)
            else:
                self.holds += 1
            timeout = 0.0
        # Only this thread takes from the queue, so one that is not empty gives an event at once:
        # asking first spares raising and catching ``queue.Empty`` at the end of every dispatch.
        waiting = self._queue
        try:
            if timeout != 0.0:
                event = waiting.get(timeout=timeout)
            elif waiting.empty():
                self._release()
                return 0
            else:
                event = waiting.get_nowait()
        except queue.Empty:
            self._release()
            return 0
        count = 0
        try:
            while True:
                self.deliver(event)
                count += 1
                if count == limit or waiting.empty():
                    return count
                event = waiting.get_nowait()
        finally:
            self._release()
