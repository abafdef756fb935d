"""How far a run's recorded duration is from the command's true wall time.

    python benchmarks/timing.py [RUNS]      (default: 60 runs of each command)

For each command (``sleep 0.01``, ``sleep 0.1``, a 2 ms busy loop) a bare
loop in this script times launches with ``subprocess.run`` and the options
perfchart launches with (its own process group, piped output): the true
wall time, launch and reaping included. A perfchart session in this same
process runs the same command (``config.repeat``) and the durations in its
``runs.jsonl`` are compared with the bare loop's. The two alternate in
blocks of 10 runs, so a change in the machine's load falls on both. The
**bias** is the difference of the medians (and of the means), the
**jitter** each side's standard deviation and interquartile range.
The busy loop is a small C program when a C compiler is found, else Python
(whose start-up then dominates). The C program also sleeps, and prints when
it began and ended: for it, each side's time is split into the launch (the
run's start to the program's first instruction), its life, and its end to
the run's end, which says where a bias comes from.

Where hyperfine is installed, it times the same command line (``-N``, no
shell) in blocks alternating with the other two, and each line also gives
hyperfine's mean and σ, perfchart's mean minus hyperfine's, and the ratio of
the σs (the jitter budget: within 2x). Without hyperfine that part is left
out, saying so.

A run's duration in perfchart is from its parameter update (published just
before the command is spawned) to the moment its exit was noticed (the pidfd
became readable), both on the session clock.
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

#: Runs of each side in a row, before the other side's.
BLOCK = 10

BUSY_C = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
/* Spins (busy MS) or sleeps (sleep MS), then prints when it started and ended (CLOCK_REALTIME, as
   time.time() and the session clock), so the launch and the reaping can be told apart. */
static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_REALTIME, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}
int main(int argc, char **argv) {
    double start = now(), ms = atof(argv[2]);
    if (strcmp(argv[1], "sleep") == 0) {
        struct timespec d = {(time_t)(ms / 1000), (long)((ms - 1000 * (long)(ms / 1000)) * 1e6)};
        nanosleep(&d, NULL);
    } else {
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        do clock_gettime(CLOCK_MONOTONIC, &t);
        while ((t.tv_sec - t0.tv_sec) * 1e3 + (t.tv_nsec - t0.tv_nsec) / 1e6 < ms);
    }
    printf("%.6f %.6f\n", start, now());
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


def stamp_program(workdir: Path) -> str | None:
    """The C program above, compiled; None where there is no compiler."""
    cc = shutil.which("cc") or shutil.which("gcc")
    if cc is None:
        return None
    source = workdir / "stamp.c"
    source.write_text(BUSY_C)
    subprocess.run([cc, "-O2", "-o", str(workdir / "stamp"), str(source)], check=True)
    return str(workdir / "stamp")


def busy_loop(stamp: str | None) -> list[str]:
    """A command that spins for 2 ms: compiled C, or Python where there is no compiler."""
    if stamp:
        return [stamp, "busy", "2"]
    spin = "import time\nt=time.perf_counter()\nwhile time.perf_counter()-t<0.002: pass"
    return [sys.executable, "-c", spin]


#: Per run: seconds from the run's start to the command's first instruction, of its life, and from
#: its end to the run's end; only for a command that prints its own start and end.
Phases = list[tuple[float, float, float]]


def phases_of(start: float, end: float, output: str) -> tuple[float, float, float] | None:
    words = output.split()
    if len(words) < 2:
        return None
    began, ended = float(words[-2]), float(words[-1])
    return began - start, ended - began, end - ended


def bare(argv: list[str], runs: int, phases: Phases) -> list[float]:
    """The true wall time of *runs* launches, as perfchart launches them."""
    times = []
    for _ in range(runs):
        wall = time.time()
        start = time.perf_counter()
        done = subprocess.run(
            ["env", "X=1", *argv],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            start_new_session=True,
            check=True,
        )
        times.append(time.perf_counter() - start)
        split = phases_of(wall, time.time(), done.stdout.decode())
        if split is not None:
            phases.append(split)
    return times


def hyperfine(argv: list[str], runs: int, workdir: Path) -> list[float] | None:
    """hyperfine's times of *runs* runs of the command perfchart runs, or None without hyperfine."""
    tool = shutil.which("hyperfine")
    if tool is None or runs < 2:
        return None
    export = workdir / "hyperfine.json"
    line = " ".join(["env", "X=1", *argv])
    subprocess.run(
        [tool, "-N", "--runs", str(runs), "--style", "none", "--export-json", str(export), line],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    times: list[float] = json.loads(export.read_text())["results"][0]["times"]
    return times


def perfchart(argv: list[str], runs: int, workdir: Path, phases: Phases) -> list[float]:
    """The durations a perfchart session in this process records for *runs* runs of *argv*."""
    from interpreter.session import Session, load_config

    config = workdir / "timing.yml"
    config.write_text(CONFIG.format(runs=runs, command=" ".join(argv)))
    results = workdir / f"results-{time.monotonic_ns()}"
    Session(load_config(config), results_dir=results).run()
    with open(results / "runs.jsonl") as lines:
        records = [json.loads(line) for line in lines]
    log = results / "output.log"  # written only when a command printed something
    printed = [
        line.split(" stdout: ")[1]
        for line in (log.read_text().splitlines() if log.exists() else ())
        if " stdout: " in line
    ]
    for record, output in zip(records, printed, strict=False):
        split = phases_of(record["start"], record["end"], output)
        if split is not None:
            phases.append(split)
    return [record["duration"] for record in records]


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


def report_hyperfine(label: str, reference: list[float], recorded: list[float]) -> None:
    if not reference:
        print(f"  {label:<14} hyperfine is not installed: no reference of its own")
        return
    mean, sigma = statistics.mean(reference), statistics.stdev(reference)
    ours = statistics.stdev(recorded)
    print(
        f"  {label:<14} hyperfine mean {ms(mean)} ms σ {ms(sigma)} ms;"
        f" perfchart − hyperfine: mean {ms(statistics.mean(recorded) - mean)} ms,"
        f" σ ratio {ours / sigma:5.2f}"
    )


def compare(
    argv: list[str], runs: int, workdir: Path, phases: tuple[Phases, Phases] = ([], [])
) -> dict[str, list[float]]:
    """Each side's times of *argv*, in alternating blocks: the bare loop, perfchart and hyperfine
    (none where it is not installed); *phases* gets the bare loop's and perfchart's splits.
    """
    times: dict[str, list[float]] = {"bare": [], "perfchart": [], "hyperfine": []}
    for block in range(0, runs, BLOCK):
        size = min(BLOCK, runs - block)
        times["bare"] += bare(argv, size, phases[0])
        times["perfchart"] += perfchart(argv, size, workdir, phases[1])
        times["hyperfine"] += hyperfine(argv, size, workdir) or []
    return times


def report_phases(label: str, truth: Phases, recorded: Phases) -> None:
    if not truth or not recorded:
        return

    def medians(phases: Phases) -> str:
        launch, life, reaped = (statistics.median(column) for column in zip(*phases, strict=True))
        return f"launch {ms(launch)}  life {ms(life)}  exit to end {ms(reaped)}"

    print(f"  {label:<14} medians, ms   bare: {medians(truth)}")
    print(f"  {'':<14}               perfchart: {medians(recorded)}")


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 60
    with tempfile.TemporaryDirectory(prefix="perfchart-timing-") as tmp:
        workdir = Path(tmp)
        stamp = stamp_program(workdir)
        commands = {
            "true": ["true"],
            "sleep 0.01": ["sleep", "0.01"],
            "sleep 0.1": ["sleep", "0.1"],
            "busy loop 2 ms": busy_loop(stamp),
        }
        if stamp:  # the same sleeps, saying when they began and ended
            commands["C sleep 10 ms"] = [stamp, "sleep", "10"]
            commands["C sleep 100 ms"] = [stamp, "sleep", "100"]
        for label, argv in commands.items():
            split_truth: Phases = []
            split_recorded: Phases = []
            times = compare(argv, runs, workdir, (split_truth, split_recorded))
            report(label, times["bare"], times["perfchart"])
            report_hyperfine(label, times["hyperfine"], times["perfchart"])
            report_phases(label, split_truth, split_recorded)


if __name__ == "__main__":
    main()
