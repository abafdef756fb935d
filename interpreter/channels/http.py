"""A channel that applies parameters as HTTP requests and times every one.

Each parameter update that touches a macro of the request sends it, ``repeat``
times, paced by ``repeatInterval`` and ``repeatAfter``, with at most
``concurrency`` requests in flight. A new update stops the previous one's
remaining repeats; requests already in flight finish and report under their
own trace.

The client is ``httpwire``, HTTP/1.1 over the standard library's sockets,
imported only when a request is sent, with one keep-alive connection per
worker thread and origin: see the README for why. Every request publishes
four events (request start and end, response start and end, or an error
in place of the last ones), each carrying the update's trace and plain
fields (URL, verb, status, size, timings) that filters and trackers read.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config import load_schema
from ..core import (
    Event,
    EventBus,
    LogLineEvent,
    OutcomeEvent,
    ParameterUpdateEvent,
    SessionStartEvent,
    event_catalogue,
)
from .base import Channel, ChannelContext, Simulation, acts_on
from .commands import config_error
from .httptemplate import Origin, Request, RequestTemplate, automatic_headers

if TYPE_CHECKING:
    from concurrent.futures import ThreadPoolExecutor

    from ..filters import EventFilter, FilterSession
    from .httpwire import Connection

log = logging.getLogger("perfchart")

#: Bytes of a request or response body that events carry; ``size`` counts them all.
BODY_CAP = 16384
#: Seconds an event may wait to be handed to the bus with others (see _Batch).
HOLD = 0.005
#: A response body up to this many bytes is read before its ResponseStart event goes out; a longer
#: one after.
SMALL_BODY = 65536


# -- events ----------------------------------------------------------------------


@dataclass(eq=False, kw_only=True, repr=False)
class HTTPEvent(Event):
    """Base of the HTTP channel's events: which request of which batch.

    ``index`` counts the requests of one update from 0 and ``repeat`` is how
    many it sends; ``source`` names the channel instance.
    """

    source: str = ""
    url: str
    verb: str
    index: int = 0
    repeat: int = 1


@dataclass(eq=False, kw_only=True, repr=False)
class HTTPRequestEvent(HTTPEvent):
    """Base of the request's start and end: its ``body`` (capped) and ``headers``."""

    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)


class HTTPRequestStartEvent(HTTPRequestEvent):
    """A request is about to be sent."""


@dataclass(eq=False, kw_only=True, repr=False)
class HTTPRequestEndEvent(HTTPRequestEvent):
    """A request was sent in full; ``sent`` is the seconds it took, connecting included."""

    sent: float = 0.0


@dataclass(eq=False, kw_only=True, repr=False)
class HTTPResponseStartEvent(HTTPEvent):
    """The status line and headers arrived; ``ttfb`` is seconds from the request's start."""

    status: int
    ttfb: float


@dataclass(eq=False, kw_only=True, repr=False)
class HTTPResponseEndEvent(OutcomeEvent, HTTPEvent):
    """A response was read in full.

    ``status`` is the HTTP status, ``size`` the body's bytes, ``body`` its
    first bytes as text (capped), ``headers`` the response headers, ``ttfb``
    and ``elapsed`` the seconds from the request's start to the first byte
    and to the last. As an outcome its ``code`` is the status and it is
    ``ok`` below 400 (redirects are not followed: a 3xx is an answer).
    """

    status: int | None = None
    size: int = 0
    body: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    ttfb: float | None = None
    elapsed: float = 0.0

    def __post_init__(self) -> None:
        super().__post_init__()
        self.code = self.status
        self.ok = self.status is not None and self.status < 400


@dataclass(eq=False, kw_only=True, repr=False)
class HTTPResponseErrorEvent(HTTPResponseEndEvent):
    """A request failed without a response: ``error`` says why, ``timedout`` whether its timeout ran
    out.

    As an outcome it is not ok and its ``code`` is None; ``status`` is None,
    so ``HTTPResponseEndEvent[status<400]`` never matches it.
    """

    error: str
    timedout: bool = False


