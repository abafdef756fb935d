"""What every channel is: the plugin protocol.

A channel applies parameter updates to the system under test (runs a
command, sends a request) and publishes what happened as events carrying
the update's trace. A channel class states its names, the JSON Schema of its
block in a test configuration and the event classes it publishes; the
registry finds it through the ``perfchart.channels`` entry point group, so a
third-party package adds a channel without touching perfchart.

A channel instance serves one *lane*: the session builds one instance per
channel block and lane, so a later change can run several lanes of a policy
at once without any channel assuming it is alone.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Mapping, Set
from dataclasses import dataclass
from typing import Any, ClassVar

from ..core import Event, EventBus, ParameterUpdateEvent, SessionStartEvent

#: A channel's dry-run stand-in: the events one update would cause, each with its delay in seconds.
Simulation = Callable[[ParameterUpdateEvent], Iterable[tuple[float, Event]]]


@dataclass(frozen=True)
class ChannelContext:
    """What the session hands a channel instance."""

    #: Where the channel publishes its events (safe from any thread).
    bus: EventBus
    #: The instance's name in messages and in ``source`` fields: ``channels[0]``.
    name: str
    #: Macro values known for the whole session (``define:``, ``-D`` ...).
    definitions: Mapping[str, Any]
    #: Parameter values before any policy set one (declared defaults).
    defaults: Mapping[str, Any]
    #: Which lane of the policy this instance serves; 0 while there is one.
    lane: int = 0


class Channel(ABC):
    """Base of every channel. Subclasses set the three class attributes and implement apply and
    close.
    """

    #: Every name a config's ``class:`` may use, the original driver's first
    #: (``channel.CmdlineChannel``).
    names: ClassVar[tuple[str, ...]]
    #: JSON Schema of the channel's block in a test configuration, ``class`` excluded.
    schema: ClassVar[Mapping[str, Any]]
    #: The event classes the channel publishes; filters may name them and their ancestors.
    events: ClassVar[tuple[type[Event], ...]]
    #: The channel's built-in metrics, recorded for every run with no tracker configured: each a
    #: ``config.metrics`` entry (``name``, ``units``, ``desc``, ``summarize``, ``aggregate``,
    #: ``summarize_over``) with where its values come from, as one ``tracker.EventAttributeTracker``
    #: extraction: ``event`` (a filter) and ``attrib`` or ``eval``.
    metrics: ClassVar[tuple[Mapping[str, Any], ...]] = ()

    @classmethod  # noqa: B027 (an optional hook: a no-op by default)
    def check(cls, block: Mapping[str, Any]) -> None:
        """Load-time checks the schema cannot express; raise ConfigError naming the key.

        Called for dry and real runs alike, after the block passed ``schema``.
        """

    @classmethod  # noqa: B027 (an optional hook: a no-op by default)
    def check_definitions(cls, block: Mapping[str, Any], definitions: Mapping[str, Any]) -> None:
        """Load-time checks of what must come from the session's *definitions*, never from
        parameters.

        Called after :meth:`check`, for dry and real runs alike; raise ConfigError naming the key.
        """

    @classmethod
    def simulation(cls, block: Mapping[str, Any], context: ChannelContext) -> Simulation | None:
        """What the channel would publish in a dry run, or None to let the simulator answer for it.

        The function it returns is called with each parameter update of a dry
        run and yields ``(delay, event)`` pairs: each event is published that
        many simulated seconds after the update, and reaches the policies
        through the same filters as a real one.
        """
        return None

    def __init__(self, block: Mapping[str, Any], context: ChannelContext) -> None:
        self.block = block
        self.context = context
        self.name = context.name

    def handle(self, event: Event) -> None:
        """The bus subscriber the session registers for :attr:`subscribes`: routes to start and
        apply.
        """
        if isinstance(event, ParameterUpdateEvent):
            self.apply(event)
        elif isinstance(event, SessionStartEvent):
            self.start()

    #: The events :meth:`handle` must be subscribed to; an instance may add those its block names.
    subscribes: tuple[type[Event], ...] = (ParameterUpdateEvent, SessionStartEvent)

    def start(self) -> None:  # noqa: B027 (an optional hook: a no-op by default)
        """The session started: launch whatever runs before the first update."""

    @abstractmethod
    def apply(self, update: ParameterUpdateEvent) -> None:
        """Apply a parameter update; publish events carrying ``update.traceids``. Must not block."""

    @abstractmethod
    def close(self) -> None:
        """Stop everything the channel started and return when it is gone."""


def acts_on(names: Set[str], update: ParameterUpdateEvent) -> bool:
    """Whether a channel block that names *names* acts on *update*.

    It does when the update sets one of them. A block that names none of the
    run's parameters (a command using only definitions, or nothing) acts on
    every update that starts a run: nothing else would ever start it, and its
    policy would wait for its events for ever; with ``repeat: 8`` it runs 8 times.
    """
    if not names.isdisjoint(update.changes):
        return True
    return update.run is not None and names.isdisjoint(update.parameters)
