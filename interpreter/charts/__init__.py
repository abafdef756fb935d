"""Charts: finding and checking policy statecharts, and the pure helpers their code sees.

A new chart helper belongs in :mod:`.context`, where bundled and user charts
alike get it; a new check of chart files belongs in :mod:`.checks` (load
errors) or :mod:`.lint` (what ``perfchart check`` warns about). The
``policy`` object itself is the engine's: it drives a running chart.
"""

from .catalog import PolicyChart, bundled, chart_file, inspect_chart, load_chart, resolve
from .context import config_origin, helpers, traced
from .lint import Bound, Finding
from .source import block_of, code_offset, describe_transition

__all__ = [
    "Bound",
    "Finding",
    "PolicyChart",
    "block_of",
    "bundled",
    "chart_file",
    "code_offset",
    "config_origin",
    "describe_transition",
    "helpers",
    "inspect_chart",
    "load_chart",
    "resolve",
    "traced",
]
