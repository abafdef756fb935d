"""CPU per permutation of the MultivariableExplorer chart alone: sismic plus the policy runner.

    python benchmarks/runner_only.py [N]      (default: 20000 permutations)

No session loop, simulator or results files: the difference to
``benchmarks/dry_run.py`` is what those cost.
"""

from __future__ import annotations

import sys
import time

from sismic.clock import SimulatedClock

from interpreter.charts import resolve
from interpreter.config import load_yaml
from interpreter.core import EventBus, Timers
from interpreter.engine import Cursor, ParameterBatch, PolicyRunner

POLICY = """
matrix:
  a: {type: range, min: 1, max: 1000}
  b: {type: range, min: 1, max: 1000}
events:
  signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}
"""


def explorer_runner() -> PolicyRunner:
    """The MultivariableExplorer chart on a simulated clock, nothing around it but a bus and a batch."""
    clock = SimulatedClock()
    bus = EventBus(clock)
    return PolicyRunner(
        resolve("multivariable-explorer"),
        load_yaml(POLICY, "policy.yml"),
        bus=bus,
        batch=(batch := ParameterBatch(bus, {})),
        cursor=Cursor(batch, "multivariable-explorer", 1),
        clock=clock,
        timers=Timers(clock),
        definitions={},
        seed=1,
        run_task=lambda task, traceids: None,
    )


def per_permutation(permutations: int) -> float:
    """CPU seconds per permutation of sismic plus the runner: a signal and a completed intertest each."""
    runner = explorer_runner()
    bus = runner.bus
    runner.step()
    bus.dispatch(0.0)
    started = time.process_time()
    for _ in range(permutations):
        runner.send("signal", traceids=frozenset([runner.trace]), status="OK")
        runner.step()
        runner.send("task_completed", task="intertest")
        runner.step()
        bus.dispatch(0.0)
    return (time.process_time() - started) / permutations


def main() -> None:
    permutations = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    print(f"{permutations} permutations: {per_permutation(permutations) * 1e6:.0f} µs of CPU each (sismic + runner)")


if __name__ == "__main__":
    main()