@dataclass(eq=False, kw_only=True, repr=False)
class HTTPBatchEndEvent(HTTPEvent):
    """Every request of one update ended: published just before the last one's end event, so a run
    that ends on that event has it.

    ``requests`` were sent, ``errors`` of them got no answer or one of 400 or
    more; ``seconds`` is session-clock time from the first request's start to
    the last one's end, ``rps`` the requests per second over it (None when no
    time passed) and ``error_rate`` the share of errors, 0 to 1.
    """

    requests: int
    errors: int
    seconds: float
    rps: float | None
    error_rate: float


def _batch_end(common: Mapping[str, Any], requests: int, errors: int, seconds: float) -> Event:
    return HTTPBatchEndEvent(
        **common,
        requests=requests,
        errors=errors,
        seconds=seconds,
        rps=requests / seconds if seconds > 0 else None,
        error_rate=errors / requests if requests else 0.0,
    )


#: What every HTTP run records with no tracker configured (see Channel.metrics): the latency and
#: time to first byte of each answered request as samples, requests per second and error rate
#: per run.
HTTP_METRICS: tuple[dict[str, Any], ...] = (
    {
        "name": "http.latency",
        "units": "ms",
        "desc": "request start to the response's last byte, answered requests",
        "summarize": ["mean", "p50", "p90", "p95", "p99", "max", "count"],
        "event": "HTTPResponseEndEvent[status>=0]",
        "eval": "elapsed * 1000",
    },
    {
        "name": "http.ttfb",
        "units": "ms",
        "desc": "request start to the response's first byte",
        "summarize": ["mean", "p50", "p90", "p95", "p99", "max", "count"],
        "event": "HTTPResponseStartEvent",
        "eval": "ttfb * 1000",
    },
    {
        "name": "http.rps",
        "units": "req/s",
        "desc": "requests per second, first request's start to last one's end",
        "summarize": ["mean", "stddev", "min", "max"],
        "event": "HTTPBatchEndEvent[rps>=0]",
        "attrib": "rps",
    },
    {
        "name": "http.error_rate",
        "units": "%",
        "desc": "requests without an answer or with a status of 400 or more",
        "summarize": ["mean", "stddev", "min", "max"],
        "event": "HTTPBatchEndEvent",
        "eval": "error_rate * 100",
    },
)


# The first and last request of a batch to reach each point publish a variant;
# a batch of one publishes the "Only" variant, which is both first and last.
# Variants add no field, so they inherit their dataclass base's fields and
# initialiser without being dataclasses themselves: building one costs a
# millisecond, and every configuration load imports this module.


class HTTPFirstRequestStartEvent(HTTPRequestStartEvent):
    """The first request of a batch is starting."""


class HTTPLastRequestStartEvent(HTTPRequestStartEvent):
    """The last request of a batch is starting."""


class HTTPOnlyRequestStartEvent(HTTPFirstRequestStartEvent, HTTPLastRequestStartEvent):
    """The one request of a batch of one is starting."""


class HTTPFirstRequestEndEvent(HTTPRequestEndEvent):
    """The first request of a batch to be sent in full."""


class HTTPLastRequestEndEvent(HTTPRequestEndEvent):
    """The last request of a batch to be sent in full (missing if one failed before)."""


class HTTPOnlyRequestEndEvent(HTTPFirstRequestEndEvent, HTTPLastRequestEndEvent):
    """The one request of a batch of one was sent in full."""


class HTTPFirstResponseStartEvent(HTTPResponseStartEvent):
    """The first response of a batch to start."""


class HTTPLastResponseStartEvent(HTTPResponseStartEvent):
    """The last response of a batch to start (missing if a request failed before)."""


class HTTPOnlyResponseStartEvent(HTTPFirstResponseStartEvent, HTTPLastResponseStartEvent):
    """The one response of a batch of one is starting."""


