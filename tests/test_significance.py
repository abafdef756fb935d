"""The Mann–Whitney U test and the Hodges–Lehmann shift, against values found another way: every
split counted.
"""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from statistics import NormalDist

import pytest

from interpreter.reports import significance
from interpreter.reports.significance import compare_samples, mann_whitney


def pairs_above(baseline: list[float], candidate: list[float]) -> float:
    """U by its definition: the pairs where the candidate's value is larger, a tie counting half."""
    return sum(1.0 if y > x else 0.5 if y == x else 0.0 for x in baseline for y in candidate)


def split_distribution(values: list[float], n: int) -> Counter[float]:
    """U over every way of calling n of *values* the baseline and the rest the candidate: the
    permutation distribution.
    """
    counts: Counter[float] = Counter()
    for chosen in itertools.combinations(range(len(values)), n):
        picked = set(chosen)
        baseline = [values[i] for i in picked]
        candidate = [values[i] for i in range(len(values)) if i not in picked]
        counts[pairs_above(baseline, candidate)] += 1
    return counts


def two_sided(counts: Counter[float], u: float) -> float:
    total = sum(counts.values())
    below = sum(c for value, c in counts.items() if value <= u) / total
    above = sum(c for value, c in counts.items() if value >= u) / total
    return min(1.0, 2 * min(below, above))


def samples(seed: int, n: int, m: int, shift: float) -> tuple[list[float], list[float]]:
    rng = random.Random(seed)
    return [rng.lognormvariate(0, 0.5) for _ in range(n)], [
        rng.lognormvariate(0, 0.5) + shift for _ in range(m)
    ]


@pytest.mark.parametrize(
    ("seed", "n", "m", "shift"),
    [(1, 3, 4, 0.0), (2, 5, 5, 0.5), (3, 6, 4, 1.0), (4, 7, 6, 0.2), (5, 4, 7, -0.8)],
)
def test_the_exact_p_value_is_the_share_of_splits_at_least_as_extreme(
    seed: int, n: int, m: int, shift: float
) -> None:
    baseline, candidate = samples(seed, n, m, shift)
    u, p, exact = mann_whitney(baseline, candidate)
    assert exact
    assert u == pairs_above(baseline, candidate)
    assert p == pytest.approx(
        two_sided(split_distribution([*baseline, *candidate], n), u), rel=1e-12
    )


def test_the_exact_p_value_of_scipys_documented_example() -> None:
    # scipy.stats.mannwhitneyu's example: U = 17, p = 0.1111 (exact, two-sided).
    u, p, exact = mann_whitney([20, 11, 17, 12], [19, 22, 16, 29, 24])
    assert (u, exact) == (17.0, True)
    assert p == pytest.approx(1 / 9)


def test_with_ties_the_exact_p_value_counts_every_split_of_the_tied_values() -> None:
    # Values from {1, 2, 3}: many ties. The normal approximation would say 0.038 here, the splits
    # say 0.078.
    rng = random.Random(9)
    baseline = [float(rng.choice([1, 2, 2, 3])) for _ in range(7)]
    candidate = [float(rng.choice([2, 3, 3, 3])) for _ in range(7)]
    u, p, exact = mann_whitney(baseline, candidate)
    assert exact
    assert u == pairs_above(baseline, candidate)
    assert p == pytest.approx(
        two_sided(split_distribution([*baseline, *candidate], 7), u), rel=1e-12
    )


