"""A fast "valid" for JSON Schema validation, so loading valid input does not import jsonschema.

Everything perfchart loads is validated, and nearly all of it is valid;
importing jsonschema alone costs a start-up several times Python's own.
:func:`verdict` compiles a schema once (per schema object, per process)
into a check for the keywords perfchart's schemas use, with jsonschema's
meaning of each. The check answers True (valid), False (invalid) or None
(it cannot tell: a keyword it does not know, a remote reference, a value
it cannot compare exactly). Only True is taken as it is: on anything else
jsonschema validates again, and it alone words the error.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sized
from typing import Any

from .formats import FORMATS

#: A compiled schema: True valid, False invalid, None cannot tell.
Check = Callable[[Any], "bool | None"]

DIALECTS = frozenset(
    {
        "https://json-schema.org/draft/2020-12/schema",
        "https://json-schema.org/draft/2020-12/schema#",
    }
)
#: Keywords that only annotate: they never make an instance invalid.
ANNOTATIONS = frozenset(
    {
        "title",
        "description",
        "default",
        "examples",
        "$comment",
        "deprecated",
        "readOnly",
        "writeOnly",
        "$defs",
        "definitions",
    }
)

#: Keywords checked here, each by the method of its name (``_ref`` for ``$ref``).
KEYWORDS = frozenset(
    {
        "$ref",
        "type",
        "enum",
        "const",
        "properties",
        "patternProperties",
        "additionalProperties",
        "propertyNames",
        "required",
        "items",
        "contains",
        "uniqueItems",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "minLength",
        "maxLength",
        "minItems",
        "maxItems",
        "minProperties",
        "maxProperties",
        "pattern",
        "format",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
        "if",
        "then",
        "else",
    }
)

#: Every other keyword jsonschema gives a meaning to (in any draft, to be safe); the rest it
#: ignores.
VOCABULARY = frozenset(
    {
        "$id",
        "$schema",
        "$anchor",
        "$dynamicRef",
        "$dynamicAnchor",
        "$recursiveRef",
        "$recursiveAnchor",
        "$vocabulary",
        "dependentSchemas",
        "dependentRequired",
        "dependencies",
        "prefixItems",
        "additionalItems",
        "unevaluatedItems",
        "unevaluatedProperties",
        "multipleOf",
        "maxContains",
        "minContains",
        "contentEncoding",
        "contentMediaType",
        "contentSchema",
    }
)


class Unsupported(Exception):
    """The schema uses something this module does not check
    exactly; jsonschema validates instead.
    """


_compiled: dict[int, tuple[Any, Check | None]] = {}


def verdict(instance: Any, schema: Any) -> bool | None:
    """True when *instance* is valid against *schema*, False when not, None when only jsonschema can
    tell.
    """
    entry = _compiled.get(id(schema))
    if entry is None or entry[0] is not schema:
        try:
            check: Check | None = _Compiler(schema).compile(schema)
        except Unsupported:
            check = None
        # The schema is kept with its check, so its id cannot be reused by another while cached.
        entry = _compiled[id(schema)] = (schema, check)
    check = entry[1]
    return None if check is None else check(instance)


def _is_json(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str, list, dict))


def _is_type(instance: Any, name: str) -> bool:
    """jsonschema's type checker of draft 2020-12, for the types loaded YAML holds."""
    if name not in ("object", "array", "string", "boolean", "null", "number", "integer"):
        raise Unsupported(name)
    if name == "object":
        return isinstance(instance, dict)
    if name == "array":
        return isinstance(instance, list)
    if name == "string":
        return isinstance(instance, str)
    if name == "boolean":
        return isinstance(instance, bool)
    if name == "null":
        return instance is None
    if isinstance(instance, bool):
        return False
    if name == "number":
        return isinstance(instance, (int, float))
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


def _equal(one: Any, two: Any) -> bool | None:
    """JSON equality as jsonschema has it (booleans are not
    numbers); None for values outside JSON.
    """
    if not (_is_json(one) and _is_json(two)):
        return None
    if isinstance(one, bool) or isinstance(two, bool):
        return isinstance(one, bool) and isinstance(two, bool) and one == two
    if isinstance(one, (int, float)) and isinstance(two, (int, float)):
        return one == two
    if isinstance(one, dict) and isinstance(two, dict):
        if one.keys() != two.keys():
            return False
        return _all(_equal(value, two[key]) for key, value in one.items())
    if isinstance(one, list) and isinstance(two, list):
        if len(one) != len(two):
            return False
        return _all(_equal(a, b) for a, b in zip(one, two, strict=True))
    if isinstance(one, str) and isinstance(two, str):
        return one == two
    return one is None and two is None  # otherwise two different JSON types


