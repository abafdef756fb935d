"""Results: run records built from bus events, and the files they are written to."""

from .files import FIXED_COLUMNS, ResultsFiles
from .records import Record, RunBook, Stats, Summary, run_ok

__all__ = ["FIXED_COLUMNS", "Record", "ResultsFiles", "RunBook", "Stats", "Summary", "run_ok"]
