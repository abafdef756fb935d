"""Summarizers: what a metric's ``summarize:`` list asks for, computed over a metric's values.

``mean``, ``median``, ``min``, ``max``, ``stddev`` (sample standard
deviation), ``count``, ``sum``, percentiles such as ``p95`` or ``p99.9``,
and the original driver's ``mean_err`` (the half-width of a 95 % Student-t
interval of the mean), ``mode``, ``variance`` and ``sdeviation`` (population
variance and standard deviation, as the original defines them). An
original-style entry ``{class: summarize.PercentileSummarizer, name: p90,
percentile: 90}`` or ``{class: "@mean", outliers: no}`` is accepted too;
``outliers: no`` summarizes the values left by the original's rule
(:func:`without_outliers`).

:class:`Accumulator` keeps count, mean, variance (Welford), min and max in
constant memory; it keeps the values themselves only when a median, a
percentile, a mode or an outlier rule needs them, and only up to
:data:`EXACT_LIMIT` of them: past that, a DDSketch (relative error
:data:`SKETCH_ACCURACY`) answers quantiles in memory bounded by the values'
range, not their number.
"""

from __future__ import annotations

import collections
import math
import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from ..errors import ConfigError

#: What every metric is summarized with when it names nothing.
DEFAULT_SUMMARIZERS = ("mean", "stddev", "min", "max", "count")
#: Summarizers by name; percentiles (``p95``) are parsed.
PLAIN = (
    "mean",
    "median",
    "min",
    "max",
    "stddev",
    "count",
    "sum",
    "mean_err",
    "mode",
    "variance",
    "sdeviation",
)
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
#: Values kept exactly per metric and group; past this many a quantile sketch takes over.
EXACT_LIMIT = 10_000
#: The sketch's relative accuracy: a quantile it gives is within 1 % of a true sample value.
SKETCH_ACCURACY = 0.01
#: The original's outlier rule: a value whose distance to the median is at least this many
#: median absolute deviations is an outlier.
OUTLIER_MADS = 2.0
#: A parameter set is noisy when its runs' values spread more than this, as a fraction of their
#: mean (σ / mean, pyperf's warning threshold) ...
NOISY_CV = 0.10
#: ... or when one of them lies this far from their median in modified z-scores, 0.6745 ·
#: |x - median| / MAD (Iglewicz and Hoaglin's outlier test).
OUTLIER_Z = 3.5


class Summarizer(NamedTuple):
    """One requested statistic: its column ``name`` and, for a percentile, the percentage."""

    name: str
    kind: str
    percentile: float | None = None
    #: ``outliers: yes`` (the default, as the original's): summarize every value; ``no``: only the
    #: values :func:`without_outliers` keeps.
    outliers: bool = True

    @property
    def needs_values(self) -> bool:
        return self.kind in ("median", "percentile", "mode") or not self.outliers


def summarizer(entry: Any) -> Summarizer:
    """The summarizer a ``summarize:`` entry names; ValueError says what was expected."""
    if isinstance(entry, Mapping):
        return _class_entry(entry)
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


def _class_entry(entry: Mapping[str, Any]) -> Summarizer:
    """An original-style ``{class: ...}`` entry: a PercentileSummarizer, ``@name`` or a class."""
    raw = str(entry.get("class", ""))
    cls = raw.casefold()
    outliers = entry.get("outliers", True)
    if not isinstance(outliers, bool):
        raise ValueError(f"outliers: expected yes or no, got {outliers!r}")
    if cls == "summarize.percentilesummarizer":
        pct = entry.get("percentile")
        if not isinstance(pct, (int, float)) or isinstance(pct, bool) or not 0 <= pct <= 100:
            raise ValueError(
                f"a PercentileSummarizer needs percentile: a number from 0 to 100, got {pct!r}"
            )
        name = str(entry.get("name") or f"p{pct:g}")
        return Summarizer(name, "percentile", float(pct), outliers)
    if "percentile" in entry:
        raise ValueError("percentile: only a summarize.PercentileSummarizer takes one")
    kind = raw[1:] if raw.startswith("@") and raw[1:] in PLAIN else ORIGINAL_CLASSES.get(cls)
    if kind is None:
        raise ValueError(
            f"unknown summarizer class {entry.get('class')!r} (expected "
            "summarize.PercentileSummarizer, @NAME or a name such as mean)"
        )
    return Summarizer(str(entry.get("name") or kind), kind, None, outliers)


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


def mode(values: Iterable[float]) -> float:
    """The most frequent value; of several as frequent, the smallest (as the original's Counter over
    sorted values picks it).
    """
    counts = collections.Counter(values)
    most = max(counts.values())
    return min(value for value, seen in counts.items() if seen == most)


