"""What every tracker is: the plugin protocol, and what a declared metric is.

A tracker watches the bus events of each run and turns them into metric
values. A tracker class states its names (the original driver's first,
``tracker.DurationTracker``, then a short one), the JSON Schema of its block
and which of its keys name a metric; the registry finds it through the
``perfchart.trackers`` entry point group, so a third-party package adds a
tracker without touching perfchart.

A tracker instance serves the whole session; for each run it starts a
:class:`TrackerRun` that sees the events delivered while the run is open
and reports values through ``emit``. Nothing in it may assume only one run
is open at a time.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core import Event, Timers
from ..filters import EventFilter
from .stats import Summarizer

#: How a run's several values of one metric become the run's value: these, or any summarizer.
AGGREGATES = ("mean", "median", "min", "max", "sum", "first", "last")
#: What a metric's summary per parameter set is taken over: every value its trackers emitted (the
#: original's way, the default), or each run's one value.
SUMMARIZE_OVER = ("samples", "runs")

Emit = Callable[[str, float], None]


@dataclass(frozen=True)
class MetricSpec:
    """A metric declared in ``config.metrics``."""

    name: str
    summarize: tuple[Summarizer, ...]
    units: str | None = None
    desc: str | None = None
    #: How several values in one run are reduced to the run's value: first, last or a summarizer.
    aggregate: str = "mean"
    #: ``samples``: the summary is over every value of the set's runs; ``runs``: over their values.
    summarize_over: str = "samples"
    #: The label the report's plots and tables show (the original's legend title); the name when
    #: None. runs.csv and the terminal keep the name, the key a filter or --fail-if says.
    title: str | None = None

    @property
    def label(self) -> str:
        """What a reader is shown for this metric: its title, or its name."""
        return self.title or self.name


class TrackerRun(ABC):
    """One tracker's watch over one run."""

    @abstractmethod
    def handle(self, event: Event) -> None:
        """An event was published while the run is open (only classes the tracker asked for)."""

    def finish(self) -> None:  # noqa: B027 (an optional hook: a no-op by default)
        """The run closed: emit what is only known at the end (a count)."""


class Tracker(ABC):
    """Base of every tracker. Subclasses set the class attributes and implement :meth:`start`."""

    #: Every name a config's ``class:`` may use, the original driver's first
    #: (``tracker.DurationTracker``).
    names: ClassVar[tuple[str, ...]]
    #: JSON Schema of the tracker's block in a test configuration, ``class`` excluded.
    schema: ClassVar[Mapping[str, Any]]

    @classmethod  # noqa: B027 (an optional hook: a no-op by default)
    def check(cls, block: Mapping[str, Any]) -> None:
        """Load-time checks the schema cannot express; raise ConfigError naming the key.

        Called for dry and real runs alike, after the block passed ``schema``.
        """

    @classmethod
    @abstractmethod
    def metric_keys(cls, block: Mapping[str, Any]) -> Iterator[tuple[Any, Any, str]]:
        """Every metric the block writes to, as (container, key, metric name), so an undeclared one
        is reported there.
        """

    def __init__(self, block: Mapping[str, Any], timers: Timers | None) -> None:
        self.block = block
        self.timers = timers

    @property
    @abstractmethod
    def filters(self) -> tuple[EventFilter, ...]:
        """The tracker's event filters: the session delivers it only events they can select."""

    @abstractmethod
    def start(self, traceids: frozenset[int], emit: Emit) -> TrackerRun:
        """Begin watching the run with *traceids*; values go to ``emit(metric, value)``."""
