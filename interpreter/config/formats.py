"""JSON Schema ``format`` values for what perfchart compiles from configuration text.

A policy's (or channel's) schema marks a field ``format: event-filter``,
``duration`` or ``expression``; validation then compiles it while the file
loads, so a bad filter or expression is reported with its file, line and
key before anything runs, for bundled and user charts alike.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..core import check_class_names, parse_duration
from ..errors import ConfigError
from .expressions import check as check_expression

if TYPE_CHECKING:
    from jsonschema import FormatChecker


def _event_filter(value: Any) -> bool:
    """Compile the filter, and reject class names no event has: a typo would never match."""
    # Imported on use: channel modules load their schemas through this package.
    from ..filters import EventFilter

    if isinstance(value, str):
        check_class_names(EventFilter(value).class_names)
    return True


def _duration(value: Any) -> bool:
    if isinstance(value, (str, int, float)):
        parse_duration(value)
    return True


def _expression(value: Any) -> bool:
    check_expression(value)
    return True


#: Each format: the function that checks a value, and the error that means "not this format".
FORMATS: dict[str, tuple[Callable[[Any], bool], type[Exception]]] = {
    "event-filter": (_event_filter, ConfigError),
    "duration": (_duration, ValueError),
    "expression": (_expression, ConfigError),
}


def format_checker() -> FormatChecker:
    """The formats as jsonschema checks them, made when jsonschema is first needed."""
    from jsonschema import FormatChecker

    checker = FormatChecker(formats=())
    for name, (function, raises) in FORMATS.items():
        checker.checks(name, raises=raises)(function)
    return checker
