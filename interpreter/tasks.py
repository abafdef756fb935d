"""Named tasks: commands a policy runs at fixed points (setup, between tests, ...).

A task name selects every entry whose ``at`` or ``name`` equals it; they run
one after another in config order, on their own threads, and one
``RunTaskCompletedEvent`` reports them all, so the policy that asked waits
on a single event whatever the config holds.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .bus import EventBus
from .commands import CommandTemplate, check_keys, config_error
from .errors import ConfigError
from .events import RunTaskCompletedEvent
from .process import ChildProcess, Command

#: The points of a session where the runtime itself runs tasks; ``at`` may also name others.
STANDARD_POINTS = ("setup", "pretest", "intertest", "posttest", "teardown")


@dataclass(frozen=True)
class _Entry:
    names: frozenset[str]
    command: CommandTemplate


@dataclass(eq=False)
class _Sequence:
    """One ``run()``: its commands and the exit codes of those done so far."""

    task: str
    commands: list[Command]
    traceids: frozenset[int]
    exitcodes: list[int] = field(default_factory=list)


class TaskRunner:
    """Validates the ``tasks:`` list once and runs its entries on request."""

    KEYS = frozenset({"name", "at"}) | (CommandTemplate.KEYS - {"stdin"})

    def __init__(self, entries: Sequence[Mapping[str, Any]], bus: EventBus, definitions: Mapping[str, Any]) -> None:
        if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
            raise ConfigError(f"expected a list of tasks, got {entries!r}", key="tasks")
        self.bus = bus
        self.definitions = dict(definitions)
        self._entries = [self._entry(entries, index, entry) for index, entry in enumerate(entries)]
        self._lock = threading.Lock()
        self._closed = False
        self._running: set[ChildProcess] = set()

    @staticmethod
    def _entry(entries: Sequence[Any], index: int, entry: Any) -> _Entry:
        if not isinstance(entry, Mapping):
            raise config_error(entries, index, f"expected a task (a mapping with at: and cmdline:), got {entry!r}")
        check_keys(entry, TaskRunner.KEYS, "a task")
        names = set()
        for key in ("name", "at"):
            value = entry.get(key)
            if value is not None:
                if not isinstance(value, str) or not value.strip():
                    raise config_error(entry, key, f"expected a task name such as {', '.join(STANDARD_POINTS)}, got {value!r}")
                names.add(value)
        if not names:
            raise config_error(entry, "at", f"missing: when the task runs ({', '.join(STANDARD_POINTS)} or a name of your own), or a name:")
        return _Entry(frozenset(names), CommandTemplate(entry))

    def run(self, task: str, traceids: Iterable[int] = (), parameters: Mapping[str, Any] | None = None) -> None:
        """Start the entries of *task* and return at once.

        Macros are rendered from the definitions overlaid with *parameters*
        before anything starts, so a macro without a value raises ConfigError
        here. A task without entries completes at once. A closed runner runs
        nothing.
        """
        values = {**self.definitions, **(parameters or {})}
        commands = [entry.command.render(values) for entry in self._entries if task in entry.names]
        sequence = _Sequence(task, commands, frozenset(traceids))
        with self._lock:
            if self._closed:
                return
            if commands:
                self._start(sequence)
                return
        self._complete(sequence)

    def close(self) -> None:
        """Kill what runs and wait for it; sequences stop without completing."""
        with self._lock:
            self._closed = True
            running = list(self._running)
        for process in running:
            process.kill()
        for process in running:
            process.join()

    def _start(self, sequence: _Sequence) -> None:
        """Start the next command of *sequence*; called with the lock held."""
        process = ChildProcess(
            sequence.commands[len(sequence.exitcodes)],
            self.bus,
            source=f"task:{sequence.task}",
            traceids=sequence.traceids,
            on_exit=lambda process: self._exited(sequence, process),
        )
        self._running.add(process)
        process.start()

    def _exited(self, sequence: _Sequence, process: ChildProcess) -> None:
        assert process.returncode is not None
        with self._lock:
            self._running.discard(process)
            sequence.exitcodes.append(process.returncode)
            if self._closed:
                return
            if len(sequence.exitcodes) < len(sequence.commands):
                self._start(sequence)
                return
        self._complete(sequence)

    def _complete(self, sequence: _Sequence) -> None:
        self.bus.publish(RunTaskCompletedEvent(task=sequence.task, exitcodes=list(sequence.exitcodes), traceids=sequence.traceids))
