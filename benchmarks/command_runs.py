"""A command run's marginal cost: perfchart against a bare ``subprocess.run`` loop, and against
another checkout of perfchart, side by side.

    python benchmarks/command_runs.py [--rounds 5] [--few 100] [--many 500] [--before CHECKOUT]

Each round runs, one after the other, a bare loop of ``subprocess.run(['true', i])``,
``perfchart run`` of a sweep of ``true {{i}}`` (``budgets.COMMANDS``) from this checkout and,
with ``--before``, the same from the other checkout (its package first on ``PYTHONPATH``),
each at two sizes. The difference of the sizes cancels start-up, so each figure is per run:
wall time, and voluntary context switches of the whole process (all its threads and the
children it waited for, from ``wait4``; the involuntary ones measure the machine's load).
Rounds alternate, so a change of the machine's load falls on every side; the medians over
rounds are printed.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from budgets import COMMANDS, measured  # noqa: E402

HERE = Path(__file__).resolve().parent


def perfchart(runs: int, config: Path, checkout: Path) -> tuple[float, int]:
    """Wall seconds and context switches of ``perfchart run`` of *runs* runs, from *checkout*.

    It runs in *checkout*: ``python -m`` puts its working directory first on the path.
    """
    env = {**os.environ, "PYTHONPATH": str(checkout)}
    with tempfile.TemporaryDirectory() as results:
        argv = [sys.executable, "-m", "interpreter", "run", str(config), "-q", "-D", f"n={runs}"]
        return measured([*argv, "--results", f"{results}/r"], env, checkout)


def bare(runs: int) -> tuple[float, int]:
    code = f"import subprocess\nfor i in range({runs}): subprocess.run(['true', str(i)])"
    return measured([sys.executable, "-c", code], dict(os.environ))


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--few", type=int, default=100)
    parser.add_argument("--many", type=int, default=500)
    parser.add_argument("--before", type=Path, help="another checkout of perfchart to compare with")
    args = parser.parse_args()
    sides = {"subprocess.run loop": bare}
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "commands.yml"
        config.write_text(COMMANDS)
        sides["perfchart (this checkout)"] = lambda n: perfchart(n, config, HERE.parent)
        if args.before is not None:
            sides["perfchart (--before)"] = lambda n: perfchart(n, config, args.before.resolve())
        walls: dict[str, list[float]] = {label: [] for label in sides}
        switches: dict[str, list[float]] = {label: [] for label in sides}
        for _ in range(args.rounds):
            for label, side in sides.items():
                (wall_few, cs_few), (wall_many, cs_many) = side(args.few), side(args.many)
                walls[label].append((wall_many - wall_few) / (args.many - args.few))
                switches[label].append((cs_many - cs_few) / (args.many - args.few))
    base = statistics.median(walls["subprocess.run loop"])
    for label in sides:
        wall = statistics.median(walls[label])
        print(
            f"{label:<28} {wall * 1e3:6.3f} ms per run (ratio {wall / base:4.2f}; rounds "
            f"{', '.join(f'{w * 1e3:.3f}' for w in walls[label])})  "
            f"voluntary context switches per run {statistics.median(switches[label]):5.2f}"
        )


if __name__ == "__main__":
    main()
