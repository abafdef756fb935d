"""Every results file a session writes, registered in one place, in the order the exporters act.

runs.csv's row is written before output.log is flushed and runs.jsonl's
record appended, so a crash between them never leaves runs.csv without a
run that runs.jsonl has; meta.json, which names the session's outcome, is
completed last, after the summary it points to.
"""

from __future__ import annotations

from .export import ExportContext, Exporter, Exports
from .files import MetaFile, OutputLog, RunsCsv, RunsJsonl, open_directory
from .summary import SummaryFiles
from .visits import VisitsFiles

EXPORTERS: tuple[type[Exporter], ...] = (
    RunsCsv,
    OutputLog,
    RunsJsonl,
    SummaryFiles,
    VisitsFiles,
    MetaFile,
)


def open_exports(context: ExportContext) -> Exports:
    """Every registered exporter on *context*'s directory, which is made ready first."""
    open_directory(context.directory, resuming=context.previous is not None)
    return Exports([cls(context) for cls in EXPORTERS])
