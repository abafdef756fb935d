"""A session: every policy of a test configuration, run to its end on one thread.

The session owns the bus, the clock, the parameter batch, the channels, the
tasks and the results. Its loop steps the active statechart, delivers bus
events, and otherwise sleeps until the next deadline (a timer, a time guard
or the stale timeout). Under the simulated clock it jumps to that deadline
instead, which is how dry runs and tests cover hours in milliseconds.
"""

from __future__ import annotations

import logging
import platform
import secrets
import signal
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any, Protocol

from sismic.clock import SimulatedClock, UtcClock

from . import __version__
from .bus import EventBus
from .channels.cmdline import CmdlineChannel
from .channels.simulator import Simulator
from .config import PolicySpec, TestConfig
from .errors import PerfchartError
from .events import (
    Event,
    InterruptEvent,
    ParameterUpdateEvent,
    RestartEvent,
    RunTaskCompletedEvent,
    RunTaskEvent,
    SessionEndEvent,
    SessionStartEvent,
    TickEvent,
)
from .parameters import ParameterBatch
from .results import Results, Summary
from .runner import PolicyRunner
from .tasks import TaskRunner
from .timers import Timers

log = logging.getLogger("perfchart")

EXIT_OK, EXIT_FAILED_RUNS, EXIT_BAD_INPUT, EXIT_INTERRUPTED = 0, 1, 2, 130

#: Seconds between TickEvents on the session clock (simulated in dry runs and tests).
TICK_INTERVAL = 1.0


class SessionUI(Protocol):
    """What the session tells the terminal; ``interpreter.ui`` implements it."""

    def session_started(self, total: int | None) -> None: ...
    def policy_started(self, runner: PolicyRunner) -> None: ...
    def run_opened(self, record: dict[str, Any]) -> None: ...
    def run_closed(self, record: dict[str, Any]) -> None: ...
    def session_finished(self, summary: Summary, results: Path, status: str) -> None: ...


