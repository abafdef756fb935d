"""The schedule of a TimeEvolution policy: which parameter changes when, computed, never counted.

Every moment is an exact offset from the start of the evolution (the k-th
change of a parameter is at k × interval), kept as a Fraction so parameters
whose changes coincide really do change at the same instant, and a chart
that waits for each offset from one fixed origin never drifts.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any, NamedTuple

from ..core import parse_duration
from ..errors import ConfigError
from .yamlsource import Located

__all__ = ["Evolution"]

Number = int | float


class _Axis(NamedTuple):
    name: str
    interval: Fraction
    low: Number
    step: Number
    #: How many changes the parameter makes; None when it has no max.
    changes: int | None
    digits: int | None

    def value(self, k: int) -> Number:
        value = self.low + k * self.step
        return value if self.digits is None else round(value, self.digits)

    @property
    def done(self) -> Fraction | None:
        """When the last value has run for one full interval."""
        return None if self.changes is None else (self.changes + 1) * self.interval


class Evolution:
    """Parameters that each step by ``step`` every ``interval`` from ``min``, up to ``max`` if
    given.

    ``start()`` is the first run's values, ``changes(at)`` those changing at
    offset *at*, ``next(after)`` the next offset at which anything happens
    (a change, or :attr:`end`), and :attr:`end` the offset at which every
    parameter has stopped and its last value has run one interval (None
    when some parameter has no ``max``). Offsets are seconds (floats), worked
    out exactly inside.
    """

    def __init__(self, entries: Sequence[Mapping[str, Any]], *, key: str = "evolve") -> None:
        if not isinstance(entries, Sequence) or isinstance(entries, str) or not entries:
            raise ConfigError("expected a non-empty list of parameters to evolve", key=key)
        self.axes = tuple(_axis(entry, f"{key}[{index}]") for index, entry in enumerate(entries))
        self.names = tuple(axis.name for axis in self.axes)
        for index, name in enumerate(self.names):
            if name in self.names[:index]:
                raise _error(
                    entries[index],
                    "parameter",
                    f"{key}[{index}]",
                    f"parameter {name!r} evolves twice",
                )
        ends = [axis.done for axis in self.axes]
        self._end = (
            None
            if any(done is None for done in ends)
            else max(done for done in ends if done is not None)
        )
        self.end: float | None = None if self._end is None else float(self._end)

    def start(self) -> dict[str, Number]:
        """Every parameter at its ``min``: the first run."""
        return {axis.name: axis.low for axis in self.axes}

    def changes(self, at: float) -> dict[str, Number]:
        """The parameters whose next value is due exactly at offset *at*, with that value."""
        found = {}
        for axis in self.axes:
            k, rest = divmod(_moment(at), axis.interval)
            if k >= 1 and rest == 0 and (axis.changes is None or k <= axis.changes):
                found[axis.name] = axis.value(int(k))
        return found

    def next(self, after: float) -> float | None:
        """The first offset later than *after* at which a
        parameter changes or the evolution ends.
        """
        now = _moment(after)
        due = [self._end] if self._end is not None and self._end > now else []
        for axis in self.axes:
            k = math.floor(now / axis.interval) + 1
            if axis.changes is None or k <= axis.changes:
                due.append(k * axis.interval)
        return float(min(due)) if due else None

    def __repr__(self) -> str:
        return f"Evolution({', '.join(self.names)}; end={self.end})"


def _axis(entry: Mapping[str, Any], path: str) -> _Axis:
    if not isinstance(entry, Mapping) or not isinstance(entry.get("parameter"), str):
        raise _error(entry, "parameter", path, "expected a parameter name")
    try:
        seconds = parse_duration(entry.get("interval", 1))
    except ValueError as exc:
        raise _error(entry, "interval", path, str(exc)) from None
    if seconds <= 0:
        raise _error(
            entry, "interval", path, f"expected a positive interval, got {entry.get('interval')!r}"
        )
    low, step, high = (
        entry.get(name, default) for name, default in (("min", 0), ("step", 1), ("max", None))
    )
    for name, value in (("min", low), ("step", step), ("max", high)):
        if value is not None and (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            raise _error(entry, name, path, f"expected a number, got {value!r}")
    if step <= 0:
        raise _error(entry, "step", path, f"expected a step greater than 0, got {step!r}")
    changes = None
    if high is not None:
        if high < low:
            raise _error(entry, "max", path, f"max {high!r} is less than min {low!r}")
        changes = math.floor((_exact(high) - _exact(low)) / _exact(step))
    floats = [x for x in (low, step) if isinstance(x, float)]
    digits = (
        max(max(0, -int(Decimal(repr(x)).as_tuple().exponent)) for x in floats) if floats else None
    )
    return _Axis(entry["parameter"], _exact(seconds), low, step, changes, digits)


def _moment(seconds: float) -> Fraction:
    """An offset this class handed out, back as the exact Fraction it stood for."""
    return Fraction(seconds).limit_denominator(10**9)


def _exact(x: Number) -> Fraction:
    """The number as written, so 0.1-second intervals add up exactly."""
    return Fraction(repr(x)) if isinstance(x, float) else Fraction(x)


def _error(entry: Any, key: str, path: str, message: str) -> ConfigError:
    """A ConfigError at *key* of *entry*, located when the entry came from a file."""
    if isinstance(entry, Located) and entry.path:
        return entry.error(key, message)
    line = entry.line_of(key) if isinstance(entry, Located) else None
    return ConfigError(message, file=getattr(entry, "file", None), line=line, key=f"{path}.{key}")
