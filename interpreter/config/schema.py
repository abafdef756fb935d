"""JSON Schema validation that reports like the rest of perfchart: one error, at its file and line.

Test configurations, chart headers, policy blocks, channel blocks and task
blocks are all checked here, so every one of them fails the same way:
``file:line: key: expected ...``, naming the most relevant problem only, with
a did-you-mean hint for a misspelt key.
"""

from __future__ import annotations

import functools
import importlib
import json
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, ConfigErrors
from .formats import format_checker
from .quickcheck import verdict
from .yamlsource import Located

# jsonschema is imported only when input is invalid or the quick check cannot tell.
if TYPE_CHECKING:
    import jsonschema
    from jsonschema.exceptions import ValidationError
    from jsonschema.protocols import Validator


@functools.cache
def _relevance() -> Any:
    """best_match's ranking: a misspelt key also makes a required one "missing"; naming the typo
    explains both.
    """
    from jsonschema.exceptions import by_relevance

    return by_relevance(strong=frozenset({"additionalProperties", "unevaluatedProperties"}))


@functools.cache
def _checker() -> Any:
    return format_checker()


def validator_class(schema: Any) -> type[Validator]:
    """The validator the schema asks for with ``$schema``, draft 2020-12 otherwise."""
    import jsonschema
    from jsonschema.validators import validator_for

    if isinstance(schema, Mapping):
        return validator_for(schema, default=jsonschema.Draft202012Validator)
    return jsonschema.Draft202012Validator


@functools.cache
def load_schema(name: str) -> dict[str, Any]:
    """A JSON Schema shipped in ``interpreter.schemas`` (``name`` without ``.schema.json``).

    Read from the package's folder, as importlib.resources.files would give it, without importing
    that (and zipfile with it) on every start: perfchart is installed as files, never zipped.
    """
    (folder,) = importlib.import_module("interpreter.schemas").__path__
    return json.loads((Path(folder) / f"{name}.schema.json").read_text(encoding="utf-8"))


def validate(
    instance: Any,
    schema: Mapping[str, Any] | bool,
    *,
    default_file: str | None = None,
    default_key: str | None = None,
) -> None:
    """Validate *instance* (loaded YAML) and raise the single most relevant error.

    The error names the file and line of the deepest located entry on the
    error's path, its dotted key path, and what was expected, in words.
    """
    if verdict(instance, schema) is True:
        return
    from jsonschema.exceptions import best_match

    error = best_match(
        validator_class(schema)(schema, format_checker=_checker()).iter_errors(instance),
        key=_relevance(),
    )
    if error is None:
        return
    message, extra = explain(error)
    file, line, key = locate(instance, [*error.absolute_path, *extra])
    raise ConfigError(message, file=file or default_file, line=line, key=key or default_key)


def validate_block(
    instance: Any,
    schema: Mapping[str, Any] | bool,
    *,
    default_file: str | None = None,
    default_key: str | None = None,
) -> None:
    """Validate one block (a policy's, a channel's, a tracker's) and raise every error it has, each
    at its line: the most relevant one of each value that is wrong, and each unknown key.

    ``check`` names them all at once; ``run`` stops at the first, as :func:`validate` gives it.
    """
    if verdict(instance, schema) is True:
        return
    from jsonschema.exceptions import best_match

    groups: dict[tuple[Any, ...], list[Any]] = {}
    for error in validator_class(schema)(schema, format_checker=_checker()).iter_errors(instance):
        groups.setdefault(tuple(error.absolute_path), []).append(error)
    found: list[ConfigError] = []
    for path, group in sorted(groups.items(), key=lambda item: len(item[0])):
        error = best_match(group, key=_relevance())
        if error is None:
            continue
        for message, extra in _explained(error):
            file, line, key = locate(instance, [*path, *extra])
            found.append(
                ConfigError(message, file=file or default_file, line=line, key=key or default_key)
            )
    if found:
        raise ConfigErrors(found)


