"""Summarizers: what a metric's ``summarize:`` list asks for, computed over a metric's values.

``mean``, ``median``, ``min``, ``max``, ``stddev`` (sample standard
deviation), ``count``, ``sum``, percentiles such as ``p95`` or ``p99.9``,
and the original driver's ``mean_err`` (the mean with its standard error).
An original-style entry ``{class: summarize.PercentileSummarizer, name: p90,
percentile: 90}`` is accepted too.

:class:`Accumulator` keeps count, mean, variance (Welford), min and max in
constant memory; it keeps the values themselves only when a median or a
percentile needs them.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import ConfigError

#: What every metric is summarized with when it names nothing.
DEFAULT_SUMMARIZERS = ("mean", "stddev", "min", "max", "count")
#: Summarizers by name; percentiles (``p95``) are parsed.
PLAIN = ("mean", "median", "min", "max", "stddev", "count", "sum", "mean_err")
PERCENTILE = re.compile(r"p(\d{1,2}(?:\.\d+)?|100)")
#: Original driver class names of summarizers, case-folded.
ORIGINAL_CLASSES = {
    "summarize.meansummarizer": "mean",
    "summarize.mediansummarizer": "median",
    "summarize.minsummarizer": "min",
    "summarize.maxsummarizer": "max",
    "summarize.stddevsummarizer": "stddev",
    "summarize.sumsummarizer": "sum",
    "summarize.countsummarizer": "count",
    "summarize.meanerrsummarizer": "mean_err",
}


@dataclass(frozen=True)
class Summarizer:
    """One requested statistic: its column ``name`` and, for a percentile, the percentage."""

    name: str
    kind: str
    percentile: float | None = None

    @property
    def needs_values(self) -> bool:
        return self.kind in ("median", "percentile")


def summarizer(entry: Any) -> Summarizer:
    """The summarizer a ``summarize:`` entry names; ValueError says what was expected."""
    if isinstance(entry, Mapping):
        cls = str(entry.get("class", "")).casefold()
        if cls == "summarize.percentilesummarizer":
            pct = entry.get("percentile")
            if not isinstance(pct, (int, float)) or isinstance(pct, bool) or not 0 <= pct <= 100:
                raise ValueError(
                    f"a PercentileSummarizer needs percentile: a number from 0 to 100, got {pct!r}"
                )
            return Summarizer(str(entry.get("name") or f"p{pct:g}"), "percentile", float(pct))
        if cls in ORIGINAL_CLASSES:
            kind = ORIGINAL_CLASSES[cls]
            return Summarizer(str(entry.get("name") or kind), kind)
        raise ValueError(
            f"unknown summarizer class {entry.get('class')!r} (expected "
            "summarize.PercentileSummarizer or a name such as mean)"
        )
    text = str(entry)
    if text in PLAIN:
        return Summarizer(text, text)
    match = PERCENTILE.fullmatch(text)
    if match:
        return Summarizer(text, "percentile", float(match.group(1)))
    raise ValueError(
        f"unknown summarizer {text!r} (expected one of: {', '.join(PLAIN)}, or a percentile such "
        "as p95)"
    )


def summarizers(entries: Sequence[Any] | None) -> tuple[Summarizer, ...]:
    """The summarizers of a ``summarize:`` list, defaults when it is absent."""
    found = [summarizer(entry) for entry in (entries if entries else DEFAULT_SUMMARIZERS)]
    if any(s.kind == "mean_err" for s in found) and not any(s.kind == "mean" for s in found):
        # The original's mean_err reports the mean with its error: both columns.
        found.insert(
            next(i for i, s in enumerate(found) if s.kind == "mean_err"), Summarizer("mean", "mean")
        )
    names = [s.name for s in found]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(f"summarizer {name!r} is listed twice")
    return tuple(found)


def percentile(ordered: Sequence[float], pct: float) -> float:
    """Linear interpolation between closest ranks (numpy's default), on sorted values."""
    if len(ordered) == 1:
        return ordered[0]
    rank = (len(ordered) - 1) * pct / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


@dataclass(slots=True)
class Accumulator:
    """Running statistics of one metric in one group of runs; slotted, as a session may hold one per
    parameter set.
    """

    keep_values: bool = False
    count: int = 0
    mean: float = 0.0
    _m2: float = 0.0
    low: float = math.inf
    high: float = -math.inf
    total: float = 0.0
    values: list[float] = field(default_factory=list)

    def add(self, value: float) -> None:
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self._m2 += delta * (value - self.mean)
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        self.total += value
        if self.keep_values:
            self.values.append(value)

    @property
    def stddev(self) -> float | None:
        """Sample standard deviation; None below two values."""
        return math.sqrt(self._m2 / (self.count - 1)) if self.count > 1 else None

    def result(self, wanted: Iterable[Summarizer]) -> dict[str, Any]:
        """Each wanted statistic by its name; None where it is undefined (no values, one value's
        stddev).
        """
        ordered = sorted(self.values) if self.keep_values else []
        out: dict[str, Any] = {}
        for s in wanted:
            if s.kind == "count":
                out[s.name] = self.count
            elif not self.count:
                out[s.name] = None
            elif s.kind in _ATTRIBUTES:
                out[s.name] = getattr(self, _ATTRIBUTES[s.kind])
            elif s.kind == "mean_err":
                std = self.stddev
                out[s.name] = None if std is None else std / math.sqrt(self.count)
            elif s.kind in ("median", "percentile"):
                out[s.name] = percentile(ordered, _rank(s))
        return out


#: The statistics an Accumulator keeps as they come, by kind: the attribute holding each.
_ATTRIBUTES = {"mean": "mean", "min": "low", "max": "high", "sum": "total", "stddev": "stddev"}


def _rank(summarizer: Summarizer) -> float:
    """The percentile a ``median`` or ``percentile`` summarizer asks for."""
    if summarizer.kind == "median":
        return 50
    assert summarizer.percentile is not None
    return summarizer.percentile


def check_summarize(entries: Any, container: Any, key: Any) -> tuple[Summarizer, ...]:
    """:func:`summarizers`, with a bad entry reported at its place in the configuration."""
    try:
        return summarizers(entries)
    except ValueError as exc:
        error = getattr(container, "error", None)
        raise (error(key, str(exc)) if error else ConfigError(str(exc))) from None
