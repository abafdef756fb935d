"""A policy to draw, and the policies a finished run recorded visits of, with those visits attached.

``perfchart draw --run`` and the report's policy diagrams both start here:
the run's ``visits-*.json`` name the charts it used, and each drawing gets
the counts of the policy it stands for.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UsageError
from .extract import extract
from .graph import Diagram, Visits
from .overlay import visits_for

if TYPE_CHECKING:
    from ..charts import PolicyChart
    from ..results import SessionReader


class Drawing:
    """One policy to draw: its label in file names, its chart and diagram, and its visits if any.

    A plain class, not a dataclass: importing dataclasses would slow every command's start.
    """

    def __init__(
        self, label: str, chart: PolicyChart, diagram: Diagram, visits: Visits | None = None
    ) -> None:
        self.label = label
        self.chart = chart
        self.diagram = diagram
        self.visits = visits


def run_targets(results: SessionReader) -> list[Drawing]:
    """The policies a run recorded visits of, from the chart files the run used."""
    from ..charts import load_chart, resolve

    drawings: list[Drawing] = []
    seen: set[int] = set()
    for record in results.visits():
        index = int(record.get("index", 0))
        if index in seen:
            continue
        seen.add(index)
        path = Path(str(record.get("chart", "")))
        chart = load_chart(path) if path.is_file() else resolve(str(record.get("policy")))
        label = (
            chart.name if chart.name not in {d.label for d in drawings} else f"{chart.name}-{index}"
        )
        drawings.append(Drawing(label, chart, extract(chart.statechart())))
    if not drawings:
        raise UsageError(
            f"{results.directory}: no recorded visits (visits-*.json); give a TARGET to draw "
            "without a run"
        )
    return drawings


def overlay(drawings: Sequence[Drawing], results: SessionReader, *, by_index: bool) -> None:
    """Attach the run's visits to each drawing; a policy the run never ran is an error."""
    records = results.visits()
    indexes = _indexes(drawings, records) if by_index else [None] * len(drawings)
    for d, index in zip(drawings, indexes, strict=True):
        d.visits = visits_for(d.diagram, d.chart.name, records, index)
        if d.visits is None:
            recorded = sorted({str(r.get("policy")) for r in records}) or ["none"]
            raise UsageError(
                f"{results.directory}: no recorded visits of {d.chart.name} "
                f"(recorded: {', '.join(recorded)})"
            )


def _indexes(drawings: Sequence[Drawing], records: Sequence[Mapping[str, Any]]) -> list[int | None]:
    """Each drawing's position among the run's policies, matched in order by chart name."""
    positions = sorted({(int(r.get("index", 0)), str(r.get("policy"))) for r in records})
    found: list[int | None] = []
    for d in drawings:
        match = next(
            (i for i, policy in positions if policy == d.chart.name and i not in found), None
        )
        found.append(match)
    return found