def _explained(error: ValidationError | jsonschema.SchemaError) -> list[tuple[str, list[Any]]]:
    """:func:`explain` of *error*, once for each unknown key when it is about several."""
    message, extra = explain(error)
    if not extra or error.validator not in ("additionalProperties", "unevaluatedProperties"):
        return [(message, extra)]
    schema: Any = error.schema
    allowed = list(schema.get("properties", {}))
    patterns = list(schema.get("patternProperties", {}))
    instance: Any = error.instance
    extras = [
        key
        for key in instance
        if key not in allowed and not any(re.search(p, str(key)) for p in patterns)
    ]
    return [(message, extra)] + [
        (f"unknown key {key!r}{known_keys_hint(str(key), allowed)}", [key]) for key in extras[1:]
    ]


def validation_errors(instance: Any, schema: Mapping[str, Any] | bool) -> list[ConfigError]:
    """The most relevant error of each block (each entry of a section, or the section) that fails
    *schema*, so one check names every broken block at once.
    """
    if verdict(instance, schema) is True:
        return []
    from jsonschema.exceptions import best_match

    groups: dict[tuple[Any, ...], list[Any]] = {}
    for error in validator_class(schema)(schema, format_checker=_checker()).iter_errors(instance):
        groups.setdefault(tuple(error.absolute_path)[:2], []).append(error)
    found: list[ConfigError] = []
    for group in groups.values():
        error = best_match(group, key=_relevance())
        if error is not None:
            message, extra = explain(error)
            file, line, key = locate(instance, [*error.absolute_path, *extra])
            found.append(ConfigError(message, file=file, line=line, key=key))
    return found


def format_values(
    instance: Any, schema: Any, name: str
) -> list[tuple[Mapping[str, Any] | list[Any], Any]]:
    """Where *instance* holds a string the schema marks ``format: name``, as (container, key):
    what a check after validation (an event filter's publishers, say) needs to point at.
    """
    found: dict[tuple[int, Any], tuple[Mapping[str, Any] | list[Any], Any]] = {}
    _formats(instance, schema, schema, name, None, found, 0)
    return list(found.values())


def _formats(
    value: Any,
    schema: Any,
    root: Any,
    name: str,
    at: tuple[Any, Any] | None,
    found: dict[tuple[int, Any], tuple[Any, Any]],
    depth: int,
) -> None:
    """One step of :func:`format_values`: *value* (at *at* in its container) against *schema*."""
    if not isinstance(schema, Mapping) or depth > MAX_SCHEMA_DEPTH:
        return
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        _formats(value, _pointer(root, ref), root, name, at, found, depth + 1)
    for key in ("anyOf", "oneOf", "allOf"):
        for branch in schema.get(key) or ():
            _formats(value, branch, root, name, at, found, depth + 1)
    if schema.get("format") == name and isinstance(value, str) and at is not None:
        found[id(at[0]), at[1]] = at
    for key, item, subschema in _children(value, schema):
        _formats(item, subschema, root, name, (value, key), found, depth + 1)


def _children(value: Any, schema: Mapping[str, Any]) -> list[tuple[Any, Any, Any]]:
    """Each entry of *value* with its key and each subschema that applies to it."""
    if isinstance(value, list):
        return [(index, item, schema.get("items")) for index, item in enumerate(value)]
    if not isinstance(value, Mapping):
        return []
    properties = schema.get("properties") or {}
    patterns = schema.get("patternProperties") or {}
    children = []
    for key, item in value.items():
        matched = [s for p, s in patterns.items() if re.search(p, str(key))]
        subschemas = [properties[key]] if key in properties else matched
        if key not in properties and not matched:
            subschemas = [schema.get("additionalProperties")]
        children += [(key, item, subschema) for subschema in subschemas]
    return children


#: Deeper than any schema perfchart ships or a chart header needs; a ``$ref`` loop stops here.
MAX_SCHEMA_DEPTH = 64


