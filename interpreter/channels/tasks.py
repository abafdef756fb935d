"""Named tasks: commands a policy runs at fixed points (setup, between tests, ...).

A task name selects every entry whose ``at`` or ``name`` equals it; they run
one after another in config order, on their own threads, and one
``RunTaskCompletedEvent`` reports them all, so the policy that asked waits
on a single event whatever the config holds.
"""

from __future__ import annotations

import shlex
import sys
import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from ..config import LocatedDict, load_schema, validate
from ..core import EventBus, RunTaskCompletedEvent, original_class, parse_duration, unimplemented
from ..errors import ConfigError, ConfigErrors
from .commands import Command, CommandTemplate, config_error

if TYPE_CHECKING:
    from .process import ChildProcess

#: The points of a session where the runtime itself runs tasks; ``at`` may also name others.
STANDARD_POINTS = ("setup", "pretest", "intertest", "posttest", "teardown")


class Renders(Protocol):
    """What a task runs: its entry, and the command it amounts to with a task's values."""

    config: Mapping[str, Any]

    def render(self, values: Mapping[str, Any]) -> Command: ...


class TaskSpec(NamedTuple):
    """One checked ``tasks:`` entry: the names it answers to and its command."""

    names: frozenset[str]
    command: Renders


def task_specs(entries: Any) -> list[TaskSpec]:
    """Check the ``tasks:`` list against the task schema and beyond; ConfigError naming the entry
    and key.
    """
    if isinstance(entries, (str, bytes)) or not isinstance(entries, Sequence):
        raise ConfigError(f"expected a list of tasks, got {entries!r}", key="tasks")
    schema = load_schema("task")
    errors: list[ConfigError] = []
    specs: list[TaskSpec] = []
    for index, entry in enumerate(entries):
        try:
            specs.append(_checked(entries, index, entry, schema))
        except ConfigError as exc:
            errors.append(exc)
    if errors:
        raise ConfigErrors(errors)
    return specs


def _checked(entries: Any, index: int, entry: Any, schema: Mapping[str, Any]) -> TaskSpec:
    """One entry of ``tasks:``, checked."""
    if not isinstance(entry, Mapping):
        raise config_error(
            entries, index, f"expected a task (a mapping with at: and cmdline:), got {entry!r}"
        )
    if "class" in entry:
        original = original_class("task", entry["class"])
        if original is not None and original.name == "tasks.http.Request":
            from .httptask import HTTPRequestCommand  # only an original HTTP task needs it

            return _task_spec(entry, HTTPRequestCommand(entry))
        entry = _original_task(entry)
    validate(entry, schema, default_key=f"[{index}]")
    return _task_spec(entry)


#: What ``tasks.delay.Delay`` runs: a sleep that needs nothing but the Python running perfchart.
SLEEP = "import sys, time; time.sleep(float(sys.argv[1]))"


def _original_task(entry: Mapping[str, Any]) -> Mapping[str, Any]:
    """A task of the original's ``tasks.exec.Run`` or ``tasks.delay.Delay`` as the command entry
    it amounts to; any other ``class:`` is refused by name.
    """
    original = original_class("task", entry["class"])
    if original is None or not original.implemented:
        raise config_error(entry, "class", _task_class_message(entry["class"]))
    if original.name == "tasks.exec.Run":
        return _copy(entry, {k: v for k, v in entry.items() if k != "class"})
    extra = sorted(set(entry) - {"class", "at", "name", "delay"})
    if extra:
        raise config_error(
            entry, extra[0], f"unknown key {extra[0]!r} (tasks.delay.Delay has at, name and delay)"
        )
    if "delay" not in entry:
        raise config_error(entry, "class", "missing key 'delay': how long to pause, such as 1.5s")
    try:
        seconds = parse_duration(entry["delay"])
    except (TypeError, ValueError) as exc:
        raise config_error(
            entry, "delay", f"{exc} (a duration such as 1.5s, written out)"
        ) from None
    command = " ".join(shlex.quote(word) for word in (sys.executable, "-c", SLEEP, f"{seconds:g}"))
    kept = {k: v for k, v in entry.items() if k in ("at", "name")}
    return _copy(entry, {**kept, "cmdline": command})


