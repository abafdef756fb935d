"""The baseline perfchart is measured against: MultivariableExplorer as a hand-written state machine.

It is written the way the original driver wrote its policies (state
classes with ``onEnter``/``onEvent`` and ``goto``, called directly, events
matched by class name and trace) and does the same job as the bundled
chart: walk the matrix lazily, evaluate the signal count, set parameters
under a fresh trace, wait for traced signals, set the status, run the
intertest task, and end. Nothing here is used by perfchart itself.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterator
from typing import Any


class Event:
    """A bus event of the original style: a class name and the traces it carries."""

    __slots__ = ("traceids", "attributes")

    def __init__(self, traceids: tuple[int, ...] = (), **attributes: Any) -> None:
        self.traceids = traceids
        self.attributes = attributes

    def hasTrace(self, trace: int) -> bool:  # noqa: N802 - the original's naming
        return trace in self.traceids


class SignalEvent(Event):
    __slots__ = ()


class RunTaskCompletedEvent(Event):
    __slots__ = ()


def isEventMatching(event: Event, name: str) -> bool:  # noqa: N802
    return type(event).__name__ == name


class State:
    def __init__(self, fsm: PolicyFSM) -> None:
        self.fsm = fsm

    def goto(self, state: type[State]) -> None:
        self.fsm.goto(state)

    def onEnter(self) -> None:  # noqa: N802
        pass

    def onEvent(self, event: Event) -> None:  # noqa: N802
        pass


class PolicyFSM:
    """The original's machine: one current state, events handed to it directly."""

    def __init__(self, matrix: dict[str, list[Any]], signals: dict[str, str], count: str, publish: Callable[[str, Any], None]) -> None:
        self.names = list(matrix)
        self.options = [matrix[name] for name in self.names]
        self.signals = signals
        self.count = count
        self.publish = publish
        self.traces = itertools.count(1)
        self.status: str | None = None
        self.states: dict[type[State], State] = {}
        self.state: State | None = None
        self.goto(Start)

    def goto(self, cls: type[State]) -> None:
        state = self.states.get(cls)
        if state is None:
            state = self.states[cls] = cls(self)
        self.state = state
        state.onEnter()

    def handle(self, event: Event) -> None:
        assert self.state is not None
        self.state.onEvent(event)

    def setParameters(self, parameters: dict[str, Any]) -> int:  # noqa: N802
        trace = next(self.traces)
        self.publish("parameters", (trace, parameters))
        return trace

    def setStatus(self, status: str) -> None:  # noqa: N802
        self.status = status
        self.publish("status", status)


class Start(State):
    def onEnter(self) -> None:  # noqa: N802
        fsm = self.fsm
        fsm.values = itertools.product(*fsm.options)  # type: ignore[attr-defined]
        fsm.progress = 0  # type: ignore[attr-defined]
        self.goto(Deploy)


class Deploy(State):
    def onEnter(self) -> None:  # noqa: N802
        fsm = self.fsm
        values: Iterator[tuple[Any, ...]] = fsm.values  # type: ignore[attr-defined]
        combination = next(values, None)
        if combination is None:
            self.goto(End)
            return
        fsm.progress += 1  # type: ignore[attr-defined]
        parameters = dict(zip(fsm.names, combination))
        fsm.remaining = eval(fsm.count, {}, {**parameters, "_i": fsm.progress})  # type: ignore[attr-defined]
        fsm.trace = fsm.setParameters(parameters)  # type: ignore[attr-defined]
        self.goto(Waiting)


class Waiting(State):
    def onEvent(self, event: Event) -> None:  # noqa: N802
        fsm = self.fsm
        if type(event) is RunTaskCompletedEvent:
            if event.attributes.get("task") == "intertest":
                self.goto(Deploy)
            return
        for name, status in fsm.signals.items():
            if isEventMatching(event, name):
                if not event.hasTrace(fsm.trace):  # type: ignore[attr-defined]
                    return
                fsm.setStatus(status)
                fsm.remaining -= 1  # type: ignore[attr-defined]
                if fsm.remaining <= 0:  # type: ignore[attr-defined]
                    fsm.publish("task", "intertest")
                return


class End(State):
    pass


def run(matrix: dict[str, list[Any]], answer: Callable[[PolicyFSM, str, Any], None]) -> PolicyFSM:
    """Drive the machine to End; *answer* plays the system under test for each thing it publishes."""
    pending: deque[tuple[str, Any]] = deque()
    fsm = PolicyFSM(matrix, {"SignalEvent": "OK"}, "1", lambda kind, value: pending.append((kind, value)))
    while pending:
        kind, value = pending.popleft()
        answer(fsm, kind, value)
    return fsm


def answer_ok(fsm: PolicyFSM, kind: str, value: Any) -> None:
    """Every run succeeds at once; every task completes at once."""
    if kind == "parameters":
        fsm.handle(SignalEvent((value[0],)))
    elif kind == "task":
        fsm.handle(RunTaskCompletedEvent(task=value))