class Session:
    def __init__(
        self,
        config: TestConfig,
        *,
        results_dir: Path,
        dry_run: bool = False,
        seed: int | None = None,
        clock: Any = None,
        ui: SessionUI | None = None,
    ) -> None:
        """Build everything and pre-flight every policy, so bad input fails before any run."""
        self.config = config
        self.results_dir = results_dir
        self.dry_run = dry_run
        self.seed = seed if seed is not None else config.seed if config.seed is not None else secrets.randbelow(2**31)
        self.clock = clock if clock is not None else SimulatedClock() if dry_run else UtcClock()
        self.timers = Timers(self.clock)
        self.bus = EventBus()
        self.batch = ParameterBatch(self.bus, config.parameter_defaults())
        self.ui = ui
        self.interrupted = False
        self.results: Results | None = None
        self.channels: list[CmdlineChannel] = []
        self.tasks: TaskRunner | None = None
        self.simulator: Simulator | None = None
        if dry_run:
            self.simulator = Simulator(self.bus)
        else:
            defaults = config.parameter_defaults()
            self.channels = [
                CmdlineChannel(spec.config, self.bus, config.definitions, name=f"channels[{spec.index}]", defaults=defaults)
                for spec in config.channels
            ]
            self.tasks = TaskRunner(config.tasks, self.bus, config.definitions)
        self.runners = [self._runner(spec, 1) for spec in config.policies]

    # -- building --------------------------------------------------------------

    def _runner(self, spec: PolicySpec, repetition: int) -> PolicyRunner:
        return PolicyRunner(
            spec.chart,
            spec.config,
            bus=self.bus,
            batch=self.batch,
            clock=self.clock,
            timers=self.timers,
            definitions=self.config.definitions,
            seed=self.seed,
            repetition=repetition,
            stale_timeout=self.config.stale_timeout,
            run_task=self._start_task,
        )

    def _start_task(self, task: str, traceids: Iterable[int]) -> None:
        self.bus.publish(RunTaskEvent(traceids=traceids, task=task))
        if self.simulator is not None:
            self.simulator.run_task(task, traceids)
        elif self.tasks is not None:
            self.tasks.run(task, traceids, self.batch.current)

    @property
    def total_runs(self) -> int | None:
        """Runs the whole session will make, when every policy announced its total."""
        totals = [runner.total for runner in self.runners]
        if any(total is None for total in totals):
            return None
        return sum(totals) * self.config.repeat  # type: ignore[arg-type]

    # -- running ---------------------------------------------------------------

    def run(self) -> int:
        """Run every policy; return the exit status. Finished runs are on disk whatever happens."""
        self.results = results = Results(self.results_dir, dry_run=self.dry_run)
        if self.ui is not None:
            results.on_open.append(self.ui.run_opened)
            results.on_close.append(self.ui.run_closed)
        self.bus.subscribe(results.handle, *Results.event_classes)
        for channel in self.channels:
            self.bus.subscribe(channel.handle, ParameterUpdateEvent, SessionStartEvent, SessionEndEvent)
        self.bus.subscribe(self._on_interrupt, InterruptEvent)
        started = time.time()
        results.write_meta(self._meta(started, "running", None))
        status, exit_status = "error", EXIT_BAD_INPUT
        restore = self._install_signal_handlers()
        try:
            if self.ui is not None:
                self.ui.session_started(self.total_runs)
            self.bus.publish(SessionStartEvent())
            self._tick(0)
            self._session_task("setup")
            self._repetitions()
            self._session_task("teardown")
            status = "interrupted" if self.interrupted else "finished"
            if self.interrupted:
                exit_status = EXIT_INTERRUPTED
            else:
                exit_status = EXIT_FAILED_RUNS if results.summary.failed else EXIT_OK
            return exit_status
        except KeyboardInterrupt:
            status, exit_status = "interrupted", EXIT_INTERRUPTED
            return exit_status
        except PerfchartError as exc:
            exit_status = exc.exit_status
            raise
        finally:
            restore()
            self._shutdown()
            results.close_all(time.time(), status)
            results.finish(self._meta(started, status, exit_status))
            if self.ui is not None:
                self.ui.session_finished(results.summary, self.results_dir, status)

    def _repetitions(self) -> None:
        for repetition in range(1, self.config.repeat + 1):
            if self.interrupted:
                return
            self._session_task("pretest")
            for spec, first in zip(self.config.policies, self.runners):
                if self.interrupted:
                    return
                runner = first if repetition == 1 else self._runner(spec, repetition)
                if repetition > 1:
                    self.bus.publish(RestartEvent(policy=runner.name, repetition=repetition))
                    runner.send("restart")
                self.drive(runner)
            self._session_task("posttest")

    def drive(self, runner: PolicyRunner) -> None:
        """Run *runner*'s chart until it reaches a final state (or ignores an interrupt)."""
        self.bus.subscribe(runner.handle)
        if self.ui is not None:
            self.ui.policy_started(runner)
        interrupt_sent = False
        try:
            runner.step()
            while not runner.final:
                if self.interrupted:
                    if interrupt_sent and not runner.has_work:
                        log.warning("%s has no transition for interrupt; stopping it", runner.name)
                        return
                    if not interrupt_sent:
                        runner.send("interrupt")
                        interrupt_sent = True
                self.timers.run_due()
                runner.check_stale()
                due = runner.evaluator.deadline
                if runner.has_work or (due is not None and self.clock.time >= due):
                    runner.step()
                elif not self.bus.dispatch(0.0):
                    self._idle(runner)
        finally:
            if runner.trace is not None:
                ended = "interrupted" if self.interrupted else None if runner.final else "error"
                self.batch.end_run(runner.trace, ended)
                self.batch.flush()
            self.bus.dispatch(0.0)
            self.bus.unsubscribe(runner.handle)

    def _idle(self, runner: PolicyRunner) -> None:
        """Nothing to do now: wait for an event or the next deadline, or let the simulator answer."""
        if self.simulator is not None and not self.interrupted and self.simulator.answer(runner):
            return
        deadline = _earliest(self.timers.next_deadline(), runner.deadline())
        if isinstance(self.clock, SimulatedClock):
            if deadline is not None and deadline > self.clock.time:
                self.clock.time = deadline
            return
        timeout = None if deadline is None else max(0.0, deadline - self.clock.time)
        self.bus.dispatch(timeout)

    def _session_task(self, task: str) -> None:
        """Run a session-level task (setup, pretest, ...) and wait for it to complete."""
        if self.interrupted and task != "teardown":
            return
        done: list[Event] = []

        def completed(event: Event) -> None:
            if getattr(event, "task", None) == task:
                done.append(event)

        self.bus.subscribe(completed, RunTaskCompletedEvent)
        try:
            self._start_task(task, ())
            while not done and not (self.interrupted and task != "teardown"):
                self.bus.dispatch(None if self.simulator is None else 0.0)
        finally:
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
            log.warning("interrupted: ending the policy and keeping every finished run")
        self.interrupted = True

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def on_signal(signum: int, frame: Any) -> None:
            if self.interrupted:
                raise KeyboardInterrupt
            self.interrupted = True
            self.interrupt()

        previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}

        def restore() -> None:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

        return restore

    def _shutdown(self) -> None:
        self.bus.publish(SessionEndEvent())
        try:
            self.bus.dispatch(0.0)
        finally:
            for channel in self.channels:
                channel.close()
            if self.tasks is not None:
                self.tasks.close()

    def _meta(self, started: float, status: str, exit_status: int | None) -> dict[str, Any]:
        finished = time.time()
        return {
            "perfchart": __version__,
            "title": self.config.title,
            "config": str(self.config.path),
            "config_sha256": self.config.sha256,
            "seed": self.seed,
            "repeat": self.config.repeat,
            "policies": [spec.chart.name for spec in self.config.policies],
            "definitions": self.config.definitions,
            "meta": self.config.meta,
            "status": status,
            "exit_status": exit_status,
            "started": _iso(started),
            "finished": _iso(finished) if status != "running" else None,
            "elapsed": round(finished - started, 6),
            "versions": _versions(),
        }


def _earliest(*deadlines: float | None) -> float | None:
    present = [d for d in deadlines if d is not None]
    return min(present) if present else None


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="seconds")


def _versions() -> Mapping[str, str]:
    found = {"python": platform.python_version()}
    for package in ("perfchart", "sismic", "pyyaml", "rich", "simpleeval", "jsonschema"):
        try:
            found[package] = version(package)
        except PackageNotFoundError:
            found[package] = "unknown"
    return found
