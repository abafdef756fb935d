"""Metrics: trackers that turn bus events into per-run values, and summaries per parameter set.

- :class:`Tracker` / :class:`TrackerRun`: the plugin protocol; built-ins in
  :mod:`.builtin`, found by :func:`tracker_class` in the ``perfchart.trackers``
  entry point group.
- :class:`MetricSpec`: a metric declared in ``config.metrics``.
- :class:`RunMetrics`: puts each run's values into its record.
- :func:`write_summary`: statistics per parameter set, from the runs a :class:`Grouping` filed to
  summary.json/csv.
"""

from .base import AGGREGATES, MetricSpec, Tracker, TrackerRun
from .collect import RunMetrics
from .registry import tracker_class, tracker_classes
from .stats import (
    DEFAULT_SUMMARIZERS,
    Accumulator,
    Summarizer,
    check_summarize,
    summarizer,
    summarizers,
)
from .summary import (
    DURATION,
    Group,
    Grouping,
    SummaryView,
    metric_meta,
    with_duration,
    write_summary,
)

__all__ = [
    "AGGREGATES",
    "DEFAULT_SUMMARIZERS",
    "DURATION",
    "Accumulator",
    "MetricSpec",
    "Group",
    "Grouping",
    "RunMetrics",
    "SummaryView",
    "Summarizer",
    "Tracker",
    "TrackerRun",
    "check_summarize",
    "metric_meta",
    "summarizer",
    "summarizers",
    "tracker_class",
    "tracker_classes",
    "with_duration",
    "write_summary",
]
