"""Dry-run scale: CPU time per permutation and peak memory as the matrix grows.

    python benchmarks/dry_run.py [N ...]      (default: 1000 10000 100000)

Each size runs ``perfchart run benchmarks/dry_run.yml --dry-run -q`` in a
fresh process and reads that process's own resource usage (os.wait4), so
the figures are the command's, start-up included. The marginal cost per
permutation comes from the difference between sizes, which cancels
start-up.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CONFIG = Path(__file__).with_name("dry_run.yml")


def measure(permutations: int) -> tuple[float, float, float]:
    """Wall seconds, CPU seconds and peak RSS in MiB of one dry run of *permutations*."""
    if permutations % 100:
        raise SystemExit("N must be a multiple of 100 (the matrix is 100 x N/100)")
    with tempfile.TemporaryDirectory() as results:
        argv = [sys.executable, "-m", "interpreter", "run", str(CONFIG), "--dry-run", "-q", "-D", f"b={permutations // 100}", "--results", f"{results}/r"]
        started = time.perf_counter()
        process = subprocess.Popen(argv)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - started
        if os.waitstatus_to_exitcode(status) != 0:
            raise SystemExit(f"dry run of {permutations} failed")
        lines = sum(1 for _ in open(f"{results}/r/runs.jsonl"))
        assert lines == permutations, (lines, permutations)
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024


def main() -> None:
    sizes = [int(n) for n in sys.argv[1:]] or [1000, 10000, 100000]
    rows = [(n, *measure(n)) for n in sizes]
    print(f"{'permutations':>12} {'wall s':>8} {'CPU s':>8} {'peak RSS MiB':>13}")
    for n, wall, cpu, rss in rows:
        print(f"{n:>12} {wall:>8.2f} {cpu:>8.2f} {rss:>13.1f}")
    (n0, _, cpu0, _), (n1, _, cpu1, _) = rows[0], rows[-1]
    if n1 > n0:
        print(f"marginal CPU per permutation: {(cpu1 - cpu0) / (n1 - n0) * 1e6:.0f} µs")


if __name__ == "__main__":
    main()
