"""Drawing a bundled policy from the command line, timed as whole processes.

    python benchmarks/draw.py [POLICY] [ROUNDS]      (default: multivariable-explorer, 7 rounds)

Each round runs, in a fresh process each: ``perfchart --version`` (the
baseline: start-up alone), ``perfchart policies`` (start-up plus loading
and checking the bundled charts), ``perfchart draw POLICY --format dot`` (load
and check the chart, extract, export) and ``perfchart draw POLICY -o
FILE.svg`` and ``.png`` (plus layout and rendering by the renderer
perfchart finds). Wall time is the best round; CPU time is the process's
own and its children's (os.wait4 covers the renderer it waits for).
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time

from interpreter.diagrams import find_renderer


def timed(argv: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one process (with the children it waited for)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def main() -> None:
    policy = sys.argv[1] if len(sys.argv) > 1 else "multivariable-explorer"
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    perfchart = [sys.executable, "-m", "interpreter"]
    with tempfile.TemporaryDirectory() as out:
        cases = {
            "perfchart --version (baseline)": [*perfchart, "--version"],
            "perfchart policies (loads every bundled chart)": [*perfchart, "policies"],
            f"perfchart draw {policy} --format dot": [*perfchart, "draw", policy, "--format", "dot"],
            f"perfchart draw {policy} -o chart.svg": [*perfchart, "draw", policy, "-o", f"{out}/chart.svg"],
            f"perfchart draw {policy} -o chart.png": [*perfchart, "draw", policy, "-o", f"{out}/chart.png"],
        }
        best = {name: (float("inf"), float("inf")) for name in cases}
        for _ in range(rounds):
            for name, argv in cases.items():
                wall, cpu = timed(argv)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
    print(f"renderer: {find_renderer()}")
    base = best["perfchart --version (baseline)"][0]
    print(f"{'command':<52} {'wall s':>7} {'CPU s':>7} {'x baseline':>10}")
    for name, (wall, cpu) in best.items():
        print(f"{name:<52} {wall:>7.3f} {cpu:>7.3f} {wall / base:>10.2f}")


if __name__ == "__main__":
    main()
