"""How far a run's recorded duration is from the command's true wall time.

    python benchmarks/timing.py [RUNS]      (default: 60 runs of each command)

For each command (``sleep 0.01``, ``sleep 0.1``, a 2 ms busy loop) a bare
loop in this script times RUNS launches with ``subprocess.run`` and the
options perfchart launches with (its own process group, piped output): the
true wall time, launch and reaping included. Then a perfchart session runs
the same command RUNS times (``config.repeat``) and the durations in its
``runs.jsonl`` are compared with the bare loop's: the **bias** is the
difference of the medians (of the means too), the **jitter** each side's
standard deviation and the spread of the difference (its interquartile range).
The busy loop is a small C program when a C compiler is found, else Python
(whose start-up then dominates).
"""

from __future__ import annotations

import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BUSY_C = r"""
#include <stdlib.h>
#include <time.h>
int main(int argc, char **argv) {
    double ms = argc > 1 ? atof(argv[1]) : 2.0;
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    do clock_gettime(CLOCK_MONOTONIC, &t);
    while ((t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6 < ms);
    return 0;
}
"""

CONFIG = """\
config:
  title: timing accuracy
  repeat: {runs}
  builtinMetrics: false
policies:
  - class: policy.SimplePolicy
    parameters: {{x: 1}}
    events:
      end: CmdlineExitZeroEvent
    timeout: 30s
channels:
  - class: channel.CmdlineChannel
    cmdline: "env X={{{{x}}}} {command}"
"""


def busy_loop(workdir: Path) -> list[str]:
    """A command that spins for 2 ms: compiled C, or Python where there is no compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc:
        source = workdir / "busy.c"
        source.write_text(BUSY_C)
        subprocess.run([cc, "-O2", "-o", str(workdir / "busy"), str(source)], check=True)
        return [str(workdir / "busy"), "2"]
    spin = "import time\nt=time.perf_counter()\nwhile time.perf_counter()-t<0.002: pass"
    return [sys.executable, "-c", spin]


def bare(argv: list[str], runs: int) -> list[float]:
    """The true wall time of *runs* launches, as perfchart launches them."""
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run(
            ["env", "X=1", *argv],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
    return times


def perfchart(argv: list[str], runs: int, workdir: Path) -> list[float]:
    """The durations a perfchart session records for *runs* runs of *argv*."""
    config = workdir / "timing.yml"
    command = " ".join(argv)
    config.write_text(CONFIG.format(runs=runs, command=command))
    results = workdir / f"results-{time.monotonic_ns()}"
    subprocess.run(
        [sys.executable, "-m", "interpreter", "run", str(config), "--results", str(results), "-q"],
        check=True,
    )
    with open(results / "runs.jsonl") as lines:
        return [json.loads(line)["duration"] for line in lines]


def ms(value: float) -> str:
    return f"{value * 1e3:7.3f}"


def report(label: str, truth: list[float], recorded: list[float]) -> None:
    quartiles = statistics.quantiles(recorded, n=4)
    truth_q = statistics.quantiles(truth, n=4)
    print(
        f"{label:<16} n={len(recorded):3d}  bare median {ms(statistics.median(truth))} ms"
        f" (IQR {ms(truth_q[2] - truth_q[0])}, σ {ms(statistics.stdev(truth))})"
        f"  perfchart median {ms(statistics.median(recorded))} ms"
        f" (IQR {ms(quartiles[2] - quartiles[0])}, σ {ms(statistics.stdev(recorded))})"
        f"  bias: median {ms(statistics.median(recorded) - statistics.median(truth))} ms,"
        f" mean {ms(statistics.mean(recorded) - statistics.mean(truth))} ms"
    )


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    with tempfile.TemporaryDirectory(prefix="perfchart-timing-") as tmp:
        workdir = Path(tmp)
        commands = {
            "sleep 0.01": ["sleep", "0.01"],
            "sleep 0.1": ["sleep", "0.1"],
            "busy loop 2 ms": busy_loop(workdir),
        }
        for label, argv in commands.items():
            truth = bare(argv, runs)
            recorded = perfchart(argv, runs, workdir)
            truth += bare(argv, runs)  # before and after: the machine's load drifts
            report(label, truth, recorded)


if __name__ == "__main__":
    main()