def _copy(entry: Mapping[str, Any], values: dict[str, Any]) -> Mapping[str, Any]:
    """*values* where *entry* was written, so errors and relative paths still point there."""
    if not isinstance(entry, LocatedDict):
        return values
    out = LocatedDict(values, file=entry.file, line=entry.line, path=entry.path)
    out.lines = {key: entry.line_of(key if key in entry else "class") or 0 for key in values}
    return out


def _task_class_message(name: Any) -> str:
    """Why a task's ``class:`` is refused: perfchart's tasks are commands, the original's were
    classes.
    """
    original = unimplemented("task", name)
    if original is not None:
        return original.refusal()
    return (
        f"unknown task class {name!r}: a perfchart task is a command (cmdline:), and no task "
        "class of the original driver is called so"
    )


def _task_spec(entry: Mapping[str, Any], command: Renders | None = None) -> TaskSpec:
    names = set()
    for key in ("name", "at"):
        value = entry.get(key)
        if value is not None:
            if not value.strip():
                raise config_error(
                    entry,
                    key,
                    f"expected a task name such as {', '.join(STANDARD_POINTS)}, got {value!r}",
                )
            names.add(value)
    if not names:
        raise config_error(
            entry,
            "at",
            f"missing: when the task runs ({', '.join(STANDARD_POINTS)} or a name of your own), or "
            "a name:",
        )
    return TaskSpec(frozenset(names), command or CommandTemplate(entry))


class _Sequence:
    """One ``run()``: its commands and the exit codes of those done so far."""

    __slots__ = ("task", "commands", "traceids", "exitcodes")

    def __init__(self, task: str, commands: list[Command], traceids: frozenset[int]) -> None:
        self.task, self.commands, self.traceids = task, commands, traceids
        self.exitcodes: list[int] = []


class TaskRunner:
    """Runs the checked ``tasks:`` entries on request."""

    def __init__(
        self, specs: Sequence[TaskSpec], bus: EventBus, definitions: Mapping[str, Any]
    ) -> None:
        self.bus = bus
        self.definitions = dict(definitions)
        self._specs = list(specs)
        self._lock = threading.Lock()
        self._closed = False
        #: Every process started, until its process group is seen empty: a task may leave a server
        #: running until the session ends.
        self._started: list[ChildProcess] = []

    def run(
        self, task: str, traceids: Iterable[int] = (), parameters: Mapping[str, Any] | None = None
    ) -> None:
        """Start the entries of *task* and return at once.

        Macros are rendered from the definitions overlaid with *parameters*
        before anything starts, so a macro without a value raises ConfigError
        here. A task without entries completes at once. A closed runner runs
        nothing.
        """
        values = {**self.definitions, **(parameters or {})}
        commands = [spec.command.render(values) for spec in self._specs if task in spec.names]
        sequence = _Sequence(task, commands, frozenset(traceids))
        with self._lock:
            if self._closed:
                return
            if commands:
                self._start(sequence)
                return
        self._complete(sequence)

    def close(self) -> None:
        """End what runs and what finished tasks left running, and wait; sequences stop without
        completing.
        """
        from .process import stop_all

        with self._lock:
            self._closed = True
            started = list(self._started)
        stop_all(started)

    def _start(self, sequence: _Sequence) -> None:
        """Start the next command of *sequence*; called with the lock held."""
        from .process import ChildProcess  # only real runs need the process machinery

        process = ChildProcess(
            sequence.commands[len(sequence.exitcodes)],
            self.bus,
            source=f"task:{sequence.task}",
            traceids=sequence.traceids,
            on_exit=lambda process: self._exited(sequence, process),
        )
        self._started = [p for p in self._started if not p.finished or p.group_alive()]
        self._started.append(process)
        process.start()

    def _exited(self, sequence: _Sequence, process: ChildProcess) -> None:
        assert process.returncode is not None
        with self._lock:
            sequence.exitcodes.append(process.returncode)
            if self._closed:
                return
            if len(sequence.exitcodes) < len(sequence.commands):
                self._start(sequence)
                return
        self._complete(sequence)

    def _complete(self, sequence: _Sequence) -> None:
        self.bus.publish(
            RunTaskCompletedEvent(
                task=sequence.task, exitcodes=list(sequence.exitcodes), traceids=sequence.traceids
            )
        )
