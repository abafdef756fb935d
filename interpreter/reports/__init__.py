"""Reports on finished sessions: a self-contained HTML page with plots, and comparing two sessions.

Both read a results directory back (meta.json, runs.jsonl, summary.json);
neither needs the configuration or anything on the network. The plotting
library is imported only here, so ``perfchart run`` never pays for it.
"""

from .compare import (
    ALPHA,
    Comparison,
    Row,
    Threshold,
    compare,
    describe,
    parse_threshold,
    quantity,
    read_for_compare,
)
from .data import Results
from .page import write_report
from .significance import Shift, compare_samples

__all__ = [
    "ALPHA",
    "Comparison",
    "Results",
    "Row",
    "Shift",
    "Threshold",
    "compare",
    "compare_samples",
    "describe",
    "parse_threshold",
    "quantity",
    "read_for_compare",
    "write_report",
]
