"""The exporter seam: each results file of a session is one :class:`Exporter`.

An exporter is a listener of the run ledger (it sees runs close, and any
bus events it asks for) that also hears the session start, each policy
end and the session finish. The exporters themselves are registered in
one place, :mod:`.registry`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from ..engine import PolicyRunner, RunListener
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


class Exporter(RunListener):
    """One results file (or one family of files); the hooks it does not need do nothing."""

    def __init__(self, context: ExportContext) -> None:
        self.context = context

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
        for exporter in self.exporters:
            exporter.finished(meta)

    def get(self, cls: type[E]) -> E | None:
        """The exporter of class *cls*, if registered."""
        return next((exporter for exporter in self.exporters if isinstance(exporter, cls)), None)
