"""Finding channels by the names configs use, through Python entry points.

Built-in and third-party channels register the same way, in the
``perfchart.channels`` entry point group; nothing else in perfchart names a
channel. The event catalogue (the class names filters may use) is the
runtime's core events plus every registered channel's.
"""

from __future__ import annotations

import difflib
import functools
from importlib.metadata import entry_points

from ..engine.events import CORE_EVENTS, Event, catalogue
from ..errors import ConfigError, PerfchartError
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
    found: dict[str, type[Channel]] = {}
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = entry.load()
        except Exception as exc:
            raise PerfchartError(f"channel plugin {entry.name!r} ({entry.value}) failed to load: {type(exc).__name__}: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Channel)):
            raise PerfchartError(f"channel plugin {entry.name!r} ({entry.value}) is not a perfchart Channel class")
        for name in cls.names:
            found.setdefault(name.casefold(), cls)
    if not found:
        raise PerfchartError(f"no channel is registered in the {GROUP!r} entry points: is perfchart installed (pip install -e .)?")
    return found


def channel_class(name: str) -> type[Channel]:
    """The channel class a config's ``class:`` names; ConfigError (without a location) if none."""
    classes = channel_classes()
    cls = classes.get(name.casefold())
    if cls is not None:
        return cls
    known = ", ".join(sorted({n for c in classes.values() for n in c.names}))
    if name.casefold() in ORIGINAL_ONLY:
        raise ConfigError(f"{ORIGINAL_ONLY[name.casefold()]} is a channel of the original driver that perfchart does not implement (known channels: {known})")
    close = difflib.get_close_matches(name.casefold(), list(classes), n=1)
    hint = f"did you mean {classes[close[0]].names[0]}? " if close else ""
    raise ConfigError(f"unknown channel class {name!r} ({hint}known channels: {known})")


@functools.cache
def event_catalogue() -> dict[str, type[Event]]:
    """Every event class a filter may name: core, dry-run and each registered channel's."""
    classes: list[type[Event]] = [*CORE_EVENTS, SimulatedEvent]
    for cls in channel_classes().values():
        classes.extend(cls.events)
    return catalogue(classes)