def t_quantile(p: float, df: int) -> float:
    """The *p* quantile of Student's t distribution with *df* degrees of freedom.

    Bisection on the exact upper tail (:func:`t_tail`) to the last bit of a float: no table and
    no scipy; ``t_quantile(0.975, 2)`` is 0.95 / √0.04875 = 4.30265272974946.
    """
    if not 0 < p < 1 or df < 1:
        raise ValueError(f"t quantile needs 0 < p < 1 and df >= 1, got p={p!r}, df={df!r}")
    if p == 0.5:
        return 0.0
    if p < 0.5:
        return -t_quantile(1 - p, df)
    tail = 1 - p
    low, high = 0.0, 1.0
    while t_tail(high, df) > tail:
        low, high = high, high * 2
    for _ in range(200):
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if t_tail(middle, df) > tail:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def t_tail(t: float, df: int) -> float:
    """P(T > t) for t >= 0: I_x(df/2, 1/2) / 2 at x = df / (df + t²), precise far in the tail."""
    return _incomplete_beta(df / 2, 0.5, df / (df + t * t)) / 2


def t_cdf(t: float, df: int) -> float:
    """Student's t distribution function P(T <= t)."""
    tail = t_tail(abs(t), df)
    return 1 - tail if t >= 0 else tail


def _incomplete_beta(a: float, b: float, x: float) -> float:
    """The regularized incomplete beta function I_x(a, b), by its continued fraction (Lentz)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    front = math.exp(
        math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x)
    )
    if x > (a + 1) / (a + b + 2):
        # The fraction converges fast below the mean only: I_x(a, b) = 1 - I_(1-x)(b, a).
        return 1 - _incomplete_beta(b, a, 1 - x)
    return front * _beta_fraction(a, b, x) / a


def _beta_fraction(a: float, b: float, x: float) -> float:
    """The continued fraction of the incomplete beta function, modified Lentz's method."""
    tiny = 1e-300
    c, d = 1.0, 1 - (a + b) * x / (a + 1)
    d = 1 / (d if abs(d) > tiny else tiny)
    result = d
    for m in range(1, 1000):
        for numerator in (
            m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
            -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1)),
        ):
            d = 1 + numerator * d
            d = 1 / (d if abs(d) > tiny else tiny)
            c = 1 + numerator / c
            c = c if abs(c) > tiny else tiny
            result *= c * d
        if abs(c * d - 1) < 1e-16:
            break
    return result


def mean_err(count: int, variance: float) -> float | None:
    """The original's ``mean_err``: t(0.975, n − 1) · σ / √n, σ the population standard deviation
    (numpy's ``std``); None below two values, where the original gives NaN.
    """
    if count < 2:
        return None
    return t_quantile(0.975, count - 1) * math.sqrt(variance) / math.sqrt(count)


def without_outliers(values: Sequence[float]) -> list[float]:
    """The original's ``outliers: no``: keep a value when ``|x - median| / MAD < 2``, MAD being the
    median of those distances; with a MAD of 0 every value is kept.
    """
    if not values:
        return []
    center = statistics.median(values)
    spread = statistics.median(abs(value - center) for value in values)
    if not spread:
        return list(values)
    return [value for value in values if abs(value - center) / spread < OUTLIER_MADS]


def _sketch() -> Any:
    from ddsketch import DDSketch  # imported when a group first outgrows EXACT_LIMIT

    return DDSketch(relative_accuracy=SKETCH_ACCURACY)


