"""Finding channels by the names configs use, through Python entry points.

Built-in and third-party channels register the same way, in the
``perfchart.channels`` entry point group; nothing else in perfchart names a
channel. The event catalogue (``core.event_catalogue``) reads the same
group for the event classes each channel publishes.
"""

from __future__ import annotations

import functools

from ..core import CHANNELS, find_plugin, load_plugins
from .base import Channel


@functools.cache
def channel_classes() -> dict[str, type[Channel]]:
    """Every registered channel class by each of its names, case-folded."""
    return load_plugins(CHANNELS, Channel, "channel")  # type: ignore[type-abstract]  # the base is only checked against


def channel_class(name: str) -> type[Channel]:
    """The channel class a config's ``class:`` names; ConfigError (without a location) if none."""
    return find_plugin(channel_classes(), name, "channel")
