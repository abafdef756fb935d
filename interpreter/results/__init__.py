"""Results: the files a session writes, one exporter each, and a session's directory read back.

Every results file (runs.jsonl, runs.csv, output.log, summary.json/csv,
visits, meta.json) is an :class:`Exporter`, a listener of the run ledger,
registered in :mod:`.registry`; a new export goes there. Reading a
session back (report, compare, draw --run, --resume) goes through one
:class:`SessionReader`.
"""

from .export import ExportContext, Exporter, Exports, ResultsWriteError
from .files import FIXED_COLUMNS, MetaFile, OutputLog, RunsCsv, RunsJsonl
from .reader import SessionReader
from .registry import EXPORTERS, open_exports
from .resume import Previous, load_previous
from .summary import SummaryFiles
from .visits import VisitsFiles, write_visits

__all__ = [
    "EXPORTERS",
    "FIXED_COLUMNS",
    "ExportContext",
    "Exporter",
    "Exports",
    "MetaFile",
    "OutputLog",
    "Previous",
    "RunsCsv",
    "ResultsWriteError",
    "RunsJsonl",
    "SessionReader",
    "SummaryFiles",
    "VisitsFiles",
    "load_previous",
    "open_exports",
    "write_visits",
]