def _pointer(root: Any, ref: str) -> Any:
    """The part of *root* a local ``$ref`` such as ``#/$defs/step`` names, or None."""
    node = root
    for part in ref[1:].split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def locate(root: Any, path: Any) -> tuple[str | None, int | None, str | None]:
    """File, line and dotted key of the deepest located entry along *path*."""
    file, line, key = (
        getattr(root, "file", None),
        getattr(root, "line", None),
        getattr(root, "path", "") or None,
    )
    node = root
    for step in path:
        if isinstance(node, Located):
            file, line, key = node.file_of(step), node.line_of(step), node.key_path(step)
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


def known_keys_hint(key: str, allowed: list[str]) -> str:
    """`` (did you mean X?; expected one of: ...)``, or nothing when no key is allowed."""
    if not allowed:
        return ""
    import difflib  # here: only a misspelt key needs it

    close = difflib.get_close_matches(key, allowed, n=1)
    guess = f"did you mean {close[0]}? " if close else ""
    return f" ({guess}expected one of: {', '.join(allowed)})"


def explain(error: ValidationError | jsonschema.SchemaError) -> tuple[str, list[Any]]:
    """A short "expected ..." message for *error*, and path steps to add.

    The extra steps point an unknown key's error at the key's own line.
    """
    # jsonschema types these as possibly unset; a reported error always has them.
    instance: Any = error.instance
    schema: Any = error.schema
    if "propertyNames" in error.relative_schema_path:
        return f"invalid key {instance!r}: {_explain_value(error)}", []
    if error.validator in ("additionalProperties", "unevaluatedProperties"):
        allowed = list(schema.get("properties", {}))
        patterns = list(schema.get("patternProperties", {}))
        extras = [
            key
            for key in instance
            if key not in allowed and not any(re.search(p, str(key)) for p in patterns)
        ]
        if extras:
            return f"unknown key {extras[0]!r}{known_keys_hint(str(extras[0]), allowed)}", [
                extras[0]
            ]
    return _explain_value(error), []


def _explain_value(error: ValidationError | jsonschema.SchemaError) -> str:
    """The message for an error about one value (no path steps needed)."""
    kind: Any = error.validator
    if kind in ("anyOf", "oneOf"):
        message = _explain_alternatives(error)
        if message is not None:
            return message
    elif kind == "format" and error.cause is not None:
        cause = error.cause
        return cause.message if isinstance(cause, ConfigError) else str(cause)
    elif kind in _BY_KEYWORD:
        # jsonschema types these as possibly unset; a reported error always has them.
        value: Any = error.validator_value
        instance: Any = error.instance
        return _BY_KEYWORD[kind](value, instance, error.schema)
    if kind == "not":
        return "this value is not allowed here"
    if kind is None or error.schema is False:
        return "not allowed here"
    return error.message


def _explain_alternatives(error: ValidationError | jsonschema.SchemaError) -> str | None:
    """An ``anyOf``/``oneOf`` failure in terms of the form the value was meant to have; None
    when the generic message is as good.
    """
    value: Any = error.validator_value
    instance: Any = error.instance
    if all(isinstance(branch, Mapping) and "type" in branch for branch in value):
        types: list[str] = []
        for branch in value:
            types.extend(_type_names(branch["type"]))
        if not any(_is_type(instance, name) for name in types):
            return f"expected {_types(dict.fromkeys(types))}, got {describe(instance)}"
    if not error.context:
        if error.validator == "oneOf":
            return "expected exactly one of the allowed forms, but several match"
        return None
    # Explain the failure of the form the value was meant to have (a string, a list ...), not
    # "no form matched".
    fitting = [
        sub
        for sub in error.context
        if sub.relative_schema_path and _fits(value[sub.relative_schema_path[0]], instance)
    ]
    if fitting:
        from jsonschema.exceptions import best_match

        best = best_match(fitting, key=_relevance())
        if best is not None:
            return _explain_value(best)
    return None


