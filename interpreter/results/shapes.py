"""What each results file holds, checked as it is read back: an edited or damaged file is one line
naming its first bad key, never an exception deep inside report, compare, draw or resume.

Only what readers use is checked, and only its type: a key may be missing
unless a shape requires it, and keys no shape names pass unchecked, so
files of older and newer sessions still read.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from ..config import describe


class Shape:
    """A kind of JSON value; :meth:`problem` says where a value is not one, and what was
    expected."""

    expected = "a value"

    def problem(self, value: Any, key: str) -> tuple[str, str, Any] | None:
        return None if self.fits(value) else (key, self.expected, value)

    def fits(self, value: Any) -> bool:
        return True


@dataclass(frozen=True)
class Kind(Shape):
    """A scalar: an integer, a finite number, a string or a boolean (or nothing, when optional)."""

    name: str
    optional: bool = True

    @property
    def expected(self) -> str:  # type: ignore[override]
        what = {
            "int": "an integer",
            "number": "a finite number",
            "str": "a string",
            "bool": "true or false",
        }[self.name]
        return f"{what} or null" if self.optional else what

    def fits(self, value: Any) -> bool:
        if value is None:
            return self.optional
        if self.name == "bool":
            return isinstance(value, bool)
        if isinstance(value, bool):
            return False
        if self.name == "int":
            return isinstance(value, int)
        if self.name == "number":
            return isinstance(value, (int, float)) and math.isfinite(value)
        return isinstance(value, str)


@dataclass(frozen=True)
class ListOf(Shape):
    item: Shape

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a list"

    def problem(self, value: Any, key: str) -> tuple[str, str, Any] | None:
        if not isinstance(value, list):
            return key, self.expected, value
        return _first(self.item.problem(item, f"{key}[{i}]") for i, item in enumerate(value))


@dataclass(frozen=True)
class MapOf(Shape):
    """A JSON object whose values all fit *value*."""

    value: Shape = field(default_factory=Shape)

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a mapping"

    def problem(self, value: Any, key: str) -> tuple[str, str, Any] | None:
        if not isinstance(value, Mapping):
            return key, self.expected, value
        return _first(self.value.problem(item, f"{key}.{name}") for name, item in value.items())


@dataclass(frozen=True)
class Fields(Shape):
    """A JSON object with these keys (those in *required* must be there)."""

    fields: Mapping[str, Shape]
    required: frozenset[str] = frozenset()

    @property
    def expected(self) -> str:  # type: ignore[override]
        return "a mapping"

    def problem(self, value: Any, key: str) -> tuple[str, str, Any] | None:
        if not isinstance(value, Mapping):
            return key, self.expected, value
        for name in sorted(self.required - value.keys()):
            return _join(key, name), f"{self.fields[name].expected} (it is missing)", _MISSING
        return _first(
            shape.problem(value[name], _join(key, name))
            for name, shape in self.fields.items()
            if name in value
        )


def _join(key: str, name: str) -> str:
    return f"{key}.{name}" if key else name


def _first(problems: Any) -> tuple[str, str, Any] | None:
    return next((found for found in problems if found is not None), None)


_MISSING = object()

INT, NUMBER, STR, BOOL = Kind("int"), Kind("number"), Kind("str"), Kind("bool")
ANY = Shape()

#: One line of runs.jsonl.
RECORD = Fields(
    {
        "index": INT,
        "repetition": INT,
        "run": INT,
        "trace": INT,
        "policy": Kind("str", optional=False),
        "parameters": MapOf(),
        "status": STR,
        "ok": BOOL,
        "warmup": BOOL,
        "timedout": BOOL,
        "start": NUMBER,
        "end": NUMBER,
        "duration": NUMBER,
        "exitcodes": ListOf(INT),
        "last_stderr": STR,
        "flags": MapOf(),
        "metrics": MapOf(),
        "samples": MapOf(ListOf(ANY)),
    },
    required=frozenset({"policy", "parameters"}),
)

_METRIC = Fields(
    {
        "name": Kind("str", optional=False),
        "title": STR,
        "units": STR,
        "desc": STR,
        "summarize_over": STR,
        "summarize": ListOf(Kind("str", optional=False)),
    },
    required=frozenset({"name"}),
)

#: meta.json.
META = Fields(
    {
        "title": STR,
        "config": STR,
        "config_sha256": STR,
        "seed": INT,
        "repeat": INT,
        "warmup": INT,
        "policies": ListOf(Kind("str", optional=False)),
        "definitions": MapOf(),
        "meta": MapOf(),
        "metrics": ListOf(_METRIC),
        "status": STR,
        "started": STR,
        "finished": STR,
        "dry_run": BOOL,
        "versions": MapOf(),
        "resumes": ListOf(ANY),
        "runs": INT,
        "ok": INT,
        "by_status": MapOf(INT),
    }
)

#: summary.json.
SUMMARY = Fields(
    {
        "metrics": ListOf(Fields(_METRIC.fields, frozenset({"name", "summarize"}))),
        "parameters": ListOf(Kind("str", optional=False)),
        "varied": ListOf(Kind("str", optional=False)),
        "groups": ListOf(
            Fields(
                {
                    "parameters": MapOf(),
                    "runs": INT,
                    "ok": INT,
                    # Each metric's statistics: numbers, or null where one cannot be computed.
                    "metrics": MapOf(MapOf(Kind("number"))),
                },
                required=frozenset({"parameters", "runs", "ok", "metrics"}),
            )
        ),
    },
    required=frozenset({"metrics", "groups", "parameters"}),
)

#: A visits-*.json record.
VISITS = Fields(
    {
        "policy": STR,
        "index": INT,
        "repetition": INT,
        "chart": STR,
        "final": BOOL,
        "ended_in": ListOf(STR),
        "states": MapOf(Kind("int", optional=False)),
        "transitions": ListOf(
            Fields(
                {
                    "index": INT,
                    "source": STR,
                    "target": STR,
                    "event": STR,
                    "count": Kind("int", optional=False),
                }
            )
        ),
    }
)


def problem(value: Any, shape: Shape) -> str | None:
    """What is wrong with *value* as a *shape*, in words (``parameters: expected a mapping, got a
    list``), or None."""
    found = shape.problem(value, "")
    if found is None:
        return None
    key, expected, got = found
    what = f"expected {expected}" if got is _MISSING else f"expected {expected}, got {_show(got)}"
    return f"{key}: {what}" if key else what


def _show(value: Any) -> str:
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        text = repr(value)
        return f"{describe(value)} {text if len(text) <= 40 else text[:40] + '…'}"
    return describe(value)
