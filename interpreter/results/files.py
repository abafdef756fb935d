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
import errno
import itertools
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

from ..core import Event, LogLineEvent
from ..engine import Record
from ..errors import UsageError
from .export import ExportContext, Exporter
from .reader import SessionReader

FIXED_COLUMNS = [
    "index",
    "repetition",
    "policy",
    "run",
    "trace",
    "status",
    "ok",
    "start",
    "end",
    "duration",
    "exitcodes",
    "timedout",
]
#: Cell values written as they are; anything else is written as runs.jsonl holds it.
_PLAIN = frozenset({str, int, float, bool, type(None)})
_EXITCODES = FIXED_COLUMNS.index("exitcodes")
#: One encoder for every record: ``json.dumps`` with ``default`` builds a new one per call.
_ENCODER = json.JSONEncoder(default=str)


class RunsCsv(Exporter):
    """runs.csv: a row per closed run, appended and flushed as it closes; a new column rewrites the
    file once."""

    def __init__(self, context: ExportContext) -> None:
        super().__init__(context)
        self.path = context.directory / "runs.csv"
        self._written = SessionReader(context.directory)
        self._encode = _ENCODER.encode
        self._parameter_columns: dict[str, None] = {}
        self._flag_columns: dict[str, None] = {}
        #: The flags a record may have without bringing a column: ``status`` and the flag columns.
        self._flag_names: dict[str, None] = {"status": None}
        #: Declared metrics, one ``metric:NAME`` column each (empty where a run produced none).
        self.metrics = [spec.name for spec in context.metrics]
        records = context.previous.records if context.previous is not None else []
        for record in records:
            self._add_columns(record)
        self._csv = self._rewrite(records)
        #: One row's text: csv.writer writes each row into it with one call.
        self._line = _Line()
        self._rows = csv.writer(self._line)

    def _add_columns(self, record: Record) -> bool:
        """Add the columns *record* brings; whether any is new (most records bring none: one test
        of their keys)."""
        parameters = record.get("parameters") or {}
        flags = record.get("flags") or {}
        if (
            parameters.keys() <= self._parameter_columns.keys()
            and flags.keys() <= self._flag_names.keys()
        ):
            return False
        for name in parameters:
            self._parameter_columns.setdefault(name, None)
        for name in flags:
            if name not in self._flag_names:
                self._flag_names[name] = self._flag_columns[name] = None
        return True

    def closed(self, record: Record) -> None:
        """Append the run's row with one write; a row bringing a new column rewrites the file with
        it.

        The exporters before runs.jsonl's write first, so a crash between the
        two never leaves runs.csv without a run that runs.jsonl has.
        """
        if self._add_columns(record):
            rewritten = self._rewrite(itertools.chain(self._written.runs(), (record,)))
            self._csv.close()
            self._csv = rewritten
        else:
            self._rows.writerow(self._row(record))
            _append(self._csv, self._line.text.encode("utf-8"))

    def finished(self, meta: Mapping[str, Any]) -> None:
        _sync(self._csv)

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

    def _rewrite(self, records: Iterable[Record]) -> IO[bytes]:
        """Replace runs.csv with the header of today's columns and *records*' rows; the file, open
        to append to, unbuffered."""
        tmp = self.path.with_suffix(".csv.tmp")
        with tmp.open("w", newline="", encoding="utf-8") as target:
            writer = csv.writer(target)
            writer.writerow(
                FIXED_COLUMNS
                + list(self._parameter_columns)
                + [f"flag:{name}" for name in self._flag_columns]
                + [f"metric:{name}" for name in self.metrics]
            )
            writer.writerows(self._row(record) for record in records)
        tmp.replace(self.path)
        return self.path.open("ab", buffering=0)