def test_many_tied_values_take_the_tie_corrected_normal_approximation() -> None:
    rng = random.Random(9)
    baseline = [float(rng.choice([1, 2, 2, 3])) for _ in range(30)]
    candidate = [float(rng.choice([2, 3, 3, 3])) for _ in range(25)]
    u, p, exact = mann_whitney(baseline, candidate)
    assert not exact
    assert u == pairs_above(baseline, candidate)
    # The z of the rank sum W of the candidate, with the variance's tie term written out.
    values = [*baseline, *candidate]
    ranks = {
        v: sum(i + 1 for i, w in enumerate(sorted(values)) if w == v) / values.count(v)
        for v in set(values)
    }
    w = sum(ranks[v] for v in candidate)
    n, m, size = 30, 25, 55
    tie = sum(values.count(v) ** 3 - values.count(v) for v in set(values))
    sd = math.sqrt(n * m / 12 * (size + 1 - tie / (size * (size - 1))))
    z = max(0.0, abs(w - m * (size + 1) / 2) - 0.5) / sd
    assert p == pytest.approx(2 * (1 - NormalDist().cdf(z)), rel=1e-9)
    assert 0 < p < 1


def test_identical_values_are_never_significant() -> None:
    u, p, _ = mann_whitney([5.0] * 6, [5.0] * 6)
    assert (u, p) == (18.0, 1.0)
    assert compare_samples([5.0] * 6, [5.0] * 6, 0.05).significant(0.05) is False


@pytest.mark.parametrize(
    ("seed", "n", "m", "shift", "alpha"),
    [(1, 6, 6, 0.0, 0.05), (2, 7, 6, 1.5, 0.05), (3, 8, 8, 0.6, 0.1), (4, 6, 8, -1.0, 0.05)],
)
def test_the_shift_is_the_median_pairwise_difference_its_interval_from_the_split_distribution(
    seed: int, n: int, m: int, shift: float, alpha: float
) -> None:
    baseline, candidate = samples(seed, n, m, shift)
    result = compare_samples(baseline, candidate, alpha)
    differences = sorted(y - x for x in baseline for y in candidate)
    middle = len(differences) // 2
    expected = (
        differences[middle]
        if len(differences) % 2
        else (differences[middle - 1] + differences[middle]) / 2
    )
    assert result.shift == pytest.approx(expected)
    # k: the smallest U whose lower tail, counted over every split, reaches alpha / 2.
    counts = split_distribution([*baseline, *candidate], n)
    total = sum(counts.values())
    k = min(u for u in counts if sum(c for v, c in counts.items() if v <= u) / total >= alpha / 2)
    assert (result.low, result.high) == (
        differences[int(k) - 1],
        differences[len(differences) - int(k)],
    )
    # The interval leaves out 0 exactly when the test is significant at the same level.
    assert (not result.low <= 0 <= result.high) == result.significant(alpha)


def test_too_few_values_give_no_interval_and_no_significance() -> None:
    # Three against three: the smallest two-sided p is 2 / C(6, 3) = 0.1, so alpha 0.05 cannot be
    # reached.
    result = compare_samples([1.0, 2.0, 3.0], [10.0, 11.0, 12.0], 0.05)
    assert result.p == pytest.approx(0.1)
    assert (result.low, result.high, result.significant(0.05)) == (None, None, False)
    assert result.shift == 9.0
    empty = compare_samples([], [1.0, 2.0], 0.05)
    assert (empty.p, empty.shift, empty.significant(0.05)) == (1.0, None, False)


def test_many_values_find_the_same_shift_by_bisection(monkeypatch: pytest.MonkeyPatch) -> None:
    baseline, candidate = samples(9, 120, 90, 0.3)
    sorted_way = compare_samples(baseline, candidate, 0.05)
    monkeypatch.setattr(significance, "SORTED_PAIRS", 10)
    bisected = compare_samples(baseline, candidate, 0.05)
    assert not sorted_way.exact
    # Bisection stops within a billionth of the differences' range, at or above the difference.
    tolerance = (max(candidate) - min(baseline) - (min(candidate) - max(baseline))) * 1e-9
    for name in ("low", "high"):
        exact, found = getattr(sorted_way, name), getattr(bisected, name)
        assert exact <= found <= exact + tolerance
    assert bisected.shift == pytest.approx(sorted_way.shift, abs=tolerance)
    assert sorted_way.low is not None
    assert sorted_way.low > 0
