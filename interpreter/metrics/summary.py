"""Summaries per parameter set: each metric over the runs (and repeats) that share one.

Runs with the same parameters form a group; each metric of a group keeps a
running :class:`Accumulator`, so memory grows with the number of parameter
sets, not of runs (values are kept only for medians and percentiles). Every
run's ``duration`` is summarized as a metric of its own.

``summary.json`` and ``summary.csv`` are written beside ``runs.csv``; the
report and compare commands read them back with :func:`read_summary`.
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .base import MetricSpec
from .stats import DEFAULT_SUMMARIZERS, Accumulator, summarizers

#: Every run's wall (or simulated) duration, summarized like a declared metric.
DURATION = MetricSpec("duration", summarizers(DEFAULT_SUMMARIZERS), units="s", desc="run duration")


def metric_meta(spec: MetricSpec) -> dict[str, Any]:
    """A metric's declaration as written to meta.json and summary.json."""
    return {
        "name": spec.name,
        "units": spec.units,
        "desc": spec.desc,
        "aggregate": spec.aggregate,
        "summarize": [s.name for s in spec.summarize],
    }


@dataclass
class Group:
    """The runs of one parameter set."""

    parameters: dict[str, Any]
    accumulators: dict[str, Accumulator]
    runs: int = 0
    ok: int = 0


@dataclass
class Summaries:
    """Per parameter set statistics of every metric, updated as runs close."""

    metrics: list[MetricSpec]
    groups: dict[str, Group] = field(default_factory=dict)

    @classmethod
    def of(cls, metrics: Sequence[MetricSpec]) -> Summaries:
        return cls([*metrics, DURATION] if all(m.name != DURATION.name for m in metrics) else list(metrics))

    def add(self, record: Mapping[str, Any]) -> None:
        """A RunBook on_close callback: count the run and add its metric values to its group."""
        parameters = dict(record["parameters"])
        key = json.dumps(parameters, sort_keys=True, default=str)
        group = self.groups.get(key)
        if group is None:
            group = self.groups[key] = Group(
                parameters,
                {m.name: Accumulator(keep_values=any(s.needs_values for s in m.summarize)) for m in self.metrics},
            )
        group.runs += 1
        group.ok += bool(record.get("ok"))
        values = record.get("metrics") or {}
        for spec in self.metrics:
            value = record.get("duration") if spec is DURATION else values.get(spec.name)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                group.accumulators[spec.name].add(float(value))

    @property
    def parameter_names(self) -> list[str]:
        names: dict[str, None] = {}
        for group in self.groups.values():
            names.update(dict.fromkeys(group.parameters))
        return list(names)

    @property
    def varied(self) -> list[str]:
        """Parameters that take more than one value across the groups: the axes of the plots."""
        return [
            name
            for name in self.parameter_names
            if len({json.dumps(g.parameters.get(name), sort_keys=True, default=str) for g in self.groups.values()}) > 1
        ]

    def rows(self) -> list[dict[str, Any]]:
        """One row per parameter set, in the order the sets first ran."""
        return [
            {
                "parameters": group.parameters,
                "runs": group.runs,
                "ok": group.ok,
                "metrics": {m.name: group.accumulators[m.name].result(m.summarize) for m in self.metrics},
            }
            for group in self.groups.values()
        ]

    def document(self) -> dict[str, Any]:
        """What summary.json holds."""
        return {
            "metrics": [metric_meta(m) for m in self.metrics],
            "parameters": self.parameter_names,
            "varied": self.varied,
            "groups": self.rows(),
        }

    def write(self, directory: Path) -> None:
        """Write summary.json and summary.csv atomically beside runs.csv."""
        document = self.document()
        _atomic(directory / "summary.json", json.dumps(document, indent=2, default=str) + "\n")
        tmp = directory / "summary.csv.tmp"
        with tmp.open("w", newline="", encoding="utf-8") as target:
            write_summary_csv(document, target)
        tmp.replace(directory / "summary.csv")


def summary_columns(document: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(metric, statistic) of every summary column, in order."""
    return [(m["name"], stat) for m in document["metrics"] for stat in m["summarize"]]


def write_summary_csv(document: Mapping[str, Any], target: Any) -> None:
    writer = csv.writer(target)
    columns = summary_columns(document)
    parameters = document["parameters"]
    writer.writerow([*parameters, "runs", "ok", *(f"{metric}:{stat}" for metric, stat in columns)])
    for row in document["groups"]:
        writer.writerow(
            [
                *(row["parameters"].get(name) for name in parameters),
                row["runs"],
                row["ok"],
                *(_cell(row["metrics"].get(metric, {}).get(stat)) for metric, stat in columns),
            ]
        )


def _cell(value: Any) -> Any:
    return "" if value is None else value


def _atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


def read_summary(directory: Path) -> dict[str, Any]:
    """summary.json of a results directory; UsageError when it is not one."""
    path = directory / "summary.json"
    if not path.is_file():
        what = "a results directory from an older perfchart or an unfinished session" if (directory / "runs.jsonl").is_file() else "not a results directory"
        raise UsageError(f"{directory}: no summary.json ({what})")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UsageError(f"{path}: cannot be read: {exc}") from None
    if not isinstance(document, dict) or not {"metrics", "groups", "parameters"} <= document.keys():
        raise UsageError(f"{path}: not a perfchart summary")
    return document


def read_runs(directory: Path) -> Iterable[dict[str, Any]]:
    """The records of runs.jsonl, streamed."""
    path = directory / "runs.jsonl"
    if not path.is_file():
        raise UsageError(f"{directory}: no runs.jsonl (not a results directory)")
    with path.open(encoding="utf-8") as source:
        for line in source:
            if line.strip():
                yield json.loads(line)