class RunsJsonl(Exporter):
    """runs.jsonl: each closed run's record appended and flushed, with the output its run
    printed."""

    name = "runs.jsonl"

    def __init__(self, context: ExportContext) -> None:
        super().__init__(context)
        self.path = context.directory / self.name
        self._encode = _ENCODER.encode
        self._file = self.path.open("ab", buffering=0)
        self._fileno = self._file.fileno()

    def closed(self, record: Record) -> None:
        """Append the record's line with one write: on disk when the run closes, no buffer to
        flush."""
        if os.fstat(self._fileno).st_nlink == 0:
            # Appending to a file nobody can open any more would lose every record silently.
            raise FileNotFoundError(errno.ENOENT, "it was deleted during the session")
        # The encoder escapes every non-ASCII character, so the line is ASCII.
        _append(self._file, (self._encode(record) + "\n").encode("ascii"))

    def finished(self, meta: Mapping[str, Any]) -> None:
        _sync(self._file)


class OutputLog(Exporter):
    """output.log: every line the commands printed, tagged with the runs it belongs to.

    Opened at the first line; flushed as each run closes, just before its
    record is written, so a finished run's output is on disk with it.
    """

    events = (LogLineEvent,)

    def __init__(self, context: ExportContext) -> None:
        super().__init__(context)
        self.path = context.directory / "output.log"
        self._file: IO[str] | None = None

    def observe(self, event: Event, records: Sequence[Record]) -> None:
        assert isinstance(event, LogLineEvent)
        if self._file is None:
            self._file = self.path.open("a", encoding="utf-8")
        tag = ",".join(f"run {record['index']}" for record in records) or "no run"
        self._file.write(f"[{tag}] {event.source} {event.stream}: {event.line}\n")

    def closed(self, record: Record) -> None:
        if self._file is not None:
            self._file.flush()

    def finished(self, meta: Mapping[str, Any]) -> None:
        if self._file is not None:
            self._file.close()


class MetaFile(Exporter):
    """meta.json: the session's description, written when it starts and again when it ends,
    atomically."""

    def __init__(self, context: ExportContext) -> None:
        super().__init__(context)
        self.path = context.directory / "meta.json"

    def started(self, meta: Mapping[str, Any]) -> None:
        self._write(meta)

    def finished(self, meta: Mapping[str, Any]) -> None:
        self._write(meta)

    def _write(self, meta: Mapping[str, Any]) -> None:
        tmp = self.path.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(meta, indent=2, default=str) + "\n", encoding="utf-8")
        tmp.replace(self.path)


def open_directory(directory: Path, *, resuming: bool) -> None:
    """Make *directory* ready for a session's files; a fresh session refuses one that already holds
    results."""
    if not resuming and (directory / RunsJsonl.name).exists():
        raise UsageError(
            f"{directory}: already holds results (runs.jsonl); choose another --results directory"
        )
    try:
        directory.mkdir(parents=True, exist_ok=True)
        probe = directory / RunsJsonl.name
        probe.open("a", encoding="utf-8").close()
    except OSError as exc:
        raise UsageError(
            f"{directory}: cannot write results there: {_reason(exc)}; choose another --results "
            "directory"
        ) from None


class _Line:
    """What csv.writer writes a row into: the row's text, kept for one write of its own."""

    __slots__ = ("text",)

    def __init__(self) -> None:
        self.text = ""

    def write(self, text: str) -> None:
        self.text = text


def _append(file: IO[bytes], data: bytes) -> None:
    """Write all of *data* to the unbuffered *file*: one system call, more only when the system
    takes part of it."""
    written = file.write(data) or 0
    while written < len(data):
        written += file.write(data[written:]) or 0


def _sync(handle: IO[Any]) -> None:
    handle.flush()
    os.fsync(handle.fileno())
    handle.close()


def _reason(exc: OSError) -> str:
    """Why a results directory cannot be used, in words: the path in the OSError may be a
    parent's."""
    if isinstance(exc, FileExistsError):
        return "it is a file"
    if isinstance(exc, NotADirectoryError):
        return "a part of the path is a file"
    where = f" ({exc.filename})" if exc.filename else ""
    return f"{exc.strerror or exc}{where}"
