"""A finished session read back from its results directory, through the results room's reader."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..metrics import DEFAULT_SUMMARIZERS, DURATION, Group, Grouping, MetricSpec, summarizers
from ..results import SessionReader


@dataclass
class Results:
    """What a report or a comparison needs of one session: its summary and meta, read up front,
    and its runs."""

    reader: SessionReader
    meta: dict[str, Any]
    summary: dict[str, Any]

    @classmethod
    def read(cls, directory: Path) -> Results:
        reader = SessionReader(directory)
        summary = reader.summary  # first: a directory that holds no finished session says so
        return cls(reader, reader.meta, summary)

    def runs(self) -> Iterator[dict[str, Any]]:
        return self.reader.runs()

    def spreads(self) -> tuple[list[MetricSpec], list[str], list[Group]]:
        """The metrics, the varied parameters and every group with mean, σ, min and max, from
        runs.jsonl.

        Recomputed whatever each metric summarizes, since a plot needs exactly these, over what the
        summary was taken over (samples or runs); warm-up runs are left out.
        """
        specs = [
            DURATION
            if m["name"] == DURATION.name
            else MetricSpec(
                m["name"],
                summarizers(DEFAULT_SUMMARIZERS),
                m.get("units"),
                m.get("desc"),
                # As the summary was taken; one written before samples were kept was over runs.
                summarize_over=m.get("summarize_over", "runs"),
            )
            for m in self.summary["metrics"]
        ]
        with Grouping.of(self.runs(), specs) as grouping:
            return specs, grouping.varied, list(grouping.groups())
