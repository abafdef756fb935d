"""Per-run metric values: every tracker watches each open run, and the run's record gets the values.

:class:`RunMetrics` is subscribed to the bus *before* the RunBook, so a
tracker sees a run's ``RunEndEvent`` before the record closes, and it
opens its own watch on the run's ``ParameterUpdateEvent`` so that event can
start a duration. Its :meth:`RunMetrics.close` is the RunBook's first
``on_close`` callback: the record carries its metrics before anyone writes it.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from ..core import Event, ParameterUpdateEvent
from .base import MetricSpec, Tracker, TrackerRun


def aggregate(values: Sequence[float], how: str) -> float:
    """A run's value of a metric from the values its trackers emitted in the run."""
    if how == "first" or len(values) == 1:
        return values[0]
    if how == "last":
        return values[-1]
    if how == "min":
        return min(values)
    if how == "max":
        return max(values)
    if how == "sum":
        return sum(values)
    if how == "median":
        return statistics.median(values)
    return sum(values) / len(values)


class _OpenRun:
    __slots__ = ("watches", "values")

    def __init__(self) -> None:
        self.watches: list[TrackerRun] = []
        self.values: dict[str, list[float]] = {}

    def emit(self, metric: str, value: float) -> None:
        self.values.setdefault(metric, []).append(value)


class RunMetrics:
    """Runs the session's trackers over each open run and writes their values into its record."""

    def __init__(self, metrics: Sequence[MetricSpec], trackers: Sequence[Tracker]) -> None:
        self.metrics = list(metrics)
        self.trackers = list(trackers)
        self._open: dict[int, _OpenRun] = {}
        #: Per event class, the positions of the trackers whose filters can select it: the others never see it.
        self._routes: dict[type, tuple[int, ...]] = {}

    def handle(self, event: Event) -> None:
        """The bus subscriber: opens a run on its parameter update, then shows the event to the trackers that want it."""
        if isinstance(event, ParameterUpdateEvent) and event.traceids:
            run = _OpenRun()
            run.watches = [tracker.start(event.traceids, run.emit) for tracker in self.trackers]
            self._open[min(event.traceids)] = run
        cls = type(event)
        route = self._routes.get(cls)
        if route is None:
            route = self._routes[cls] = tuple(i for i, tracker in enumerate(self.trackers) if any(f.selects(cls) for f in tracker.filters))
        if not route:
            return
        for run in self._open.values():
            watches = run.watches
            for index in route:
                watches[index].handle(event)

    def close(self, record: dict[str, Any]) -> None:
        """Finish the run's watches and record each declared metric: its value, or None when it has none.

        A metric that received several values keeps them all under ``samples``.
        """
        run = self._open.pop(record["trace"], None) or _OpenRun()
        for watch in run.watches:
            watch.finish()
        values: dict[str, Any] = {}
        samples: dict[str, list[float]] = {}
        for spec in self.metrics:
            got = run.values.get(spec.name)
            values[spec.name] = aggregate(got, spec.aggregate) if got else None
            if got and len(got) > 1:
                samples[spec.name] = got
        record["metrics"] = values
        if samples:
            record["samples"] = samples
