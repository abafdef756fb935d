"""Finding trackers by the names configs use, through Python entry points.

Built-in and third-party trackers register the same way, in the
``perfchart.trackers`` entry point group, exactly as channels do.
"""

from __future__ import annotations

import functools

from ..core import TRACKERS, find_plugin, load_plugins
from .base import Tracker


@functools.cache
def tracker_classes() -> dict[str, type[Tracker]]:
    """Every registered tracker class by each of its names, case-folded."""
    return load_plugins(TRACKERS, Tracker, "tracker")  # type: ignore[type-abstract]  # the base is only checked against


def tracker_class(name: str) -> type[Tracker]:
    """The tracker class a config's ``class:`` names; ConfigError (without a location) if none."""
    return find_plugin(tracker_classes(), name, "tracker")
