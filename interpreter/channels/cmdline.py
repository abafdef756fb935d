"""A channel that applies parameters by running a command.

Each parameter update that touches a macro of the command starts a new run
carrying the update's trace, after the previous run has been killed and has
reported its exit: a run that holds a port or a file is gone before the next
one starts, and the events of one run never interleave with the next's.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..config import LocatedDict, load_schema
from ..core import Event, LogLineEvent, OutcomeEvent, ParameterUpdateEvent, parse_duration
from .base import Channel, ChannelContext, Simulation, acts_on
from .commands import Command, CommandTemplate, config_error, read_bool
from .whatif import WhatIf

if TYPE_CHECKING:
    from .process import ChildProcess


def _at(block: Mapping[str, Any], values: dict[str, Any], key: str) -> Mapping[str, Any]:
    """*values* as a block written where *block*'s *key* is, so its errors point there."""
    if not isinstance(block, LocatedDict):
        return values
    out = LocatedDict(values, file=block.file, line=block.line, path=block.path)
    out.lines = {name: block.line_of(name if name in block else key) or 0 for name in values}
    return out


#: Seconds between SIGTERM and SIGKILL by default: ``process.KILL_GRACE``, which this module must
#: not import (loading a configuration never imports the process machinery).
DEFAULT_GRACE = 2.0

#: ``ru_maxrss`` is in KiB on Linux and the BSDs, in bytes on macOS.
_RSS_UNIT = 1 if sys.platform == "darwin" else 1024

#: What every command run records with no tracker configured (see Channel.metrics): each
#: process's CPU times and peak memory, summed (peak: the largest) over the run's processes.
CMDLINE_METRICS: tuple[dict[str, Any], ...] = (
    {
        "name": "cpu_user",
        "units": "s",
        "desc": "user CPU time of the run's processes",
        "aggregate": "sum",
        "summarize_over": "runs",
        "event": "CmdlineExitEvent[cpu_user>=0]",
        "attrib": "cpu_user",
    },
    {
        "name": "cpu_system",
        "units": "s",
        "desc": "system CPU time of the run's processes",
        "aggregate": "sum",
        "summarize_over": "runs",
        "event": "CmdlineExitEvent[cpu_system>=0]",
        "attrib": "cpu_system",
    },
    {
        "name": "max_rss",
        "units": "MiB",
        "desc": "peak resident memory of the run's largest process",
        "aggregate": "max",
        "summarize_over": "runs",
        "event": "CmdlineExitEvent[max_rss>=0]",
        "eval": "max_rss / 1048576",
    },
)

#: A restarted command that ran shorter than this (seconds) counts as crashing.
QUICK_EXIT = 1.0
#: First wait before restarting a crashing command; it doubles each crash, up to MAX_BACKOFF.
RESTART_BACKOFF = 0.1
MAX_BACKOFF = 5.0


@dataclass(eq=False, kw_only=True, repr=False)
class CmdlineStartedEvent(Event):
    """A command was launched: its ``pid`` and ``argv`` (as executed); ``source`` is the channel."""

    pid: int | None
    argv: list[str]
    source: str


@dataclass(eq=False, kw_only=True, repr=False)
class CmdlineExitEvent(OutcomeEvent):
    """A command ended, after all its output.

    ``exitcode`` is negative (the signal number) when it was killed, and
    ``timedout`` says its timeout killed it. As an outcome, its ``code`` is
    the exit code and it is ``ok`` when that is 0. ``cpu_user`` and
    ``cpu_system`` are the CPU seconds the command and the descendants it
    waited for used, ``max_rss`` the largest resident set of any of them in
    bytes, all from ``os.wait4``; None when the command never ran (or in a
    dry run).
    """

    exitcode: int
    cpu_user: float | None = None
    cpu_system: float | None = None
    max_rss: int | None = None

    def __post_init__(self) -> None:
        super().__post_init__()
        self.code = self.exitcode
        self.ok = self.exitcode == 0


@dataclass(eq=False, kw_only=True, repr=False)
class CmdlineExitZeroEvent(CmdlineExitEvent):
    """A command ended with exit code 0."""


@dataclass(eq=False, kw_only=True, repr=False)
class CmdlineExitNonzeroEvent(CmdlineExitEvent):
    """A command failed, was killed, timed out or could not be launched."""


@dataclass(eq=False)
class _Run:
    """One wanted run: the rendered command, the trace it belongs to and the values it was
    rendered with (``teardown`` reads them too).
    """

    command: Command
    traceids: frozenset[int]
    values: Mapping[str, Any] = field(default_factory=dict)
    quick_exits: int = 0
    relaunch: threading.Timer | None = None

    def cancel_relaunch(self) -> None:
        if self.relaunch is not None:
            self.relaunch.cancel()
            self.relaunch = None


