"""``perfchart schema config|statechart``: JSON Schemas for editors, complete with every plugin's
block.

The shipped schemas check structure; this adds what the loader checks
block by block: each bundled policy's block (selected by its ``class:``),
each registered channel's block and the task schema, so an editor using
the YAML language server flags a typo'd key as you type.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping

# typing.TYPE_CHECKING without importing typing, which every command's start would pay for.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

ID = "https://perfchart.invalid/schemas/"


def add_parser(commands: argparse._SubParsersAction) -> None:
    schema = commands.add_parser(
        "schema",
        help="print the JSON Schema of test configurations or policy charts",
        description="Print a JSON Schema for editors: 'config' for test configurations "
        "(with every bundled policy's "
        "and registered channel's block), 'statechart' for policy chart files. Wire it into an "
        "editor with a "
        "'# yaml-language-server: $schema=FILE' comment at the top of the YAML file.",
    )
    schema.add_argument("kind", choices=("config", "statechart"), help="which schema")


def print_schema(args: argparse.Namespace) -> int:
    import json

    document = config_schema() if args.kind == "config" else statechart_schema()
    print(json.dumps(document, indent=2))
    return 0


def _embedded(
    defs: dict[str, Any], schema: Mapping[str, Any] | bool, name: str, allow: Iterable[str] = ()
) -> Any:
    """A ``$ref`` to *schema*, hoisted into the root's *defs* as ``name`` (with its own ``$defs``
    as ``name.KEY``), also allowing keys *allow*.

    Editors' language servers resolve ``$ref`` within one document only, so no
    schema keeps an ``$id`` or ``$defs`` of its own; its ``#`` references are
    rewritten to where its parts now live.
    """
    if isinstance(schema, bool):
        return schema
    import copy  # here: the parser is built for every command, this runs for one

    out = copy.deepcopy(dict(schema))
    for key in ("$schema", "$id"):
        out.pop(key, None)
    own = out.pop("$defs", {})
    if allow:
        out["properties"] = {**{key: True for key in allow}, **out.get("properties", {})}
    for key, part in own.items():
        defs[f"{name}.{key}"] = _rebased(part, name)
    defs[name] = _rebased(out, name)
    return {"$ref": f"#/$defs/{name}"}


def _rebased(node: Any, name: str) -> Any:
    """*node* with each reference into its own document pointed at ``$defs/name`` of the root."""
    if isinstance(node, list):
        return [_rebased(item, name) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _rebased(value, name) for key, value in node.items()}
    ref = out.get("$ref")
    if isinstance(ref, str) and ref.startswith("#"):
        pointer = ref[1:]
        if pointer.startswith("/$defs/"):
            key, _, rest = pointer[len("/$defs/") :].partition("/")
            out["$ref"] = f"#/$defs/{name}.{key}" + (f"/{rest}" if rest else "")
        else:
            out["$ref"] = f"#/$defs/{name}{pointer}"
    return out


def _by_class(choices: Iterable[tuple[tuple[str, ...], Any]]) -> list[dict[str, Any]]:
    """``if class is one of these names then this block's schema`` for each choice."""
    return [
        {
            "if": {"required": ["class"], "properties": {"class": {"enum": list(names)}}},
            "then": then,
        }
        for names, then in choices
    ]


def config_schema() -> dict[str, Any]:
    """config.schema.json with each bundled policy's, each
    channel's and the task block filled in.
    """
    import copy

    from ..channels import channel_classes
    from ..charts import bundled
    from ..config import load_schema

    schema = copy.deepcopy(load_schema("config"))  # the loader's cached copy stays as shipped
    schema["$id"] = f"{ID}config.json"
    defs = schema["$defs"]
    policies = [
        (chart.names(), _embedded(defs, chart.config_schema, f"policy-{chart.name}", ("class",)))
        for chart in bundled()
        if chart.config_schema is not None
    ]
    defs["policy"] = {**defs["policy"], "allOf": _by_class(policies)}
    channels = {cls: cls.names for cls in channel_classes().values()}
    defs["channel"] = {
        **defs["channel"],
        "allOf": _by_class(
            (names, _embedded(defs, cls.schema, f"channel-{names[-1]}", ("class",)))
            for cls, names in channels.items()
        ),
    }
    schema["properties"]["tasks"] = {
        **schema["properties"]["tasks"],
        "items": _embedded(defs, load_schema("task"), "task"),
    }
    return schema


def statechart_schema() -> dict[str, Any]:
    """chart.schema.json (sismic's format) with the ``perfchart:`` header's schema in place."""
    import copy

    from ..config import load_schema

    schema = copy.deepcopy(load_schema("chart"))
    schema["$id"] = f"{ID}statechart.json"
    schema["properties"]["perfchart"] = _embedded(
        schema.setdefault("$defs", {}), load_schema("chart-header"), "header"
    )
    return schema
