"""What loading each bundled chart costs, against MultivariableExplorer measured in the same run.

    python benchmarks/chart_load.py

Three figures per chart, each the best of several timeit repeats, with its
ratio to the explorer's:

- *load*: ``load_chart`` in full, as for a user's chart file: read the YAML
  with line numbers, validate the chart, its header and the JSON Schemas in
  it, compile every guard and action, and let sismic build the model;
- *by name*: what ``class: NAME`` costs a run: read every bundled chart's
  header and build the one named;
- *start*: a policy's interpreter, its preamble (the value product, the
  schedule) and its first step;
- *command*: the CPU time of a whole ``perfchart run --dry-run -q`` of that
  block in a fresh process (start-up and imports included), which is what a
  user waits for.

Rounds interleave the charts, so load from other processes on a shared
machine spreads over all of them instead of skewing one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import timeit
from collections.abc import Callable
from pathlib import Path

from sismic.clock import SimulatedClock

from interpreter.charts import PolicyChart, bundled, catalog, load_chart, resolve
from interpreter.config import load_yaml
from interpreter.core import EventBus, Timers
from interpreter.engine import Cursor, ParameterBatch, PolicyRunner

BASELINE = "multivariable-explorer"

#: A typical block per policy, for the start-up figure.
BLOCKS = {
    "multivariable-explorer": "matrix: {a: {type: range, min: 1, max: 10}, b: {type: discreet, values: [1, 2, 4]}}\nevents: {signal: {OK: CmdlineExitZeroEvent}}",
    "time-evolution": "evolve: [{parameter: a, interval: 10s, max: 10}, {parameter: b, interval: 15s, max: 4}]",
    "multi-step": "steps: [{values: [{parameter: a, min: 1, max: 10}, {parameter: b, values: [1, 2, 4]}], events: {advance: CmdlineExitZeroEvent}}]",
    "simple": "parameters: {a: 1, b: 2}\nevents: {end: CmdlineExitZeroEvent}\ntimeout: 10s",
}


ROUNDS = 7


def once(function: Callable[[], object]) -> float:
    """Seconds per call of *function*, over enough calls to take a fifth of a second."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    return timer.timeit(number) / number


def command(name: str, directory: Path) -> float:
    """CPU seconds of a dry run of *name*'s block in a fresh process."""
    config = directory / f"{name}.yml"
    if not config.exists():
        block = "".join(f"    {line}\n" for line in BLOCKS[name].splitlines())
        config.write_text(f"policies:\n  - class: {name}\n{block}")
    results = tempfile.mkdtemp(dir=directory)
    argv = [sys.executable, "-m", "interpreter", "run", str(config), "--dry-run", "-q", "--results", f"{results}/r"]
    _, status, usage = os.wait4(subprocess.Popen(argv).pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"dry run of {name} failed")
    return usage.ru_utime + usage.ru_stime


def start(chart: PolicyChart) -> PolicyRunner:
    clock = SimulatedClock()
    bus = EventBus(clock)
    runner = PolicyRunner(
        chart, load_yaml(BLOCKS[chart.name], "policy.yml"), bus=bus, batch=(batch := ParameterBatch(bus, {})), cursor=Cursor(batch, chart.name, 1), clock=clock,
        timers=Timers(clock), definitions={}, seed=1, run_task=lambda task, traces: None,
    )
    runner.step()
    return runner


def by_name(name: str) -> None:
    catalog._bundled.cache_clear()
    resolve(name).statechart()


def main() -> None:
    charts = {chart.name: chart for chart in bundled()}
    rows = {name: [float("inf")] * 4 for name in charts}
    with tempfile.TemporaryDirectory() as scratch:
        for _ in range(ROUNDS):
            for name, chart in charts.items():
                figures = (once(lambda: load_chart(chart.path)), once(lambda: by_name(name)), once(lambda: start(chart)), command(name, Path(scratch)))
                rows[name] = [min(old, new) for old, new in zip(rows[name], figures)]
    base = rows[BASELINE]
    print(f"{'chart':<24}" + "".join(f"{title:>12} {'ratio':>6}" for title in ("load", "by name", "start", "command")))
    for name, figures in rows.items():
        print(f"{name:<24}" + "".join(f"{seconds * 1e3:>10.2f}ms {seconds / baseline:>6.2f}" for seconds, baseline in zip(figures, base)))


if __name__ == "__main__":
    main()
