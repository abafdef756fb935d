"""A finished session read back from its results directory, through the results room's reader."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..metrics import DEFAULT_SUMMARIZERS, DURATION, Group, Grouping, MetricSpec, summarizers
from ..results import SessionReader

#: Samples kept per run and metric for the distribution plots: enough for a box, bounded memory.
MAX_SAMPLES = 1000


@dataclass(slots=True)
class RunPoint:
    """One run as the plots need it: its parameter set, repetition, start, outcome and values."""

    key: str
    repetition: int
    start: float | None
    ok: bool
    values: dict[str, float]
    samples: dict[str, list[float]] = field(default_factory=dict)


def set_key(parameters: Mapping[str, Any], names: Iterable[str]) -> str:
    """The one string a parameter set is known by, over the parameters *names*."""
    return json.dumps({name: parameters.get(name) for name in names}, default=str)


def _number(value: Any) -> float | None:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    return None


def _point(record: Mapping[str, Any], names: list[str], metrics: list[str]) -> RunPoint:
    values: dict[str, float] = {}
    own = record.get("metrics") or {}
    for name in metrics:
        raw = record.get("duration") if name == DURATION.name else own.get(name)
        number = _number(raw)
        if number is not None:
            values[name] = number
    samples = {
        name: [float(v) for v in got[:MAX_SAMPLES] if _number(v) is not None]
        for name, got in (record.get("samples") or {}).items()
        if name in metrics and isinstance(got, list)
    }
    repetition = record.get("repetition")
    return RunPoint(
        set_key(record.get("parameters") or {}, names),
        repetition if isinstance(repetition, int) else 1,
        _number(record.get("start")),
        bool(record.get("ok")),
        values,
        samples,
    )


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

    def points(self, varied: list[str], metrics: list[str]) -> list[RunPoint]:
        """Every run's values of *metrics*, keyed by its set of the *varied* parameters, in the
        order the runs were written."""
        return [_point(record, varied, metrics) for record in self.runs()]

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
                title=m.get("title"),
            )
            for m in self.summary["metrics"]
        ]
        with Grouping.of(self.runs(), specs) as grouping:
            return specs, grouping.varied, list(grouping.groups())
