"""Whether two sessions' values of one metric differ: the Mann–Whitney U test and the Hodges–Lehmann
shift.

Timing data is skewed and heavy-tailed: a few slow runs (a page fault, a
busy neighbour) move a mean and a standard deviation a long way, so a
t-test, which assumes normal means, both misses real shifts and reports
noise. The Mann–Whitney U test compares ranks only: it asks whether a
candidate value tends to be larger than a baseline value, whatever the
distribution's shape, and an outlier counts as one rank. Its companion
estimate, the Hodges–Lehmann shift (the median of every candidate − baseline
difference), has a distribution-free confidence interval read from the same
U distribution, so the interval leaves out 0 exactly when the test is
significant at the same level (up to ties).

The p-value is exact for small samples (at most :data:`EXACT_PAIRS` pairs):
the share of all ways of splitting the pooled values into a baseline and a
candidate that give a U at least as extreme, ties included (the permutation
distribution). Past that it is the normal approximation with the tie
correction and a continuity correction, as scipy's ``mannwhitneyu`` and R's
``wilcox.test`` compute it. The interval's ends come from the exact
distribution without ties and from the normal approximation otherwise, as
R's ``wilcox.test`` takes them. Pure Python: nothing to install for it.
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from statistics import NormalDist

#: The exact distribution of U is counted while baseline × candidate pairs stay this few.
EXACT_PAIRS = 400
#: Past this many pairs the shift and its interval are found by bisection instead of sorting every
#: difference.
SORTED_PAIRS = 1_000_000


@dataclass(frozen=True)
class Shift:
    """The test of one metric between two samples, and the shift with its ``1 - alpha`` interval."""

    baseline: int
    candidate: int
    u: float
    p: float
    exact: bool
    shift: float | None
    low: float | None
    high: float | None

    def significant(self, alpha: float) -> bool:
        return self.p < alpha


def mann_whitney(
    baseline: Sequence[float], candidate: Sequence[float]
) -> tuple[float, float, bool]:
    """U (pairs where the candidate is larger, ties counting half), the two-sided p-value, and
    whether it is exact.
    """
    n, m = len(baseline), len(candidate)
    if n == 0 or m == 0:
        return 0.0, 1.0, False
    ranks, ties = _ranks([*baseline, *candidate])
    u = sum(ranks[n:]) - m * (m + 1) / 2
    if n * m <= EXACT_PAIRS:
        counts = _distribution(n, m, _groups([*baseline, *candidate]))
        total, twice = sum(counts), round(2 * u)
        below = sum(counts[: twice + 1]) / total
        above = sum(counts[twice:]) / total
        return u, min(1.0, 2 * min(below, above)), True
    size = n + m
    variance = n * m / 12 * ((size + 1) - ties / (size * (size - 1)))
    if variance <= 0:
        return u, 1.0, False
    z = max(0.0, abs(u - n * m / 2) - 0.5) / math.sqrt(variance)
    return u, min(1.0, math.erfc(z / math.sqrt(2))), False


def compare_samples(baseline: Sequence[float], candidate: Sequence[float], alpha: float) -> Shift:
    """The U test of *candidate* against *baseline*, and the Hodges–Lehmann shift with its ``1 -
    alpha`` interval.
    """
    u, p, exact = mann_whitney(baseline, candidate)
    n, m = len(baseline), len(candidate)
    if n == 0 or m == 0:
        return Shift(n, m, u, p, exact, None, None, None)
    xs, ys = sorted(baseline), sorted(candidate)
    pairs = n * m
    k = _critical(n, m, alpha, exact and _groups([*xs, *ys]) == (1,) * (n + m), [*xs, *ys])
    ranks = [(pairs - 1) // 2, pairs // 2, *([] if k is None else [k - 1, pairs - k])]
    low_middle, high_middle, *ends = _differences(xs, ys, ranks)
    shift = (low_middle + high_middle) / 2
    if not ends:
        return Shift(n, m, u, p, exact, shift, None, None)
    return Shift(n, m, u, p, exact, shift, ends[0], ends[1])


def _ranks(values: Sequence[float]) -> tuple[list[float], float]:
    """Each value's rank (1-based, ties sharing their mean rank), and Σ(t³ − t) over tie groups."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties = 0.0
    start = 0
    while start < len(order):
        end = start
        while end + 1 < len(order) and values[order[end + 1]] == values[order[start]]:
            end += 1
        for position in range(start, end + 1):
            ranks[order[position]] = (start + end) / 2 + 1
        t = end - start + 1
        ties += t**3 - t
        start = end + 1
    return ranks, ties


def _groups(values: Sequence[float]) -> tuple[int, ...]:
    """The sizes of the runs of equal values, in sorted order: all U's distribution depends on."""
    ordered = sorted(values)
    sizes = [1]
    for before, value in zip(ordered, ordered[1:], strict=False):
        if value == before:
            sizes[-1] += 1
        else:
            sizes.append(1)
    return tuple(sizes)


