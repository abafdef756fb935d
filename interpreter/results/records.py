"""Run records: what the bus says about each run, gathered until the run closes.

A record opens with its run's parameter update and closes with its
``RunEndEvent`` (or when the session finishes with runs still open); both
paths go through :meth:`RunBook._close`, the one place a record is
completed. Outcomes from any channel (:class:`OutcomeEvent`) add their code;
output lines remember a run's last stderr line.

Memory stays flat however many runs a session makes: only the open runs
and running totals are kept.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core import Event, FlagUpdateEvent, LogLineEvent, OutcomeEvent, ParameterUpdateEvent, RunEndEvent
from ..errors import shorten

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
        self.low = min(self.low, value)
        self.high = max(self.high, value)


@dataclass
class Summary:
    runs: int = 0
    ok: int = 0
    by_status: dict[str, Stats] = field(default_factory=dict)

    @property
    def failed(self) -> int:
        return self.runs - self.ok


class RunBook:
    """Builds one record per run from bus events; writes nothing itself."""

    #: The events a RunBook must be subscribed to.
    event_classes: tuple[type[Event], ...] = (ParameterUpdateEvent, FlagUpdateEvent, RunEndEvent, OutcomeEvent, LogLineEvent)

    def __init__(self, *, dry_run: bool = False, previous: Sequence[Record] = ()) -> None:
        """*previous* records (of a resumed session) count in the summary, and indexes continue after theirs."""
        self.dry_run = dry_run
        self.summary = Summary()
        for record in previous:
            self._count(record)
        self._open: dict[int, Record] = {}
        self._opened = max((int(record.get("index") or 0) for record in previous), default=0)
        self.on_open: list[Callable[[Record], None]] = []
        self.on_close: list[Callable[[Record], None]] = []
        #: Called with each output line and the records of the runs it belongs to.
        self.on_line: list[Callable[[LogLineEvent, list[Record]], None]] = []

    def handle(self, event: Event) -> None:
        if isinstance(event, ParameterUpdateEvent):
            self._start(event)
        elif isinstance(event, FlagUpdateEvent):
            for record in self._records(event):
                record["flags"][event.name] = event.value
        elif isinstance(event, RunEndEvent):
            for trace in event.traceids:
                ended = self._open.pop(trace, None)
                if ended is not None:
                    self._close(ended, event.ts, event.status)
        elif isinstance(event, OutcomeEvent):
            for record in self._records(event):
                record["exitcodes"].append(event.code)
                record["_outcomes_ok"] = record["_outcomes_ok"] and event.ok
                record["timedout"] = record["timedout"] or event.timedout
        elif isinstance(event, LogLineEvent):
            records = self._records(event)
            if event.stream == "stderr":
                for record in records:
                    record["last_stderr"] = shorten(event.line, LAST_STDERR)
            for callback in self.on_line:
                callback(event, records)

    def _records(self, event: Event) -> list[Record]:
        return [self._open[trace] for trace in event.traceids if trace in self._open]

    @property
    def open_runs(self) -> list[Record]:
        """The records of runs still in progress."""
        return list(self._open.values())

    def _start(self, event: ParameterUpdateEvent) -> None:
        trace = min(event.traceids)
        self._opened += 1
        record: Record = {
            "index": self._opened,
            "repetition": event.repetition,
            "policy": event.policy,
            "run": event.run,
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
        for callback in self.on_open:
            callback(record)

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
        self._count(record)
        for callback in self.on_close:
            callback(record)

    def _count(self, record: Record) -> None:
        summary = self.summary
        summary.runs += 1
        summary.ok += bool(record.get("ok"))
        summary.by_status.setdefault(str(record.get("status")), Stats()).add(float(record.get("duration") or 0.0))
