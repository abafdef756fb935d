"""A million samples of one metric in one parameter set: within the sketch's error, in flat memory.

    python benchmarks/sketch.py [--samples 1000000] [--per-run 10000]

Files runs of ``--per-run`` samples each (a lognormal latency, seeded) through the summary's own
path, :class:`interpreter.metrics.Grouping` with ``summarize_over: samples``, and summarizes them,
for a tenth of the samples and then for all of them, under ``tracemalloc``. It then draws the same
samples again, sorts them, and checks every quantile the summary gave against the exact order
statistics: within :data:`interpreter.metrics.stats.SKETCH_ACCURACY` (relative) of a sample at
one of the two ranks around q·(n − 1); count, mean, min and max exact. Exits 1 when a check fails
or when the peak memory for all the samples is more than 1.5 times that for a tenth of them.
Not a test: it takes some seconds, and reports them.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from interpreter.metrics import Grouping, MetricSpec, summarizers  # noqa: E402
from interpreter.metrics.stats import SKETCH_ACCURACY  # noqa: E402

QUANTILES = {"p1": 1, "p50": 50, "p90": 90, "p99": 99, "p99.9": 99.9}
SPEC = MetricSpec("latency", summarizers([*QUANTILES, "max", "min", "count", "mean"]), "s")


def draw(samples: int, seed: int = 1) -> Iterator[float]:
    rng = random.Random(seed)
    for _ in range(samples):
        yield rng.lognormvariate(-4, 0.8)


def records(samples: int, per_run: int) -> Iterator[dict[str, object]]:
    values = draw(samples)
    for _ in range(samples // per_run):
        run = [next(values) for _ in range(per_run)]
        yield {
            "parameters": {"set": 1},
            "ok": True,
            "metrics": {"latency": run[0]},
            "samples": {"latency": run},
        }


def summarize(samples: int, per_run: int) -> tuple[dict[str, float], int, float]:
    """The summary of *samples*, the peak traced memory and the seconds it took."""
    tracemalloc.start()
    started = time.perf_counter()
    with Grouping.of(records(samples, per_run), [SPEC]) as grouping:
        (group,) = list(grouping.groups())
        row = group.row([SPEC])["metrics"]["latency"]
    elapsed = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return row, peak, elapsed


def check(row: dict[str, float], samples: int) -> list[str]:
    """What in *row* is off the exact statistics of the same samples."""
    ordered = sorted(draw(samples))
    problems = []
    for name, pct in QUANTILES.items():
        rank = (samples - 1) * pct / 100
        low, high = ordered[math.floor(rank)], ordered[math.ceil(rank)]
        bound = (low * (1 - SKETCH_ACCURACY), high * (1 + SKETCH_ACCURACY))
        error = min(abs(row[name] - low) / low, abs(row[name] - high) / high)
        print(
            f"  {name:>6}: sketch {row[name]:.6g}, exact {low:.6g} .. {high:.6g}, error {error:.3%}"
        )
        if not bound[0] <= row[name] <= bound[1]:
            problems.append(f"{name} {row[name]} outside {bound}")
    exact = {"count": samples, "min": ordered[0], "max": ordered[-1]}
    problems += [f"{k} {row[k]} != {v}" for k, v in exact.items() if row[k] != v]
    mean = math.fsum(ordered) / samples
    if not math.isclose(row["mean"], mean, rel_tol=1e-9):
        problems.append(f"mean {row['mean']} != {mean}")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--samples", type=int, default=1_000_000)
    parser.add_argument("--per-run", type=int, default=10_000)
    options = parser.parse_args()
    tenth = options.samples // 10
    _, small_peak, small_time = summarize(tenth, options.per_run)
    row, peak, elapsed = summarize(options.samples, options.per_run)
    print(f"{tenth} samples: peak {small_peak / 2**20:.1f} MiB, {small_time:.1f} s")
    print(f"{options.samples} samples: peak {peak / 2**20:.1f} MiB, {elapsed:.1f} s")
    problems = check(row, options.samples)
    if peak > 1.5 * small_peak:
        problems.append(f"memory grew from {small_peak} to {peak} bytes")
    for problem in problems:
        print(f"FAIL: {problem}")
    print("ok" if not problems else f"{len(problems)} problems")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
