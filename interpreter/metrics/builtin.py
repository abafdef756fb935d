"""The trackers of the original driver: durations, counts and event attributes.

Each selects events with the filter language and honours the run's trace
unless a clause says ``:notrace``. Values that cannot be read as numbers are
skipped (and logged once per tracker), so a metric a run did not produce is
missing, never 0.
"""

from __future__ import annotations

import logging
import numbers
import re
from collections import deque
from collections.abc import Iterator, Mapping
from typing import Any

from ..config import check_expression, evaluate, load_schema
from ..core import Event, Timers
from ..errors import ConfigError
from ..filters import EventFilter
from .base import Emit, Tracker, TrackerRun

log = logging.getLogger("perfchart")


def number(value: Any) -> float | None:
    """*value* as a float, or None when it is not a finite number (or text of one)."""
    kind = type(value)
    if kind is float or kind is int or kind is str:
        # The common cases, without the cost of the numbers ABC.
        try:
            result = float(value)
        except ValueError:
            return None
        return result if result - result == 0 else None
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, numbers.Real):
        result = float(value)
    elif isinstance(value, (str, bytes)):
        try:
            result = float(value)
        except ValueError:
            return None
    else:
        return None
    return result if result == result and result not in (float("inf"), float("-inf")) else None


class _Warner:
    """Logs a tracker's first failure of each kind only: a bad extraction repeats every run."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._seen: set[str] = set()

    def warn(self, kind: str, message: str) -> None:
        if kind not in self._seen:
            self._seen.add(kind)
            log.warning("%s: %s (further such values skipped silently)", self.name, message)


# ---------------------------------------------------------------- DurationTracker


class DurationTracker(Tracker):
    """The time from a start event to an end event within a run, on the session clock.

    Starts and ends pair up in order: each end event closes the oldest open
    start, so a run with two start/end pairs yields two values.
    """

    names = ("tracker.DurationTracker", "duration")
    schema = load_schema("duration-tracker")

    @classmethod
    def metric_keys(cls, block: Mapping[str, Any]) -> Iterator[tuple[Any, Any, str]]:
        yield block, "metric", block["metric"]

    def __init__(self, block: Mapping[str, Any], timers: Timers | None) -> None:
        super().__init__(block, timers)
        self.metric = str(block["metric"])
        self.start_filter = EventFilter(block["events"]["start"])
        self.end_filter = EventFilter(block["events"]["end"])

    @property
    def filters(self) -> tuple[EventFilter, ...]:
        return (self.start_filter, self.end_filter)

    def start(self, traceids: frozenset[int], emit: Emit) -> TrackerRun:
        return _DurationRun(self, traceids, emit)


class _DurationRun(TrackerRun):
    def __init__(self, tracker: DurationTracker, traceids: frozenset[int], emit: Emit) -> None:
        self.metric = tracker.metric
        self.emit = emit
        self.started: deque[float] = deque()
        self.starts = tracker.start_filter.start(traceids, self._start, tracker.timers)
        self.ends = tracker.end_filter.start(traceids, self._end, tracker.timers)

    def _start(self, event: Event, notrace: bool) -> None:
        self.started.append(event.ts)

    def _end(self, event: Event, notrace: bool) -> None:
        if self.started:
            self.emit(self.metric, event.ts - self.started.popleft())

    def handle(self, event: Event) -> None:
        # An event may both start and end (the same class in both filters): end first, so it never
        # ends itself.
        self.ends.handle(event)
        self.starts.handle(event)

    def finish(self) -> None:
        self.ends.finalize()
        self.starts.finalize()


# ---------------------------------------------------------------- CountTracker


class CountTracker(Tracker):
    """How many matching events a run saw; each adds ``step`` (1,
    or an expression over the event).
    """

    names = ("tracker.CountTracker", "count")
    schema = load_schema("count-tracker")

    @classmethod
    def check(cls, block: Mapping[str, Any]) -> None:
        if isinstance(block.get("step"), str):
            error = getattr(block, "error", None)
            try:
                check_expression(block["step"])
            except ConfigError as exc:
                raise (error("step", exc.message) if error else exc) from None

    @classmethod
    def metric_keys(cls, block: Mapping[str, Any]) -> Iterator[tuple[Any, Any, str]]:
        yield block, "metric", block["metric"]

    def __init__(self, block: Mapping[str, Any], timers: Timers | None) -> None:
        super().__init__(block, timers)
        self.metric = str(block["metric"])
        self.filter = EventFilter(block["events"])
        self.step = block.get("step", 1)
        self.warner = _Warner(f"trackers {self.metric}")

    @property
    def filters(self) -> tuple[EventFilter, ...]:
        return (self.filter,)

    def start(self, traceids: frozenset[int], emit: Emit) -> TrackerRun:
        return _CountRun(self, traceids, emit)


class _CountRun(TrackerRun):
    def __init__(self, tracker: CountTracker, traceids: frozenset[int], emit: Emit) -> None:
        self.tracker = tracker
        self.emit = emit
        self.total: float = 0  # stays an int while every step is one: a count reads as 3, not 3.0
        self.session = tracker.filter.start(traceids, self._count, tracker.timers)

    def _count(self, event: Event, notrace: bool) -> None:
        step = self.tracker.step
        if isinstance(step, str):
            try:
                raw = evaluate(step, {**event.attributes(), "event": event}, key="step")
            except ConfigError as exc:
                self.tracker.warner.warn("step", str(exc))
                return
            value = raw if isinstance(raw, int) and not isinstance(raw, bool) else number(raw)
            if value is None:
                self.tracker.warner.warn("number", f"step {step!r} is not a number for {event!r}")
                return
            step = value
        self.total += step

    def handle(self, event: Event) -> None:
        self.session.handle(event)

    def finish(self) -> None:
        self.session.finalize()
        self.emit(self.tracker.metric, self.total)


# ---------------------------------------------------------------- EventAttributeTracker


class _Extraction:
    """One ``extract`` item: where a value comes from and the metric it goes to."""

    def __init__(self, item: Mapping[str, Any]) -> None:
        self.metric = str(item["metric"])
        self.attrib: tuple[str, ...] | None = (
            tuple(str(item["attrib"]).split(".")) if "attrib" in item else None
        )
        self.expression: str | None = item.get("eval")
        self.pattern = compile_match(item["match"]) if "match" in item else None

    def value(self, event: Event, warner: _Warner) -> float | None:
        raw: Any
        if self.attrib is not None:
            raw = event
            for step in self.attrib:
                raw = raw.get(step) if isinstance(raw, dict) else getattr(raw, step, None)
                if raw is None:
                    warner.warn(
                        f"{self.metric}:missing",
                        f"{event.event_name} has no {'.'.join(self.attrib)!r}",
                    )
                    return None
        else:
            assert self.expression is not None
            try:
                raw = evaluate(self.expression, {**event.attributes(), "event": event}, key="eval")
            except ConfigError as exc:
                warner.warn(f"{self.metric}:eval", str(exc))
                return None
        if self.pattern is not None:
            found = self.pattern.search(str(raw))
            if found is None:
                return None
            raw = found.group("value") if "value" in self.pattern.groupindex else found.group(1)
        value = number(raw)
        if value is None:
            warner.warn(f"{self.metric}:number", f"{raw!r} from {event.event_name} is not a number")
        return value


def compile_match(source: str) -> re.Pattern[str]:
    """A ``match:`` pattern; ValueError when it does not compile or has no group to take the value
    from.
    """
    try:
        pattern = re.compile(source)
    except re.error as exc:
        raise ValueError(f"bad regular expression {source!r}: {exc}") from None
    if "value" not in pattern.groupindex and pattern.groups != 1:
        found = f"{pattern.groups} groups" if pattern.groups else "no group"
        raise ValueError(
            f"regular expression {source!r} has {found}: name the number's group (?P<value>...) or "
            "use exactly one group"
        )
    return pattern


class EventAttributeTracker(Tracker):
    """Metrics read from matching events: an attribute, a regular expression's group in it, or an
    expression.
    """

    names = ("tracker.EventAttributeTracker", "attribute")
    schema = load_schema("event-attribute-tracker")

    @classmethod
    def check(cls, block: Mapping[str, Any]) -> None:
        items = block["extract"]
        for index, item in enumerate(items):
            if ("attrib" in item) == ("eval" in item):
                where = getattr(items, "error", None)
                message = (
                    "give either attrib or eval, not both"
                    if "attrib" in item
                    else "missing key 'attrib' (an attribute of the event) "
                    "or 'eval' (an expression over it)"
                )
                raise where(index, message) if where else ConfigError(message)
            for key in ("match", "eval"):
                if key not in item:
                    continue
                try:
                    if key == "match":
                        compile_match(item["match"])
                    else:
                        check_expression(item["eval"])
                except (ValueError, ConfigError) as exc:
                    message = exc.message if isinstance(exc, ConfigError) else str(exc)
                    error = getattr(item, "error", None)
                    raise (error(key, message) if error else ConfigError(message)) from None

    @classmethod
    def metric_keys(cls, block: Mapping[str, Any]) -> Iterator[tuple[Any, Any, str]]:
        for item in block["extract"]:
            yield item, "metric", item["metric"]

    def __init__(self, block: Mapping[str, Any], timers: Timers | None) -> None:
        super().__init__(block, timers)
        self.filter = EventFilter(block["event"])
        self.extractions = [_Extraction(item) for item in block["extract"]]
        self.warner = _Warner(f"trackers {block['event']}")

    @property
    def filters(self) -> tuple[EventFilter, ...]:
        return (self.filter,)

    def start(self, traceids: frozenset[int], emit: Emit) -> TrackerRun:
        return _AttributeRun(self, traceids, emit)


class _AttributeRun(TrackerRun):
    def __init__(
        self, tracker: EventAttributeTracker, traceids: frozenset[int], emit: Emit
    ) -> None:
        self.tracker = tracker
        self.emit = emit
        self.session = tracker.filter.start(traceids, self._extract, tracker.timers)

    def _extract(self, event: Event, notrace: bool) -> None:
        for extraction in self.tracker.extractions:
            value = extraction.value(event, self.tracker.warner)
            if value is not None:
                self.emit(extraction.metric, value)

    def handle(self, event: Event) -> None:
        self.session.handle(event)

    def finish(self) -> None:
        self.session.finalize()