def _refused(command: CommandTemplate, values: Mapping[str, Any]) -> str | None:
    """What a real run would say when it refuses to start the command with *values*, or None.

    Only arithmetic in a shell script refuses a value, so other commands are not rendered.
    """
    if command.script is None or not command.script.arithmetic:
        return None
    rendered = command.render(values)
    if rendered.refused is None:
        return None
    return f"cannot run {rendered.argv[0]}: {rendered.refused}"


class CmdlineChannel(Channel):
    """Runs ``cmdline`` whenever a parameter it uses changes.

    The context's *defaults* are the parameter values an ``atstart`` run
    uses. Macros that nothing can fill are rejected when the configuration
    loads.
    """

    names = ("channel.CmdlineChannel", "CmdlineChannel", "cmdline")
    schema = load_schema("cmdline-channel")
    events = (CmdlineStartedEvent, CmdlineExitZeroEvent, CmdlineExitNonzeroEvent, LogLineEvent)
    metrics = CMDLINE_METRICS

    @classmethod
    def check(cls, block: Mapping[str, Any]) -> None:
        cls._settings(block)
        cls._stopping(block)

    @staticmethod
    def _stopping(
        block: Mapping[str, Any],
    ) -> tuple[CommandTemplate | None, float, dict[str, str]]:
        """How a run is stopped and shown: the ``teardown`` command (a shell command, as in the
        original), ``gracePeriod`` in seconds, and ``kind``'s stream names.
        """
        teardown = None
        if "teardown" in block:
            keys = ("cwd", "env", "timeout")
            fields = {key: block[key] for key in keys if key in block}
            shell = block.get("shell")
            fields["shell"] = shell if isinstance(shell, str) else True
            teardown = CommandTemplate(
                _at(block, {**fields, "cmdline": block["teardown"]}, "teardown")
            )
        grace = DEFAULT_GRACE
        if "gracePeriod" in block:
            try:
                grace = parse_duration(block["gracePeriod"])
            except ValueError as exc:
                raise config_error(block, "gracePeriod", str(exc)) from None
        return teardown, grace, dict(block.get("kind") or {})

    @staticmethod
    def _settings(block: Mapping[str, Any]) -> tuple[CommandTemplate, bool, bool]:
        """The command, ``atstart`` and ``restart``; ConfigError
        naming the key when one is wrong.
        """
        command = CommandTemplate(block)
        atstart = read_bool(block, "atstart")
        if "restart" in block and "relaunch" in block:
            raise config_error(
                block, "relaunch", "relaunch is the former name of restart; give only restart"
            )
        return command, atstart, read_bool(block, "relaunch" if "relaunch" in block else "restart")

    def __init__(self, block: Mapping[str, Any], context: ChannelContext) -> None:
        super().__init__(block, context)
        self.bus = context.bus
        self.command, self.atstart, self.restart = self._settings(block)
        self.teardown, self.grace, self.streams = self._stopping(block)
        self._lock = threading.Lock()
        self._closed = False
        #: The latest run asked for; it may still wait for the active process to end.
        self._current: _Run | None = None
        #: The process whose exit has not been handled yet; at most one at a time.
        self._active: ChildProcess | None = None
        self._processes: list[ChildProcess] = []

    def start(self) -> None:
        if self.atstart:
            self._run({**self.context.definitions, **self.context.defaults}, ())

    @classmethod
    def simulation(cls, block: Mapping[str, Any], context: ChannelContext) -> Simulation | None:
        """With a ``simulate:`` block, a dry run's commands start at once and print and exit as it
        says.

        Without one the channel publishes nothing in a dry run and the simulator answers the policy.
        """
        if "simulate" not in block:
            return None
        command, _, _ = cls._settings(block)
        what_if = WhatIf(block["simulate"], context.definitions)
        source = context.name

        def simulate(update: ParameterUpdateEvent) -> Iterator[tuple[float, Event]]:
            if not acts_on(command.macros, update):
                return
            traceids = frozenset(update.traceids)
            refused = _refused(command, {**context.definitions, **update.parameters})
            if refused is not None:
                # As a real run: the command is not started, and the run fails saying why.
                why = LogLineEvent(line=refused, stream="stderr", source=source, traceids=traceids)
                yield 0.0, why
                yield 0.0, CmdlineExitNonzeroEvent(exitcode=127, source=source, traceids=traceids)
                return
            outcome = what_if.outcome(update.parameters)
            yield (
                0.0,
                CmdlineStartedEvent(
                    pid=None, argv=[command.cmdline], source=source, traceids=traceids
                ),
            )
            for line in outcome.lines:
                yield outcome.seconds, LogLineEvent(line=line, source=source, traceids=traceids)
            exit_class = CmdlineExitZeroEvent if outcome.exitcode == 0 else CmdlineExitNonzeroEvent
            yield (
                outcome.seconds,
                exit_class(exitcode=outcome.exitcode, source=source, traceids=traceids),
            )

        return simulate

    def apply(self, update: ParameterUpdateEvent) -> None:
        """Run the command for *update* when it sets a macro the command uses, or starts a run and
        the command uses no parameter (``acts_on``)."""
        if acts_on(self.command.macros, update):
            self._run({**self.context.definitions, **update.parameters}, update.traceids)

    def close(self) -> None:
        """End every process group a run started and wait until each exit is reported; nothing
        starts after.
        """
        from .process import stop_all

        with self._lock:
            self._closed = True
            if self._current is not None:
                self._current.cancel_relaunch()
            processes = list(self._processes)
        if any(not process.finished for process in processes):
            self._tear_down(self._current)
        stop_all(processes, self.grace)

    def _tear_down(self, run: _Run | None) -> None:
        """Run ``teardown`` to its end, if there is one, with the values of the *run* it stops: the
        original ran it before it signalled the command, so that the command can stop its own way.
        """
        if self.teardown is None:
            return
        from .process import ChildProcess

        values = {**self.context.definitions, **(run.values if run is not None else {})}
        process = ChildProcess(
            self.teardown.render(values),
            self.bus,
            source=f"{self.name}:teardown",
            grace=self.grace,
        )
        process.start()
        process.join()

    def _run(self, values: Mapping[str, Any], traceids: Iterable[int]) -> None:
        run = _Run(self.command.render(values), frozenset(traceids), values)
        with self._lock:
            if self._closed:
                return
            previous, self._current = self._current, run
            if previous is not None:
                previous.cancel_relaunch()
            if self._active is not None:
                self._tear_down(previous)
                self._active.kill()
                return
            self._launch(run)

    def _launch(self, run: _Run) -> None:
        """Start *run*; called with the lock held."""
        from .process import ChildProcess  # only real runs need the process machinery

        process = ChildProcess(
            run.command,
            self.bus,
            source=self.name,
            traceids=run.traceids,
            on_start=self._started,
            on_exit=lambda process: self._exited(run, process),
            grace=self.grace,
            streams=self.streams,
        )
        self._active = process
        # The runs before this one are over: what they left running goes too.
        for previous in self._processes:
            if previous.finished:
                previous.kill()
        self._processes = [p for p in self._processes if not p.finished or p.group_alive()]
        self._processes.append(process)
        process.start()

    def _started(self, process: ChildProcess) -> None:
        self.bus.publish(
            CmdlineStartedEvent(
                pid=process.pid,
                argv=process.command.argv,
                source=self.name,
                traceids=process.traceids,
            )
        )

    def _exited(self, run: _Run, process: ChildProcess) -> None:
        """Report the exit, then start what waited for it or restart the same run.

        The exit is stamped with the moment it was noticed, not the moment it was published
        after the output was drained, so a run's duration ends where the command did.

        The exit is published and the channel freed under one lock: a policy
        that answers the exit with the next update finds the channel free and
        starts that run itself, instead of killing a finished process and
        leaving the start to the watcher thread.
        """
        assert process.returncode is not None
        exit_class = CmdlineExitZeroEvent if process.returncode == 0 else CmdlineExitNonzeroEvent
        usage = process.rusage
        with self._lock:
            self.bus.publish(
                exit_class(
                    exitcode=process.returncode,
                    timedout=process.timedout,
                    cpu_user=usage.ru_utime if usage else None,
                    cpu_system=usage.ru_stime if usage else None,
                    max_rss=usage.ru_maxrss * _RSS_UNIT if usage else None,
                    source=self.name,
                    traceids=process.traceids,
                ),
                process.exited_at,
            )
            self._active = None
            current = self._current
            if self._closed or current is None:
                return
            if current is not run:
                self._launch(current)
            elif self.restart and not (
                process.killed or process.timedout or process.error is not None
            ):
                delay = self._backoff(run, process)
                if delay:
                    run.relaunch = threading.Timer(delay, self._relaunch, (run,))
                    run.relaunch.daemon = True
                    run.relaunch.start()
                else:
                    self._launch(run)

    @staticmethod
    def _backoff(run: _Run, process: ChildProcess) -> float:
        """No wait after a run that lasted; a growing one while the command keeps crashing."""
        if (process.duration or 0.0) >= QUICK_EXIT:
            run.quick_exits = 0
            return 0.0
        run.quick_exits += 1
        return min(RESTART_BACKOFF * 2 ** (run.quick_exits - 1), MAX_BACKOFF)

    def _relaunch(self, run: _Run) -> None:
        with self._lock:
            if not self._closed and self._current is run and self._active is None:
                run.relaunch = None
                self._launch(run)
