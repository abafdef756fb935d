"""The dry-run stand-in for every channel and task: it answers at once and runs nothing.

When the session has nothing else to do, the simulator gives each of the
policy's bindings a traced OK answer, so a sweep runs through its whole
plan under the simulated clock in a fraction of a second per thousand runs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ..bus import EventBus
from ..events import Event, RunTaskCompletedEvent

if TYPE_CHECKING:
    from ..runner import PolicyRunner

#: Answers in a row that moved nothing before the simulator lets time pass instead.
PATIENCE = 100


class SimulatedEvent(Event):
    """What a dry run delivers in place of a real event. Attribute: ``expression``."""


class Simulator:
    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self._fruitless = 0
        self._progress_mark: tuple[Any, ...] = ()

    def run_task(self, task: str, traceids: Iterable[int] = (), parameters: Mapping[str, Any] = {}) -> None:
        """Complete any task at once, without running its commands."""
        self.bus.publish(RunTaskCompletedEvent(traceids=traceids, task=task, exitcodes=[]))

    def answer(self, runner: PolicyRunner) -> bool:
        """Give each OK (or status-less) binding one traced event; False when that stopped helping."""
        mark = (runner.trace, runner.last_change, runner.transitions)
        if mark != self._progress_mark:
            self._progress_mark = mark
            self._fruitless = 0
        elif self._fruitless >= PATIENCE:
            return False
        bindings = [b for b in runner.bindings if str(b.attrs.get("status", "OK")).upper() == "OK"]
        if not bindings:
            return False
        self._fruitless += 1
        traceids = () if runner.trace is None else (runner.trace,)
        for binding in bindings:
            runner.send(
                binding.role,
                source=SimulatedEvent(traceids=traceids, expression=binding.expression),
                traceids=frozenset(traceids),
                notrace=False,
                **binding.attrs,
            )
        return True
