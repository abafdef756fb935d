"""A what-if dry run: a channel's ``simulate:`` block says what the system under test would do.

For every parameter update, each expression is evaluated over the run's
parameters (and the definitions): ``exitcode`` (0 is OK; a comparison such
as ``load > capacity`` gives 0 or 1) and ``duration`` (simulated seconds);
``output`` is a line or a list of lines with ``{{macros}}``. The channel
then publishes, on the simulated clock, the events a real run with that
outcome would publish, so the chart sees them through the same filters and
bindings as in a real run.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from ..config import evaluate, render
from ..errors import ConfigError


class Outcome(NamedTuple):
    """What one simulated run does: its exit code (0 is OK), how
    long it takes and what it prints.
    """

    exitcode: int
    seconds: float
    lines: tuple[str, ...]


class WhatIf:
    """The ``simulate:`` block of a channel, evaluated per run."""

    def __init__(self, simulate: Mapping[str, Any], definitions: Mapping[str, Any]) -> None:
        self.simulate = simulate
        self.definitions = dict(definitions)

    def outcome(self, parameters: Mapping[str, Any]) -> Outcome:
        """Evaluate the expressions for a run with *parameters*; a bad value is a ConfigError at its
        key.
        """
        names = {**self.definitions, **parameters}
        code = self._value("exitcode", names, 0)
        if not isinstance(code, (bool, int)):
            raise self._error(
                "exitcode", f"expected an exit code (an integer, or a comparison), got {code!r}"
            )
        seconds = self._value("duration", names, 0)
        if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds < 0:
            raise self._error(
                "duration", f"expected simulated seconds (a number >= 0), got {seconds!r}"
            )
        output = self.simulate.get("output", ())
        lines = render([output] if isinstance(output, str) else list(output), names)
        return Outcome(int(code), float(seconds), tuple(str(line) for line in lines))

    def _value(self, key: str, names: Mapping[str, Any], default: Any) -> Any:
        return evaluate(
            self.simulate.get(key, default), names, key=self._key(key), where=self._where(key)
        )

    def _key(self, key: str) -> str:
        path = getattr(self.simulate, "path", "") or "simulate"
        return f"{path}.{key}"

    def _where(self, key: str) -> tuple[str | None, int | None]:
        line_of = getattr(self.simulate, "line_of", None)
        return getattr(self.simulate, "file", None), line_of(key) if line_of else None

    def _error(self, key: str, message: str) -> ConfigError:
        file, line = self._where(key)
        return ConfigError(message, file=file, line=line, key=self._key(key))