@functools.lru_cache(maxsize=256)
def _u_counts(n: int, m: int) -> list[int]:
    """How many orderings of n baseline and m candidate values give each U = 0 … n·m, without ties.

    The largest value is either a candidate's, above all n baseline values
    (U grows by n), or a baseline's (U unchanged): f(n, m, u) = f(n, m-1, u-n) + f(n-1, m, u).
    """
    previous = [[1] for _ in range(m + 1)]  # no baseline values: U is 0
    for a in range(1, n + 1):
        current = [[1]]  # no candidate values: U is 0
        for b in range(1, m + 1):
            counts = [0] * (a * b + 1)
            for u, count in enumerate(previous[b]):
                counts[u] += count
            for u, count in enumerate(current[b - 1]):
                counts[u + a] += count
            current.append(counts)
        previous = current
    return previous[m]


@functools.lru_cache(maxsize=256)
def _distribution(n: int, m: int, groups: tuple[int, ...]) -> list[int]:
    """How many of the C(n+m, n) ways to choose the baseline among the values give each 2·U.

    Without ties, :func:`_u_counts`. With ties, the groups of equal values are
    walked from the smallest: choosing j of a group of t for the baseline, with
    a baseline values below it, adds (t − j)·a pairs and (t − j)·j half pairs.
    """
    if all(size == 1 for size in groups):
        counts = [0] * (2 * n * m + 1)
        counts[::2] = _u_counts(n, m)
        return counts
    states: list[dict[int, int]] = [{0: 1}] + [{} for _ in range(n)]
    placed = 0
    for size in groups:
        following: list[dict[int, int]] = [{} for _ in range(n + 1)]
        for a, state in enumerate(states):
            for j in range(max(0, size - (m - (placed - a))), min(size, n - a) + 1):
                ways, gain = math.comb(size, j), 2 * (size - j) * a + (size - j) * j
                target = following[a + j]
                for twice, count in state.items():
                    target[twice + gain] = target.get(twice + gain, 0) + count * ways
        states, placed = following, placed + size
    counts = [0] * (2 * n * m + 1)
    for twice, count in states[n].items():
        counts[twice] = count
    return counts


def _critical(n: int, m: int, alpha: float, exact: bool, values: Sequence[float]) -> int | None:
    """The rank k of the interval's ends (the k-th smallest and largest difference), None when none
    reaches 1 - alpha.

    k is the smallest U whose lower tail reaches alpha/2, as R's ``wilcox.test`` takes it.
    """
    if exact:
        counts = _u_counts(n, m)
        total, below = sum(counts), 0
        for u, count in enumerate(counts):
            below += count
            if below / total >= alpha / 2:
                return u if u >= 1 else None
        return None
    _, ties = _ranks(values)
    size = n + m
    spread = math.sqrt(n * m / 12 * ((size + 1) - ties / (size * (size - 1))))
    k = math.floor(n * m / 2 - NormalDist().inv_cdf(1 - alpha / 2) * spread)
    return k if k >= 1 else None


def _differences(xs: Sequence[float], ys: Sequence[float], ranks: Sequence[int]) -> list[float]:
    """The differences y − x of the given ranks (0-based, smallest first) over every pair of sorted
    *xs*, *ys*.

    Every difference sorted once while they are few; past :data:`SORTED_PAIRS`, each found by
    bisection on its value (to a billionth of their range), in memory of the two samples only.
    """
    if len(xs) * len(ys) <= SORTED_PAIRS:
        every = sorted(y - x for y in ys for x in xs)
        return [every[k] for k in ranks]
    return [_kth(xs, ys, k) for k in ranks]


def _kth(xs: Sequence[float], ys: Sequence[float], k: int) -> float:
    """The k-th smallest (0-based) difference: the least value v with more than k differences ≤ v.

    Found by bisection to a billionth of the differences' range: some forty passes over both
    samples.
    """
    low, high = ys[0] - xs[-1], ys[-1] - xs[0]
    tolerance = (high - low) * 1e-9
    low -= abs(low) + 1.0  # below every difference: no pair is at most it
    while high - low > tolerance:
        middle = (low + high) / 2
        if middle in (low, high):
            break
        if _at_most(xs, ys, middle) > k:
            high = middle
        else:
            low = middle
    return high


def _at_most(xs: Sequence[float], ys: Sequence[float], value: float) -> int:
    """How many pairs have y − x ≤ *value*: one pass over both sorted lists."""
    # y - x <= value for the x from the first at least y - value on: a binary search in C per y.
    return sum(len(xs) - bisect.bisect_left(xs, y - value) for y in ys)
