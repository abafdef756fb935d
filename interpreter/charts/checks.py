"""Checks of a chart file that sismic would only make later, or without a line number.

A chart is validated against ``chart.schema.json``, its code is compiled and
its state names and targets are resolved here, each error pointing at the
offending line, before sismic builds the model.
"""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any

import sismic
from sismic.exceptions import StatechartError
from sismic.model import Statechart

from ..config import LocatedDict, load_schema, validate
from ..errors import ConfigError

_CODE_KEYS = {
    "guard": "eval",
    "action": "exec",
    "on entry": "exec",
    "on exit": "exec",
    "preamble": "exec",
}
_CONTRACT_KEYS = ("before", "after", "always")
# Keys whose values sismic reads as text; YAML may have given a number or a boolean (``guard:
# True``).
_CHART_TEXT = frozenset({"name", "description", "preamble"})
_STATE_TEXT = frozenset({"name", "on entry", "on exit", "initial", "memory"})
_TRANSITION_TEXT = frozenset({"target", "event", "guard", "action"})


def _import_from_dict() -> Callable[..., Statechart]:
    """sismic's ``import_from_dict``, from ``sismic.io.datadict`` alone.

    Importing it the usual way runs ``sismic/io/__init__.py`` first, which imports
    ruamel.yaml and the PlantUML exporter: a quarter of a dry run's start, for charts
    perfchart reads with its own YAML loader. The module only imports ``sismic`` and
    ``schema``; once loaded it is the one ``sismic.io`` finds, should anything import that.
    """
    name = "sismic.io.datadict"
    module = sys.modules.get(name)
    if module is None:
        location = Path(sismic.__file__).parent / "io" / "datadict.py"
        spec = importlib.util.spec_from_file_location(name, location)
        assert spec is not None
        assert spec.loader is not None
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        try:
            spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[name]
            raise
    function: Callable[..., Statechart] = module.import_from_dict
    return function


def build(path: Path, data: Mapping[str, Any]) -> Statechart:
    """Check the ``statechart:`` part where we can name a line, then let sismic build it."""
    validate(data, load_schema("chart"), default_file=str(path))
    chart = data["statechart"]
    _check_booleans(chart)
    _check_code(chart)
    _check_states(chart)
    try:
        # chart.schema.json has checked what sismic's own schema would; only its text conversion is
        # left.
        return _import_from_dict()({"statechart": _as_text(chart, _CHART_TEXT)}, ignore_schema=True)
    except StatechartError as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise ConfigError(f"invalid statechart: {exc}{cause}", file=str(path)) from None


def _as_text(block: Mapping[str, Any], text: frozenset[str]) -> dict[str, Any]:
    """A copy of a chart, state or transition mapping with its text values as ``str``, as sismic's
    schema would make them.
    """
    out: dict[str, Any] = {}
    for key, value in block.items():
        if key in text and value is not None:
            out[key] = str(value)
        elif key in ("root state", "states", "parallel states"):
            children = value if isinstance(value, list) else [value]
            converted = [_as_text(child, _STATE_TEXT) for child in children]
            out[key] = converted if isinstance(value, list) else converted[0]
        elif key == "transitions":
            out[key] = [_as_text(transition, _TRANSITION_TEXT) for transition in value]
        elif key == "contract":
            out[key] = [{name: str(code) for name, code in clause.items()} for clause in value]
        else:
            out[key] = value
    return out


def states(state: LocatedDict) -> Iterator[LocatedDict]:
    """*state* and every state nested in it, depth first."""
    yield state
    for key in ("states", "parallel states"):
        for child in state.get(key) or ():
            yield from states(child)


_BOOLEANS = {True: ("on, yes or true", "on"), False: ("off, no or false", "off")}


def _check_booleans(chart: LocatedDict) -> None:
    """``name: on`` is the boolean True in YAML 1.1: the chart would silently get a state called
    True.
    """
    for state in states(chart["root state"]):
        entries: list[tuple[LocatedDict, str]] = [(state, "name"), (state, "initial")]
        entries.extend(
            (t, key) for t in state.get("transitions") or () for key in ("event", "target")
        )
        for block, key in entries:
            value = block.get(key)
            if isinstance(value, bool):
                words, example = _BOOLEANS[value]
                raise block.error(
                    key,
                    f"YAML reads {words} as a boolean, not a name: quote it, e.g. {key}: "
                    f"'{example}'",
                )


def _check_code(chart: LocatedDict) -> None:
    """Compile guards and actions now: sismic would only fail when a run reaches them."""
    blocks: list[LocatedDict] = [chart]
    for state in states(chart["root state"]):
        blocks.append(state)
        blocks.extend(state.get("transitions") or ())
    for block in list(blocks):
        blocks.extend(block.get("contract") or ())
    for block in blocks:
        for key, value in block.items():
            mode = _CODE_KEYS.get(key) or ("eval" if key in _CONTRACT_KEYS else None)
            if mode is None or value is None:
                continue
            try:
                compile(str(value).strip(), "<statechart>", mode)
            except SyntaxError as exc:
                raise block.error(
                    key, f"Python syntax error in {key}: {exc.msg} (line {exc.lineno} of the code)"
                ) from None


def _check_states(chart: LocatedDict) -> None:
    """The sismic checks most often failed, located on the offending line."""
    seen: dict[str, LocatedDict] = {}
    found = list(states(chart["root state"]))
    for state in found:
        name = str(state["name"])
        if name in seen:
            raise state.error(
                "name",
                f"state {name!r} is defined twice (first at line {seen[name].line_of('name')})",
            )
        seen[name] = state
        if state.get("states") and state.get("parallel states"):
            raise state.error(
                "parallel states", "a state cannot have both 'states' and 'parallel states'"
            )
        if state.get("type") is not None and state.get("transitions"):
            raise state.error("transitions", f"a {state['type']} state cannot have transitions")
    for state in found:
        children = {str(child["name"]) for child in state.get("states") or ()}
        if state.get("initial") is not None and str(state["initial"]) not in children:
            raise state.error(
                "initial", f"initial state {state['initial']!r} is not a child of {state['name']!r}"
            )
        for transition in state.get("transitions") or ():
            target = transition.get("target")
            if target is not None and str(target) not in seen:
                raise transition.error("target", f"unknown target state {target!r}")
