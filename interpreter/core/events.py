"""Events that travel on the event bus, and the runtime's own (core) ones.

Every event class declares its fields as a keyword-only dataclass, so a
filter, a tracker or mypy knows what ``exitcode`` or ``line`` is. An event's
class name is what configuration files and filter expressions use to select
it; naming a class also selects all of its subclasses, so
``CmdlineExitEvent`` matches ``CmdlineExitZeroEvent``.

The bus stamps ``ts`` with the session clock when the event is published:
wall-clock seconds in a real run, simulated seconds in a dry run or a test.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, ClassVar, NamedTuple


def traces(trace: int | None) -> frozenset[int]:
    """The trace ids of an event caused by run *trace* (none when there is no run)."""
    return frozenset() if trace is None else frozenset((trace,))


@dataclass(eq=False, kw_only=True, repr=False)
class Event:
    """Base of every bus event: the traces it belongs to and when it was published."""

    #: The parameter updates (runs) that caused this event.
    traceids: frozenset[int] = frozenset()
    #: Session-clock seconds, set by the bus on publish.
    ts: float = 0.0

    #: The names that select this class: its own and its Event ancestors'.
    names: ClassVar[frozenset[str]] = frozenset({"Event"})

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.names = frozenset(
            c.__name__ for c in cls.__mro__ if isinstance(c, type) and issubclass(c, Event)
        )

    def __post_init__(self) -> None:
        if not isinstance(self.traceids, frozenset):
            self.traceids = frozenset(self.traceids)

    @property
    def event_name(self) -> str:
        """The class name; not ``name``, which some events carry as a field."""
        return type(self).__name__

    def attributes(self) -> dict[str, Any]:
        """The event's own fields, without the trace ids and timestamp."""
        return {k: v for k, v in vars(self).items() if k not in ("traceids", "ts")}

    def __repr__(self) -> str:
        attrs = ", ".join(f"{k}={v!r}" for k, v in self.attributes().items())
        traced = f" traces={sorted(self.traceids)}" if self.traceids else ""
        return f"<{self.event_name}{traced}{' ' + attrs if attrs else ''}>"


# Lifecycle events: built into the runtime, sent to policies by the session.


@dataclass(eq=False, kw_only=True, repr=False)
class RestartEvent(Event):
    """A policy starts again in a later repetition; the system under test is already up."""

    policy: str = ""
    repetition: int = 1


@dataclass(eq=False, kw_only=True, repr=False)
class InterruptEvent(Event):
    """The user interrupted the session (Ctrl-C); policies must end now."""


@dataclass(eq=False, kw_only=True, repr=False)
class StalledEvent(Event):
    """Nothing moved within the stale timeout: a policy's chart, or a session task (``task``)."""

    policy: str | None = None
    task: str | None = None


@dataclass(eq=False, kw_only=True, repr=False)
class RunTaskEvent(Event):
    """A named task was asked to run."""

    task: str


@dataclass(eq=False, kw_only=True, repr=False)
class RunTaskCompletedEvent(Event):
    """A named task finished; ``exitcodes`` has one entry per command it ran."""

    task: str
    exitcodes: list[int] = field(default_factory=list)


@dataclass(eq=False, kw_only=True, repr=False)
class TickEvent(Event):
    """A clock tick every second of session time; ``count`` starts at 1."""

    count: int


class RunKey(NamedTuple):
    """Whose run a parameter update starts: the policy, its repetition, the run's number in it,
    and its lane. A named tuple: one is made for every run.
    """

    policy: str
    repetition: int = 1
    number: int = 1
    lane: int = 0


@dataclass(eq=False, kw_only=True, repr=False)
class ParameterUpdateEvent(Event):
    """The parameters of the test changed: one per policy step that set parameters, and one run.

    ``parameters`` is the full set, ``previous`` the full set before and
    ``changes`` what the policy set in that step. ``run`` says whose run it
    is (None for an update no policy made, as in a test).
    """

    parameters: Mapping[str, Any]
    previous: Mapping[str, Any] = field(default_factory=dict)
    changes: Mapping[str, Any] = field(default_factory=dict)
    run: RunKey | None = None


@dataclass(eq=False, kw_only=True, repr=False)
class FlagUpdateEvent(Event):
    """A policy set a flag (``status`` is one) on the run it is in."""

    name: str
    value: Any


@dataclass(eq=False, kw_only=True, repr=False)
class RunEndEvent(Event):
    """A run is over. ``status`` applies only when the run has none yet (``interrupted``,
    ``error``).
    """

    status: str | None = None


@dataclass(eq=False, kw_only=True, repr=False)
class OutcomeEvent(Event):
    """What a channel concluded about the part of a run it carried out.

    Every channel reports through this class (or a subclass), so results
    need to know no channel: ``code`` is recorded with the run (a command's
    exit code, an HTTP status), and a run without a status is OK only when
    every outcome was ``ok``. ``source`` names the channel instance;
    ``timedout`` says the channel gave up on it after its timeout.
    """

    source: str = ""
    code: int | None = None
    ok: bool = True
    timedout: bool = False


@dataclass(eq=False, kw_only=True, repr=False)
class LogLineEvent(Event):
    """One line of output: ``line`` (decoded, without its newline), ``stream`` and ``source``."""

    line: str
    stream: str = "stdout"
    source: str = ""


@dataclass(eq=False, kw_only=True, repr=False)
class SessionStartEvent(Event):
    """The session has started: channels with ``atstart`` launch now."""


@dataclass(eq=False, kw_only=True, repr=False)
class SessionEndEvent(Event):
    """The session is ending: channels stop what they still run."""


@dataclass(eq=False, kw_only=True, repr=False)
class SimulatedEvent(Event):
    """What a dry run publishes in place of a real event: it answers the binding of ``role`` whose
    filter is ``expression``.

    The dry-run channel publishes it on the bus like any channel's event; a
    filter selects it only when it answers that filter's own expression.
    """

    expression: str
    role: str = ""


#: The runtime's own events; channels add theirs through the event catalogue.
CORE_EVENTS: tuple[type[Event], ...] = (
    Event,
    RestartEvent,
    InterruptEvent,
    StalledEvent,
    RunTaskEvent,
    RunTaskCompletedEvent,
    TickEvent,
    ParameterUpdateEvent,
    FlagUpdateEvent,
    RunEndEvent,
    OutcomeEvent,
    LogLineEvent,
    SessionStartEvent,
    SessionEndEvent,
    SimulatedEvent,
)


#: The events the runtime publishes in every session, whatever its configuration: the setup and
#: teardown tasks, ticks, stall watches, updates, flags and run ends, restarts, interrupts. A
#: filter that can match none of these nor any event a configured channel or task publishes
#: waits for ever.
RUNTIME_EVENTS: tuple[type[Event], ...] = (
    RestartEvent,
    InterruptEvent,
    StalledEvent,
    RunTaskEvent,
    RunTaskCompletedEvent,
    TickEvent,
    ParameterUpdateEvent,
    FlagUpdateEvent,
    RunEndEvent,
    SessionStartEvent,
    SessionEndEvent,
)
#: What a task publishes besides its completion: its command's output.
TASK_EVENTS: tuple[type[Event], ...] = (LogLineEvent,)


def catalogue(classes: Iterable[type[Event]]) -> dict[str, type[Event]]:
    """Event classes by name, with every Event ancestor of each,
    so a filter may name a base class.
    """
    found: dict[str, type[Event]] = {}
    for cls in classes:
        for ancestor in cls.__mro__:
            if isinstance(ancestor, type) and issubclass(ancestor, Event):
                found.setdefault(ancestor.__name__, ancestor)
    return found