class Accumulator:
    """Running statistics of one metric in one group of runs; slotted, as a session may hold one per
    parameter set (a plain class: a dataclass costs start-up time to build).

    With *keep_values*, the values are kept for the order statistics, up to *limit*; past it they go
    into a quantile sketch, and only quantiles remain (a mode needs them exact, and is None).
    """

    __slots__ = (
        "keep_values",
        "count",
        "mean",
        "_m2",
        "low",
        "high",
        "total",
        "values",
        "limit",
        "sketch",
    )

    def __init__(self, keep_values: bool = False, limit: int = EXACT_LIMIT) -> None:
        self.keep_values = keep_values
        self.count = 0
        self.mean = 0.0
        self._m2 = 0.0
        self.low = math.inf
        self.high = -math.inf
        self.total = 0.0
        self.values: list[float] = []
        self.limit = limit
        self.sketch: Any = None

    def add(self, value: float) -> None:
        self.count += 1
        delta = value - self.mean
        self.mean += delta / self.count
        self._m2 += delta * (value - self.mean)
        self.low = min(self.low, value)
        self.high = max(self.high, value)
        self.total += value
        if self.keep_values:
            if self.sketch is not None:
                self.sketch.add(value)
                return
            self.values.append(value)
            if len(self.values) > self.limit:
                self.sketch = _sketch()
                for kept in self.values:
                    self.sketch.add(kept)
                self.values = []

    @property
    def stddev(self) -> float | None:
        """Sample standard deviation; None below two values."""
        return math.sqrt(self._m2 / (self.count - 1)) if self.count > 1 else None

    @property
    def variance(self) -> float | None:
        """Population variance (divided by n, as the original's): 0 for one value."""
        return self._m2 / self.count if self.count else None

    @property
    def sdeviation(self) -> float | None:
        """Population standard deviation, the original's ``sdeviation``."""
        variance = self.variance
        return None if variance is None else math.sqrt(variance)

    @property
    def exact(self) -> bool:
        """Whether every value is still held (no sketch took over)."""
        return self.sketch is None

    def quantile(self, pct: float, ordered: Sequence[float] | None = None) -> float | None:
        """The *pct* percentile: exact from the values, or the sketch's past the limit."""
        if not self.count:
            return None
        if self.sketch is not None:
            value = self.sketch.get_quantile_value(pct / 100)
            return None if value is None else min(max(value, self.low), self.high)
        return percentile(ordered if ordered is not None else sorted(self.values), pct)

    def result(
        self, wanted: Iterable[Summarizer], again: Callable[[], Iterable[float]] | None = None
    ) -> dict[str, Any]:
        """Each wanted statistic by its name; None where it is undefined (no values, one value's
        stddev).

        An ``outliers: no`` summarizer is computed over the values left by the outlier rule; past
        the limit they are read once more from *again* (None without it).
        """
        wanted = list(wanted)
        out = self._plain([s for s in wanted if s.outliers])
        rejecting = [s for s in wanted if not s.outliers]
        if rejecting:
            kept = self._kept(again)
            out.update(
                kept._plain(rejecting) if kept is not None else {s.name: None for s in rejecting}
            )
        return {s.name: out[s.name] for s in wanted}

    def _plain(self, wanted: Sequence[Summarizer]) -> dict[str, Any]:
        ordered = (
            sorted(self.values)
            if self.exact and any(s.kind in ("median", "percentile") for s in wanted)
            else None
        )
        out: dict[str, Any] = {}
        for s in wanted:
            if s.kind == "count":
                out[s.name] = self.count
            elif not self.count:
                out[s.name] = None
            elif s.kind in _ATTRIBUTES:
                out[s.name] = getattr(self, _ATTRIBUTES[s.kind])
            elif s.kind == "mean_err":
                out[s.name] = mean_err(self.count, self._m2 / self.count)
            elif s.kind == "mode":
                out[s.name] = mode(self.values) if self.exact else None
            else:
                out[s.name] = self.quantile(_rank(s), ordered)
        return out

    def _kept(self, again: Callable[[], Iterable[float]] | None) -> Accumulator | None:
        """An accumulator of the values the outlier rule keeps; None when they cannot be read."""
        kept = Accumulator(keep_values=True, limit=self.limit)
        if self.exact:
            for value in without_outliers(self.values):
                kept.add(value)
            return kept
        if again is None:
            return None
        center = self.quantile(50)
        assert center is not None
        distances = _sketch()
        for value in again():
            distances.add(abs(value - center))
        spread = distances.get_quantile_value(0.5) or 0.0
        for value in again():
            if not spread or abs(value - center) / spread < OUTLIER_MADS:
                kept.add(value)
        return kept


def noise(metric: str, runs: Accumulator) -> list[str]:
    """Warnings about one metric's runs in one parameter set: a coefficient of variation above
    :data:`NOISY_CV`, or outliers by the modified z-score (with at least 3 runs, while they are all
    held).
    """
    warnings = []
    std = runs.stddev
    if std is not None and runs.mean and std / abs(runs.mean) > NOISY_CV:
        warnings.append(
            f"{metric}: coefficient of variation {std / abs(runs.mean):.0%} over {runs.count} runs "
            f"(above {NOISY_CV:.0%})"
        )
    if runs.count >= 3 and runs.exact and runs.keep_values:
        center = statistics.median(runs.values)
        spread = statistics.median(abs(value - center) for value in runs.values)
        far = sum(
            1
            for value in runs.values
            if spread and 0.6745 * abs(value - center) / spread > OUTLIER_Z
        )
        if far:
            warnings.append(
                f"{metric}: {far} outlier run{'s' if far > 1 else ''} of {runs.count} (modified "
                f"z-score above {OUTLIER_Z})"
            )
    return warnings


#: The statistics an Accumulator keeps as they come, by kind: the attribute holding each.
_ATTRIBUTES = {
    "mean": "mean",
    "min": "low",
    "max": "high",
    "sum": "total",
    "stddev": "stddev",
    "variance": "variance",
    "sdeviation": "sdeviation",
}


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
