"""Events that travel on the event bus.

An event's class name is what configuration files and filter expressions use
to select it; naming a class also selects all of its subclasses, so
``CmdlineExitEvent`` matches ``CmdlineExitZeroEvent``.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar


class Event:
    """Base of every bus event.

    Keyword attributes become plain instance attributes, so a filter reads
    ``exitcode`` or ``line`` with ordinary attribute access.
    """

    #: Every event class by name; filled as classes are defined.
    registry: ClassVar[dict[str, type[Event]]] = {}
    #: The names that select this class: its own and its Event ancestors'.
    names: ClassVar[frozenset[str]] = frozenset({"Event"})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        Event.registry[cls.__name__] = cls
        cls.names = frozenset(c.__name__ for c in cls.__mro__ if isinstance(c, type) and issubclass(c, Event))

    def __init__(self, traceids: Iterable[int] = (), ts: float | None = None, **attributes: Any) -> None:
        self.traceids: frozenset[int] = frozenset(traceids)
        self.ts: float = time.time() if ts is None else ts
        self.__dict__.update(attributes)

    @property
    def event_name(self) -> str:
        """The class name; not ``name``, which some events carry as an attribute."""
        return type(self).__name__

    def attributes(self) -> dict[str, Any]:
        """The event's own attributes, without the trace ids and timestamp."""
        return {k: v for k, v in vars(self).items() if k not in ("traceids", "ts")}

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}={v!r}" for k, v in self.attributes().items())
        traces = f" traces={sorted(self.traceids)}" if self.traceids else ""
        return f"<{self.event_name}{traces}{' ' + attrs if attrs else ''}>"


Event.registry["Event"] = Event


# Lifecycle events: built into the runtime, sent to policies by the session.


class RestartEvent(Event):
    """A policy starts again in a later repetition; the system under test is already up."""


class InterruptEvent(Event):
    """The user interrupted the session (Ctrl-C); policies must end now."""


class StalledEvent(Event):
    """A policy did not change state within the stale timeout."""


class RunTaskEvent(Event):
    """A named task was asked to run. Attribute: ``task``."""


class RunTaskCompletedEvent(Event):
    """A named task finished. Attributes: ``task``, ``exitcodes`` (one per command)."""


class TickEvent(Event):
    """A periodic clock tick. Attribute: ``count``."""


class ParameterUpdateEvent(Event):
    """The parameters of the test changed; one per policy step that set parameters.

    Attributes: ``parameters`` (the full set), ``previous`` (the full set
    before) and ``changes`` (the parameters the policy set in that step).
    """

    parameters: Mapping[str, Any]
    previous: Mapping[str, Any]
    changes: Mapping[str, Any]


class FlagUpdateEvent(Event):
    """A policy set a flag (``status`` is one) on the run it is in. Attributes: ``name``, ``value``."""


class SessionStartEvent(Event):
    """The session has started: channels with ``atstart`` launch now."""


class SessionEndEvent(Event):
    """The session is ending: channels stop what they still run."""
