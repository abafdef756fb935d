"""Numbers as hyperfine prints them: one SI prefix and one precision per row, set by the mean."""

from __future__ import annotations

import pytest

from interpreter.cli.numbers import Scale, base_unit, mean_sd, quantity, span


@pytest.mark.parametrize(
    ("mean", "sd", "units", "expected"),
    [
        (0.1456, 0.0592, "s", "145.6 ms ± 59.2 ms"),  # hyperfine's own example
        (1.145, 0.508, "s", "1.145 s ± 0.508 s"),
        (562.7, 508.0, "ms", "562.7 ms ± 508.0 ms"),  # was "562.7 ± 508"
        (12.8, 12.83, None, "12.80 ± 12.83"),  # was "12.8 ± 12.83"
        (1145.0, 40.0, "ms", "1.145 s ± 0.040 s"),  # ms scaled up to s
        (3.2e-7, 1e-8, "s", "320.0 ns ± 10.0 ns"),
        (2048.0, 10.0, "B", "2.048 kB ± 0.010 kB"),
        (864.5, 628.5, "MiB/s", "864.5 MiB/s ± 628.5 MiB/s"),  # a binary prefix: left alone
        (5.0, None, "s", "5.000 s"),
    ],
)
def test_sigma_has_the_means_precision_and_unit(
    mean: float, sd: float | None, units: str | None, expected: str
) -> None:
    assert mean_sd(mean, sd, units) == expected


def test_min_and_max_are_on_the_means_scale() -> None:
    assert span(0.1456, 0.0814, 0.3125, "s") == "81.4 ms … 312.5 ms"
    assert span(0.5, 0.25, 1.5, "s") == "250.0 ms … 1500.0 ms"  # one unit per row, even past 1 s


def test_prefixed_units_and_lone_values() -> None:
    assert base_unit("ms") == ("s", 1e-3)
    assert base_unit("kB") == ("B", 1e3)
    assert base_unit("MiB/s") == ("MiB/s", 1.0)
    assert base_unit("req") == ("req", 1.0)
    assert quantity(None, "s") == "-"
    assert quantity(0.0, "s") == "0.0 s"
    assert Scale.of(1.0, "s").quantity(float("inf")) == "-"
