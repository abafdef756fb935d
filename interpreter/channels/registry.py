"""Finding channels by the names configs use, through Python entry points.

Built-in and third-party channels register the same way, in the
``perfchart.channels`` entry point group; nothing else in perfchart names a
channel. The event catalogue (the class names filters may use) is the
runtime's core events plus every registered channel's.
"""

from __future__ import annotations

import functools

from ..engine.events import CORE_EVENTS, Event, catalogue
from ..plugins import find_plugin, load_plugins
from .base import Channel
from .simulator import SimulatedEvent

GROUP = "perfchart.channels"

#: Channels of the original driver that perfchart does not implement, by folded name.
ORIGINAL_ONLY = {
    name.casefold(): name
    for name in (
        "channel.MarathonUpdateChannel",
        "channel.MarathonDeployChannel",
    )
}


@functools.cache
def channel_classes() -> dict[str, type[Channel]]:
    """Every registered channel class by each of its names, case-folded."""
    return load_plugins(GROUP, Channel, "channel")  # type: ignore[type-abstract]  # the base is only checked against


def channel_class(name: str) -> type[Channel]:
    """The channel class a config's ``class:`` names; ConfigError (without a location) if none."""
    return find_plugin(channel_classes(), name, "channel", ORIGINAL_ONLY)


@functools.cache
def event_catalogue() -> dict[str, type[Event]]:
    """Every event class a filter may name: core, dry-run and each registered channel's."""
    classes: list[type[Event]] = [*CORE_EVENTS, SimulatedEvent]
    for cls in channel_classes().values():
        classes.extend(cls.events)
    return catalogue(classes)
