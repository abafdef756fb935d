"""A session's results directory read back: the one place its files are read, with one set of rules.

``perfchart report``, ``perfchart compare``, ``perfchart draw --run`` and
``perfchart run --resume`` all read through :class:`SessionReader`:

- ``meta.json``: :attr:`SessionReader.meta`;
- ``runs.jsonl``: :meth:`SessionReader.runs`, streamed, one record per line.
  A last line without its newline is a record a crash (or a session still
  running) cut off mid-write: it is skipped with a warning, and only a
  resumed session, which appends after it, truncates it from the file. Any
  other line that is not a JSON object is refused, naming its line;
- ``summary.json``: :attr:`SessionReader.summary`;
- ``visits-*.json``: :meth:`SessionReader.visits`.

Every problem is a :class:`UsageError` of one line naming the file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterable, Iterator
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError

if TYPE_CHECKING:
    from .shapes import Shape

log = logging.getLogger("perfchart")


#: The visits files a session writes, one per policy and repetition (see :mod:`.visits`).
PATTERN = "visits-*.json"


class SessionReader:
    """The files of one results directory, read on demand; :attr:`meta` and :attr:`summary` once
    each."""

    def __init__(self, directory: Path) -> None:
        if not directory.is_dir():
            raise UsageError(f"{directory}: no such results directory")
        self.directory = directory
        self.runs_path = directory / "runs.jsonl"
        self._warned = (
            False  # about a cut-off last line: once, however many times the runs are read
        )

    @cached_property
    def meta(self) -> dict[str, Any]:
        """meta.json: the session's configuration, seed, versions, counts and status."""
        path = self.directory / "meta.json"
        if not path.exists():
            raise UsageError(f"{self.directory}: no meta.json (not a results directory)")
        meta = _read_json(path)
        if not isinstance(meta, dict):
            raise UsageError(f"{path}: not the meta.json of a session")
        from .shapes import META

        _check(meta, META, path)
        return meta

    @cached_property
    def summary(self) -> dict[str, Any]:
        """summary.json: each metric's statistics per parameter set, written when the session
        ended."""
        path = self.directory / "summary.json"
        if not path.is_file():
            what = (
                "a results directory from an older perfchart or an unfinished session"
                if self.runs_path.is_file()
                else "not a results directory"
            )
            raise UsageError(f"{self.directory}: no summary.json ({what})")
        document = _read_json(path)
        if (
            not isinstance(document, dict)
            or not {"metrics", "groups", "parameters"} <= document.keys()
        ):
            raise UsageError(f"{path}: not a perfchart summary")
        from .shapes import SUMMARY

        _check(document, SUMMARY, path)
        _check_groups(document, path)
        return document

    def runs(self, *, missing_ok: bool = False, resuming: bool = False) -> Iterator[dict[str, Any]]:
        """The records of runs.jsonl in the order they were written, streamed.

        Without runs.jsonl: an error, or no runs with *missing_ok*. A last line
        without its newline is skipped, with one warning per reader; *resuming*
        cuts it from the file instead, so that the records appended next start
        on a line of their own. Any other line that is not a JSON object is
        refused, with its line number.
        """
        path = self.runs_path
        try:
            source = path.open("rb")
        except FileNotFoundError:
            if missing_ok:
                return
            raise UsageError(f"{self.directory}: no runs.jsonl (not a results directory)") from None
        except OSError as exc:
            raise UsageError(f"{path}: cannot be read: {_reason(exc)}") from None
        cut_off: list[tuple[int, bytes]] = []
        with source:
            yield from _records(source, path, resuming, cut_off)
        if cut_off:
            self._cut_off(*cut_off[0], resuming=resuming)

    def _cut_off(self, complete: int, line: bytes, *, resuming: bool) -> None:
        """A last line without its newline: the session died writing it (or is writing it now)."""
        path = self.runs_path
        if not resuming:
            if not self._warned:
                self._warned = True
                log.warning(
                    "%s: skipping its last line, cut off mid-write (%d bytes)", path, len(line)
                )
            return
        log.warning("%s: dropping its last line, cut off mid-write (%d bytes)", path, len(line))
        try:
            with path.open("r+b") as handle:
                handle.truncate(complete)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise UsageError(f"{path}: cannot drop its cut-off last line: {_reason(exc)}") from None

    def visits(self) -> list[dict[str, Any]]:
        """Every ``visits-*.json`` record, in policy (position in the configuration) then repetition
        order."""
        from .shapes import VISITS

        records = []
        for path in self.directory.glob(PATTERN):
            try:
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                raise UsageError(f"{path}: unreadable visits record ({exc})") from None
            if not isinstance(record, dict):
                raise UsageError(f"{path}: unreadable visits record (not a JSON object)")
            _check(record, VISITS, path)
            records.append(record)
        return sorted(records, key=lambda r: (r.get("index", 0), r.get("repetition", 0)))


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise UsageError(f"{path}: cannot be read: {_reason(exc)}") from None
    except ValueError as exc:
        raise UsageError(f"{path}: cannot be read: {exc}") from None


def _check(value: Any, shape: Shape, where: object, why: str = "") -> None:
    """Refuse *value* read from *where* unless it fits *shape*: the first bad key, in one line.

    The shapes are imported where a file is read back: a session that reads none (a run without
    ``--resume``) does not build them.
    """
    from .shapes import problem

    found = problem(value, shape)
    if found is not None:
        raise UsageError(f"{where}: {found}{why}")


def _check_groups(summary: dict[str, Any], path: Path) -> None:
    """Each group of a summary holds every metric it names, as a session writes it."""
    names = [metric["name"] for metric in summary["metrics"]]
    for index, group in enumerate(summary["groups"]):
        missing = [name for name in names if name not in group["metrics"]]
        if missing:
            raise UsageError(
                f"{path}: groups[{index}].metrics: expected the metric {missing[0]!r} too"
            )


def _reason(exc: OSError) -> str:
    """An OSError in words, without the path it repeats."""
    return exc.strerror or str(exc)


def _records(
    source: Iterable[bytes], path: Path, resuming: bool, cut_off: list[tuple[int, bytes]]
) -> Iterator[dict[str, Any]]:
    """Each whole line's record; a last line without its newline goes to *cut_off*, with the bytes
    before it.

    The record shape is imported with the first record (again for each, at the cost of a look-up):
    a session rewriting runs.csv reads back a runs.jsonl still empty, and builds no shapes for it.
    """
    complete = 0
    for number, line in enumerate(source, 1):
        if not line.endswith(b"\n"):
            cut_off.append((complete, line))
            return
        why = "; this file cannot be resumed" if resuming else ""
        try:
            record = json.loads(line)  # invalid UTF-8 is a ValueError too
        except ValueError:
            record = None
        if not isinstance(record, dict):
            raise UsageError(f"{path}:{number}: not a run record{why}")
        from .shapes import RECORD

        _check(record, RECORD, f"{path}:{number}", why)
        complete += len(line)
        yield record
