"""The engine: events, the bus, one clock and its timers, the parameter batch, charts in motion and the loop.

:class:`Session` runs a whole test configuration; :class:`EventLoop` is the
one loop that sessions, dry runs, session tasks and the test harness turn.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .bus import EventBus
from .events import (
    CORE_EVENTS,
    Event,
    FlagUpdateEvent,
    InterruptEvent,
    LogLineEvent,
    OutcomeEvent,
    ParameterUpdateEvent,
    RestartEvent,
    RunEndEvent,
    RunTaskCompletedEvent,
    RunTaskEvent,
    SessionEndEvent,
    SessionStartEvent,
    StalledEvent,
    TickEvent,
    traces,
)
from .loop import EventLoop
from .parameters import ParameterBatch
from .timers import Clock, Timer, Timers

if TYPE_CHECKING:
    from .runner import PolicyRunner
    from .session import Session

__all__ = [
    "CORE_EVENTS",
    "Clock",
    "Event",
    "EventBus",
    "EventLoop",
    "FlagUpdateEvent",
    "InterruptEvent",
    "LogLineEvent",
    "OutcomeEvent",
    "ParameterBatch",
    "ParameterUpdateEvent",
    "PolicyRunner",
    "RestartEvent",
    "RunEndEvent",
    "RunTaskCompletedEvent",
    "RunTaskEvent",
    "Session",
    "SessionEndEvent",
    "SessionStartEvent",
    "StalledEvent",
    "TickEvent",
    "Timer",
    "Timers",
    "traces",
]


def __getattr__(name: str) -> Any:
    # The runner and the session need charts, channels and the config loader, which need the
    # engine's events and bus: import them on first use.
    if name == "PolicyRunner":
        from .runner import PolicyRunner

        return PolicyRunner
    if name == "Session":
        from .session import Session

        return Session
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
