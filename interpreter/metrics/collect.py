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

import json
from collections.abc import Sequence
from typing import Any

from ..core import Event
from ..engine import Record, RunListener
from .base import MetricSpec, Tracker, TrackerRun
from .stats import Accumulator, Summarizer, summarizer


def aggregate(values: Sequence[float], how: str | Summarizer) -> float | None:
    """A run's value of a metric from the values its trackers emitted in the run: the first, the
    last, or any summarizer's (None where it is undefined, as σ of one value).
    """
    if how == "first":
        return values[0]
    if how == "last":
        return values[-1]
    wanted = how if isinstance(how, Summarizer) else summarizer(how)
    if len(values) == 1 and wanted.kind not in _SPREADS:
        return values[0]  # one value is its own mean, median, ...: as it came (an int stays one)
    acc = Accumulator(keep_values=wanted.needs_values)
    for value in values:
        acc.add(value)
    result: float | None = acc.result((wanted,))[wanted.name]
    return result


#: Summarizers whose value for one value is not that value.
_SPREADS = ("stddev", "variance", "sdeviation", "mean_err", "count")


class _OpenRun:
    __slots__ = ("watches", "values")

    def __init__(self) -> None:
        self.watches: list[TrackerRun] = []
        self.values: dict[str, list[float]] = {}

    def emit(self, metric: str, value: float) -> None:
        self.values.setdefault(metric, []).append(value)


class RunMetrics(RunListener):
    """Runs the session's trackers over each open run and writes their values into its record."""

    def __init__(
        self, metrics: Sequence[MetricSpec], trackers: Sequence[Tracker], warmup: int = 0
    ) -> None:
        self.metrics = list(metrics)
        #: The first *warmup* runs of each parameter set are marked ``"warmup": true``.
        self.warmup = warmup
        self._seen: dict[str, int] = {}
        self.trackers = list(trackers)
        #: Each metric's aggregate, parsed once: first, last or a summarizer.
        self._aggregates: dict[str, str | Summarizer] = {
            m.name: m.aggregate if m.aggregate in ("first", "last") else summarizer(m.aggregate)
            for m in self.metrics
        }
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
            values[spec.name] = aggregate(got, self._aggregates[spec.name]) if got else None
            if got and len(got) > 1:
                samples[spec.name] = got
        record["metrics"] = values
        if samples:
            record["samples"] = samples
        if self.warmup:
            self._mark_warmup(record)

    def resumed(self, records: Sequence[Record]) -> None:
        """Count the runs a resumed session keeps, so a set's warm-up is not run again; a run the
        interrupt cut is run again, and does not count.
        """
        if self.warmup:
            for record in records:
                if record.get("status") != "interrupted":
                    self._count(record)

    def _mark_warmup(self, record: Record) -> None:
        """Mark the run as warm-up when its parameter set has had fewer than *warmup* runs."""
        if self._count(record) <= self.warmup:
            record["warmup"] = True

    def _count(self, record: Record) -> int:
        """The run's place among its parameter set's runs, from 1; counted up to *warmup* + 1."""
        key = json.dumps(record.get("parameters") or {}, sort_keys=True, default=str)
        seen = self._seen.get(key, 0)
        if seen <= self.warmup:
            self._seen[key] = seen = seen + 1
        return seen
