"""JSON Schema validation that reports like the rest of perfchart: one error, at its file and line.

Test configurations, chart headers, policy blocks, channel blocks and task
blocks are all checked here, so every one of them fails the same way:
``file:line: key: expected ...``, naming the most relevant problem only, with
a did-you-mean hint for a misspelt key.
"""

from __future__ import annotations

import difflib
import functools
import json
import re
from collections.abc import Mapping
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError
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
    """A JSON Schema shipped in ``interpreter.schemas`` (``name`` without ``.schema.json``)."""
    return json.loads(
        files("interpreter.schemas").joinpath(f"{name}.schema.json").read_text(encoding="utf-8")
    )


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


def known_keys_hint(key: str, allowed: list[str]) -> str:
    """`` (did you mean X?; expected one of: ...)``, or nothing when no key is allowed."""
    if not allowed:
        return ""
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
    import jsonschema
    from jsonschema.exceptions import best_match

    kind: Any = error.validator
    value: Any = error.validator_value
    instance: Any = error.instance
    schema: Any = error.schema
    if kind == "type":
        return f"expected {_types(value)}, got {describe(instance)}"
    if kind == "format" and error.cause is not None:
        cause = error.cause
        return cause.message if isinstance(cause, ConfigError) else str(cause)
    if kind in ("anyOf", "oneOf") and all(
        isinstance(branch, Mapping) and "type" in branch for branch in value
    ):
        types: list[str] = []
        for branch in value:
            types.extend([branch["type"]] if isinstance(branch["type"], str) else branch["type"])
        checker = jsonschema.Draft202012Validator.TYPE_CHECKER
        if not any(checker.is_type(instance, name) for name in types):
            return f"expected {_types(dict.fromkeys(types))}, got {describe(instance)}"
    if kind in ("anyOf", "oneOf") and error.context:
        # Explain the failure of the form the value was meant to have (a string, a list ...), not
        # "no form matched".
        checker = jsonschema.Draft202012Validator.TYPE_CHECKER

        def fits(branch: Any) -> bool:
            wanted = branch.get("type") if isinstance(branch, Mapping) else None
            if wanted is None:
                return True
            return any(
                checker.is_type(instance, name)
                for name in ([wanted] if isinstance(wanted, str) else wanted)
            )

        fitting = [
            sub
            for sub in error.context
            if sub.relative_schema_path and fits(value[sub.relative_schema_path[0]])
        ]
        if fitting:
            best = best_match(fitting, key=_relevance())
            if best is not None:
                return _explain_value(best)
    if kind == "required":
        missing = [key for key in value if key not in instance]
        return (
            "missing required "
            + ("key " if len(missing) == 1 else "keys ")
            + ", ".join(repr(key) for key in missing)
        )
    if kind == "enum":
        return f"expected one of: {', '.join(map(str, value))}; got {instance!r}"
    if kind == "const":
        return f"expected {value!r}, got {instance!r}"
    bounds = {"minimum": ">=", "exclusiveMinimum": ">", "maximum": "<=", "exclusiveMaximum": "<"}
    if kind in bounds:
        return f"expected a number {bounds[kind]} {value}, got {instance!r}"
    if kind == "minItems":
        return (
            "expected a non-empty list"
            if value == 1
            else f"expected at least {_plural(value, 'item')}"
        )
    if kind == "maxItems":
        return f"expected at most {_plural(value, 'item')}"
    if kind == "minLength":
        return (
            "expected a non-empty string"
            if value == 1
            else f"expected at least {_plural(value, 'character')}"
        )
    if kind == "maxLength":
        return f"expected at most {_plural(value, 'character')}"
    if kind == "minProperties":
        return (
            "expected a non-empty mapping"
            if value == 1
            else f"expected at least {_plural(value, 'key')}"
        )
    if kind == "maxProperties":
        return f"expected at most {_plural(value, 'key')}"
    if kind == "pattern":
        # A regular expression means little to most readers; a schema can say what it wants in its
        # title.
        return f"expected {schema.get('title') or f'a string matching {value}'}, got {instance!r}"
    if kind == "uniqueItems":
        return "expected no duplicate items"
    if kind == "multipleOf":
        return f"expected a multiple of {value}, got {instance!r}"
    if kind == "dependentRequired":
        needs = [
            f"{key!r} also needs "
            f"{', '.join(repr(other) for other in others if other not in instance)}"
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