class HTTPFirstResponseEndEvent(HTTPResponseEndEvent):
    """The first request of a batch to end, with a response or an error."""


class HTTPLastResponseEndEvent(HTTPResponseEndEvent):
    """The last request of a batch to end, with a response or an error: the batch is done."""


class HTTPOnlyResponseEndEvent(HTTPFirstResponseEndEvent, HTTPLastResponseEndEvent):
    """The one request of a batch of one ended with a response."""


class HTTPFirstResponseErrorEvent(HTTPFirstResponseEndEvent, HTTPResponseErrorEvent):
    """The first request of a batch to end did so with an error."""


class HTTPLastResponseErrorEvent(HTTPLastResponseEndEvent, HTTPResponseErrorEvent):
    """The last request of a batch to end did so with an error."""


class HTTPOnlyResponseErrorEvent(
    HTTPOnlyResponseEndEvent, HTTPFirstResponseErrorEvent, HTTPLastResponseErrorEvent
):
    """The one request of a batch of one ended with an error."""


#: For each point of a request: its plain, first, last and only event classes.
_REQUEST_START = (
    HTTPRequestStartEvent,
    HTTPFirstRequestStartEvent,
    HTTPLastRequestStartEvent,
    HTTPOnlyRequestStartEvent,
)
_REQUEST_END = (
    HTTPRequestEndEvent,
    HTTPFirstRequestEndEvent,
    HTTPLastRequestEndEvent,
    HTTPOnlyRequestEndEvent,
)
_RESPONSE_START = (
    HTTPResponseStartEvent,
    HTTPFirstResponseStartEvent,
    HTTPLastResponseStartEvent,
    HTTPOnlyResponseStartEvent,
)
_RESPONSE_END = (
    HTTPResponseEndEvent,
    HTTPFirstResponseEndEvent,
    HTTPLastResponseEndEvent,
    HTTPOnlyResponseEndEvent,
)
_RESPONSE_ERROR = (
    HTTPResponseErrorEvent,
    HTTPFirstResponseErrorEvent,
    HTTPLastResponseErrorEvent,
    HTTPOnlyResponseErrorEvent,
)


def _text(data: bytes) -> str:
    return data[:BODY_CAP].decode("utf-8", "replace")


# -- one batch: the requests of one update ------------------------------------------


