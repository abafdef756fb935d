"""The report's axes and layouts: integer ticks, log axes for geometric steps, capped legends."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ElementTree
from typing import Any

import pytest

from interpreter.metrics import DEFAULT_SUMMARIZERS, Accumulator, Group, MetricSpec, summarizers
from interpreter.reports.plots import MAX_LEGEND, plots, scale_axis

SVG = "{http://www.w3.org/2000/svg}"


def axes() -> Any:
    from matplotlib.figure import Figure

    return Figure().add_subplot()


@pytest.mark.parametrize(
    ("values", "base"),
    [([4096, 16384, 65536], 4), ([1, 2, 4, 8, 16], 2), ([1, 10, 100, 1000], 10), ([1, 1000], 10)],
)
def test_geometric_steps_or_a_wide_span_get_a_log_axis_ticked_at_each_value(
    values: list[int], base: int
) -> None:
    ax = axes()
    scale_axis(ax, values)
    assert ax.get_xscale() == "log"
    assert ax.xaxis.get_transform().base == (2 if base in (2, 4) else 10)
    assert list(ax.get_xticks()) == values
    assert [label.get_text() for label in ax.get_xticklabels()] == [str(v) for v in values]


def test_integer_parameters_get_integer_ticks() -> None:
    ax = axes()
    scale_axis(ax, [1, 2])
    assert ax.get_xscale() == "linear"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["1", "2"]
    many = axes()
    many.plot(range(1, 31), range(30))
    scale_axis(many, list(range(1, 31)))
    ticks = [t for t in many.get_xticks() if 1 <= t <= 30]
    assert ticks
    assert all(float(t).is_integer() for t in ticks)


def test_linear_steps_stay_linear() -> None:
    ax = axes()
    scale_axis(ax, [10, 20, 30, 40])
    assert ax.get_xscale() == "linear"
    assert [label.get_text() for label in ax.get_xticklabels()] == ["10", "20", "30", "40"]


def groups(levels: dict[str, list[Any]]) -> list[Group]:
    out = []
    for values in itertools.product(*levels.values()):
        accumulator = Accumulator()
        accumulator.add(float(sum(v for v in values if isinstance(v, int))))
        out.append(Group(dict(zip(levels, values, strict=True)), {"t": accumulator}, 1, 1))
    return out


def legend_entries(svg: str) -> list[int]:
    root = ElementTree.fromstring(svg)
    return [
        len(list(group.iter(f"{SVG}text")))
        for group in root.iter(f"{SVG}g")
        if group.get("id", "").startswith("legend_")
    ]


@pytest.mark.slow
def test_a_parameter_of_many_values_is_faceted_or_averaged_never_a_long_legend() -> None:
    levels = {"a": list(range(20)), "b": list(range(10)), "c": ["x", "y"], "d": [1, 2, 3]}
    found = plots([MetricSpec("t", summarizers(DEFAULT_SUMMARIZERS))], list(levels), groups(levels))
    effects = [p for p in found if p.kind == "effect"]
    assert len(effects) == 4
    for plot in found:
        assert all(n <= MAX_LEGEND for n in legend_entries(plot.svg)), plot.title
    by_a = next(p for p in effects if p.parameter == "a")
    # c colours the lines, d facets, b (10 values) is averaged over, and the title says so.
    assert legend_entries(by_a.svg) == [2]
    assert "mean over b" in by_a.svg
    heat = [p for p in found if p.kind == "heatmap"]
    assert [p.parameter for p in heat] == ["a × b"]
