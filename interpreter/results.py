"""Run records: one per run, appended to ``runs.jsonl`` and flushed as each run closes.

Command output goes to ``output.log``, each line tagged with its run, so a
failed run can be diagnosed after the fact.

Memory stays flat however many runs a session makes: only the open runs
and running totals are kept; ``runs.csv`` is written at the end by streaming
the JSONL file back.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .channels.cmdline import CmdlineExitEvent
from .errors import UsageError
from .events import Event, FlagUpdateEvent, ParameterUpdateEvent
from .parameters import RunEndEvent
from .process import LogLineEvent

FIXED_COLUMNS = ["index", "repetition", "policy", "run", "trace", "status", "ok", "start", "end", "duration", "exitcodes"]


def run_ok(status: Any, exitcodes: list[int]) -> bool:
    """A run succeeded when its status is OK, or it has no status and every command exited 0."""
    if status is not None:
        return str(status).upper() == "OK"
    return all(code == 0 for code in exitcodes)


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


class Results:
    """Subscribes to the bus and keeps the run records of one session."""

    def __init__(self, directory: Path, *, dry_run: bool = False) -> None:
        self.directory = directory
        self.jsonl_path = directory / "runs.jsonl"
        self.csv_path = directory / "runs.csv"
        self.meta_path = directory / "meta.json"
        self.output_path = directory / "output.log"
        if self.jsonl_path.exists():
            raise UsageError(f"{directory}: already holds results (runs.jsonl); choose another --results directory")
        directory.mkdir(parents=True, exist_ok=True)
        self._file = self.jsonl_path.open("a", encoding="utf-8")
        self._output: Any = None
        self.dry_run = dry_run
        self.summary = Summary()
        self._open: dict[int, dict[str, Any]] = {}
        self._opened = 0
        self._parameter_columns: dict[str, None] = {}
        self._flag_columns: dict[str, None] = {}
        self.on_open: list[Callable[[dict[str, Any]], None]] = []
        self.on_close: list[Callable[[dict[str, Any]], None]] = []

    event_classes = (ParameterUpdateEvent, FlagUpdateEvent, RunEndEvent, CmdlineExitEvent, LogLineEvent)

    def handle(self, event: Event) -> None:
        if isinstance(event, ParameterUpdateEvent):
            self._start(event)
        elif isinstance(event, FlagUpdateEvent):
            for trace in event.traceids:
                record = self._open.get(trace)
                if record is not None:
                    record["flags"][event.name] = event.value
        elif isinstance(event, RunEndEvent):
            for trace in event.traceids:
                self.close(trace, event.ts, getattr(event, "status", None))
        elif isinstance(event, CmdlineExitEvent):
            for trace in event.traceids:
                record = self._open.get(trace)
                if record is not None:
                    record["exitcodes"].append(event.exitcode)
        elif isinstance(event, LogLineEvent):
            self._log_line(event)

    def _log_line(self, event: LogLineEvent) -> None:
        """Append the line to output.log under its run; remember a run's last stderr line."""
        records = [self._open[trace] for trace in event.traceids if trace in self._open]
        for record in records:
            if event.stream == "stderr":
                record["last_stderr"] = event.line
        if self._output is None:
            self._output = self.output_path.open("a", encoding="utf-8")
        tag = ",".join(f"run {record['index']}" for record in records) or "no run"
        self._output.write(f"[{tag}] {event.source} {event.stream}: {event.line}\n")

    def _start(self, event: ParameterUpdateEvent) -> None:
        policy = getattr(event, "policy", None)
        for trace, record in list(self._open.items()):
            if record["policy"] == policy:
                self.close(trace, event.ts)
        trace = min(event.traceids)
        self._opened += 1
        record: dict[str, Any] = {
            "index": self._opened,
            "repetition": getattr(event, "repetition", 1),
            "policy": policy,
            "run": getattr(event, "run", None),
            "trace": trace,
            "parameters": dict(event.parameters),
            "flags": {},
            "start": event.ts,
            "exitcodes": [],
            "last_stderr": None,
        }
        for name in event.parameters:
            self._parameter_columns.setdefault(name)
        self._open[trace] = record
        for callback in self.on_open:
            callback(record)

    def close(self, trace: int, ts: float, status: str | None = None) -> None:
        """Finish run *trace*: complete its record, append it and flush."""
        record = self._open.pop(trace, None)
        if record is None:
            return
        if status is not None:
            record["flags"].setdefault("status", status)
        record["status"] = record["flags"].get("status")
        record["ok"] = run_ok(record["status"], record["exitcodes"])
        record["end"] = ts
        record["duration"] = round(ts - record["start"], 6)
        if self.dry_run:
            record["dry_run"] = True
        for name in record["flags"]:
            if name != "status":
                self._flag_columns.setdefault(name)
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()
        if self._output is not None:
            self._output.flush()
        summary = self.summary
        summary.runs += 1
        summary.ok += record["ok"]
        summary.by_status.setdefault(str(record["status"]), Stats()).add(record["duration"])
        for callback in self.on_close:
            callback(record)

    def close_all(self, ts: float, status: str) -> None:
        """Close every run still open, marking it with *status* unless it has one."""
        for trace in list(self._open):
            self.close(trace, ts, status)

    def finish(self, meta: Mapping[str, Any]) -> None:
        """Sync the JSONL file, then write runs.csv and meta.json beside it."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self._output is not None:
            self._output.close()
        self._write_csv()
        self.write_meta(meta)

    def write_meta(self, meta: Mapping[str, Any]) -> None:
        """Write meta.json atomically, so a crash never leaves half a file."""
        counts = {status: stats.count for status, stats in self.summary.by_status.items()}
        body = {**meta, "dry_run": self.dry_run, "runs": self.summary.runs, "ok": self.summary.ok, "by_status": counts}
        tmp = self.meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.meta_path)

    def _write_csv(self) -> None:
        parameters = list(self._parameter_columns)
        flags = list(self._flag_columns)
        with self.jsonl_path.open(encoding="utf-8") as source, self.csv_path.open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            writer.writerow(FIXED_COLUMNS + parameters + [f"flag:{name}" for name in flags])
            for line in source:
                record = json.loads(line)
                row = [record.get(column) for column in FIXED_COLUMNS]
                row[FIXED_COLUMNS.index("exitcodes")] = " ".join(str(code) for code in record["exitcodes"])
                row += [record["parameters"].get(name) for name in parameters]
                row += [record["flags"].get(name) for name in flags]
                writer.writerow(row)
