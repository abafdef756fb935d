"""The quick check agrees with jsonschema wherever it answers, and answers for valid input perfchart
loads."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from interpreter.channels import channel_classes
from interpreter.charts import bundled
from interpreter.config import format_checker, load_schema, load_yaml_file
from interpreter.config.quickcheck import verdict
from interpreter.metrics import tracker_classes

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "examples").glob("*.y*ml"))
#: The examples large enough that checking every mutation takes more than half a second.
LARGE = ("ramp_bisect.yaml", "sweep.yml")


def jsonschema_says(instance: Any, schema: Any) -> bool:
    cls = (
        jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
        if isinstance(schema, dict)
        else jsonschema.Draft202012Validator
    )
    return not any(cls(schema, format_checker=format_checker()).iter_errors(instance))


def agrees(instance: Any, schema: Any) -> bool | None:
    """The quick check's answer, after asserting that jsonschema gives the same one when it is not
    None."""
    answer = verdict(instance, schema)
    if answer is not None:
        assert answer == jsonschema_says(instance, schema), (instance, schema)
    return answer


@pytest.mark.parametrize(
    ("schema", "instance", "expected"),
    [
        ({"enum": [1, 2]}, True, False),  # a boolean is not the number 1
        ({"enum": [1, 2]}, 1.0, True),
        ({"const": {"a": [1, "x"]}}, {"a": [1, "x"]}, True),
        ({"const": {"a": [1, "x"]}}, {"a": [True, "x"]}, False),
        ({"type": "integer"}, 2.0, True),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"type": ["string", "null"]}, None, True),
        ({"type": "object", "required": ["a"]}, {"b": 1}, False),
        ({"required": ["a"]}, [1], True),  # required only constrains mappings
        ({"properties": {"a": {"minimum": 3}}, "additionalProperties": False}, {"a": 3}, True),
        ({"properties": {"a": {"minimum": 3}}, "additionalProperties": False}, {"a": 2}, False),
        ({"properties": {"a": {}}, "additionalProperties": False}, {"a": 1, "b": 2}, False),
        (
            {"patternProperties": {"^x": {"type": "string"}}, "additionalProperties": False},
            {"xa": "s"},
            True,
        ),
        (
            {"patternProperties": {"^x": {"type": "string"}}, "additionalProperties": False},
            {"ya": "s"},
            False,
        ),
        (
            {"patternProperties": {"^x": {}}},
            {1: "s"},
            None,
        ),  # jsonschema fails on a key that is not text
        ({"propertyNames": {"pattern": "^[a-z]+$"}}, {"ab": 1, "Cd": 2}, False),
        ({"items": {"type": "integer"}, "minItems": 1}, [], False),
        ({"items": {"type": "integer"}, "minItems": 1}, [1, 2], True),
        ({"contains": {"const": 2}}, [1, 3], False),
        ({"contains": {"const": 2}}, [1, 2], True),
        ({"uniqueItems": True}, [1, True], True),
        ({"uniqueItems": True}, [1, 1.0], False),
        ({"uniqueItems": True}, [{"a": 1}, {"a": 2}], True),
        ({"exclusiveMinimum": 0}, 0, False),
        ({"maximum": 2, "exclusiveMaximum": 3}, 2.5, False),
        ({"minLength": 2, "maxLength": 3}, "abcd", False),
        ({"minProperties": 1}, {}, False),
        ({"pattern": "b"}, "abc", True),
        ({"pattern": "^b"}, "abc", False),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, 1.5, False),
        ({"oneOf": [{"type": "integer"}, {"type": "number"}]}, 1, False),  # both match
        ({"oneOf": [{"type": "integer"}, {"type": "string"}]}, 1, True),
        ({"not": {"type": "string"}}, "x", False),
        (
            {
                "if": {"properties": {"k": {"const": "a"}}},
                "then": {"required": ["x"]},
                "else": {"required": ["y"]},
            },
            {"k": "a", "y": 1},
            False,
        ),
        (
            {
                "if": {"properties": {"k": {"const": "a"}}},
                "then": {"required": ["x"]},
                "else": {"required": ["y"]},
            },
            {"k": "b", "y": 1},
            True,
        ),
        ({"$defs": {"n": {"type": "integer"}}, "items": {"$ref": "#/$defs/n"}}, [1, "x"], False),
        (
            {
                "$defs": {"t": {"type": "object", "properties": {"next": {"$ref": "#/$defs/t"}}}},
                "$ref": "#/$defs/t",
            },
            {"next": {"next": 1}},
            False,
        ),
        ({"format": "duration"}, "3 fortnights", False),
        ({"format": "duration"}, "10s", True),
        ({"format": "no-such-format"}, "anything", True),
        ({"dependentRequired": {"a": ["b"]}}, {"a": 1}, None),  # a keyword it does not check
        (
            {"x-note": "ignored", "type": "integer"},
            1,
            True,
        ),  # not a keyword: jsonschema ignores it too
        ({"$ref": "https://example.invalid/schema.json"}, 1, None),
        ({"$schema": "http://json-schema.org/draft-07/schema#", "type": "integer"}, 1, None),
        (False, 1, False),
        (True, 1, True),
    ],
)
def test_each_keyword_means_what_it_means_to_jsonschema(
    schema: Any, instance: Any, expected: bool | None
) -> None:
    assert agrees(instance, schema) is expected


def test_values_outside_json_are_left_to_jsonschema() -> None:
    assert verdict({1, 2}, {"type": "array"}) is None
    assert verdict({1, 2}, {"not": {"type": "array"}}) is None


def shipped() -> Iterator[tuple[str, Any]]:
    """Every schema perfchart validates loaded input against, by a name for the test ids."""
    for path in sorted((ROOT / "interpreter" / "schemas").glob("*.schema.json")):
        yield path.name, load_schema(path.name.removesuffix(".schema.json"))
    for chart in bundled():
        if chart.config_schema is not None:
            yield f"policy {chart.name}", chart.config_schema
        for index, (condition, _) in enumerate(chart.warnings):
            yield f"policy {chart.name} warning {index}", condition
    for cls in {**channel_classes(), **tracker_classes()}.values():
        yield cls.__name__, cls.schema


def test_every_schema_perfchart_ships_compiles_to_a_quick_check() -> None:
    """An unsupported keyword would quietly send every load back to jsonschema."""
    for name, schema in shipped():
        assert verdict({}, schema) is not None, name


def mutations(document: Any) -> Iterator[Any]:
    """*document* with one value replaced, one key dropped or one key added, everywhere in it."""
    replacements: list[Any] = [None, True, 0, -1, 2.5, "", "x", "10s", [], [1, 1], {}, {"zz": 1}]

    def places(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        yield path
        children = (
            node.items()
            if isinstance(node, dict)
            else enumerate(node)
            if isinstance(node, list)
            else ()
        )
        for key, child in children:
            yield from places(child, (*path, key))

    def replaced(path: tuple[Any, ...], change: Any) -> Any:
        out = copy.deepcopy(document)
        if not path:
            return change(out)
        node = out
        for step in path[:-1]:
            node = node[step]
        node[path[-1]] = change(node[path[-1]])
        return out

    for path in places(document, ()):
        for value in replacements:
            yield replaced(path, lambda _, value=value: value)
        yield replaced(path, lambda node: {**node, "zz": 1} if isinstance(node, dict) else node)
        yield replaced(
            path,
            lambda node: (
                dict(list(node.items())[1:])
                if isinstance(node, dict)
                else node[1:]
                if isinstance(node, list)
                else node
            ),
        )


@pytest.mark.parametrize(
    "example",
    [
        pytest.param(path, marks=pytest.mark.slow) if path.name in LARGE else path
        for path in EXAMPLES
    ],
    ids=lambda path: path.name,
)
def test_the_examples_pass_quickly_and_every_mutation_gets_jsonschemas_answer(
    example: Path,
) -> None:
    document = load_yaml_file(example)
    schema = load_schema("chart") if "statechart" in document else load_schema("config")
    assert agrees(document, schema) is True
    answered = [agrees(mutated, schema) for mutated in mutations(document)]
    assert False in answered
