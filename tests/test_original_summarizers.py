"""The original driver's summarizers: mean_err, mode, variance, sdeviation and outliers: no.

Every expected figure is computed here from its definition, by the statistics module or a closed
form, never by the code under test.
"""

from __future__ import annotations

import math
import random
import statistics
from collections import Counter

import pytest

from interpreter.metrics import Accumulator, Grouping, MetricSpec, summarizers
from interpreter.metrics.stats import t_cdf, t_quantile, without_outliers


def summarize(values: list[float], entries: list[object], limit: int = 10_000) -> dict[str, object]:
    acc = Accumulator(keep_values=True, limit=limit)
    for value in values:
        acc.add(value)
    return acc.result(summarizers(entries), lambda: iter(values))


def t_closed_form(p: float, df: int) -> float:
    """Student-t quantiles with a closed form: df 1 (Cauchy), 2 and 4."""
    if df == 1:
        return math.tan(math.pi * (p - 0.5))
    a = 4 * p * (1 - p)
    if df == 2:
        return (2 * p - 1) / math.sqrt(a / 2)
    q = math.cos(math.acos(math.sqrt(a)) / 3) / math.sqrt(a)
    return math.copysign(2 * math.sqrt(q - 1), p - 0.5)


@pytest.mark.parametrize("df", [1, 2, 4])
@pytest.mark.parametrize("p", [0.6, 0.9, 0.975, 0.995, 0.9999, 0.025, 0.3])
def test_the_t_quantile_matches_its_closed_forms(p: float, df: int) -> None:
    assert t_quantile(p, df) == pytest.approx(t_closed_form(p, df), rel=1e-12)


@pytest.mark.parametrize(
    ("df", "table"),
    # Two-sided 95 % critical values as printed in statistics tables, to three decimals.
    [(3, 3.182), (5, 2.571), (10, 2.228), (20, 2.086), (30, 2.042), (120, 1.980)],
)
def test_the_t_quantile_matches_the_printed_tables(df: int, table: float) -> None:
    assert round(t_quantile(0.975, df), 3) == table


def test_the_t_quantile_tends_to_the_normal_one() -> None:
    normal = statistics.NormalDist().inv_cdf(0.975)
    assert t_quantile(0.975, 1_000_000) == pytest.approx(normal, rel=1e-5)
    assert t_cdf(t_quantile(0.9, 7), 7) == pytest.approx(0.9, rel=1e-14)


def test_mean_err_of_3_17_8_is_the_originals_14_39() -> None:
    values = [3.0, 17.0, 8.0]
    got = summarize(values, ["mean_err"])
    assert round(got["mean_err"], 2) == 14.39
    # t(0.975, n - 1) · population σ / √n, the closed form of t for two degrees of freedom.
    expected = t_closed_form(0.975, 2) * statistics.pstdev(values) / math.sqrt(3)
    assert got["mean_err"] == pytest.approx(expected, rel=1e-12)
    assert got["mean"] == pytest.approx(28 / 3)  # mean_err brings the mean along


def test_mean_err_of_many_values_and_of_one() -> None:
    rng = random.Random(7)
    values = [rng.gauss(100, 15) for _ in range(31)]
    expected = 2.042272456301238 * statistics.pstdev(values) / math.sqrt(31)  # t(0.975, 30)
    assert summarize(values, ["mean_err"])["mean_err"] == pytest.approx(expected, rel=1e-9)
    assert summarize([5.0], ["mean_err"]) == {"mean": 5.0, "mean_err": None}


def test_variance_and_sdeviation_are_the_population_ones() -> None:
    rng = random.Random(3)
    values = [rng.expovariate(0.5) for _ in range(200)]
    got = summarize(values, ["variance", "sdeviation", "stddev"])
    assert got["variance"] == pytest.approx(statistics.pvariance(values), rel=1e-12)
    assert got["sdeviation"] == pytest.approx(statistics.pstdev(values), rel=1e-12)
    assert got["stddev"] == pytest.approx(statistics.stdev(values), rel=1e-12)
    assert summarize([4.0], ["variance", "sdeviation"]) == {"variance": 0.0, "sdeviation": 0.0}


def test_mode_is_the_most_frequent_value_the_smallest_of_a_tie() -> None:
    assert summarize([5, 3, 3, 9, 5, 1], ["mode"])["mode"] == 3
    rng = random.Random(11)
    values = [float(rng.randint(0, 20)) for _ in range(500)]
    counts = Counter(values)
    top = max(counts.values())
    assert summarize(values, ["mode"])["mode"] == min(v for v, c in counts.items() if c == top)


