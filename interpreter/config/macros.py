"""``{{name}}`` and ``{{name|default}}`` macros in configuration values.

Values come from definitions (the ``define:`` section, ``config.definitions``
defaults and ``-D``) and, in channels and tasks, from the current parameters.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .yamlsource import Located, LocatedDict, LocatedList

MACRO = re.compile(r"\{\{\s*([A-Za-z_][\w.-]*)\s*(?:\|([^}]*))?\}\}")


class MissingMacro(KeyError):
    """A macro without a value and without a default."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def macro_names(value: Any) -> set[str]:
    """Every macro name used anywhere inside *value* (strings, lists, mappings)."""
    if isinstance(value, str):
        return {m.group(1) for m in MACRO.finditer(value)}
    if isinstance(value, Mapping):
        return set().union(*(macro_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(macro_names(v) for v in value)) if value else set()
    return set()


def render_string(text: str, values: Mapping[str, Any], quote: Any = str) -> Any:
    """Substitute the macros in *text*.

    A string that is exactly one macro takes the value's own type, so
    ``repeat: "{{runs|2}}"`` gives an int. *quote* turns each substituted
    value into text; a shell command line never gets values pasted in
    (see ``channels.commands.shell_script``).
    """
    whole = MACRO.fullmatch(text.strip())
    if whole and quote is str:
        return _lookup(whole, values, typed=True)
    return MACRO.sub(lambda m: quote(str(_lookup(m, values, typed=False))), text)


def _lookup(match: re.Match[str], values: Mapping[str, Any], typed: bool) -> Any:
    name, default = match.group(1), match.group(2)
    if name in values:
        return values[name]
    if default is None:
        raise MissingMacro(name)
    return _typed(default.strip()) if typed else default.strip()


def _typed(text: str) -> Any:
    """A default written inside a macro, read as a YAML scalar (``2`` is an int)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str)) else text


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """Render every string inside *value*, keeping Located positions.

    Raises ConfigError naming the entry when a macro has no value.
    """
    if isinstance(value, str):
        return render_string(value, values)
    if isinstance(value, Mapping):
        out = LocatedDict(
            file=getattr(value, "file", None),
            line=getattr(value, "line", None),
            path=getattr(value, "path", ""),
        )
        for key, item in value.items():
            out[key] = _render_entry(value, key, item, values)
        if isinstance(value, Located):
            out.lines = dict(value.lines)
        return out
    if isinstance(value, list):
        out_list = LocatedList(
            file=getattr(value, "file", None),
            line=getattr(value, "line", None),
            path=getattr(value, "path", ""),
        )
        for index, item in enumerate(value):
            out_list.append(_render_entry(value, index, item, values))
        if isinstance(value, Located):
            out_list.lines = dict(value.lines)
        return out_list
    return value


def render_entry(container: Any, key: Any, item: Any, values: Mapping[str, Any]) -> Any:
    """Render entry *key* of *container*; a macro without a value is a ConfigError naming that
    entry.
    """
    return _render_entry(container, key, item, values)


def _render_entry(container: Any, key: Any, item: Any, values: Mapping[str, Any]) -> Any:
    try:
        return render(item, values)
    except MissingMacro as exc:
        if isinstance(item, str) and isinstance(container, Located):
            raise container.error(
                key,
                f"macro {{{{{exc.name}}}}} has no value: define it (define:, config.definitions or "
                f"-D {exc.name}=...) or give a default {{{{{exc.name}|...}}}}",
            ) from None
        raise
