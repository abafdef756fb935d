"""A dry run's plan line keeps the text of its last start offset and duration: the same text."""

from __future__ import annotations

import random

import pytest

from interpreter.cli.ui import _clock, _LastText, _seconds


@pytest.mark.parametrize("function", [_clock, _seconds])
def test_the_kept_text_is_the_text_of_the_value(function: object) -> None:
    rng = random.Random(3)
    values = [0.0, 0.0, -0.0, -0.0, 0.0, 1.5, 1.5, 2.0004, 0.0, 3600.25, 3600.25]
    values += [
        rng.choice([0.0, -0.0, 0.001, 1.2345, 59.9995, rng.uniform(0, 9e4)]) for _ in range(500)
    ]
    kept = _LastText(function)  # type: ignore[arg-type]
    assert [kept(value) for value in values] == [function(value) for value in values]  # type: ignore[operator]
    assert kept(-0.0) == function(-0.0) != function(0.0) or function is _clock
