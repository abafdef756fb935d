"""Plugins found through Python entry points: channels and trackers register and resolve alike.

A plugin class lists the ``names`` a config's ``class:`` may use (the
original driver's first). Built-in plugins register in the same entry point
groups as third-party ones, so nothing in perfchart names a plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from ..errors import ConfigError, PerfchartError
from .installed import entry_points
from .original import unimplemented

Plugin = TypeVar("Plugin")

#: The entry point group channels register in.
CHANNELS = "perfchart.channels"
#: The entry point group trackers register in.
TRACKERS = "perfchart.trackers"


def _names(cls: type[Any]) -> tuple[str, ...]:
    """A plugin class's ``names``: *Plugin* is an unbound TypeVar, so mypy cannot see them."""
    names: tuple[str, ...] = cls.names
    return names


def load_plugins(group: str, base: type[Plugin], kind: str) -> dict[str, type[Plugin]]:
    """Every class registered in entry point *group*, by each of its names case-folded; each must
    subclass *base*.
    """
    found: dict[str, type[Plugin]] = {}
    registered = (entry for entry in entry_points() if entry.group == group)
    for entry in sorted(registered, key=lambda e: e.name):
        try:
            cls = entry.load()
        except Exception as exc:
            raise PerfchartError(
                f"{kind} plugin {entry.name!r} ({entry.value}) failed to load: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if not (isinstance(cls, type) and issubclass(cls, base)):
            raise PerfchartError(
                f"{kind} plugin {entry.name!r} ({entry.value}) is not a perfchart {base.__name__} "
                "class"
            )
        for name in _names(cls):
            found.setdefault(name.casefold(), cls)
    if not found:
        raise PerfchartError(
            f"no {kind} is registered in the {group!r} entry points: is perfchart installed (pip "
            "install -e .)?"
        )
    return found


def find_plugin(classes: Mapping[str, type[Plugin]], name: str, kind: str) -> type[Plugin]:
    """The class *name* resolves to; a ConfigError (without a location) naming the known ones if
    none.

    A class of the original driver that perfchart does not implement is refused
    by name, with what replaces it, never with a near name: it is not a typo.
    """
    cls = classes.get(name.casefold())
    if cls is not None:
        return cls
    original = unimplemented(kind, name)
    if original is not None:
        raise ConfigError(original.refusal())
    known = ", ".join(sorted({n for c in classes.values() for n in _names(c)}))
    import difflib  # here: only an unknown name needs it

    close = difflib.get_close_matches(name.casefold(), list(classes), n=1)
    hint = f"did you mean {_names(classes[close[0]])[0]}? " if close else ""
    raise ConfigError(f"unknown {kind} class {name!r} ({hint}known {kind}s: {known})")
