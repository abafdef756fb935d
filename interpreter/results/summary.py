"""summary.json and summary.csv as an exporter: each closed run filed for grouping and summarized
into its group as it closes, the files written at the end.

The grouping itself (a temporary SQLite file, statistics per parameter
set) is the metrics room's; this exporter files each run as it closes, the
runs a resumed session keeps first, so the end of a session reads no run
record back.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..engine import Record
from ..metrics import Grouping, SummaryView, with_duration, write_summary
from .export import ExportContext, Exporter


class SummaryFiles(Exporter):
    """Files every run under its parameter set; writes summary.json/csv when the session
    finishes."""

    def __init__(self, context: ExportContext) -> None:
        super().__init__(context)
        self.grouping = Grouping.open(with_duration(context.metrics), stream=True)
        for record in context.previous.records if context.previous is not None else ():
            self.grouping.add(record)
        #: The summary as the terminal shows it, once written.
        self.view: SummaryView | None = None

    def closed(self, record: Record) -> None:
        self.grouping.add(record)

    def finished(self, meta: Mapping[str, Any]) -> None:
        self.view = write_summary(self.context.directory, self.grouping)
