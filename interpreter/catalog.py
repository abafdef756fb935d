"""Policy charts: the bundled ones and the user's, found by name, alias or path.

A policy file is a sismic YAML statechart with an optional top-level
``perfchart:`` header (name, aliases, summary and a JSON Schema of the
policy's block in a test configuration). Bundled and user charts go through
the same loader, so a user chart is held to exactly the bundled rules.

The JSON Schema helpers live here too because both chart headers and test
configurations need the same "one error, with file, line and key" reporting.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
from jsonschema.exceptions import ValidationError, best_match, by_relevance
from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from sismic.exceptions import StatechartError
from sismic.io.datadict import import_from_dict
from sismic.model import Statechart

from .errors import ConfigError
from .formats import CHECKER
from .yamlsource import Located, load_yaml_file

CHART_SUFFIXES = (".yaml", ".yml")

# A misspelt key also makes a required one "missing"; naming the typo explains both.
_RELEVANCE = by_relevance(strong=frozenset({"additionalProperties", "unevaluatedProperties"}))


@dataclass(frozen=True)
class PolicyChart:
    """A loaded, validated policy chart."""

    name: str
    path: Path
    aliases: tuple[str, ...] = ()
    summary: str = ""
    config_schema: Mapping[str, Any] | None = field(default=None, compare=False)
    _cache: dict[str, Statechart] = field(default_factory=dict, init=False, repr=False, compare=False)

    def statechart(self) -> Statechart:
        """The sismic model, built once: interpreters only read it."""
        if "statechart" not in self._cache:
            self._cache["statechart"] = _build(self.path, load_yaml_file(self.path))
        return self._cache["statechart"]

    def names(self) -> tuple[str, ...]:
        """Every name that resolves to this chart."""
        return (self.name, *self.aliases)


def bundled() -> list[PolicyChart]:
    """The charts shipped in ``interpreter.statecharts``, sorted by name."""
    return list(_bundled())


@functools.cache
def _bundled() -> tuple[PolicyChart, ...]:
    # Loaded once per process: the package files do not change while it runs.
    package = files("interpreter.statecharts")
    charts = [load_chart(Path(str(entry))) for entry in package.iterdir() if entry.name.endswith(CHART_SUFFIXES)]
    return tuple(sorted(charts, key=lambda chart: chart.name))


def resolve(name: str, base_dir: Path | None = None) -> PolicyChart:
    """The chart a test configuration or the command line refers to.

    Anything that looks like a file (a ``.yaml``/``.yml`` suffix or a
    directory separator) is a path, relative to *base_dir*; anything else is
    a bundled name or alias, compared case-insensitively because the
    original driver's class names were written in many spellings.
    """
    if _is_path(name):
        return chart_file(name, base_dir)
    wanted = name.casefold()
    charts = bundled()
    for chart in charts:
        if any(wanted == known.casefold() for known in chart.names()):
            return chart
    known = ", ".join(chart.name for chart in charts) or "none bundled"
    raise ConfigError(f"unknown policy {name!r} (known policies: {known}; or give the path of a .yaml statechart)")


def chart_file(name: str, base_dir: Path | None = None) -> PolicyChart:
    """The chart in file *name*, relative to *base_dir* (the config's directory)."""
    path = Path(name).expanduser()
    if base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise ConfigError(f"no statechart file {name!r} (looked for {path})")
    return load_chart(path)


def _is_path(name: str) -> bool:
    return name.lower().endswith(CHART_SUFFIXES) or "/" in name or "\\" in name


def load_chart(path: Path) -> PolicyChart:
    """Load and fully check a chart file, so errors surface before any run."""
    path = Path(path)
    data = load_yaml_file(path)
    statechart = _build(path, data)
    header = data.get("perfchart") or {}
    if "perfchart" in data:
        validate(data["perfchart"], load_schema("chart-header"))
    schema = header.get("config")
    if schema is not None:
        _check_config_schema(schema)
    summary = header.get("summary")
    if summary is None:
        summary = (statechart.description or "").strip().partition("\n")[0]
    chart = PolicyChart(
        name=header.get("name") or path.stem,
        path=path,
        aliases=tuple(header.get("aliases") or ()),
        summary=summary,
        config_schema=schema,
    )
    chart._cache["statechart"] = statechart
    return chart


def _validator(schema: Any) -> type[Validator]:
    """The validator the schema asks for with ``$schema``, draft 2020-12 otherwise."""
    if isinstance(schema, Mapping):
        return validator_for(schema, default=jsonschema.Draft202012Validator)
    return jsonschema.Draft202012Validator


def _check_config_schema(schema: Any) -> None:
    cls = _validator(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        file, line, key = locate(schema, exc.absolute_path)
        raise ConfigError(f"invalid JSON Schema: {exc.message}", file=file, line=line, key=key) from None


def _build(path: Path, data: Mapping[str, Any]) -> Statechart:
    """Check the ``statechart:`` part where we can name a line, then let sismic build it."""
    validate(data, load_schema("chart"), default_file=str(path))
    chart = data["statechart"]
    _check_code(chart)
    _check_states(chart)
    try:
        return import_from_dict({"statechart": chart})
    except StatechartError as exc:
        cause = f" ({exc.__cause__})" if exc.__cause__ else ""
        raise ConfigError(f"invalid statechart: {exc}{cause}", file=str(path)) from None


_CODE_KEYS = {"guard": "eval", "action": "exec", "on entry": "exec", "on exit": "exec", "preamble": "exec"}
_CONTRACT_KEYS = ("before", "after", "always")


def _states(state: Mapping[str, Any]) -> Iterator[Mapping[str, Any]]:
    yield state
    for key in ("states", "parallel states"):
        for child in state.get(key) or ():
            yield from _states(child)


def _check_code(chart: Mapping[str, Any]) -> None:
    """Compile guards and actions now: sismic would only fail when a run reaches them."""
    blocks: list[Mapping[str, Any]] = [chart]
    for state in _states(chart["root state"]):
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
                raise block.error(key, f"Python syntax error in {key}: {exc.msg} (line {exc.lineno} of the code)") from None


def _check_states(chart: Mapping[str, Any]) -> None:
    """The sismic checks most often failed, located on the offending line."""
    seen: dict[str, Mapping[str, Any]] = {}
    states = list(_states(chart["root state"]))
    for state in states:
        name = str(state["name"])
        if name in seen:
            raise state.error("name", f"state {name!r} is defined twice (first at line {seen[name].line_of('name')})")
        seen[name] = state
        if state.get("states") and state.get("parallel states"):
            raise state.error("parallel states", "a state cannot have both 'states' and 'parallel states'")
        if state.get("type") is not None and state.get("transitions"):
            raise state.error("transitions", f"a {state['type']} state cannot have transitions")
    for state in states:
        children = {str(child["name"]) for child in state.get("states") or ()}
        if state.get("initial") is not None and str(state["initial"]) not in children:
            raise state.error("initial", f"initial state {state['initial']!r} is not a child of {state['name']!r}")
        for transition in state.get("transitions") or ():
            target = transition.get("target")
            if target is not None and str(target) not in seen:
                raise transition.error("target", f"unknown target state {target!r}")


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``interpreter.schemas`` (``name`` without ``.schema.json``)."""
    return json.loads(files("interpreter.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8"))


def validate(instance: Any, schema: Mapping[str, Any] | bool, *, default_file: str | None = None, default_key: str | None = None) -> None:
    """Validate *instance* (loaded YAML) and raise the single most relevant error.

    The error names the file and line of the deepest located entry on the
    error's path, its dotted key path, and what was expected, in words.
    """
    error = best_match(_validator(schema)(schema, format_checker=CHECKER).iter_errors(instance), key=_RELEVANCE)
    if error is None:
        return
    message, extra = explain(error)
    file, line, key = locate(instance, [*error.absolute_path, *extra])
    raise ConfigError(message, file=file or default_file, line=line, key=key or default_key)


def locate(root: Any, path: Any) -> tuple[str | None, int | None, str | None]:
    """File, line and dotted key of the deepest located entry along *path*."""
    file, line, key = getattr(root, "file", None), getattr(root, "line", None), getattr(root, "path", "") or None
    node = root
    for step in path:
        if isinstance(node, Located):
            file, line, key = node.file, node.line_of(step), node.key_path(step)
        elif isinstance(step, int):
            key = f"{key or ''}[{step}]"
        else:
            key = f"{key}.{step}" if key else str(step)
        try:
            node = node[step]
        except (KeyError, IndexError, TypeError):
            node = None
    return file, line, key


_EXPECTED = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
    "null": "nothing",
}


def describe(value: Any) -> str:
    """The kind of a loaded YAML value, as a user would say it."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int):
        return "an integer"
    if isinstance(value, float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    return f"a {type(value).__name__}"


def _types(schema_type: Any) -> str:
    names = [schema_type] if isinstance(schema_type, str) else list(schema_type)
    words = [_EXPECTED.get(name, name) for name in names]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " or " + words[-1]


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def explain(error: ValidationError) -> tuple[str, list[Any]]:
    """A short "expected ..." message for *error*, and path steps to add.

    The extra steps point an unknown key's error at the key's own line.
    """
    instance, schema = error.instance, error.schema
    if "propertyNames" in error.relative_schema_path:
        return f"invalid key {instance!r}: {_explain_value(error)}", []
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extras = [key for key in instance if key not in allowed and not any(re.search(p, str(key)) for p in patterns)]
        if extras:
            hint = f" (expected one of: {', '.join(map(str, allowed))})" if allowed else ""
            return f"unknown key {extras[0]!r}{hint}", [extras[0]]
    return _explain_value(error), []


def _explain_value(error: ValidationError) -> str:
    """The message for an error about one value (no path steps needed)."""
    kind, value, instance, schema = error.validator, error.validator_value, error.instance, error.schema
    if kind == "type":
        return f"expected {_types(value)}, got {describe(instance)}"
    if kind == "format" and error.cause is not None:
        cause = error.cause
        return cause.message if isinstance(cause, ConfigError) else str(cause)
    if kind in ("anyOf", "oneOf") and all(isinstance(branch, Mapping) and "type" in branch for branch in value):
        types: list[str] = []
        for branch in value:
            types.extend([branch["type"]] if isinstance(branch["type"], str) else branch["type"])
        checker = jsonschema.Draft202012Validator.TYPE_CHECKER
        if not any(checker.is_type(instance, name) for name in types):
            return f"expected {_types(dict.fromkeys(types))}, got {describe(instance)}"
    if kind == "required":
        missing = [key for key in value if key not in instance]
        return "missing required " + ("key " if len(missing) == 1 else "keys ") + ", ".join(repr(key) for key in missing)
    if kind == "enum":
        return f"expected one of: {', '.join(map(str, value))}; got {instance!r}"
    if kind == "const":
        return f"expected {value!r}, got {instance!r}"
    bounds = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    if kind in bounds:
        return f"expected a number {bounds[kind]} {value}, got {instance!r}"
    if kind == "minItems":
        return "expected a non-empty list" if value == 1 else f"expected at least {_plural(value, 'item')}"
    if kind == "maxItems":
        return f"expected at most {_plural(value, 'item')}"
    if kind == "minLength":
        return "expected a non-empty string" if value == 1 else f"expected at least {_plural(value, 'character')}"
    if kind == "maxLength":
        return f"expected at most {_plural(value, 'character')}"
    if kind == "minProperties":
        return "expected a non-empty mapping" if value == 1 else f"expected at least {_plural(value, 'key')}"
    if kind == "maxProperties":
        return f"expected at most {_plural(value, 'key')}"
    if kind == "pattern":
        # A regular expression means little to most readers; a schema can say what it wants in its title.
        return f"expected {schema.get('title') or f'a string matching {value}'}, got {instance!r}"
    if kind == "uniqueItems":
        return "expected no duplicate items"
    if kind == "multipleOf":
        return f"expected a multiple of {value}, got {instance!r}"
    if kind == "dependentRequired":
        needs = [
            f"{key!r} also needs {', '.join(repr(other) for other in others if other not in instance)}"
            for key, others in value.items()
            if key in instance and any(other not in instance for other in others)
        ]
        return "; ".join(needs)
    if kind == "oneOf" and not error.context:
        return "expected exactly one of the allowed forms, but several match"
    if kind == "not":
        return "this value is not allowed here"
    if kind is None or schema is False:
        return "not allowed here"
    return error.message
