"""JSON Schema ``format`` values for what perfchart compiles from configuration text.

A policy's config schema marks a field ``format: event-filter``,
``duration`` or ``expression``; validation then compiles it while the file
loads, so a bad filter or expression is reported with its file, line and
key before anything runs, for bundled and user charts alike.
"""

from __future__ import annotations

import difflib
from typing import Any

from jsonschema import FormatChecker

from . import parameters, process
from .channels import cmdline, simulator
from .durations import parse_duration
from .errors import ConfigError
from .events import Event
from .expressions import check as check_expression
from .filters import EventFilter

#: Modules whose event classes must be registered before names are checked.
EVENT_MODULES = (parameters, process, cmdline, simulator)

CHECKER = FormatChecker(formats=())


@CHECKER.checks("event-filter", raises=ConfigError)
def _event_filter(value: Any) -> bool:
    """Compile the filter, and reject class names no event has: a typo would never match."""
    if isinstance(value, str):
        for name in sorted(EventFilter(value).class_names - Event.registry.keys()):
            close = difflib.get_close_matches(name, Event.registry.keys(), n=1)
            hint = f"did you mean {close[0]}?" if close else f"known: {', '.join(sorted(Event.registry))}"
            raise ConfigError(f"no event class is called {name!r} ({hint})")
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