class _Batch:
    """The requests of one parameter update: which to send next, when, and the events they cause.

    Events are handed to the bus in groups: each wakes the session thread,
    and one wake-up per event would cost more than a fast request. An event
    waits at most :data:`HOLD` seconds (and never while a worker waits for
    pacing), keeps the time it happened as its ``ts``, and the batch's last
    response goes out at once with everything before it.
    """

    def __init__(
        self,
        bus: EventBus,
        request: Request,
        traceids: frozenset[int],
        interval: float,
        paced_by_events: bool,
        renew: Callable[[], Request] | None = None,
    ) -> None:
        self.bus = bus
        self.request = request
        #: Renders the request anew for each request after the first (a uuid() in its body).
        self.renew = renew
        self.traceids = traceids
        #: What the request events carry, made once: events share it and must not change it.
        self.body_text = _text(request.body) if request.body else ""
        self.headers = dict(request.headers)
        #: The request's bytes on the wire, encoded by the first worker to send it.
        self.wire: bytes | None = None
        self.interval = interval
        self.paced_by_events = paced_by_events
        self.after: FilterSession | None = None
        self._cond = threading.Condition()
        self._next = 0
        self._next_send = 0.0
        self._credits = 0
        self._stopped = False
        #: How many requests reached each point (request start, request end, response start, end).
        self._reached = [0, 0, 0, 0]
        #: Events not handed to the bus yet, in order, with their session-clock times.
        self._held: list[tuple[Event, float]] = []
        #: When (perf_counter) the oldest held event must go out.
        self._due = 0.0
        #: Session-clock time of the first request's start, and the ends that were errors.
        self._first_at = 0.0
        self._errors = 0

    def request_at(self, index: int) -> tuple[Request, str, dict[str, str]]:
        """Request *index* with the body text and headers its events carry: the batch's, or
        rendered anew when a macro gives a new value each time.
        """
        if index == 0 or self.renew is None:
            return self.request, self.body_text, self.headers
        request = self.renew()
        return request, _text(request.body) if request.body else "", dict(request.headers)

    def take(self) -> int | None:
        """The next request to send, once its pacing allows; None
        when the batch is done or stopped.
        """
        with self._cond:
            while True:
                if self._stopped or self._next >= self.request.repeat:
                    return None
                if self._next and self.paced_by_events and not self._credits:
                    self._flush()
                    self._cond.wait()
                    continue
                now = time.monotonic()
                if self._next and now < self._next_send:
                    self._flush()
                    self._cond.wait(self._next_send - now)
                    continue
                break
            index = self._next
            self._next += 1
            if index and self.paced_by_events:
                self._credits -= 1
            self._next_send = now + self.interval
            return index

    def credit(self, event: Event, notrace: bool) -> None:
        """A ``repeatAfter`` event arrived: one more request may be sent."""
        with self._cond:
            self._credits += 1
            self._cond.notify()

    def stop(self) -> None:
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def publish(
        self, point: int, classes: tuple[type[Event], ...], common: Mapping[str, Any], **fields: Any
    ) -> None:
        """The event for the next request to reach *point*, as its first, last, only or plain
        variant.

        *common* holds the fields every event of the request shares. Counting
        and queueing under one lock keeps the bus order of concurrent
        requests that of their counts.
        """
        total = self.request.repeat
        with self._cond:
            self._reached[point] += 1
            count = self._reached[point]
            now = time.perf_counter()
            if not self._held:
                self._due = now + HOLD
            event, at = _variant(count, total, classes)(**common, **fields), self.bus.clock.time
            if point == 0 and count == 1:
                self._first_at = at
            if point == 3:
                self._errors += not getattr(event, "ok", True)
                if count == total:
                    self._held.append(
                        (_batch_end(common, total, self._errors, at - self._first_at), at)
                    )
            self._held.append((event, at))
            if (point == 3 and count == total) or now >= self._due:
                self._flush()

    def note(self, line: str, common: Mapping[str, Any]) -> None:
        """A failure in words for the run's record (``last_stderr``) and output.log, ahead of the
        request's end event.
        """
        with self._cond:
            self._held.append(
                (
                    LogLineEvent(
                        line=line, stream="stderr", source=common["source"], traceids=self.traceids
                    ),
                    self.bus.clock.time,
                )
            )

    def flush(self) -> None:
        """Hand every held event to the bus now."""
        with self._cond:
            self._flush()

    def _flush(self) -> None:
        for event, at in self._held:
            self.bus.publish(event, at)
        self._held.clear()

    def hold_until_readable(self, connection: Connection) -> None:
        """Wait for *connection* to have data, or until the held events are due: then hand them
        over and return.
        """
        with self._cond:
            if not self._held:
                return
            wait = self._due - time.perf_counter()
        if wait <= 0 or not connection.wait(wait):
            self.flush()


def _variant(count: int, total: int, classes: tuple[type[Event], ...]) -> Callable[..., Event]:
    """The class for the *count*-th request of *total* to reach a
    point: plain, first, last or only.
    """
    if total == 1:
        return classes[3]
    return classes[1] if count == 1 else classes[2] if count == total else classes[0]


@dataclass(frozen=True)
class _Renderer:
    """One update's request, rendered again on each call: a uuid() differs per request."""

    template: RequestTemplate
    origin: Origin
    values: Mapping[str, Any]
    automatic: Mapping[str, str]

    def __call__(self) -> Request:
        return self.template.render(self.origin, self.values, self.automatic)


