"""What recording visits costs: the runner with and without counting, against the dry run's cost per permutation.

    python benchmarks/recording.py [N] [ROUNDS]      (default: 2000 permutations, 25 rounds)

The baseline is the same runner with its per-step counting replaced by
what the step did before visits were recorded (add up the transitions
taken). Both variants drive the MultivariableExplorer chart exactly as
``runner_only.py`` does, interleaved round by round so load from other
processes hits both alike; the best round of each is compared. The
difference per permutation is then set against the marginal CPU cost of a
whole dry run per permutation (``dry_run.py``, 1,000 and 20,000), measured
in the same invocation.
"""

from __future__ import annotations

import sys
import timeit
from typing import Any

from dry_run import measure
from runner_only import explorer_runner, per_permutation

from interpreter.engine import PolicyRunner

RECORDING = PolicyRunner._count


def count_transitions_only(self: PolicyRunner, macro: Any) -> None:
    """The step's bookkeeping before visits were recorded."""
    self.transitions += len(macro.transitions)


def per_step_cost(steps: list[Any], runner: PolicyRunner) -> tuple[float, float]:
    """Seconds per call of each bookkeeping variant over one permutation's real macro steps, best of 7."""
    results = []
    for count in (count_transitions_only, RECORDING):
        timer = timeit.Timer(lambda: [count(runner, macro) for macro in steps])
        loops = 20000
        results.append(min(timer.repeat(7, loops)) / loops / len(steps))
    return results[0], results[1]


def one_permutation() -> tuple[list[Any], PolicyRunner]:
    """The macro steps a permutation takes (signal, then task completed), as sismic returns them."""
    captured: list[Any] = []

    def capture(self: PolicyRunner, macro: Any) -> None:
        captured.append(macro)
        RECORDING(self, macro)

    PolicyRunner._count = capture  # type: ignore[method-assign]
    try:
        per_permutation(3)
    finally:
        PolicyRunner._count = RECORDING  # type: ignore[method-assign]
    return captured[-2:], explorer_runner()


def main() -> None:
    permutations = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    best = {"without": float("inf"), "with": float("inf")}
    for _ in range(rounds):
        for variant, count in (("without", count_transitions_only), ("with", RECORDING)):
            PolicyRunner._count = count  # type: ignore[method-assign]
            best[variant] = min(best[variant], per_permutation(permutations))
    PolicyRunner._count = RECORDING  # type: ignore[method-assign]
    cost = best["with"] - best["without"]
    print(f"runner alone, best of {rounds} x {permutations} permutations:")
    print(f"  without recording {best['without'] * 1e6:7.1f} µs per permutation")
    print(f"  with recording    {best['with'] * 1e6:7.1f} µs per permutation ({best['with'] / best['without']:.3f}x)")
    steps, runner = one_permutation()
    before, after = per_step_cost(steps, runner)
    direct = (after - before) * len(steps)
    print(f"bookkeeping per macro step: {before * 1e9:.0f} ns before, {after * 1e9:.0f} ns recording ({len(steps)} steps per permutation)")
    small, large = 1000, 20000
    dry = (measure(large)[1] - measure(small)[1]) / (large - small)
    print(f"whole dry run (marginal, {small} to {large}): {dry * 1e6:.1f} µs of CPU per permutation")
    print(f"recording: {direct * 1e6:.2f} µs per permutation = {direct / dry:.2%} of the dry run's time per permutation")
    print(f"(runner A/B difference, noisier: {cost * 1e6:.1f} µs per permutation = {cost / dry:.1%})")


if __name__ == "__main__":
    main()
