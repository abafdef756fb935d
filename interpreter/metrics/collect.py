"""Per-run metric values: every tracker watches each open run, and the run's record gets the values.

:class:`RunMetrics` is a listener of the run ledger. It opens its trackers'
watches when a run opens, before the run's ``ParameterUpdateEvent`` is
shown to them, so that event can start a duration; the ledger shows every
event (a run's ``RunEndEvent`` too) before the run closes; and its
:meth:`RunMetrics.finish` puts the values into the record in the ledger's
``finish`` phase, before any listener receives the record complete. No
part of this depends on when RunMetrics was added to the ledger.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from typing import Any

from ..core import Event
from ..engine import Record, RunListener
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


class RunMetrics(RunListener):
    """Runs the session's trackers over each open run and writes their values into its record."""

    def __init__(self, metrics: Sequence[MetricSpec], trackers: Sequence[Tracker]) -> None:
        self.metrics = list(metrics)
        self.trackers = list(trackers)
        #: With no tracker, no event needs to reach this listener.
        self.events = (Event,) if self.trackers else ()
        self._open: dict[int, _OpenRun] = {}
        #: Per event class, the positions of the trackers whose filters can select it: the others
        #: never see it.
        self._routes: dict[type, tuple[int, ...]] = {}

    def opened(self, record: Record) -> None:
        """Start every tracker's watch on the new run."""
        if not self.trackers:
            return
        run = _OpenRun()
        traceids = frozenset((record["trace"],))
        run.watches = [tracker.start(traceids, run.emit) for tracker in self.trackers]
        self._open[record["trace"]] = run

    def observe(self, event: Event, records: Sequence[Record]) -> None:
        """Show *event* to the trackers that want its class, in every open run (each watch checks
        its trace).
        """
        cls = type(event)
        route = self._routes.get(cls)
        if route is None:
            route = self._routes[cls] = tuple(
                i
                for i, tracker in enumerate(self.trackers)
                if any(f.selects(cls) for f in tracker.filters)
            )
        if not route:
            return
        for run in self._open.values():
            watches = run.watches
            for index in route:
                watches[index].handle(event)

    def finish(self, record: Record) -> None:
        """Finish the run's watches and record each declared metric: its value, or None when it has
        none.

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
