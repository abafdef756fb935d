"""Helpers shared by the tests: a bus recorder, a command fragment, an event with free
attributes."""

from __future__ import annotations

import shlex
import time
from collections.abc import Callable, Iterable
from typing import Any

from interpreter.core import Event, EventBus


class OpenEvent(Event):
    """An event taking any keyword attributes, for tests of what reads them (filters, guards).

    Runtime events declare their fields; a test of the filter language needs
    events of every shape.
    """

    def __init__(self, *, traceids: Iterable[int] = (), ts: float = 0.0, **attributes: Any) -> None:
        # Event's own initialiser, not the next dataclass's: an OpenEvent mixed into a runtime class
        # skips its fields.
        Event.__init__(self, traceids=frozenset(traceids), ts=ts)
        self.__dict__.update(attributes)


def py(code: str) -> str:
    """A cmdline fragment running *code* with the ``{{python}}`` definition."""
    return "{{python}} -c " + shlex.quote(code)


class Recorder:
    """Every event of a bus, delivered by pumping ``dispatch`` until a condition holds."""

    def __init__(self, bus: EventBus) -> None:
        self.bus = bus
        self.events: list[Event] = []
        bus.subscribe(self.events.append)

    def wait_for(
        self, condition: Callable[[list[Event]], bool], timeout: float = 5.0
    ) -> list[Event]:
        deadline = time.monotonic() + timeout
        while not condition(self.events):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise AssertionError(f"condition not met within {timeout}s; events: {self.events}")
            self.bus.dispatch(timeout=remaining)
        return self.events

    def of(self, cls: type[Event], trace: int | None = None) -> list[Event]:
        """The recorded events of *cls* (and subclasses), optionally of one trace."""
        return [
            e for e in self.events if isinstance(e, cls) and (trace is None or trace in e.traceids)
        ]
