"""The event catalogue: every event class a filter may name, and the check that a name is one.

The runtime's core events are known here; each channel's come from the
``perfchart.channels`` entry points, read through the plugin loader, so this
room learns a channel's events without importing the channels package.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from ..errors import ConfigError
from .events import CORE_EVENTS, Event, catalogue
from .original import unimplemented
from .plugins import CHANNELS, load_plugins


@functools.cache
def event_catalogue() -> dict[str, type[Event]]:
    """Every event class a filter may name: the core ones and
    each registered channel's ``events``.
    """
    classes: list[type[Event]] = list(CORE_EVENTS)
    for cls in load_plugins(CHANNELS, object, "channel").values():
        classes.extend(getattr(cls, "events", ()))
    return catalogue(classes)


def check_class_names(names: Iterable[str]) -> None:
    """ConfigError with a did-you-mean for the first name no event class has: a filter naming it
    never matches.
    """
    known = event_catalogue()
    for name in sorted(set(names) - known.keys()):
        original = unimplemented("event", name)
        if original is not None:
            raise ConfigError(original.refusal())
        import difflib  # here: only an unknown name needs it

        close = difflib.get_close_matches(name, known.keys(), n=1)
        hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(known))}"
        raise ConfigError(f"no event class is called {name!r} ({hint})")
