"""Charts: finding and checking policy statecharts, and the context their code sees.

A new chart helper belongs in :mod:`.context`, where bundled and user charts
alike get it; a new check of chart files belongs in :mod:`.checks`.
"""

from .catalog import PolicyChart, bundled, chart_file, load_chart, resolve
from .context import PolicyAPI, helpers, traced

__all__ = ["PolicyAPI", "PolicyChart", "bundled", "chart_file", "helpers", "load_chart", "resolve", "traced"]