def _type_names(wanted: str | list[str]) -> list[str]:
    """A schema's ``type``, always as a list."""
    return [wanted] if isinstance(wanted, str) else wanted


def _is_type(instance: Any, name: str) -> bool:
    import jsonschema

    return bool(jsonschema.Draft202012Validator.TYPE_CHECKER.is_type(instance, name))


def _fits(branch: Any, instance: Any) -> bool:
    """Whether *instance* has a type *branch* allows (any, when it names none)."""
    wanted = branch.get("type") if isinstance(branch, Mapping) else None
    if wanted is None:
        return True
    return any(_is_type(instance, name) for name in _type_names(wanted))


def _required(value: Any, instance: Any, schema: Any) -> str:
    missing = [key for key in value if key not in instance]
    return (
        "missing required "
        + ("key " if len(missing) == 1 else "keys ")
        + ", ".join(repr(key) for key in missing)
    )


def _bound(op: str) -> Callable[[Any, Any, Any], str]:
    """The message maker for a numeric bound compared with *op*."""

    def message(value: Any, instance: Any, schema: Any) -> str:
        return f"expected a number {op} {value}, got {instance!r}"

    return message


def _at_least(word: str, empty: str) -> Callable[[Any, Any, Any], str]:
    """The message maker for ``min*``: *empty* when one is enough, else a count of *word*."""

    def message(value: Any, instance: Any, schema: Any) -> str:
        return f"expected {empty}" if value == 1 else f"expected at least {_plural(value, word)}"

    return message


def _at_most(word: str) -> Callable[[Any, Any, Any], str]:
    """The message maker for ``max*``: a count of *word*."""

    def message(value: Any, instance: Any, schema: Any) -> str:
        return f"expected at most {_plural(value, word)}"

    return message


def _pattern(value: Any, instance: Any, schema: Any) -> str:
    # A regular expression means little to most readers; a schema can say what it wants in its
    # title.
    return f"expected {schema.get('title') or f'a string matching {value}'}, got {instance!r}"


def _dependent_required(value: Any, instance: Any, schema: Any) -> str:
    needs = [
        f"{key!r} also needs {', '.join(repr(other) for other in others if other not in instance)}"
        for key, others in value.items()
        if key in instance and any(other not in instance for other in others)
    ]
    return "; ".join(needs)


#: The message for each keyword whose failure always has one of its own, from the keyword's
#: value in the schema, the instance and the schema.
_BY_KEYWORD: dict[str, Callable[[Any, Any, Any], str]] = {
    "type": lambda value, instance, schema: f"expected {_types(value)}, got {describe(instance)}",
    "required": _required,
    "enum": lambda value, instance, schema: (
        f"expected one of: {', '.join(map(str, value))}; got {instance!r}"
    ),
    "const": lambda value, instance, schema: f"expected {value!r}, got {instance!r}",
    "minimum": _bound(">="),
    "exclusiveMinimum": _bound(">"),
    "maximum": _bound("<="),
    "exclusiveMaximum": _bound("<"),
    "minItems": _at_least("item", "a non-empty list"),
    "maxItems": _at_most("item"),
    "minLength": _at_least("character", "a non-empty string"),
    "maxLength": _at_most("character"),
    "minProperties": _at_least("key", "a non-empty mapping"),
    "maxProperties": _at_most("key"),
    "pattern": _pattern,
    "uniqueItems": lambda value, instance, schema: "expected no duplicate items",
    "multipleOf": lambda value, instance, schema: (
        f"expected a multiple of {value}, got {instance!r}"
    ),
    "dependentRequired": _dependent_required,
}


def check_schema(schema: Any) -> None:
    import jsonschema

    cls = validator_class(schema)
    try:
        cls.check_schema(schema)
    except jsonschema.SchemaError as exc:
        file, line, key = locate(schema, exc.absolute_path)
        raise ConfigError(
            f"invalid JSON Schema: {explain(exc)[0]}", file=file, line=line, key=key
        ) from None
