"""Drive one policy chart by hand: a real sismic interpreter, a real bus, a simulated clock."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable
from typing import Any

from sismic.clock import SimulatedClock

from interpreter.bus import EventBus
from interpreter.catalog import resolve
from interpreter.events import (
    Event,
    FlagUpdateEvent,
    ParameterUpdateEvent,
    RunTaskCompletedEvent,
)
from interpreter.parameters import ParameterBatch, RunEndEvent
from interpreter.runner import PolicyRunner
from interpreter.timers import Timers
from interpreter.yamlsource import load_yaml


class PolicyHarness:
    """A policy runner plus what it published, stepped until it is quiet after every input."""

    def __init__(self, policy_yaml: str, *, chart: str = "multivariable-explorer", seed: int = 1, stale_timeout: float = 60.0, definitions: dict[str, Any] | None = None) -> None:
        self.clock = SimulatedClock()
        self.timers = Timers(self.clock)
        self.bus = EventBus()
        self.batch = ParameterBatch(self.bus, {})
        self.updates: list[ParameterUpdateEvent] = []
        self.flags: list[FlagUpdateEvent] = []
        self.run_ends: list[RunEndEvent] = []
        self.tasks: list[tuple[str, tuple[int, ...]]] = []
        self.bus.subscribe(self.updates.append, ParameterUpdateEvent)
        self.bus.subscribe(self.flags.append, FlagUpdateEvent)
        self.bus.subscribe(self.run_ends.append, RunEndEvent)
        config = load_yaml(policy_yaml, "policy.yml")
        self.runner = PolicyRunner(
            resolve(chart),
            config,
            bus=self.bus,
            batch=self.batch,
            clock=self.clock,
            timers=self.timers,
            definitions=definitions or {},
            seed=seed,
            stale_timeout=stale_timeout,
            run_task=lambda task, traceids: self.tasks.append((task, tuple(traceids))),
        )
        self.bus.subscribe(self.runner.handle)
        self.settle()

    def settle(self) -> None:
        """Step and deliver until neither the chart nor the bus has anything left."""
        for _ in range(10_000):
            self.timers.run_due()
            self.runner.check_stale()
            moved = self.runner.step() if self.runner.has_work or not self.runner.interpreter._initialized else False
            due = self.runner.evaluator.deadline
            if due is not None and self.clock.time >= due:
                moved = self.runner.step() or moved
            if not self.bus.dispatch(0.0) and not moved and not self.runner.has_work:
                return
        raise AssertionError("the policy never settled")

    def publish(self, event: Event) -> None:
        self.bus.publish(event)
        self.settle()

    def complete(self, task: str) -> None:
        self.publish(RunTaskCompletedEvent(task=task, exitcodes=[]))

    def advance(self, seconds: float) -> None:
        self.clock.time = self.clock.time + seconds
        self.settle()

    @property
    def trace(self) -> int | None:
        return self.runner.trace

    @property
    def states(self) -> list[str]:
        return self.runner.interpreter.configuration

    def statuses(self) -> list[Any]:
        return [flag.value for flag in self.flags if flag.name == "status"]

    def parameters(self) -> list[dict[str, Any]]:
        return [dict(update.changes) for update in self.updates]


def py(code: str) -> str:
    """A cmdline fragment running *code* with the ``{{python}}`` definition."""
    return "{{python}} -c " + shlex.quote(code)


class Recorder:
    """Every event of a bus, delivered by pumping ``dispatch`` until a condition holds."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.events: list[Event] = []
        bus.subscribe(self.events.append)

    def wait_for(self, condition: Callable[[list[Event]], bool], timeout: float = 5.0) -> list[Event]:
        deadline = time.monotonic() + timeout
        while not condition(self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout}s; events: {self.events}")
            self.bus.dispatch(timeout=remaining)
        return self.events

    def of(self, cls: type[Event], trace: int | None = None) -> list[Event]:
        """The recorded events of *cls* (and subclasses), optionally of one trace."""
        return [e for e in self.events if isinstance(e, cls) and (trace is None or trace in e.traceids)]
