"""JSON Schema ``format`` values for what perfchart compiles from configuration text.

A policy's config schema marks a field ``format: event-filter``,
``duration`` or ``expression``; validation then compiles it while the file
loads, so a bad filter or expression is reported with its file, line and
key before anything runs, for bundled and user charts alike.
"""

from __future__ import annotations

from typing import Any

from jsonschema import FormatChecker

from .durations import parse_duration
from .errors import ConfigError
from .expressions import check as check_expression
from .filters import EventFilter

CHECKER = FormatChecker(formats=())


@CHECKER.checks("event-filter", raises=ConfigError)
def _event_filter(value: Any) -> bool:
    if isinstance(value, str):
        EventFilter(value)
    return True


@CHECKER.checks("duration", raises=ValueError)
def _duration(value: Any) -> bool:
    if isinstance(value, (str, int, float)):
        parse_duration(value)
    return True


@CHECKER.checks("expression", raises=ConfigError)
def _expression(value: Any) -> bool:
    check_expression(value)
    return True
