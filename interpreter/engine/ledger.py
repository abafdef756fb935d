"""The run ledger: the one owner of runs, from the parameter update that opens one to the record it
closes into.

A policy's chart moves through its runs with a :class:`Cursor` (its latest
run's trace, the run still open, how many it started); the ledger opens a
record when that run's ``ParameterUpdateEvent`` is delivered, adds to it
what the bus says about the run (flags, outcomes, output), and closes it on
its ``RunEndEvent``, or when the session ends with runs still open.

Everything else that cares about runs is a :class:`RunListener`, called in
phases rather than in the order it subscribed: every listener sees an event
before the run it belongs to closes; every listener adds to a closing record
(:meth:`RunListener.finish`, where trackers put their metrics) before any
listener receives it complete (:meth:`RunListener.closed`, where the results
files write it). So a tracker added after the results files still gets its
metric into every record.

Memory stays flat however many runs a session makes: only the open runs
and running totals are kept.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import (
    Event,
    EventBus,
    FlagUpdateEvent,
    LogLineEvent,
    OutcomeEvent,
    ParameterUpdateEvent,
    RunEndEvent,
    RunKey,
)
from ..errors import shorten
from .parameters import ParameterBatch

Record = dict[str, Any]

#: The status of a run that failed because a channel's timeout ended it.
TIMEOUT = "TIMEOUT"
#: Characters of a run's last stderr line kept in its record; output.log has the whole line.
LAST_STDERR = 1000


def run_ok(status: Any, outcomes_ok: bool) -> bool:
    """A run succeeded when its status is OK, or it has no status and every outcome was ok."""
    if status is not None:
        return str(status).upper() == "OK"
    return outcomes_ok


@dataclass
class Stats:
    """Running count, min, max and mean of durations (Welford), in constant memory."""

    count: int = 0
    mean: float = 0.0
    low: float = math.inf
    high: float = -math.inf

    def add(self, value: float) -> None:
        self.count += 1
        self.mean += (value - self.mean) / self.count
        if value < self.low:
            self.low = value
        if value > self.high:
            self.high = value


@dataclass
class Summary:
    """Runs closed so far, how many were OK, and their durations per status."""

    runs: int = 0
    ok: int = 0
    by_status: dict[str, Stats] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return self.runs - self.ok

    def count(self, record: Mapping[str, Any]) -> None:
        self.runs += 1
        self.ok += bool(record.get("ok"))
        status = str(record.get("status"))
        stats = self.by_status.get(status)
        if stats is None:  # made once per status, not per run
            stats = self.by_status[status] = Stats()
        stats.add(float(record.get("duration") or 0.0))


class RunListener:
    """What the ledger tells about runs; a listener overrides the hooks it needs.

    *events* are the bus event classes (and subclasses) the listener wants
    to :meth:`observe`, with the open records they belong to.
    """

    events: tuple[type[Event], ...] = ()

    def opened(self, record: Record) -> None:
        """A run opened: its record has index, policy, repetition,
        run, trace, parameters and start.
        """

    def observe(self, event: Event, records: Sequence[Record]) -> None:
        """An event of :attr:`events` was delivered; *records* are the open runs its traces name."""

    def finish(self, record: Record) -> None:
        """A run is closing: add to its record (every listener's ``finish`` runs before any
        ``closed``).
        """

    def closed(self, record: Record) -> None:
        """A run's record is complete: write it, count it, show it. It must not be changed."""


class Cursor:
    """Where one policy (in one repetition) is in its runs: what ``policy.set_parameters`` and
    friends move.

    A resumed repetition counts on from *runs*, the runs it already has.
    """

    def __init__(
        self, batch: ParameterBatch, policy: str, repetition: int, runs: int = 0, lane: int = 0
    ) -> None:
        self._batch = batch
        self.policy = policy
        self.repetition = repetition
        self.lane = lane
        #: Runs started.
        self.runs = runs
        #: The trace of the latest run started; ``open_run`` while its record is open.
        self.trace: int | None = None
        self.open_run: int | None = None

    def set_parameters(self, parameters: Mapping[str, Any]) -> int:
        """Add *parameters* to this step's run (a new one on the step's first call); return its
        trace.
        """
        key = RunKey(
            policy=self.policy, repetition=self.repetition, number=self.runs + 1, lane=self.lane
        )
        trace, new = self._batch.set(parameters, key, replaces=self.open_run)
        if new:
            self.runs += 1
            self.trace = self.open_run = trace
        return trace

    def set_flag(self, name: str, value: Any) -> None:
        """Set a flag on the latest run (its record gets it even if the run just ended in this
        step).
        """
        self._batch.flag(name, value, self.trace)

    def end_run(self, status: str | None = None) -> None:
        """Close the open run, if any; *status* applies only if the run has none yet."""
        if self.open_run is not None:
            self._batch.end_run(self.open_run, status)
            self.open_run = None


