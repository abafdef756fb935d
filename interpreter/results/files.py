"""The results directory of a session: what a run's record becomes on disk.

When a run closes, its row is appended to ``runs.csv`` and its record to
``runs.jsonl``, and both (with ``output.log``, where command output goes,
each line tagged with its run) are flushed once, there: a crash or Ctrl-C
leaves every finished run in both files, and the session's end has no pass
over the runs to make, only syncs.

runs.csv has a column per parameter and flag, discovered as records arrive,
and a ``metric:NAME`` column per declared metric, empty where a run produced
none. A record bringing a column no earlier record had makes the file be
rewritten from runs.jsonl, the earlier rows' new cells empty: at most once
per distinct column, never per run. A resumed session rewrites it from the
records it continues, so a crash's leftovers never stay. Rewrites and
``meta.json`` replace their file atomically, so a crash never leaves half a
file.
"""

from __future__ import annotations

import csv
import itertools
import json
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..core import LogLineEvent
from ..errors import UsageError
from .records import Record, Summary
from .resume import Previous

FIXED_COLUMNS = ["index", "repetition", "policy", "run", "trace", "status", "ok", "start", "end", "duration", "exitcodes", "timedout"]
#: Cell values written as they are; anything else is written as runs.jsonl holds it.
_PLAIN = frozenset({str, int, float, bool, type(None)})
_EXITCODES = FIXED_COLUMNS.index("exitcodes")


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
        #: One encoder for every record: ``json.dumps`` with ``default`` builds a new one per call.
        self._encode = json.JSONEncoder(default=str).encode
        self._output: IO[str] | None = None
        self.dry_run = dry_run
        self._parameter_columns: dict[str, None] = {}
        self._flag_columns: dict[str, None] = {}
        #: Declared metrics, one ``metric:NAME`` column each (empty where a run produced none).
        self.metrics = list(metrics)
        records = previous.records if previous is not None else []
        for record in records:
            self._add_columns(record)
        try:
            directory.mkdir(parents=True, exist_ok=True)
            self._file = self.jsonl_path.open("a", encoding="utf-8")
            self._csv = self._rewrite_csv(records)
        except OSError as exc:
            raise UsageError(f"{directory}: cannot write results there: {_reason(exc)}; choose another --results directory") from None
        self._rows = csv.writer(self._csv)

    def _add_columns(self, record: Record) -> bool:
        """Add the columns *record* brings; whether any is new."""
        new = False
        for name in record.get("parameters") or ():
            if name not in self._parameter_columns:
                self._parameter_columns[name] = None
                new = True
        for name in record.get("flags") or ():
            if name != "status" and name not in self._flag_columns:
                self._flag_columns[name] = None
                new = True
        return new

    def write_run(self, record: Record) -> None:
        """Append a closed run's row, then its record, and flush them and the output of its run.

        The row goes first, so a crash between the two never leaves runs.csv
        without a run that runs.jsonl has (a resume rewrites runs.csv anyway).
        """
        if self._add_columns(record):
            rewritten = self._rewrite_csv(itertools.chain(self._read_jsonl(), (record,)))
            self._csv.close()
            self._csv = rewritten
            self._rows = csv.writer(rewritten)
        else:
            self._rows.writerow(self._row(record))
            self._csv.flush()
        self._file.write(self._encode(record) + "\n")
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
        """Sync runs.jsonl and runs.csv, which already hold every run, then write meta.json beside them."""
        for handle in (self._file, self._csv):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
        if self._output is not None:
            self._output.close()
        self.write_meta(meta, summary)

    def write_meta(self, meta: Mapping[str, Any], summary: Summary) -> None:
        """Write meta.json atomically, so a crash never leaves half a file."""
        counts = {status: stats.count for status, stats in summary.by_status.items()}
        body = {**meta, "dry_run": self.dry_run, "runs": summary.runs, "ok": summary.ok, "by_status": counts}
        tmp = self.meta_path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(body, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.meta_path)

    def _row(self, record: Record) -> list[Any]:
        """*record*'s runs.csv row: every cell as runs.jsonl holds it."""
        row = list(map(record.get, FIXED_COLUMNS))
        row[_EXITCODES] = " ".join(map(str, record.get("exitcodes") or ()))
        row += map((record.get("parameters") or {}).get, self._parameter_columns)
        row += map((record.get("flags") or {}).get, self._flag_columns)
        row += map((record.get("metrics") or {}).get, self.metrics)
        if _PLAIN.issuperset(map(type, row)):
            return row
        return [cell if type(cell) in _PLAIN else json.loads(self._encode(cell)) for cell in row]

    def _rewrite_csv(self, records: Iterable[Record]) -> IO[str]:
        """Replace runs.csv with the header of today's columns and *records*' rows; the file, open to append to."""
        tmp = self.csv_path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            writer.writerow(
                FIXED_COLUMNS + list(self._parameter_columns) + [f"flag:{name}" for name in self._flag_columns] + [f"metric:{name}" for name in self.metrics]
            )
            writer.writerows(self._row(record) for record in records)
        tmp.replace(self.csv_path)
        return self.csv_path.open("a", newline="", encoding="utf-8")

    def _read_jsonl(self) -> Iterator[Record]:
        with self.jsonl_path.open(encoding="utf-8") as source:
            for line in source:
                yield json.loads(line)


def _reason(exc: OSError) -> str:
    """Why a results directory cannot be used, in words: the path in the OSError may be a parent's."""
    if isinstance(exc, FileExistsError):
        return "it is a file"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"
