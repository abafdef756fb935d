"""Every performance budget, each as a ratio to a baseline measured in this same run.

    python benchmarks/budgets.py            # the full measurement (a few minutes)
    python benchmarks/budgets.py --quick    # small N: a smoke test, as CI runs it
    python benchmarks/budgets.py --original-driver DIR   # also B11: against the original's FSM

DIR is an unpacked source tree of the original driver (the directory holding
its ``performance`` package). Nothing of it is kept here: it is put on
sys.path when the option is given, with a stand-in for ``requests``, which
the policy imports through its utilities but never calls.

Figures are CPU seconds of the process doing the work unless marked wall.
Each budget prints its figure, its baseline and the ratio; docs/performance.md
records them. Nothing here asserts a time: the budgets are read, not tested.
"""

from __future__ import annotations

import argparse
import os
import pty
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sismic.clock import SimulatedClock

sys.path.insert(0, str(Path(__file__).resolve().parent))

import baseline  # noqa: E402
import recording  # noqa: E402
import timing  # noqa: E402

from interpreter.channels.cmdline import CmdlineExitZeroEvent  # noqa: E402
from interpreter.charts import resolve  # noqa: E402
from interpreter.config import load_yaml  # noqa: E402
from interpreter.core import Event, EventBus, ParameterUpdateEvent, RunTaskCompletedEvent, Timers
from interpreter.engine import Cursor, EventLoop, ParameterBatch, PolicyRunner

HERE = Path(__file__).resolve().parent
DRY_RUN = HERE / "dry_run.yml"


