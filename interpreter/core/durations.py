"""Time expressions such as ``10s``, ``500ms``, ``2m`` or ``1h30m``."""

from __future__ import annotations

import re

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}
_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ms|s|m|h|d)")
_NUMBER = re.compile(r"\d+(?:\.\d*)?|\.\d+")


def parse_duration(value: str | int | float) -> float:
    """Seconds in *value*; a bare number is seconds.

    Raises ValueError with the offending text, so callers can name the key.
    """
    if isinstance(value, bool):
        raise ValueError(f"expected a duration such as 10s, 500ms or 2m, got {value!r}")
    if isinstance(value, (int, float)):
        if value < 0:
            raise ValueError(f"a duration cannot be negative, got {value!r}")
        return float(value)
    text = str(value).strip().replace(" ", "")
    if _NUMBER.fullmatch(text):
        return float(text)
    pos, total = 0, 0.0
    while pos < len(text):
        part = _PART.match(text, pos)
        if part is None:
            raise ValueError(f"expected a duration such as 10s, 500ms or 2m, got {value!r}")
        total += float(part.group(1)) * _UNITS[part.group(2)]
        pos = part.end()
    if not text:
        raise ValueError("expected a duration such as 10s, 500ms or 2m, got an empty string")
    return total
