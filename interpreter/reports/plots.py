"""Plots of each metric against each varied parameter, as SVG, drawn with matplotlib.

One line per combination of the other varied parameters, points at each
parameter set's mean, error bars of one standard deviation over its
repeats. matplotlib is imported here only, on first use.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from numbers import Real
from typing import Any

from ..metrics import Group, MetricSpec

#: A numeric axis spanning this ratio or more of positive values is drawn on a log scale.
LOG_RATIO = 100


@dataclass(frozen=True)
class Plot:
    """One figure: ``metric`` against ``parameter``, its SVG text and a file name for it."""

    metric: str
    parameter: str
    svg: str

    @property
    def filename(self) -> str:
        return f"{_safe(self.metric)}-by-{_safe(self.parameter)}.svg"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _label(parameters: dict[str, Any], names: Iterable[str]) -> str:
    return " ".join(f"{name}={parameters.get(name)}" for name in names)


def _numeric(values: Iterable[Any]) -> bool:
    return all(isinstance(v, Real) and not isinstance(v, bool) for v in values)


def plots(metrics: Iterable[MetricSpec], varied: list[str], groups: list[Group]) -> list[Plot]:
    """Every metric with a value against every varied parameter."""
    found: list[Plot] = []
    for spec in metrics:
        if not any(group.accumulators[spec.name].count for group in groups):
            continue
        for parameter in varied:
            found.append(
                Plot(
                    spec.name,
                    parameter,
                    _figure(spec, parameter, [p for p in varied if p != parameter], groups),
                )
            )
    return found


def _figure(spec: MetricSpec, parameter: str, others: list[str], groups: list[Group]) -> str:
    from matplotlib.figure import Figure

    xs = [group.parameters.get(parameter) for group in groups]
    numeric = _numeric(xs)
    categories = list(dict.fromkeys(json.dumps(x, default=str) for x in xs))
    lines: dict[str, list[tuple[Any, float, float]]] = {}
    for group, x in zip(groups, xs, strict=True):
        acc = group.accumulators[spec.name]
        if not acc.count:
            continue
        position = x if numeric else categories.index(json.dumps(x, default=str))
        lines.setdefault(_label(group.parameters, others), []).append(
            (position, acc.mean, acc.stddev or 0.0)
        )

    figure = Figure(figsize=(6.4, 4.0), layout="constrained")
    axes = figure.add_subplot()
    for label, points in lines.items():
        points.sort(key=lambda point: point[0])
        axes.errorbar(
            [p[0] for p in points],
            [p[1] for p in points],
            yerr=[p[2] for p in points],
            marker="o",
            capsize=3,
            label=label or None,
        )
    if numeric:
        positive = [float(x) for x in xs if x is not None and x > 0]
        if len(positive) == len(xs) and max(positive) / min(positive) >= LOG_RATIO:
            axes.set_xscale("log")
    else:
        axes.set_xticks(
            range(len(categories)),
            [json.loads(c) if isinstance(json.loads(c), str) else c for c in categories],
        )
    units = f" ({spec.units})" if spec.units else ""
    axes.set_xlabel(parameter)
    axes.set_ylabel(f"{spec.name}{units}")
    axes.set_title(
        f"{spec.name} by {parameter}"
        + (
            ", error bars: ±1 σ over repeats"
            if any(p[2] for pts in lines.values() for p in pts)
            else ""
        )
    )
    axes.grid(True, alpha=0.3)
    if len(lines) > 1:
        axes.legend(title=" ".join(others), fontsize="small")
    out = io.StringIO()
    # No date or tool metadata, so the same results give the same file.
    figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return out.getvalue()