class RunLedger:
    """Opens, fills and closes every run's record, and tells its listeners in phases."""

    #: The events the ledger needs for records of its own.
    event_classes: tuple[type[Event], ...] = (
        ParameterUpdateEvent,
        FlagUpdateEvent,
        RunEndEvent,
        OutcomeEvent,
        LogLineEvent,
    )

    def __init__(
        self,
        bus: EventBus,
        batch: ParameterBatch,
        *,
        dry_run: bool = False,
        previous: Sequence[Record] = (),
    ) -> None:
        """*previous* records (of a resumed session) count in the summary, and indexes continue
        after theirs.
        """
        self.bus = bus
        self.batch = batch
        self.dry_run = dry_run
        self.summary = Summary()
        for record in previous:
            self.summary.count(record)
        self._open: dict[int, Record] = {}
        self._opened = max((int(record.get("index") or 0) for record in previous), default=0)
        self._listeners: list[RunListener] = []
        #: Per hook, the listeners that override it: no call per run to a hook that does nothing.
        self._opened_by: list[RunListener] = []
        self._finished_by: list[RunListener] = []
        self._closed_by: list[RunListener] = []
        #: Per event class, the listeners that observe it: decided once per class.
        self._routes: dict[type, tuple[RunListener, ...]] = {}
        self._subscribed = self.event_classes
        bus.subscribe(self.handle, *self._subscribed)

    def add(self, listener: RunListener) -> None:
        """Tell *listener* about every run from now on; the bus
        delivers it the events it asks for.
        """
        self._listeners.append(listener)
        for hook, listeners in (
            ("opened", self._opened_by),
            ("finish", self._finished_by),
            ("closed", self._closed_by),
        ):
            if getattr(type(listener), hook) is not getattr(RunListener, hook):
                listeners.append(listener)
        self._routes.clear()
        wanted = tuple(
            dict.fromkeys(
                [*self.event_classes, *(cls for each in self._listeners for cls in each.events)]
            )
        )
        if wanted != self._subscribed:
            self.bus.unsubscribe(self.handle)
            self.bus.subscribe(self.handle, *wanted)
            self._subscribed = wanted

    def cursor(self, policy: str, repetition: int, runs: int = 0, lane: int = 0) -> Cursor:
        """A new cursor for *policy*'s runs in *repetition*, counting on from *runs*."""
        return Cursor(self.batch, policy, repetition, runs, lane)

    @property
    def open_runs(self) -> list[Record]:
        """The records of runs still in progress."""
        return list(self._open.values())

    def handle(self, event: Event) -> None:
        """The bus subscriber: the ledger's own bookkeeping, then the listeners', then a close if
        the run ended. One function: it runs for every event the ledger is subscribed to.
        """
        if isinstance(event, ParameterUpdateEvent):
            records = [self._start(event)] if event.traceids else []
        else:
            records = [self._open[trace] for trace in event.traceids if trace in self._open]
            _note(event, records)
        cls = type(event)
        route = self._routes.get(cls)
        if route is None:
            route = self._routes[cls] = tuple(
                each for each in self._listeners if each.events and issubclass(cls, each.events)
            )
        for listener in route:
            listener.observe(event, records)
        if isinstance(event, RunEndEvent):
            self._end(event)

    def _end(self, event: RunEndEvent) -> None:
        """Close each open run *event* ends."""
        for trace in event.traceids:
            ended = self._open.pop(trace, None)
            if ended is not None:
                self._close(ended, event.ts, event.status)

    def _start(self, event: ParameterUpdateEvent) -> Record:
        trace = min(event.traceids)
        self._opened += 1
        run = event.run
        record: Record = {
            "index": self._opened,
            "repetition": run.repetition if run is not None else 1,
            "policy": run.policy if run is not None else None,
            "run": run.number if run is not None else None,
            "trace": trace,
            "parameters": dict(event.parameters),
            "flags": {},
            "start": event.ts,
            "exitcodes": [],
            "timedout": False,
            "last_stderr": None,
            "_outcomes_ok": True,
        }
        self._open[trace] = record
        for listener in self._opened_by:
            listener.opened(record)
        return record

    def close_all(self, ts: float, status: str) -> None:
        """Close every run still open, marking it with *status* unless it has one."""
        while self._open:
            _, record = self._open.popitem()
            self._close(record, ts, status)

    def _close(self, record: Record, ts: float, status: str | None) -> None:
        """Complete *record*: the one place a run's record is closed."""
        if status is not None:
            record["flags"].setdefault("status", status)
        record["status"] = record["flags"].get("status")
        record["ok"] = run_ok(record["status"], record.pop("_outcomes_ok"))
        if record["timedout"] and not record["ok"]:
            # The chart saw a failure; the record says why, whatever status the chart gave it.
            record["status"] = TIMEOUT
        record["end"] = ts
        record["duration"] = round(ts - record["start"], 6)
        if self.dry_run:
            record["dry_run"] = True
        for listener in self._finished_by:
            listener.finish(record)
        self.summary.count(record)
        for listener in self._closed_by:
            listener.closed(record)


def _note(event: Event, records: list[Record]) -> None:
    """Write what a flag, an outcome or a line of stderr says about a run into its *records*."""
    if isinstance(event, FlagUpdateEvent):
        for record in records:
            record["flags"][event.name] = event.value
    elif isinstance(event, OutcomeEvent):
        for record in records:
            record["exitcodes"].append(event.code)
            record["_outcomes_ok"] = record["_outcomes_ok"] and event.ok
            record["timedout"] = record["timedout"] or event.timedout
    elif isinstance(event, LogLineEvent) and event.stream == "stderr":
        for record in records:
            record["last_stderr"] = shorten(event.line, LAST_STDERR)
