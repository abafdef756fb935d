"""The results directory of a session: what a run's record becomes on disk.

``runs.jsonl`` gets one line per run, appended and flushed the moment the
run closes, so nothing finished is lost. Command output goes to
``output.log``, each line tagged with its run. A run's metrics become
``metric:NAME`` columns of runs.csv, empty where the run produced none. ``runs.csv`` is written at the
end by streaming the JSONL file back, and ``meta.json`` is replaced
atomically, so a crash never leaves half a file.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..engine.events import LogLineEvent
from ..errors import UsageError
from .records import Record, Summary
from .resume import Previous

FIXED_COLUMNS = ["index", "repetition", "policy", "run", "trace", "status", "ok", "start", "end", "duration", "exitcodes", "timedout"]


class ResultsFiles:
    """Writes the records a RunBook closes into one results directory."""

    def __init__(self, directory: Path, *, dry_run: bool = False, metrics: Sequence[str] = (), previous: Previous | None = None) -> None:
        """Open *directory*; with *previous* (a resumed session) its files are appended to, not refused."""
        self.directory = directory
        self.jsonl_path = directory / "runs.jsonl"
        self.csv_path = directory / "runs.csv"
        self.meta_path = directory / "meta.json"
        self.output_path = directory / "output.log"
        if previous is None and self.jsonl_path.exists():
            raise UsageError(f"{directory}: already holds results (runs.jsonl); choose another --results directory")
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._file = self.jsonl_path.open("a", encoding="utf-8")
        except OSError as exc:
            raise UsageError(f"{directory}: cannot write results there: {_reason(exc)}; choose another --results directory") from None
        self._output: IO[str] | None = None
        self.dry_run = dry_run
        self._parameter_columns: dict[str, None] = {}
        self._flag_columns: dict[str, None] = {}
        #: Declared metrics, one ``metric:NAME`` column each (empty where a run produced none).
        self.metrics = list(metrics)
        for record in previous.records if previous is not None else ():
            self._add_columns(record)

    def _add_columns(self, record: Record) -> None:
        for name in record.get("parameters") or {}:
            self._parameter_columns.setdefault(name)
        for name in record.get("flags") or {}:
            if name != "status":
                self._flag_columns.setdefault(name)

    def write_run(self, record: Record) -> None:
        """Append a closed run's record and flush it (and the output of its run)."""
        self._add_columns(record)
        self._file.write(json.dumps(record, default=str) + "\n")
        self._file.flush()
        if self._output is not None:
            self._output.flush()

    def write_line(self, event: LogLineEvent, records: list[Record]) -> None:
        """Append an output line to output.log under the runs it belongs to."""
        if self._output is None:
            self._output = self.output_path.open("a", encoding="utf-8")
        tag = ",".join(f"run {record['index']}" for record in records) or "no run"
        self._output.write(f"[{tag}] {event.source} {event.stream}: {event.line}\n")

    def finish(self, meta: Mapping[str, Any], summary: Summary) -> None:
        """Sync the JSONL file, then write runs.csv and meta.json beside it."""
        self._file.flush()
        os.fsync(self._file.fileno())
        self._file.close()
        if self._output is not None:
            self._output.close()
        self._write_csv()
        self.write_meta(meta, summary)

    def write_meta(self, meta: Mapping[str, Any], summary: Summary) -> None:
        """Write meta.json atomically, so a crash never leaves half a file."""
        counts = {status: stats.count for status, stats in summary.by_status.items()}
        body = {**meta, "dry_run": self.dry_run, "runs": summary.runs, "ok": summary.ok, "by_status": counts}
        tmp = self.meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.meta_path)

    def _write_csv(self) -> None:
        parameters = list(self._parameter_columns)
        flags = list(self._flag_columns)
        with self.jsonl_path.open(encoding="utf-8") as source, self.csv_path.open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            writer.writerow(FIXED_COLUMNS + parameters + [f"flag:{name}" for name in flags] + [f"metric:{name}" for name in self.metrics])
            for line in source:
                record = json.loads(line)
                row = [record.get(column) for column in FIXED_COLUMNS]
                row[FIXED_COLUMNS.index("exitcodes")] = " ".join(str(code) for code in record.get("exitcodes") or ())
                row += [(record.get("parameters") or {}).get(name) for name in parameters]
                row += [(record.get("flags") or {}).get(name) for name in flags]
                values = record.get("metrics") or {}
                row += [values.get(name) for name in self.metrics]
                writer.writerow(row)


def _reason(exc: OSError) -> str:
    """Why a results directory cannot be used, in words: the path in the OSError may be a parent's."""
    if isinstance(exc, FileExistsError):
        return "it is a file"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"
