"""A finished session read back from its results directory."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..metrics import DEFAULT_SUMMARIZERS, DURATION, Group, Grouping, MetricSpec, read_runs, read_summary, summarizers


@dataclass
class Results:
    """What a report or a comparison needs of one session."""

    directory: Path
    meta: dict[str, Any]
    summary: dict[str, Any]

    @classmethod
    def read(cls, directory: Path) -> Results:
        if not directory.is_dir():
            raise UsageError(f"{directory}: no such results directory")
        summary = read_summary(directory)
        try:
            meta = json.loads((directory / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise UsageError(f"{directory / 'meta.json'}: cannot be read: {exc}") from None
        return cls(directory, meta, summary)

    def runs(self) -> Any:
        return read_runs(self.directory)

    def spreads(self) -> tuple[list[MetricSpec], list[str], list[Group]]:
        """The metrics, the varied parameters and every group with mean, σ, min and max, from runs.jsonl.

        Recomputed whatever each metric summarizes, since a plot needs exactly these.
        """
        specs = [
            DURATION if m["name"] == DURATION.name else MetricSpec(m["name"], summarizers(DEFAULT_SUMMARIZERS), m.get("units"), m.get("desc"))
            for m in self.summary["metrics"]
        ]
        with Grouping.of(self.runs(), specs) as grouping:
            return specs, grouping.varied, list(grouping.groups())