def test_outliers_no_follows_the_originals_median_deviation_rule() -> None:
    values = [10.0, 11.0, 12.0, 13.0, 100.0]
    # median 12, distances 2 1 0 1 88, their median 1: a value is kept below 2 deviations.
    kept = [11.0, 12.0, 13.0]
    assert without_outliers(values) == kept
    got = summarize(
        values,
        [
            "mean",
            {"class": "@mean", "name": "mean_in", "outliers": False},
            {
                "class": "summarize.PercentileSummarizer",
                "name": "p90_in",
                "percentile": 90,
                "outliers": False,
            },
            {"class": "@max", "outliers": False},
        ],
    )
    assert got == {
        "mean": statistics.mean(values),
        "mean_in": statistics.mean(kept),
        "p90_in": statistics.quantiles(kept, n=10, method="inclusive")[8],
        "max": 13.0,
    }
    # No spread around the median: nothing is an outlier, as in the original.
    assert without_outliers([1.0, 1.0, 1.0, 7.0]) == [1.0, 1.0, 1.0, 7.0]


def test_past_the_exact_limit_quantiles_come_from_the_sketch_within_its_error() -> None:
    rng = random.Random(5)
    values = [rng.lognormvariate(0, 1) for _ in range(5000)] + [1e4] * 5
    got = summarize(
        values,
        [
            "p50",
            "p99",
            "max",
            "mean",
            "mode",
            {"class": "@mean", "name": "mean_in", "outliers": False},
        ],
        limit=100,
    )
    ordered = sorted(values)
    for name, pct in (("p50", 50), ("p99", 99)):
        rank = (len(ordered) - 1) * pct / 100
        low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
        assert low * 0.99 <= got[name] <= high * 1.01
    assert got["max"] == 1e4
    assert got["mean"] == pytest.approx(statistics.mean(values))
    assert got["mode"] is None  # a mode needs every value
    exact_in = statistics.mean(without_outliers(values))
    assert got["mean_in"] == pytest.approx(exact_in, rel=0.01)


def test_a_bad_outliers_option_is_refused() -> None:
    with pytest.raises(ValueError, match="outliers: expected yes or no"):
        summarizers([{"class": "@mean", "outliers": "maybe"}])
    with pytest.raises(ValueError, match="unknown summarizer class '@avg'"):
        summarizers([{"class": "@avg"}])


def exact_without_outliers(values: list[float]) -> list[float]:
    """The original's rule, written out again: |x - median| / MAD < 2, all kept when MAD is 0."""
    center = statistics.median(values)
    mad = statistics.median([abs(v - center) for v in values])
    return values if mad == 0 else [v for v in values if abs(v - center) / mad < 2]


@pytest.mark.parametrize("over", ["samples", "runs"])
def test_outliers_no_past_the_exact_limit_reads_the_set_again(over: str) -> None:
    rng = random.Random(13)
    values = [rng.gauss(50, 5) for _ in range(15_000)] + [500.0] * 30
    rng.shuffle(values)
    if over == "samples":
        runs = [values[i : i + 5000] for i in range(0, len(values), 5000)]
        records = [
            {"parameters": {"a": 1}, "ok": True, "metrics": {"x": run[0]}, "samples": {"x": run}}
            for run in runs
        ]
    else:
        records = [{"parameters": {"a": 1}, "ok": True, "metrics": {"x": v}} for v in values]
    entries = [
        "mean",
        "p50",
        {"class": "@mean", "name": "mean_in", "outliers": False},
        {"class": "@max", "name": "max_in", "outliers": False},
    ]
    spec = MetricSpec("x", summarizers(entries), summarize_over=over)
    with Grouping.of(records, [spec]) as grouping:
        (group,) = list(grouping.groups())
        got = group.row([spec])["metrics"]["x"]
    kept = exact_without_outliers(values)
    assert 500.0 not in kept
    assert len(kept) > 10_000
    assert got["mean"] == pytest.approx(statistics.mean(values))
    assert got["p50"] == pytest.approx(statistics.median(values), rel=0.01)
    assert got["mean_in"] == pytest.approx(statistics.mean(kept), rel=0.01)
    assert got["max_in"] == pytest.approx(max(kept), rel=0.02)
    assert got["max_in"] < 500.0
