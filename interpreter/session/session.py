"""A session: every policy of a test configuration, run to its end on one thread.

The session owns the bus, the clock, the run ledger, the channels, the
tasks and the results files, and turns one :class:`EventLoop` for all of
it: session tasks, every policy's chart, ticks and stall checks. A real run
uses the wall clock; a dry run the simulated clock, started at the wall
time so its records read like real ones while their durations are
simulated, and the dry run's :class:`Simulator` in place of every channel
and task: the rest of the session cannot tell them apart.
"""

from __future__ import annotations

import functools
import logging
import secrets
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Protocol

from sismic.clock import SimulatedClock, UtcClock

from .. import __version__
from ..channels import Channel, ChannelContext, Simulator, TaskRunner
from ..core import (
    Clock,
    Event,
    EventBus,
    InterruptEvent,
    ParameterUpdateEvent,
    RestartEvent,
    RunTaskCompletedEvent,
    RunTaskEvent,
    SessionEndEvent,
    SessionStartEvent,
    StalledEvent,
    TickEvent,
    Timer,
    Timers,
    installed_version,
)
from ..engine import (
    EventLoop,
    ParameterBatch,
    PolicyRunner,
    Record,
    RunLedger,
    RunListener,
    Summary,
)
from ..errors import PerfchartError
from ..metrics import RunMetrics, SummaryView, metric_meta, with_duration
from ..results import ExportContext, Exports, Previous, SummaryFiles, open_exports
from .doubts import Doubts
from .loader import PolicySpec, TestConfig
from .usage import UnusedParameters

log = logging.getLogger("perfchart")

EXIT_OK, EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Seconds between TickEvents on the session clock (simulated in dry runs and tests).
TICK_INTERVAL = 1.0
#: Seconds a chart step may go on after a signal before it is stopped between two macro steps.
STOP_GRACE = 0.5
#: Signals whose default action ends a process and that a handler may catch, left out: the faults
#: a process raises on itself (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGTRAP, SIGABRT, SIGSYS), and
#: SIGPIPE and SIGXFSZ, which Python ignores so that a write fails instead.
_TERMINATING = (
    "SIGINT",
    "SIGTERM",
    "SIGHUP",
    "SIGQUIT",
    "SIGUSR1",
    "SIGUSR2",
    "SIGALRM",
    "SIGVTALRM",
    "SIGPROF",
    "SIGIO",
    "SIGPWR",
    "SIGXCPU",
    "SIGSTKFLT",
)


def _ending_signals() -> tuple[int, ...]:
    """Every signal that would kill perfchart with the session's files ``running``: the ones above
    this platform has, and its real-time signals.
    """
    found = {int(getattr(signal, name)) for name in _TERMINATING if hasattr(signal, name)}
    if hasattr(signal, "SIGRTMIN") and hasattr(signal, "SIGRTMAX"):
        found.update(range(signal.SIGRTMIN, signal.SIGRTMAX + 1))
    return tuple(sorted(found))


#: The signals that end a session cleanly (a second one stops at once; see docs/reliability.md).
ENDING_SIGNALS = _ending_signals()
#: The ones a session always takes over; the others only where no Python handler has them (an
#: application running the session, a test harness's SIGALRM deadline).
ALWAYS_ENDING = frozenset(
    int(getattr(signal, name))
    for name in ("SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT")
    if hasattr(signal, name)
)


def unhandled(sig: int) -> bool:
    """Whether *sig* is one of ALWAYS_ENDING or has no Python handler (its default, or ignored)."""
    return sig in ALWAYS_ENDING or not callable(signal.getsignal(sig))


class SessionUI(Protocol):
    """What the session tells the terminal; ``interpreter.ui`` implements it."""

    def session_started(self, total: int | None) -> None: ...
    def policy_started(self, runner: PolicyRunner) -> None: ...
    def run_opened(self, record: Record) -> None: ...
    def run_closed(self, record: Record) -> None: ...
    def summarized(self, summary: SummaryView) -> None: ...
    def session_finished(self, summary: Summary, results: Path, status: str) -> None: ...


