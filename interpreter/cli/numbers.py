"""Numbers as hyperfine prints them: ``145.6 ms ± 59.2 ms``, one unit and one precision per row.

The mean picks the row's SI prefix (for units that take one: seconds,
bytes, bits, hertz ...) and its precision (four significant digits); σ,
min and max are written with the same prefix and the same number of
decimals, so a row is read at a glance and its numbers line up.
"""

from __future__ import annotations

import math
from typing import NamedTuple

#: Units that take SI prefixes, and the prefixes each may take (smallest first).
_SMALL = (("n", 1e-9), ("µ", 1e-6), ("m", 1e-3), ("", 1.0))
_LARGE = (("", 1.0), ("k", 1e3), ("M", 1e6), ("G", 1e9), ("T", 1e12))
PREFIXED: dict[str, tuple[tuple[str, float], ...]] = {
    "s": _SMALL,
    "B": _LARGE,
    "b": _LARGE,
    "bit": _LARGE,
    "B/s": _LARGE,
    "bit/s": _LARGE,
    "Hz": _LARGE,
    "W": _SMALL + _LARGE[1:],
    "J": _SMALL + _LARGE[1:],
}
_FACTORS = {"n": 1e-9, "µ": 1e-6, "u": 1e-6, "m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "T": 1e12}
#: Significant digits of a row's mean.
DIGITS = 4


def base_unit(units: str | None) -> tuple[str | None, float]:
    """``ms`` -> (``s``, 1e-3): the unit without its SI prefix and the factor the prefix stood
    for; a unit that takes no prefix is its own base.
    """
    if not units or units in PREFIXED:
        return units, 1.0
    prefix, rest = units[0], units[1:]
    if prefix in _FACTORS and rest in PREFIXED:
        factor = _FACTORS[prefix]
        if any(f == factor for _, f in PREFIXED[rest]):
            return rest, factor
    return units, 1.0


class Scale(NamedTuple):
    """How one row writes its numbers: divide by *factor*, *decimals* places, then *units*."""

    factor: float
    decimals: int
    units: str

    @classmethod
    def of(cls, mean: float, units: str | None) -> Scale:
        """The scale the mean *mean* (in *units*) chooses for its whole row."""
        base, factor = base_unit(units)
        value = mean * factor
        prefixes = PREFIXED.get(base or "")
        if prefixes is None:
            return cls(1.0, _decimals(mean), units or "")
        name, scale = prefixes[0]
        for candidate, size in prefixes:
            if abs(value) >= size:
                name, scale = candidate, size
        if value == 0:
            name, scale = next((p for p in prefixes if p[1] == 1.0), prefixes[0])
        return cls(scale / factor, _decimals(value / scale), f"{name}{base}")

    def number(self, value: float, *, signed: bool = False) -> str:
        if not math.isfinite(value):
            return "-"
        sign = "+" if signed else ""
        return f"{value / self.factor:{sign}.{self.decimals}f}"

    def quantity(self, value: float, *, signed: bool = False) -> str:
        """*value* with the row's unit: ``145.6 ms``."""
        text = self.number(value, signed=signed)
        return f"{text} {self.units}" if self.units and text != "-" else text


def _decimals(value: float) -> int:
    """Decimals that give *value* four significant digits, none past the units for big values."""
    if value == 0 or not math.isfinite(value):
        return 1
    magnitude = math.floor(math.log10(abs(value)))
    return max(0, min(9, DIGITS - 1 - magnitude))


def mean_sd(mean: float, sd: float | None, units: str | None) -> str:
    """``145.6 ms ± 59.2 ms``: σ with the mean's precision and unit (no σ below two values)."""
    scale = Scale.of(mean, units)
    text = scale.quantity(mean)
    return text if sd is None else f"{text} ± {scale.quantity(sd)}"


def span(mean: float, low: float, high: float, units: str | None) -> str:
    """``81.4 ms … 312.5 ms``: min and max on the scale of the mean."""
    scale = Scale.of(mean, units)
    return f"{scale.quantity(low)} … {scale.quantity(high)}"


def quantity(value: float | None, units: str | None, *, signed: bool = False) -> str:
    """A lone value on its own scale: ``12.3 ms``; None is ``-``."""
    if value is None:
        return "-"
    return Scale.of(value, units).quantity(value, signed=signed)
