"""The ground floor: events, the bus, the clock and its timers, durations, the event catalogue,
plugins.

Every other room stands on this one, and it stands on nothing of
perfchart's but :mod:`interpreter.errors`. With ``channels.Channel`` and
``metrics.Tracker`` it is all a third-party channel or tracker imports.
"""

from .bus import EventBus, Subscriber
from .catalogue import check_class_names, event_catalogue
from .durations import parse_duration
from .events import (
    CORE_EVENTS,
    RUNTIME_EVENTS,
    TASK_EVENTS,
    Event,
    FlagUpdateEvent,
    InterruptEvent,
    LogLineEvent,
    OutcomeEvent,
    ParameterUpdateEvent,
    RestartEvent,
    RunEndEvent,
    RunKey,
    RunTaskCompletedEvent,
    RunTaskEvent,
    SessionEndEvent,
    SessionStartEvent,
    SimulatedEvent,
    StalledEvent,
    TickEvent,
    catalogue,
    traces,
)
from .installed import version as installed_version
from .original import ORIGINAL_CLASSES, OriginalClass, markdown_table, original_class, unimplemented
from .plugins import CHANNELS, TRACKERS, find_plugin, load_plugins
from .timers import Clock, Timer, Timers

__all__ = [
    "installed_version",
    "ORIGINAL_CLASSES",
    "OriginalClass",
    "markdown_table",
    "original_class",
    "unimplemented",
    "CHANNELS",
    "CORE_EVENTS",
    "RUNTIME_EVENTS",
    "TASK_EVENTS",
    "TRACKERS",
    "Clock",
    "Event",
    "EventBus",
    "FlagUpdateEvent",
    "InterruptEvent",
    "LogLineEvent",
    "OutcomeEvent",
    "ParameterUpdateEvent",
    "RestartEvent",
    "RunEndEvent",
    "RunKey",
    "RunTaskCompletedEvent",
    "RunTaskEvent",
    "SessionEndEvent",
    "SessionStartEvent",
    "SimulatedEvent",
    "StalledEvent",
    "Subscriber",
    "TickEvent",
    "Timer",
    "Timers",
    "catalogue",
    "check_class_names",
    "event_catalogue",
    "find_plugin",
    "load_plugins",
    "parse_duration",
    "traces",
]
