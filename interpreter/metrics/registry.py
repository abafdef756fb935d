"""Finding trackers by the names configs use, through Python entry points.

Built-in and third-party trackers register the same way, in the
``perfchart.trackers`` entry point group, exactly as channels do.
"""

from __future__ import annotations

import difflib
import functools
from importlib.metadata import entry_points

from ..errors import ConfigError, PerfchartError
from .base import Tracker

GROUP = "perfchart.trackers"


@functools.cache
def tracker_classes() -> dict[str, type[Tracker]]:
    """Every registered tracker class by each of its names, case-folded."""
    found: dict[str, type[Tracker]] = {}
    for entry in sorted(entry_points(group=GROUP), key=lambda e: e.name):
        try:
            cls = entry.load()
        except Exception as exc:
            raise PerfchartError(f"tracker plugin {entry.name!r} ({entry.value}) failed to load: {type(exc).__name__}: {exc}") from exc
        if not (isinstance(cls, type) and issubclass(cls, Tracker)):
            raise PerfchartError(f"tracker plugin {entry.name!r} ({entry.value}) is not a perfchart Tracker class")
        for name in cls.names:
            found.setdefault(name.casefold(), cls)
    if not found:
        raise PerfchartError(f"no tracker is registered in the {GROUP!r} entry points: is perfchart installed (pip install -e .)?")
    return found


def tracker_class(name: str) -> type[Tracker]:
    """The tracker class a config's ``class:`` names; ConfigError (without a location) if none."""
    classes = tracker_classes()
    cls = classes.get(name.casefold())
    if cls is not None:
        return cls
    known = ", ".join(sorted({n for c in classes.values() for n in c.names}))
    close = difflib.get_close_matches(name.casefold(), list(classes), n=1)
    hint = f"did you mean {classes[close[0]].names[0]}? " if close else ""
    raise ConfigError(f"unknown tracker class {name!r} ({hint}known trackers: {known})")