def matrix(permutations: int) -> dict[str, list[int]]:
    """A 100 x N/100 matrix, as benchmarks/dry_run.yml builds it."""
    return {"a": list(range(1, 101)), "b": list(range(1, permutations // 100 + 1))}


def cpu(function: Callable[[], object]) -> float:
    started = time.process_time()
    function()
    return time.process_time() - started


def per_permutation(run: Callable[[int], object], small: int, large: int) -> float:
    """Marginal CPU seconds per permutation: the difference of two sizes cancels fixed costs."""
    return (cpu(lambda: run(large)) - cpu(lambda: run(small))) / (large - small)


# ---------------------------------------------------------------- B1 engine

POLICY = """
matrix:
  a: {type: range, min: 1, max: 100}
  b: {type: range, min: 1, max: %d}
events:
  signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}
"""


def engine(permutations: int) -> None:
    """The bundled chart through runner, bus, parameter batch and loop, answered in process per run."""
    clock = SimulatedClock()
    timers = Timers(clock)
    bus = EventBus(clock)
    loop = EventLoop(bus, timers)

    def answer(event: Event) -> None:
        bus.publish(CmdlineExitZeroEvent(exitcode=0, source="bench", traceids=event.traceids))

    runner = PolicyRunner(
        resolve("multivariable-explorer"),
        load_yaml(POLICY % (permutations // 100), "policy.yml"),
        bus=bus,
        batch=(batch := ParameterBatch(bus, {})),
        cursor=Cursor(batch, "multivariable-explorer", 1),
        clock=clock,
        timers=timers,
        definitions={},
        seed=1,
        run_task=lambda task, traceids: bus.publish(RunTaskCompletedEvent(task=task, traceids=frozenset(traceids))),
    )
    bus.subscribe(answer, ParameterUpdateEvent)
    bus.subscribe(runner.handle)
    loop.runners.append(runner)
    loop.run_until(lambda: runner.final)
    assert runner.cursor.runs == permutations


def hand_written(permutations: int) -> None:
    fsm = baseline.run(matrix(permutations), baseline.answer_ok)
    assert fsm.progress == permutations  # type: ignore[attr-defined]


# ---------------------------------------------------------------- B11 the original driver's FSM


def original_driver(folder: str) -> Callable[[int], None]:
    """``run(permutations)``: the original's MultivariableExplorerPolicy, called directly.

    Driven as ``hand_written`` drives the baseline: every parameter update
    answered at once by a traced signal, every intertest task completed at
    once; each handled event followed by the parameter batch's flush, as the
    original's event thread does. Its own ParameterBatch, events and
    matching are used; its bus is replaced by a queue drained in this
    thread, and its event thread is stopped at the end.
    """
    import logging
    import types
    from collections import deque

    sys.path.insert(0, folder)
    sys.modules.setdefault("requests", types.ModuleType("requests"))
    logging.getLogger().setLevel(logging.CRITICAL)  # AutoExplorerPolicy says it lacks numpy
    from performance.driver.classes.policy.multivariableexplorer import MultivariableExplorerPolicy
    from performance.driver.core import events as original
    from performance.driver.core.config import ComponentConfig, DefinitionsDict
    from performance.driver.core.parameters import ParameterBatch as OriginalBatch

    class SignalEvent(original.Event):
        """The run's end, as a channel's exit event would say it."""

    class Bus:
        def __init__(self) -> None:
            self.pending: deque[Any] = deque()

        def subscribe(self, callback: Any, events: Any = None) -> None:
            """Nothing is delivered through the bus: the loop below hands events to the FSM."""

        def publish(self, event: Any) -> None:
            self.pending.append(event)

    def run(permutations: int) -> None:
        bus = Bus()
        root = types.SimpleNamespace(definitions=DefinitionsDict({}), meta={})
        config = {"class": "policy.MultivariableExplorerPolicy", "matrix": {
            "a": {"type": "range", "min": 1, "max": 100},
            "b": {"type": "range", "min": 1, "max": permutations // 100},
        }, "events": {"signal": {"OK": "SignalEvent"}}}
        batch = OriginalBatch(bus, types.SimpleNamespace(parameters={}))
        fsm = MultivariableExplorerPolicy(ComponentConfig(config, root, "policies[0]"), bus, batch)
        try:
            fsm.start()
            batch.flush()
            updates = 0
            while bus.pending:
                event = bus.pending.popleft()
                if isinstance(event, original.ParameterUpdateEvent):
                    updates += 1
                    answer = SignalEvent(traceid=event.traceids)
                elif isinstance(event, original.RunTaskEvent):
                    answer = original.RunTaskCompletedEvent(event)
                else:
                    continue
                fsm.handleEvent(answer)
                batch.flush()
            assert fsm.state == "End", fsm.state
            assert updates == permutations, updates
        finally:
            fsm.handleTeardown(None)

    return run


def side_by_side(ways: dict[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Each way's figure (a marginal per permutation), the median of *rounds* rounds taken in turn,
    each round starting with the next way, so a change in the machine's load touches all alike."""
    import statistics

    taken: dict[str, list[float]] = {name: [] for name in ways}
    names = list(ways)
    for round_ in range(rounds):
        for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
            taken[name].append(ways[name]())
    return {name: statistics.median(values) for name, values in taken.items()}


def original_budgets(folder: str | None, small: int, large: int, rounds: int) -> None:
    """B11: the engine and the dry run against the original's FSM and the hand-written loop."""
    if folder is None:
        print(f"{'B11 against the original driver FSM':<44} not measured (pass --original-driver)")
        return
    original = original_driver(folder)
    ways: dict[str, Callable[[], float]] = {
        "hand": lambda: per_permutation(hand_written, small, large),
        "original": lambda: per_permutation(original, small, large),
        "engine": lambda: per_permutation(engine, small, large),
        "dry": lambda: (dry_run(large)[1] - dry_run(small)[1]) / (large - small),
    }
    got = side_by_side(ways, rounds)
    print(f"B11: medians of {rounds} alternating rounds, marginal CPU, {small} to {large}:")
    ratio_line("B11 original driver FSM vs hand-written", got["original"], got["hand"], "µs", "-")
    ratio_line("B11 engine vs original driver FSM", got["engine"], got["original"], "µs", "<= 1.0")
    ratio_line("B11 engine vs hand-written", got["engine"], got["hand"], "µs", "<= 5")
    ratio_line("B11 dry run vs original driver FSM", got["dry"], got["original"], "µs", "<= 1.0")
    ratio_line("B11 dry run vs hand-written", got["dry"], got["hand"], "µs", "<= 5")


# ---------------------------------------------------------------- processes


def perfchart(*args: str, stdout: Any = subprocess.DEVNULL) -> tuple[float, float]:
    """Wall and CPU seconds (children included) of one perfchart process."""
    return command([sys.executable, "-m", "interpreter", *args], stdout=stdout)


def measured(argv: list[str], env: dict[str, str], cwd: Path | None = None) -> tuple[float, int]:
    """Wall seconds and voluntary context switches (of every thread, and of the children it waited
    for) of one process: the involuntary ones count the machine's load, not the process.
    """
    started = time.perf_counter()
    quiet = subprocess.DEVNULL
    process = subprocess.Popen(argv, env=env, cwd=cwd, stdout=quiet, stderr=quiet)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_nvcsw


def command(argv: list[str], stdout: Any = subprocess.DEVNULL) -> tuple[float, float]:
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=stdout, stderr=stdout)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - started
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(f"failed: {' '.join(argv)}")
    return wall, usage.ru_utime + usage.ru_stime


def dry_run(permutations: int) -> tuple[float, float]:
    """A dry run of a 100 x N/100 matrix (N < 100: N x 1)."""
    a, b = (100, permutations // 100) if permutations >= 100 else (permutations, 1)
    with tempfile.TemporaryDirectory() as results:
        return perfchart("run", str(DRY_RUN), "--dry-run", "-q", "-D", f"a={a}", "-D", f"b={b}", "--results", f"{results}/r")


def dry_run_rss(permutations: int) -> float:
    """Peak RSS in MiB of a dry run of *permutations*."""
    with tempfile.TemporaryDirectory() as results:
        argv = [sys.executable, "-m", "interpreter", "run", str(DRY_RUN), "--dry-run", "-q", "-D", f"b={permutations // 100}", "--results", f"{results}/r"]
        process = subprocess.Popen(argv)
        _, _, usage = os.wait4(process.pid, 0)
        return usage.ru_maxrss / 1024


def on_a_terminal(argv: list[str]) -> float:
    """CPU seconds of *argv* with its output on a pseudo-terminal, as a user at a terminal sees it."""
    master, slave = pty.openpty()
    drained = threading.Thread(target=_drain, args=(master,), daemon=True)
    drained.start()
    try:
        process = subprocess.Popen(argv, stdout=slave, stderr=slave, env={**os.environ, "COLUMNS": "120", "TERM": "xterm"})
        _, _, usage = os.wait4(process.pid, 0)
        return usage.ru_utime + usage.ru_stime
    finally:
        os.close(slave)
        drained.join(timeout=5)
        os.close(master)


def _drain(fd: int) -> None:
    try:
        while os.read(fd, 65536):
            pass
    except OSError:
        pass


COMMANDS = """
policies:
  - class: multivariable-explorer
    matrix: {i: {type: range, min: 1, max: "{{n}}"}}
    events: {signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}}
channels:
  - class: cmdline
    cmdline: true {{i}}
"""


def command_runs(runs: int, config: Path) -> tuple[float, int]:
    """Wall seconds and voluntary context switches of ``perfchart run`` of *runs* ``true``s."""
    with tempfile.TemporaryDirectory() as results:
        argv = [sys.executable, "-m", "interpreter", "run", str(config), "-q", "-D", f"n={runs}"]
        return measured([*argv, "--results", f"{results}/r"], dict(os.environ))


def bare_loop(runs: int) -> tuple[float, int]:
    code = f"import subprocess\nfor i in range({runs}): subprocess.run(['true', str(i)])"
    return measured([sys.executable, "-c", code], dict(os.environ))


def b5_command_runs(quick: bool) -> None:
    """B5: a command run's marginal wall and context switches against a bare loop, in rounds that
    alternate; then a run's recorded duration against the bare loop's and hyperfine's.
    """
    few, many = (20, 60) if quick else (300, 1_300)
    ours: list[tuple[float, float]] = []
    bare: list[tuple[float, float]] = []
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "commands.yml"
        config.write_text(COMMANDS)
        for _ in range(1 if quick else 3):
            for side, run in ((ours, lambda n: command_runs(n, config)), (bare, bare_loop)):
                (wall_few, cs_few), (wall_many, cs_many) = run(few), run(many)
                per_run = (wall_many - wall_few) / (many - few), (cs_many - cs_few) / (many - few)
                side.append(per_run)
    wall, base = statistics.median(w for w, _ in ours), statistics.median(w for w, _ in bare)
    ratio_line("B5 command run, marginal (wall)", wall, base, "ms", "<= 1.15")
    cs, cs_base = statistics.median(c for _, c in ours), statistics.median(c for _, c in bare)
    print(
        f"{'B5 voluntary context switches per run':<44} {cs:>10.2f}    vs {cs_base:>10.2f}"
        f"     ratio {cs / cs_base:5.2f}  (budget <= 1.15)"
    )
    with tempfile.TemporaryDirectory() as folder:
        times = timing.compare(["sleep", "0.01"], 20 if quick else 100, Path(folder))
    recorded, truth, reference = times["perfchart"], times["bare"], times["hyperfine"]
    bias = statistics.median(recorded) - statistics.median(truth)
    print(
        f"{'B5 timing bias of a run (sleep 0.01), median':<44} {bias * 1e3:>10.3f} ms"
        " vs the bare loop's wall time  (budget < 0.5 ms)"
    )
    if not reference:
        print(f"{'B5 jitter vs hyperfine (sleep 0.01)':<44} skipped: hyperfine is not installed")
        return
    sigma, sigma_ref = statistics.stdev(recorded), statistics.stdev(reference)
    ratio_line("B5 jitter vs hyperfine (sleep 0.01), σ", sigma, sigma_ref, "ms", "<= 2")
    above = statistics.mean(recorded) - statistics.mean(reference)
    print(f"{'B5 mean vs hyperfine (sleep 0.01)':<44} {above * 1e3:>10.3f} ms  (recorded)")


# ---------------------------------------------------------------- B4 irrelevant events


def irrelevant_events(count: int) -> tuple[float, int]:
    """CPU seconds per event no binding wants, published and delivered while the chart waits, and sismic steps taken."""
    clock = SimulatedClock()
    timers = Timers(clock)
    bus = EventBus(clock)
    runner = PolicyRunner(
        resolve("multivariable-explorer"),
        load_yaml(POLICY % 1, "policy.yml"),
        bus=bus,
        batch=(batch := ParameterBatch(bus, {})),
        cursor=Cursor(batch, "multivariable-explorer", 1),
        clock=clock,
        timers=timers,
        definitions={},
        seed=1,
        run_task=lambda task, traceids: None,
    )
    bus.subscribe(runner.handle)
    runner.step()
    bus.dispatch(0.0)
    steps_before = runner.transitions
    noise = [Event(traceids=frozenset((runner.trace or 0,))) for _ in range(count)]

    def publish_all() -> None:
        for event in noise:
            bus.publish(event)
        bus.dispatch(0.0)

    seconds = cpu(publish_all)
    assert not runner.has_work
    return seconds / count, runner.transitions - steps_before


# ---------------------------------------------------------------- B10 HTTP request


def http_request(quick: bool) -> tuple[float, float]:
    """Marginal wall seconds per request, the median of alternating rounds: the HTTP channel
    through ``perfchart run``, and a bare http.client loop on the same server and connection
    reuse (``benchmarks/http_requests.py``)."""
    import statistics

    import http_requests

    small, large, tries = (100, 300, 1) if quick else (500, 3000, 5)
    marginal = http_requests.rounds(small, large, tries)
    return (
        statistics.median(wall for wall, _ in marginal[http_requests.OURS]),
        statistics.median(wall for wall, _ in marginal[http_requests.BARE]),
    )


# ---------------------------------------------------------------- start-up, summaries, progress (round 2)


def alternating(argv: list[str], rounds: int) -> tuple[float, float, float]:
    """Median wall seconds of *argv* and of ``python -c pass``, started in turn, and the median of
    their pair-by-pair ratios: pairs keep the ratio meaningful while the machine's speed drifts."""
    ours, bare, ratios = [], [], []
    for _ in range(rounds):
        mine = command(argv)[0]
        nothing = command([sys.executable, "-c", "pass"])[0]
        ours.append(mine)
        bare.append(nothing)
        ratios.append(mine / nothing)
    return statistics.median(ours), statistics.median(bare), statistics.median(ratios)


def ten_permutations(results: str) -> list[str]:
    """A 10-permutation dry run's command line, writing into the fresh folder *results*."""
    return [sys.executable, "-m", "interpreter", "run", str(DRY_RUN), "--dry-run", "-q", "-D", "a=10", "-D", "b=1", "--results", results]


def start_up(rounds: int) -> None:
    """B6 against the round-2 targets, as medians of alternating rounds rather than best of few."""
    wall, nothing, ratio = alternating([sys.executable, "-m", "interpreter", "--help"], rounds)
    print(f"{'B6b --help, alternating rounds (wall)':<44} {wall * 1e3:>10.1f} ms vs {nothing * 1e3:>10.1f} ms  ratio {ratio:5.2f}  (budget <= 1.5)")
    ours, bare, ratios = [], [], []
    for index in range(rounds):
        with tempfile.TemporaryDirectory() as folder:
            ours.append(command(ten_permutations(f"{folder}/r{index}"))[0])
        bare.append(command([sys.executable, "-c", "pass"])[0])
        ratios.append(ours[-1] / bare[-1])
    print(f"{'B6b 10-permutation dry run, alternating (wall)':<44} {statistics.median(ours) * 1e3:>10.1f} ms vs {statistics.median(bare) * 1e3:>10.1f} ms  ratio {statistics.median(ratios):5.2f}  (budget <= 5)")


def end_of_session(runs: int) -> tuple[float, float]:
    """CPU seconds of closing *runs* records through every exporter, and of the session's end
    (``finished``) alone: what the summary does at the end should not grow with the runs."""
    from results_files import record

    from interpreter.results import ExportContext, open_exports

    records = [record(i) for i in range(1, runs + 1)]
    with tempfile.TemporaryDirectory() as folder:
        exports = open_exports(ExportContext(Path(folder) / "r"))

        def close_all() -> None:
            for one in records:
                for exporter in exports.exporters:
                    exporter.finish(one)
                for exporter in exports.exporters:
                    exporter.closed(one)

        closing = cpu(close_all)
        ending = cpu(lambda: exports.finished({"runs": runs, "ok": runs}))
    return closing, ending


def progress_bar(permutations: int, rounds: int) -> float:
    """B7 as the median of alternating rounds (bar, then ``-q``) of pair-by-pair CPU ratios."""
    ratios = []
    for index in range(rounds):
        with tempfile.TemporaryDirectory() as results:
            argv = [sys.executable, "-m", "interpreter", "run", str(DRY_RUN), "--dry-run", "-D", f"b={permutations // 100}"]
            bar = on_a_terminal([*argv, "--results", f"{results}/bar{index}"])
            plain = on_a_terminal([*argv, "-q", "--results", f"{results}/quiet{index}"])
        ratios.append(bar / plain)
    return statistics.median(ratios)


# ---------------------------------------------------------------- the report


def ratio_line(label: str, figure: float, base: float, unit: str, budget: str) -> None:
    scale = {"µs": 1e6, "ms": 1e3, "s": 1.0}[unit]
    print(f"{label:<44} {figure * scale:>10.1f} {unit:<2} vs {base * scale:>10.1f} {unit:<2}  ratio {figure / base:5.2f}  (budget {budget})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke test of every budget, figures meaningless")
    parser.add_argument("--original-driver", metavar="DIR", help="the original driver's source tree: measure B11 against its FSM")
    parser.add_argument("--only-original", action="store_true", help="measure B11 alone")
    options = parser.parse_args()
    quick = options.quick
    small, large = (200, 400) if quick else (2_000, 20_000)
    if options.only_original:
        original_budgets(options.original_driver, small, large, 3 if quick else 5)
        return

    hand = per_permutation(hand_written, small, large)
    ratio_line("B1 engine (runner+bus+batch+loop)", per_permutation(engine, small, large), hand, "µs", "<= 1.1")

    dry = (dry_run(large)[1] - dry_run(small)[1]) / (large - small)
    ratio_line("B2 full dry run, marginal", dry, hand, "µs", "<= 1.5")

    sizes = [1_000, 2_000] if quick else [1_000, 10_000, 100_000, 1_000_000]
    cpus = [dry_run(n)[1] for n in sizes]
    rss = [dry_run_rss(n) for n in (sizes[0], sizes[-1])]
    marginal = [(b - a) / (nb - na) for (na, a), (nb, b) in zip(zip(sizes, cpus), zip(sizes[1:], cpus[1:]))]
    print(f"B3 scaling: marginal µs per permutation between sizes {sizes}: {[round(m * 1e6) for m in marginal]}; "
          f"peak RSS {rss[0]:.1f} -> {rss[1]:.1f} MiB (budget: last within 1.1x of the first step; growth < 5 MB)")

    per_event, steps = irrelevant_events(2_000 if quick else 200_000)
    print(f"{'B4 irrelevant event, published + delivered':<44} {per_event * 1e6:>10.2f} µs; sismic steps they caused: {steps}  (budget <= 2 µs, 0 steps)")

    b5_command_runs(quick)

    nothing = min(command([sys.executable, "-c", "pass"])[0] for _ in range(5))
    help_wall = min(perfchart("--help")[0] for _ in range(5))
    ten = min(dry_run(10)[0] for _ in range(3))
    ratio_line("B6 start-up: --help (wall)", help_wall, nothing, "ms", "<= 2")
    ratio_line("B6 start-up: 10-permutation dry run (wall)", ten, nothing, "ms", "<= 5")

    n = 1_000 if quick else 20_000
    with tempfile.TemporaryDirectory() as results:
        argv = [sys.executable, "-m", "interpreter", "run", str(DRY_RUN), "--dry-run", "-D", f"b={n // 100}"]
        bar = on_a_terminal([*argv, "--results", f"{results}/bar"])
        plain = on_a_terminal([*argv, "-q", "--results", f"{results}/quiet"])
    ratio_line("B7 progress bar on a terminal vs -q", bar, plain, "s", "<= 1.05")

    steps, runner = recording.one_permutation()
    before, after = recording.per_step_cost(steps, runner)
    ratio_line("B8 dry run + recording visits, marginal", dry + (after - before) * len(steps), dry, "µs", "<= 1.05")

    with tempfile.TemporaryDirectory() as folder:
        listed = min(perfchart("policies")[0] for _ in range(3))
        drawn = min(perfchart("draw", "multivariable-explorer", "-o", f"{folder}/chart.svg")[0] for _ in range(3))
    ratio_line("B9 draw to SVG vs policies (wall)", drawn, listed, "ms", "none; recorded")

    ratio_line("B10 HTTP request vs bare http.client (wall)", *http_request(quick), "µs", "<= 1.2")
    original_budgets(options.original_driver, small, large, 3 if quick else 5)


    start_up(5 if quick else 21)
    for runs in (1_000, 10_000) if quick else (1_000, 100_000):
        closing, ending = end_of_session(runs)
        ratio_line(f"B3b end of session, {runs} runs, vs closing them", ending, closing, "s", "<= 0.05")
    b7 = progress_bar(1_000 if quick else 20_000, 3 if quick else 7)
    print(f"{'B7b progress bar vs -q, alternating (CPU)':<44} ratio {b7:5.3f}  (budget <= 1.05)")


if __name__ == "__main__":
    main()