class Session:
    def __init__(
        self,
        config: TestConfig,
        *,
        results_dir: Path,
        dry_run: bool = False,
        seed: int | None = None,
        clock: Clock | None = None,
        ui: SessionUI | None = None,
        task_seconds: Mapping[str, float] | None = None,
        previous: Previous | None = None,
    ) -> None:
        """Build everything and pre-flight every policy, so bad input fails before any run.

        *task_seconds* tells a dry run how long (simulated) each named task takes.
        *previous* resumes the session that wrote it: same seed, same files,
        and the runs it has are not run again.
        """
        self.config = config
        self.results_dir = results_dir
        self.dry_run = dry_run
        self.previous = previous
        if previous is not None and isinstance(previous.meta.get("seed"), int):
            seed = previous.meta["seed"]
        self.seed = (
            seed
            if seed is not None
            else config.seed
            if config.seed is not None
            else secrets.randbelow(2**31)
        )
        self.clock: Clock = (
            clock if clock is not None else _simulated_now() if dry_run else UtcClock()
        )
        self.timers = Timers(self.clock)
        self.bus = EventBus(self.clock)
        self.loop = EventLoop(self.bus, self.timers)
        self.batch = ParameterBatch(
            self.bus,
            config.parameter_defaults(),
            first_trace=previous.highest("trace") + 1 if previous else 1,
        )
        self.ledger = RunLedger(
            self.bus, self.batch, dry_run=dry_run, previous=previous.records if previous else ()
        )
        self.run_metrics = RunMetrics(
            config.metrics,
            [spec.cls(spec.config, self.timers) for spec in config.trackers],
            warmup=config.warmup,
        )
        if previous is not None:
            self.run_metrics.resumed(previous.records)
        self.ui = ui
        self.interrupted = False
        #: A second signal: stop now, without waiting for the charts or the commands' grace.
        self.hurried = False
        self._finishing = False
        self._hurry_told = False
        #: When the latest ending signal arrived (monotonic): a chart step running since then is
        #: stopped.
        self._signal_at: float | None = None
        self.simulator: Simulator | None = None
        self.channels: list[Channel]
        self.tasks: TaskRunner | Simulator
        if dry_run:
            self.simulator = self._simulator(task_seconds or {})
            self.channels = [self.simulator]
            self.tasks = self.simulator
        else:
            self.channels = [
                spec.cls(spec.config, self._context(spec.name)) for spec in config.channels
            ]
            self.tasks = TaskRunner(config.tasks, self.bus, config.macro_values)
        self.runners = [self._runner(spec, 1) for spec in config.policies]
        #: What a real run's results surely did not mean (a dry run's are what simulate: says).
        self.doubts = None if dry_run else Doubts(config)
        #: Each policy's answers (``policy.set_result``), the latest repetition's last.
        self.policy_results: dict[str, dict[str, Any]] = {}

    # -- building --------------------------------------------------------------

    def _context(self, name: str) -> ChannelContext:
        return ChannelContext(
            self.bus, name, self.config.macro_values, self.config.parameter_defaults()
        )

    def _simulator(self, task_seconds: Mapping[str, float]) -> Simulator:
        """The dry run's channel, playing each configured channel's
        own simulation where it has one.
        """
        simulations = [
            spec.cls.simulation(spec.config, self._context(spec.name))
            for spec in self.config.channels
        ]
        return Simulator(
            self._context("dry-run"),
            self.timers,
            [s for s in simulations if s is not None],
            task_seconds,
        )

    def _runner(self, spec: PolicySpec, repetition: int) -> PolicyRunner:
        name = spec.chart.name
        previous = self.previous
        return PolicyRunner(
            spec.chart,
            spec.config,
            cursor=self.ledger.cursor(
                name, repetition, previous.last_run(name, repetition) if previous else 0
            ),
            bus=self.bus,
            batch=self.batch,
            clock=self.clock,
            timers=self.timers,
            definitions=self.config.definitions,
            seed=self.seed,
            stale_timeout=self.config.stale_timeout,
            run_task=self._start_task,
            done=previous.done(name, repetition) if previous else (),
            stop=self._stop_step,
        )

    def _stop_step(self, began: float) -> bool:
        """Stop a chart step now: after a second signal, or STOP_GRACE after one that came while
        it ran.
        """
        at = self._signal_at
        if self.hurried:
            return True
        return at is not None and at >= began and time.monotonic() - at > STOP_GRACE

    def _start_task(self, task: str, traceids: Iterable[int]) -> None:
        self.bus.publish(RunTaskEvent(traceids=frozenset(traceids), task=task))
        self.tasks.run(task, traceids, self.batch.current)

    @property
    def repetitions(self) -> int:
        """Times every policy runs: the warm-up ones first (each parameter set's first runs are
        its warm-up), then ``repeat``.
        """
        return self.config.warmup + self.config.repeat

    @property
    def total_runs(self) -> int | None:
        """Runs the whole session will make, when every policy announced its total."""
        totals = [runner.total for runner in self.runners]
        if any(total is None for total in totals):
            return None
        return sum(total for total in totals if total is not None) * self.repetitions

    # -- running ---------------------------------------------------------------

    def run(self) -> int:
        """Run every policy; return the exit status. Finished runs are on disk whatever happens."""
        exports = open_exports(ExportContext(self.results_dir, self.config.metrics, self.previous))
        self._wire(exports)
        started = time.time()
        if self.previous is not None:
            log.info(
                "resuming %s: %d runs already done are skipped",
                self.results_dir,
                self.previous.skipped,
            )
        exports.started(self._meta(started, "running", None))
        status, exit_status = "error", EXIT_BAD_INPUT
        restore = self._install_signal_handlers()
        adopted = self._adopt_orphans(True)
        try:
            self._run_all(exports)
            status = "interrupted" if self.interrupted else "finished"
            exit_status = (
                EXIT_INTERRUPTED
                if self.interrupted
                else EXIT_FAILED_RUNS
                if self.ledger.summary.failed
                else EXIT_OK
            )
            return exit_status
        except KeyboardInterrupt:
            status, exit_status = "interrupted", EXIT_INTERRUPTED
            return exit_status
        except PerfchartError as exc:
            exit_status = exc.exit_status
            raise
        finally:
            # From here on a signal only hurries the shutdown: the files must be complete.
            self._finishing = True
            try:
                self._finish(exports, started, status, exit_status)
            finally:
                if adopted:
                    self._adopt_orphans(False)
                restore()

    def _adopt_orphans(self, on: bool) -> bool:
        """A real run is the child subreaper while it runs (Linux): what a command's descendants
        leave behind stays within reach (``channels/process.py``).
        """
        if self.dry_run:
            return False
        from ..channels.process import adopt_orphans

        return adopt_orphans(on)

    def _wire(self, exports: Exports) -> None:
        """Listeners of the ledger (in any order: it calls them in phases) and the bus's other
        subscribers.
        """
        self.ledger.add(self.run_metrics)
        if self.doubts is not None:
            self.ledger.add(self.doubts)
        for exporter in exports.exporters:
            self.ledger.add(exporter)
        if self.ui is not None:
            self.ledger.add(_Shown(self.ui))
        for channel in self.channels:
            if channel.subscribes:  # an empty list is none, not every event
                self.bus.subscribe(channel.handle, *channel.subscribes)
        self.bus.subscribe(self._on_interrupt, InterruptEvent)
        self.bus.subscribe(UnusedParameters(self.config).handle, ParameterUpdateEvent)

    def _run_all(self, exports: Exports) -> None:
        if self.ui is not None:
            self.ui.session_started(self.total_runs)
        self.bus.publish(SessionStartEvent())
        self._tick(0)
        self._session_task("setup")
        self._repetitions(exports)
        self._session_task("teardown")

    def _finish(
        self, exports: Exports, started: float, status: str, exit_status: int | None
    ) -> None:
        """Stop the channels, close the runs still open and complete every file; then tell the
        terminal.
        """
        self._shutdown()
        self.ledger.close_all(self.clock.time, status)
        if self.doubts is not None:
            self.doubts.report()
        exports.finished(self._meta(started, status, exit_status))
        if self.ui is not None:
            summary_files = exports.get(SummaryFiles)
            if summary_files is not None and summary_files.view is not None:
                self.ui.summarized(summary_files.view)
            self.ui.session_finished(self.ledger.summary, self.results_dir, status)

    def _repetitions(self, exports: Exports) -> None:
        for repetition in range(1, self.repetitions + 1):
            if self.interrupted:
                return
            self._session_task("pretest")
            for spec, first in zip(self.config.policies, self.runners, strict=True):
                if self.interrupted:
                    return
                runner = first if repetition == 1 else self._runner(spec, repetition)
                if repetition > 1:
                    self.bus.publish(RestartEvent(policy=runner.name, repetition=repetition))
                    runner.send("restart")
                try:
                    self.drive(runner)
                finally:
                    exports.policy_ended(spec.index, runner)
            self._session_task("posttest")

    def drive(self, runner: PolicyRunner) -> None:
        """Run *runner*'s chart until it reaches a final state (or ignores an interrupt)."""
        self.bus.subscribe(runner.handle)
        if self.ui is not None:
            self.ui.policy_started(runner)
        simulator = self.simulator
        hook = None
        if simulator is not None:
            hook = functools.partial(self._answer, simulator, runner)
            self.loop.idle_hooks.append(hook)
        self.loop.runners.append(runner)
        interrupt_sent: list[bool] = []
        done = functools.partial(self._policy_done, runner, interrupt_sent)
        try:
            self.loop.run_until(done)
        finally:
            self.loop.runners.remove(runner)
            if hook is not None:
                self.loop.idle_hooks.remove(hook)
            runner.cursor.end_run(
                "interrupted" if self.interrupted else None if runner.final else "error"
            )
            self.batch.flush()
            self.bus.dispatch(0.0)
            self.bus.unsubscribe(runner.handle)
            if runner.results:
                self.policy_results.setdefault(runner.name, {}).update(runner.results)

    def _answer(self, simulator: Simulator, runner: PolicyRunner) -> bool:
        """The dry run's idle hook: the simulator's answer, delivered at once as a channel's is."""
        if self.interrupted or not simulator.answer(runner):
            return False
        self.bus.dispatch(0.0)
        return True

    def _policy_done(self, runner: PolicyRunner, interrupt_sent: list[bool]) -> bool:
        """Whether :meth:`drive` is done with *runner*: it ended, or the session is interrupted
        and the chart has had its ``interrupt`` (or was stopped mid-step).
        """
        if runner.final:
            return True
        if self.hurried:
            self.interrupted = True
            return True
        if runner.stopped:
            log.warning("%s: chart code still running after a signal; stopping it", runner.name)
            self.interrupted = True
            return True
        if self.interrupted:
            if not interrupt_sent:
                runner.send("interrupt")
                interrupt_sent.append(True)
            elif not runner.has_work:
                log.warning("%s has no transition for interrupt; stopping it", runner.name)
                return True
        return False

    def _session_task(self, task: str) -> None:
        """Run a session-level task (setup, pretest, ...) and turn the loop until it completes.

        Ticks keep coming meanwhile, and a task that does not complete
        within the stale timeout is reported as stalled (again after each
        further timeout): a ``StalledEvent`` naming the task, and a warning.
        """
        if self.hurried or (self.interrupted and task != "teardown"):
            return
        done: list[Event] = []

        def completed(event: Event) -> None:
            if isinstance(event, RunTaskCompletedEvent) and event.task == task:
                done.append(event)

        watch: Timer | None = None

        def stalled() -> None:
            nonlocal watch
            log.warning("task %s: not complete after %gs", task, self.config.stale_timeout)
            self.bus.publish(StalledEvent(task=task))
            watch = self.timers.call_later(self.config.stale_timeout, stalled)

        self.bus.subscribe(completed, RunTaskCompletedEvent)
        watch = self.timers.call_later(self.config.stale_timeout, stalled)
        try:
            self._start_task(task, ())
            self.loop.run_until(
                lambda: bool(done) or self.hurried or (self.interrupted and task != "teardown")
            )
        finally:
            if watch is not None:
                watch.cancel()
            self.bus.unsubscribe(completed)

    def _tick(self, count: int) -> None:
        """Publish tick *count* and schedule the next: the clock events policies can pace by."""
        if count:
            self.bus.publish(TickEvent(count=count))
        self.timers.call_later(TICK_INTERVAL, lambda: self._tick(count + 1))

    # -- interruption and shutdown ---------------------------------------------

    def interrupt(self) -> None:
        """Ask the session to end cleanly: safe from a signal handler or another thread."""
        self.bus.publish(InterruptEvent())

    def _on_interrupt(self, event: Event) -> None:
        if not self.interrupted:
            log.warning(
                "interrupted: ending the policy and keeping every finished run (again to stop at "
                "once)"
            )
        elif self.hurried and not self._hurry_told:
            self._hurry_told = True
            log.warning("interrupted again: killing every command and stopping now")
        self.interrupted = True

    def _install_signal_handlers(self) -> Callable[[], None]:
        """SIGINT, SIGTERM, SIGHUP, SIGQUIT or another of ENDING_SIGNALS: the first ends the
        policy cleanly, the second stops at once; either way the exit status is 130.

        A chart step still running STOP_GRACE after a signal is stopped between
        two macro steps.

        The second SIGKILLs every process group and ends the charts without
        waiting, but the files are still completed: a handler never raises
        while they are written. Only a third signal raises
        KeyboardInterrupt, to break out of chart code that never returns.
        """
        if threading.current_thread() is not threading.main_thread():
            return lambda: None
        kill_all: Callable[[], None] = _no_processes
        if not self.dry_run:  # a dry run starts no process, nor imports the machinery
            from ..channels.process import kill_all

        signals = 0

        def on_signal(signum: int, frame: Any) -> None:
            nonlocal signals
            signals += 1
            self._signal_at = time.monotonic()
            if signals > 2 and not self._finishing:
                raise KeyboardInterrupt
            if signals == 2:
                self.hurried = True
                kill_all()
            self.interrupt()

        previous = {sig: signal.signal(sig, on_signal) for sig in ENDING_SIGNALS if unhandled(sig)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def _shutdown(self) -> None:
        """Stop every channel and task, then deliver what they published on the way out."""
        self.bus.publish(SessionEndEvent())
        if self.hurried and not self.dry_run:
            from ..channels.process import kill_all

            kill_all()
        try:
            for channel in self.channels:
                channel.close()
            self.tasks.close()
        finally:
            if not self.dry_run:
                from ..channels.process import kill_all

                kill_all()  # what left its run's group and outlived the run
            self.bus.dispatch(0.0)

    def _meta(self, started: float, status: str, exit_status: int | None) -> dict[str, Any]:
        finished = time.time()
        meta = self._session_meta(started, finished, status, exit_status)
        previous = self.previous
        if previous is not None:
            # The first session's start stays; each resume is listed, so the history of the
            # directory is kept.
            meta["started"] = previous.meta.get("started", meta["started"])
            resume = {
                "at": _iso(started),
                "skipped": previous.skipped,
                "forced": previous.forced,
                "config_sha256": self.config.sha256,
            }
            meta["resumes"] = [*previous.meta.get("resumes", []), resume]
        return meta

    def _session_meta(
        self, started: float, finished: float, status: str, exit_status: int | None
    ) -> dict[str, Any]:
        return {
            "perfchart": __version__,
            "title": self.config.title,
            "config": str(self.config.path),
            "config_sha256": self.config.sha256,
            "seed": self.seed,
            "repeat": self.config.repeat,
            "warmup": self.config.warmup,
            "policies": [spec.chart.name for spec in self.config.policies],
            "results": self.policy_results,
            "definitions": self.config.definitions,
            "meta": self.config.meta,
            "metrics": [metric_meta(spec) for spec in with_duration(self.config.metrics)],
            "status": status,
            "exit_status": exit_status,
            "started": _iso(started),
            "finished": _iso(finished) if status != "running" else None,
            "elapsed": round(finished - started, 6),
            "versions": _versions(),
            "dry_run": self.dry_run,
            **self._counts(),
        }

    def _counts(self) -> dict[str, Any]:
        summary = self.ledger.summary
        return {
            "runs": summary.runs,
            "ok": summary.ok,
            "by_status": {status: stats.count for status, stats in summary.by_status.items()},
        }


class _Shown(RunListener):
    """The terminal's view of the runs: each one as it opens and closes."""

    def __init__(self, ui: SessionUI) -> None:
        self.ui = ui

    def opened(self, record: Record) -> None:
        self.ui.run_opened(record)

    def closed(self, record: Record) -> None:
        self.ui.run_closed(record)


def _no_processes() -> None:
    """What a dry run's second signal kills: nothing, since it started no process."""


def _simulated_now() -> SimulatedClock:
    """A simulated clock that starts at the wall time, so a dry
    run's times read like a real run's.
    """
    clock = SimulatedClock()
    clock.time = time.time()
    return clock


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


@functools.cache
def _versions() -> Mapping[str, str]:
    """Looked up once per process: each lookup reads package metadata, and meta.json is written at
    start and end.
    """
    found = {"python": sys.version.split()[0]}  # as platform.python_version() has it
    for package in ("perfchart", "sismic", "pyyaml", "rich", "simpleeval", "jsonschema"):
        found[package] = installed_version(package) or "unknown"
    return found
