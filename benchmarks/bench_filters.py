"""Event filter cost on the bus hot path, and compile time.

    python benchmarks/bench_filters.py

Every bus event passes through every bound filter session, so what matters
most is rejecting an event whose class no clause names: that must stay one
dict lookup. Each figure is the best of several timeit repeats, per call.
"""

from __future__ import annotations

import timeit
from collections.abc import Callable
from dataclasses import dataclass

from interpreter.core import Event, TickEvent
from interpreter.filters import EventFilter

EXPRESSION = "BenchExitEvent[exitcode=0, command~='make'] BenchLogEvent[line~='done']:notrace"


@dataclass(eq=False, kw_only=True, repr=False)
class BenchExitEvent(Event):
    exitcode: int
    command: str


@dataclass(eq=False, kw_only=True, repr=False)
class BenchLogEvent(Event):
    line: str


def per_call(function: Callable[[], object], repeat: int = 7) -> float:
    """Best seconds per call of *function*."""
    timer = timeit.Timer(function)
    number, _ = timer.autorange()
    return min(timer.repeat(repeat=repeat, number=number)) / number


def main() -> None:
    event_filter = EventFilter(EXPRESSION)
    session = event_filter.start([1], lambda event, notrace: None)
    tick = TickEvent(traceids=frozenset([1]), count=1)
    match = BenchExitEvent(traceids=frozenset([1]), exitcode=0, command="make all")
    miss = BenchExitEvent(traceids=frozenset([1]), exitcode=1, command="make all")
    untraced = BenchExitEvent(traceids=frozenset([2]), exitcode=0, command="make all")
    figures = [
        ("reference: an empty Python call", per_call(lambda: None)),
        ("reject by class (TickEvent, no clause names it)", per_call(lambda: session.handle(tick))),
        ("reject by trace (named class, other trace)", per_call(lambda: session.handle(untraced))),
        ("reject by condition (exitcode=1)", per_call(lambda: session.handle(miss))),
        ("match and deliver (2 conditions, one a regex)", per_call(lambda: session.handle(match))),
        ("compile the expression", per_call(lambda: EventFilter(EXPRESSION))),
    ]
    print(f"expression: {EXPRESSION}")
    for label, seconds in figures:
        print(f"{label:<50} {seconds * 1e9:>10.0f} ns")


if __name__ == "__main__":
    main()
