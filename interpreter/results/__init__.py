"""Results: run records built from bus events, the files they are written to, where each chart went, and a results directory read back."""

from .files import FIXED_COLUMNS, ResultsFiles
from .reader import SessionReader
from .records import Record, RunBook, Stats, Summary, run_ok
from .resume import Previous, load_previous
from .visits import write_visits

__all__ = ["FIXED_COLUMNS", "Previous", "Record", "ResultsFiles", "RunBook", "SessionReader", "Stats", "Summary", "load_previous", "run_ok", "write_visits"]
