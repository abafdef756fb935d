"""The exporter seam: each results file of a session is one :class:`Exporter`.

An exporter is a listener of the run ledger (it sees runs close, and any
bus events it asks for) that also hears the session start, each policy
end and the session finish. The exporters themselves are registered in
one place, :mod:`.registry`.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..engine import PolicyRunner, RunListener
from ..errors import PerfchartError
from ..metrics import MetricSpec

if TYPE_CHECKING:
    from .resume import Previous


@dataclass(frozen=True)
class ExportContext:
    """What every exporter is built from."""

    directory: Path
    #: The declared metrics (``config.metrics``), ``duration`` not included.
    metrics: Sequence[MetricSpec] = ()
    #: The session a resumed one continues: its files are appended to.
    previous: Previous | None = None


class ResultsWriteError(PerfchartError):
    """A results file could not be written (a full disk, a directory made read-only, a file deleted
    mid-session): the session ends, keeping what was written before, with this one line."""


#: The hooks of an exporter that write: a failure in any of them is a ResultsWriteError.
_HOOKS = ("opened", "observe", "finish", "closed", "started", "policy_ended", "finished")


class Exporter(RunListener):
    """One results file (or one family of files); the hooks it does not need do nothing.

    Every hook a subclass defines is guarded: an OSError (or SQLite error) in
    it becomes a ResultsWriteError naming the file, and the exporter is told
    nothing more, so the session can still complete its other files.
    """

    #: What failed to be written, once something did: the exporter is then left out.
    broken: str | None = None

    def __init__(self, context: ExportContext) -> None:
        self.context = context

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in _HOOKS:
            method = cls.__dict__.get(name)
            if method is not None:
                setattr(cls, name, _guarded(method))

    def started(self, meta: Mapping[str, Any]) -> None:
        """The session starts; *meta* is meta.json's content with status ``running``."""

    def policy_ended(self, index: int, runner: PolicyRunner) -> None:
        """Policy *index* (its place in the configuration) ended a repetition, finished or not."""

    def finished(self, meta: Mapping[str, Any]) -> None:
        """The session ended and every run is closed: complete the file."""


E = TypeVar("E", bound="Exporter")


class Exports:
    """The session's exporters, told in registration order."""

    def __init__(self, exporters: Sequence[Exporter]) -> None:
        self.exporters = list(exporters)

    def started(self, meta: Mapping[str, Any]) -> None:
        for exporter in self.exporters:
            exporter.started(meta)

    def policy_ended(self, index: int, runner: PolicyRunner) -> None:
        for exporter in self.exporters:
            exporter.policy_ended(index, runner)

    def finished(self, meta: Mapping[str, Any]) -> None:
        """Complete every file that can be; then the first failure, if any."""
        failed: list[ResultsWriteError] = []
        for exporter in self.exporters:
            try:
                exporter.finished(meta)
            except ResultsWriteError as exc:
                failed.append(exc)
        if failed:
            raise failed[0]

    def get(self, cls: type[E]) -> E | None:
        """The exporter of class *cls*, if registered."""
        return next((exporter for exporter in self.exporters if isinstance(exporter, cls)), None)


def _write_error(exc: Exception) -> bool:
    """Whether *exc* is a failure to write: an OSError, or an error of SQLite (the summary's file),
    which only a session that imported sqlite3 can raise, so it is not imported to ask."""
    sqlite3 = sys.modules.get("sqlite3")
    return isinstance(exc, OSError) or (sqlite3 is not None and isinstance(exc, sqlite3.Error))


def _guarded(method: Callable[..., Any]) -> Callable[..., Any]:
    """*method*, an exporter's hook, failing with one line naming the file it could not write."""

    @functools.wraps(method)
    def hook(self: Exporter, *args: Any) -> Any:
        if self.broken is not None:
            return None
        try:
            return method(self, *args)
        except Exception as exc:
            if not _write_error(exc):
                raise
            where = getattr(exc, "filename", None) or getattr(self, "path", None)
            self.broken = str(where or type(self).__name__)
            reason = getattr(exc, "strerror", None) or str(exc)
            raise ResultsWriteError(
                f"{self.broken}: cannot write: {reason}; the session ends here, keeping what was "
                "written before"
            ) from None

    return hook
