"""What a compiled chart's table costs to compute and to read back from the cache, per bundled chart.

    python benchmarks/chart_tables.py [ROUNDS]      (default: 20, best of them)

Beside each, building the chart's sismic model from its file (which every
start does, compiled or not) is the yardstick.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from interpreter.charts import bundled
from interpreter.charts.checks import build
from interpreter.config import load_yaml_file
from interpreter.engine import tables
from interpreter.engine.compiled import compile_chart


def best(function: Callable[[], object], rounds: int) -> float:
    """The least wall seconds of *rounds* calls."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 20
    print(f"{'chart':<24} {'model':>9} {'compile':>9} {'read back':>10}  (ms, best of {rounds})")
    with tempfile.TemporaryDirectory() as cache:
        os.environ["XDG_CACHE_HOME"] = cache
        for chart in bundled():
            path: Path = chart.path
            statechart = chart.statechart()
            model = best(lambda: build(path, load_yaml_file(path)), rounds)  # noqa: B023
            compiled = best(lambda: compile_chart(statechart), rounds)  # noqa: B023
            tables.load_table(path, statechart)  # written once
            read = best(lambda: tables.load_table(path, statechart), rounds)  # noqa: B023
            print(
                f"{chart.name:<24} {model * 1e3:>9.2f} {compiled * 1e3:>9.2f} {read * 1e3:>10.3f}"
            )


if __name__ == "__main__":
    main()