def _simulated(
    source: str,
    template: RequestTemplate,
    request: Request,
    render: _Renderer,
    traceids: frozenset[int],
    status: int,
    duration: float,
) -> Iterator[tuple[float, Event]]:
    """A dry run's events for one update: every request answered with *status* after *duration*
    seconds.

    Requests go ``concurrency`` at a time, each round ``duration`` (or
    ``repeatInterval`` if longer) after the last; ``repeatAfter`` does not
    hold them back.
    """
    total = request.repeat
    step = max(duration, template.interval)
    errors = total if status >= 400 else 0
    for index in range(total):
        if index and template.fresh:
            request = render()
        start = (index // template.concurrency) * step
        common = {
            "source": source,
            "url": request.url,
            "verb": request.verb,
            "index": index,
            "repeat": total,
            "traceids": traceids,
        }
        sent = {
            "body": _text(request.body) if request.body else "",
            "headers": dict(request.headers),
        }
        yield start, _variant(index + 1, total, _REQUEST_START)(**common, **sent)
        yield start, _variant(index + 1, total, _REQUEST_END)(**common, **sent)
        yield (
            start + duration,
            _variant(index + 1, total, _RESPONSE_START)(**common, status=status, ttfb=duration),
        )
        if index + 1 == total:
            yield start + duration, _batch_end(common, total, errors, start + duration)
        yield (
            start + duration,
            _variant(index + 1, total, _RESPONSE_END)(
                **common, status=status, ttfb=duration, elapsed=duration
            ),
        )


# -- the channel -------------------------------------------------------------------


class HTTPChannel(Channel):
    """Sends the configured request whenever a parameter it uses changes.

    Macros that nothing can fill, a host that depends on a parameter and a
    ``repeatAfter`` filter with ``:after`` are rejected when the
    configuration loads.
    """

    names = ("channel.HTTPChannel", "HTTPChannel", "http")
    schema = load_schema("http-channel")
    events = (
        *_REQUEST_START,
        *_REQUEST_END,
        *_RESPONSE_START,
        *_RESPONSE_END,
        *_RESPONSE_ERROR,
        HTTPBatchEndEvent,
        LogLineEvent,
    )
    metrics = HTTP_METRICS

    @classmethod
    def check(cls, block: Mapping[str, Any]) -> None:
        RequestTemplate(block)
        if "repeatAfter" in block:
            cls._after_filter(block)

    @classmethod
    def check_definitions(cls, block: Mapping[str, Any], definitions: Mapping[str, Any]) -> None:
        RequestTemplate(block).origin(definitions)

    @staticmethod
    def _after_filter(block: Mapping[str, Any]) -> EventFilter:
        from ..filters import EventFilter

        after = EventFilter(block["repeatAfter"])
        try:
            after.start(None, lambda event, notrace: None)
        except ValueError:
            raise config_error(
                block,
                "repeatAfter",
                "':after' cannot pace a repeat: use repeatInterval for a delay",
            ) from None
        return after

    @classmethod
    def simulation(cls, block: Mapping[str, Any], context: ChannelContext) -> Simulation:
        """A dry run's requests all get ``simulate.status`` (200)
        after ``simulate.duration`` (0 s).
        """
        template = RequestTemplate(block)
        origin = template.origin(context.definitions)
        automatic = automatic_headers(context.definitions)

        def simulate(update: ParameterUpdateEvent) -> Iterator[tuple[float, Event]]:
            if not acts_on(template.names, update):
                return iter(())
            values = {**context.definitions, **update.parameters}
            status, duration = template.simulated(values)
            render = _Renderer(template, origin, values, automatic)
            return _simulated(
                context.name,
                template,
                render(),
                render,
                frozenset(update.traceids),
                status,
                duration,
            )

        return simulate

    def __init__(self, block: Mapping[str, Any], context: ChannelContext) -> None:
        super().__init__(block, context)
        self.bus = context.bus
        self.template = RequestTemplate(block)
        self.origin: Origin = self.template.origin(context.definitions)
        self.automatic = automatic_headers(context.definitions)
        self.after = self._after_filter(block) if "repeatAfter" in block else None
        if self.after is not None:
            catalogue = event_catalogue()
            self.subscribes = (
                *Channel.subscribes,
                *(catalogue[name] for name in sorted(self.after.class_names)),
            )
        self._lock = threading.Lock()
        self._closed = False
        self._current: _Batch | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._local = threading.local()
        #: Every open connection, so close() can cut those in flight and release the rest.
        self._connections: set[Connection] = set()
        self._ssl_context: Any = None

    def handle(self, event: Event) -> None:
        """Updates and session start as every channel; any other event may pace a ``repeatAfter``
        batch.
        """
        if isinstance(event, (ParameterUpdateEvent, SessionStartEvent)):
            super().handle(event)
            return
        batch = self._current
        if batch is not None and batch.after is not None:
            batch.after.handle(event)

    def apply(self, update: ParameterUpdateEvent) -> None:
        """Start the batch for *update* when it sets a name the request uses, or starts a run and
        the request uses no parameter (``acts_on``)."""
        if not acts_on(self.template.names, update):
            return
        render = _Renderer(
            self.template,
            self.origin,
            {**self.context.definitions, **update.parameters},
            self.automatic,
        )
        batch = _Batch(
            self.bus,
            render(),
            frozenset(update.traceids),
            self.template.interval,
            self.after is not None,
            render if self.template.fresh else None,
        )
        if self.after is not None:
            batch.after = self.after.start(batch.traceids, batch.credit)
        with self._lock:
            if self._closed:
                return
            previous, self._current = self._current, batch
            if previous is not None:
                previous.stop()
            if self._executor is None:
                from concurrent.futures import ThreadPoolExecutor

                self._executor = ThreadPoolExecutor(
                    max_workers=self.template.concurrency,
                    thread_name_prefix=f"perfchart-{self.name}",
                )
            for _ in range(min(self.template.concurrency, batch.request.repeat)):
                self._executor.submit(self._lane, batch)

    def close(self) -> None:
        """Stop sending, cut the requests in flight (each reports an error) and wait for every
        worker.
        """
        with self._lock:
            self._closed = True
            if self._current is not None:
                self._current.stop()
            executor, connections = self._executor, list(self._connections)
        for connection in connections:
            connection.cut()
        if executor is not None:
            executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    # -- worker threads ----------------------------------------------------------

    def _lane(self, batch: _Batch) -> None:
        """Send the batch's requests one after another until it is done; one of up to
        ``concurrency`` lanes.
        """
        try:
            while (index := batch.take()) is not None:
                self._send(batch, index)
        except Exception:
            log.exception("%s: HTTP worker failed", self.name)
        finally:
            batch.flush()

    def _send(self, batch: _Batch, index: int) -> None:
        """One request, timed: four events, or an error in place of the last ones.

        A ValueError is a request HTTP cannot carry, such as a header value
        that is not Latin-1: it is not sent, and that is its error. A
        WireError is a response that breaks HTTP/1.1 or a bound of
        ``httpwire`` (``maxBody`` among them).
        """
        from .httpwire import WireError

        request, body_text, headers = batch.request_at(index)
        common = {
            "source": self.name,
            "url": request.url,
            "verb": request.verb,
            "index": index,
            "repeat": request.repeat,
            "traceids": batch.traceids,
        }
        batch.publish(0, _REQUEST_START, common, body=body_text, headers=headers)
        started = time.perf_counter()
        deadline = started + self.template.timeout
        connection = None
        try:
            wire = self._wire(batch, request)
            connection = self._connection()
            connection.send(wire, deadline)
            sent = time.perf_counter()
            batch.publish(
                1,
                _REQUEST_END,
                common,
                body=body_text,
                headers=headers,
                sent=sent - started,
            )
            batch.hold_until_readable(connection)
            response = connection.response(request.verb, deadline)
            first = time.perf_counter()
            batch.publish(2, _RESPONSE_START, common, status=response.status, ttfb=first - started)
            if response.length is None or response.length > SMALL_BODY:
                batch.flush()
            head, size = connection.body(response, deadline, self.template.max_body, BODY_CAP)
            ended = time.perf_counter()
            if response.will_close:
                self._drop(connection)
            if response.status >= 400:
                batch.note(
                    f"{request.verb} {request.url}: HTTP {response.status} {response.reason}",
                    common,
                )
            batch.publish(
                3,
                _RESPONSE_END,
                common,
                status=response.status,
                size=size,
                body=_text(head),
                headers=response.headers,
                ttfb=first - started,
                elapsed=ended - started,
            )
        except (OSError, WireError, ValueError) as exc:
            timedout = isinstance(exc, TimeoutError) or time.perf_counter() >= deadline
            error = self._describe(exc, timedout)
            self._failed(batch, connection, common, error, timedout, started)
        except Exception as exc:
            # A fault of the channel's own: still the request's error, so the run ends and is
            # recorded instead of waiting for an end event that never comes.
            log.debug("%s: request failed", self.name, exc_info=True)
            self._failed(batch, connection, common, f"internal error: {exc!r}", False, started)

    def _failed(
        self,
        batch: _Batch,
        connection: Connection | None,
        common: Mapping[str, Any],
        error: str,
        timedout: bool,
        started: float,
    ) -> None:
        """Publish the request's error in place of its response events; drop its connection."""
        if connection is not None:
            self._drop(connection)
        batch.note(f"{common['verb']} {common['url']}: {error}", common)
        batch.publish(
            3,
            _RESPONSE_ERROR,
            common,
            error=error,
            timedout=timedout,
            elapsed=time.perf_counter() - started,
        )

    def _wire(self, batch: _Batch, request: Request) -> bytes:
        """The request's bytes: the batch's, encoded once, or a request rendered anew's."""
        from .httpwire import encode_request, host_header

        if request is batch.request and batch.wire is not None:
            return batch.wire
        wire = encode_request(
            request.verb,
            request.target,
            host_header(self.origin.text),
            request.headers,
            request.body,
        )
        if request is batch.request:
            batch.wire = wire
        return wire

    def _describe(self, exc: BaseException, timedout: bool) -> str:
        from .httpwire import WireError

        if timedout:
            return f"timed out after {self.template.timeout:g}s"
        if self._closed:
            return "cut: the channel closed"
        if isinstance(exc, ConnectionRefusedError):
            return f"connection refused by {self.origin.text}"
        if isinstance(exc, WireError):
            return str(exc)
        return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__

    def _connection(self) -> Connection:
        """This worker's keep-alive connection, or a new one when it has none or the server closed
        it.
        """
        connection: Connection | None = getattr(self._local, "connection", None)
        if connection is not None and not connection.dropped():
            return connection
        if connection is not None:
            self._drop(connection)
        connection = self._open()
        with self._lock:
            if self._closed:
                connection.close()
                raise ConnectionAbortedError("the channel closed")
            self._connections.add(connection)
        self._local.connection = connection
        return connection

    def _open(self) -> Connection:
        from .httpwire import connect

        origin = self.origin
        tls = self._tls() if origin.scheme == "https" else None
        return connect(origin.host, origin.port, self.template.timeout, tls)

    def _tls(self) -> Any:
        import ssl

        if self._ssl_context is None:
            context = ssl.create_default_context()
            if not self.template.verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._ssl_context = context
        return self._ssl_context

    def _drop(self, connection: Connection) -> None:
        connection.close()
        with self._lock:
            self._connections.discard(connection)
        if getattr(self._local, "connection", None) is connection:
            self._local.connection = None