def _all(answers: Any) -> bool | None:
    """False if any answer is False, else None if any is None, else True."""
    unsure = False
    for answer in answers:
        if answer is False:
            return False
        unsure = unsure or answer is None
    return None if unsure else True


class _Compiler:
    """Compiles the subschemas of one root, resolving its local ``$ref``s once each."""

    def __init__(self, root: Any) -> None:
        self.root = root
        self.refs: dict[str, Check] = {}
        if isinstance(root, Mapping) and root.get("$schema", next(iter(DIALECTS))) not in DIALECTS:
            raise Unsupported("$schema")

    def compile(self, schema: Any) -> Check:
        if schema is True:
            return lambda instance: True
        if schema is False:
            return lambda instance: False
        if not isinstance(schema, Mapping):
            raise Unsupported("schema")
        checks: list[Check] = []
        for key, value in schema.items():
            if key in ANNOTATIONS or (schema is self.root and key in ("$schema", "$id")):
                continue
            if key not in KEYWORDS:
                if key in VOCABULARY:
                    raise Unsupported(key)
                continue  # not a keyword of the draft: jsonschema ignores it too
            checks.append(getattr(self, "_" + key.lstrip("$"))(value, schema))
        return lambda instance: _all(check(instance) for check in checks)

    def _ref(self, ref: Any, schema: Mapping[str, Any]) -> Check:
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise Unsupported("$ref")
        if ref not in self.refs:
            node: Any = self.root
            for step in ref[2:].split("/"):
                step = step.replace("~1", "/").replace("~0", "~")
                if not isinstance(node, Mapping) or step not in node:
                    raise Unsupported("$ref")
                node = node[step]
            compiled: list[Check] = []
            # Registered before compiling, so a schema that refers to itself compiles once.
            self.refs[ref] = lambda instance: compiled[0](instance)
            compiled.append(self.compile(node))
        return self.refs[ref]

    def _type(self, names: Any, schema: Mapping[str, Any]) -> Check:
        wanted = [names] if isinstance(names, str) else list(names)
        for name in wanted:
            _is_type(
                None, name
            )  # an unknown type name is Unsupported now, not at the first instance
        return lambda instance: (
            any(_is_type(instance, name) for name in wanted) if _is_json(instance) else None
        )

    def _enum(self, values: Any, schema: Mapping[str, Any]) -> Check:
        options = list(values)

        def check(instance: Any) -> bool | None:
            answers = [_equal(instance, option) for option in options]
            return True if True in answers else None if None in answers else False

        return check

    def _const(self, value: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: _equal(instance, value)

    def _properties(self, properties: Any, schema: Mapping[str, Any]) -> Check:
        compiled = {name: self.compile(sub) for name, sub in properties.items()}

        def check(instance: Any) -> bool | None:
            if not isinstance(instance, dict):
                return True
            return _all(sub(instance[name]) for name, sub in compiled.items() if name in instance)

        return check

    def _patternProperties(self, patterns: Any, schema: Mapping[str, Any]) -> Check:
        compiled = [(re.compile(pattern), self.compile(sub)) for pattern, sub in patterns.items()]

        def check(instance: Any) -> bool | None:
            if not isinstance(instance, dict):
                return True
            if not all(isinstance(key, str) for key in instance):
                return None  # jsonschema fails on a key that is not text
            return _all(
                sub(value)
                for key, value in instance.items()
                for pattern, sub in compiled
                if pattern.search(key)
            )

        return check

    def _additionalProperties(self, extra: Any, schema: Mapping[str, Any]) -> Check:
        known = set(schema.get("properties", {}))
        patterns = [re.compile(pattern) for pattern in schema.get("patternProperties", {})]
        sub = self.compile(extra)

        def check(instance: Any) -> bool | None:
            if not isinstance(instance, dict):
                return True
            if patterns and not all(isinstance(key, str) for key in instance):
                return None  # jsonschema fails on a key that is not text
            return _all(
                sub(value)
                for key, value in instance.items()
                if key not in known and not any(p.search(key) for p in patterns)
            )

        return check

    def _propertyNames(self, names: Any, schema: Mapping[str, Any]) -> Check:
        sub = self.compile(names)
        return lambda instance: (
            _all(sub(key) for key in instance) if isinstance(instance, dict) else True
        )

    def _required(self, names: Any, schema: Mapping[str, Any]) -> Check:
        wanted = list(names)
        return lambda instance: (
            all(name in instance for name in wanted) if isinstance(instance, dict) else True
        )

    def _items(self, items: Any, schema: Mapping[str, Any]) -> Check:
        if "prefixItems" in schema:
            raise Unsupported("prefixItems")
        sub = self.compile(items)
        return lambda instance: (
            _all(sub(item) for item in instance) if isinstance(instance, list) else True
        )

    def _contains(self, contains: Any, schema: Mapping[str, Any]) -> Check:
        if "minContains" in schema or "maxContains" in schema:
            raise Unsupported("minContains")
        sub = self.compile(contains)

        def check(instance: Any) -> bool | None:
            if not isinstance(instance, list):
                return True
            answers = [sub(item) for item in instance]
            return True if True in answers else None if None in answers else False

        return check

    def _uniqueItems(self, unique: Any, schema: Mapping[str, Any]) -> Check:
        def check(instance: Any) -> bool | None:
            if not unique or not isinstance(instance, list):
                return True
            answers = [
                _equal(a, b) for index, a in enumerate(instance) for b in instance[index + 1 :]
            ]
            return False if True in answers else None if None in answers else True

        return check

    def _bound(self, limit: Any, holds: Callable[[Any, Any], bool], kind: str) -> Check:
        if isinstance(limit, bool) or not isinstance(limit, (int, float)):
            raise Unsupported(kind)
        return lambda instance: holds(instance, limit) if _is_type(instance, "number") else True

    def _minimum(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, lambda value, bound: value >= bound, "minimum")

    def _maximum(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, lambda value, bound: value <= bound, "maximum")

    def _exclusiveMinimum(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, lambda value, bound: value > bound, "exclusiveMinimum")

    def _exclusiveMaximum(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._bound(limit, lambda value, bound: value < bound, "exclusiveMaximum")

    def _size(self, limit: Any, kind: type[Sized], at_least: bool) -> Check:
        if isinstance(limit, bool) or not isinstance(limit, int):
            raise Unsupported("size")
        if at_least:
            return lambda instance: len(instance) >= limit if isinstance(instance, kind) else True
        return lambda instance: len(instance) <= limit if isinstance(instance, kind) else True

    def _minLength(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._size(limit, str, True)

    def _maxLength(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._size(limit, str, False)

    def _minItems(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._size(limit, list, True)

    def _maxItems(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._size(limit, list, False)

    def _minProperties(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._size(limit, dict, True)

    def _maxProperties(self, limit: Any, schema: Mapping[str, Any]) -> Check:
        return self._size(limit, dict, False)

    def _pattern(self, pattern: Any, schema: Mapping[str, Any]) -> Check:
        compiled = re.compile(pattern)
        return lambda instance: (
            bool(compiled.search(instance)) if isinstance(instance, str) else True
        )

    def _format(self, name: Any, schema: Mapping[str, Any]) -> Check:
        if name not in FORMATS:
            return lambda instance: True  # jsonschema checks only the formats perfchart registers
        function, raises = FORMATS[name]

        def check(instance: Any) -> bool | None:
            try:
                return True if function(instance) else False
            except raises:
                return False
            except Exception:
                return None

        return check

    def _allOf(self, subs: Any, schema: Mapping[str, Any]) -> Check:
        compiled = [self.compile(sub) for sub in subs]
        return lambda instance: _all(sub(instance) for sub in compiled)

    def _anyOf(self, subs: Any, schema: Mapping[str, Any]) -> Check:
        compiled = [self.compile(sub) for sub in subs]

        def check(instance: Any) -> bool | None:
            answers = [sub(instance) for sub in compiled]
            return True if True in answers else None if None in answers else False

        return check

    def _oneOf(self, subs: Any, schema: Mapping[str, Any]) -> Check:
        compiled = [self.compile(sub) for sub in subs]

        def check(instance: Any) -> bool | None:
            answers = [sub(instance) for sub in compiled]
            return None if None in answers else answers.count(True) == 1

        return check

    def _not(self, sub: Any, schema: Mapping[str, Any]) -> Check:
        compiled = self.compile(sub)

        def check(instance: Any) -> bool | None:
            answer = compiled(instance)
            return None if answer is None else not answer

        return check

    def _if(self, condition: Any, schema: Mapping[str, Any]) -> Check:
        test = self.compile(condition)
        then = self.compile(schema.get("then", True))
        otherwise = self.compile(schema.get("else", True))

        def check(instance: Any) -> bool | None:
            holds = test(instance)
            return None if holds is None else then(instance) if holds else otherwise(instance)

        return check

    def _then(self, sub: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: True  # applied by "if"; alone it does nothing

    def _else(self, sub: Any, schema: Mapping[str, Any]) -> Check:
        return lambda instance: True  # applied by "if"; alone it does nothing
