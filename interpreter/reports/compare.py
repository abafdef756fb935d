"""``perfchart compare``: each metric's change between two sessions, per matching parameter set.

Parameter sets match when every parameter has the same value. A threshold
``[METRIC:]STAT OP CHANGE`` (``p95 > +10%``, ``rps:mean < -5%``,
``duration:max > 0.5``) is a regression when the candidate's change over the
baseline meets it, for that metric or, without one, for any metric that
summarizes STAT; a percentage is relative to the baseline's value.
"""

from __future__ import annotations

import json
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..errors import UsageError
from .data import Results

_THRESHOLD = re.compile(
    r"\s*(?:(?P<metric>[A-Za-z_][\w.-]*):)?(?P<stat>[A-Za-z_][\w.]*)\s*(?P<op>>=|<=|>|<)\s*(?P<change>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<pct>%?)\s*"
)
_OPS: dict[str, Callable[[float, float], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}


@dataclass(frozen=True)
class Threshold:
    """A ``--fail-if`` condition."""

    text: str
    metric: str | None
    stat: str
    op: str
    change: float
    percent: bool

    def applies(self, metric: str, stat: str) -> bool:
        return stat == self.stat and (self.metric is None or self.metric == metric)

    def met(self, absolute: float | None, percent: float | None) -> bool:
        value = percent if self.percent else absolute
        return value is not None and _OPS[self.op](value, self.change)


def parse_threshold(text: str) -> Threshold:
    match = _THRESHOLD.fullmatch(text)
    if match is None:
        raise UsageError(
            f"--fail-if {text!r}: expected [METRIC:]STAT OP CHANGE, such as 'p95 > +10%' or "
            "'rps:mean < -5%' (OP: >, >=, <, <=)"
        )
    return Threshold(
        text,
        match["metric"],
        match["stat"],
        match["op"],
        float(match["change"]),
        bool(match["pct"]),
    )


@dataclass
class Row:
    parameters: dict[str, Any]
    metric: str
    stat: str
    baseline: float | None
    candidate: float | None
    failed: list[str] = field(default_factory=list)

    @property
    def change(self) -> float | None:
        if self.baseline is None or self.candidate is None:
            return None
        return self.candidate - self.baseline

    @property
    def percent(self) -> float | None:
        change = self.change
        if change is None or not self.baseline:
            return None
        return change / abs(self.baseline) * 100

    def document(self) -> dict[str, Any]:
        return {
            "parameters": self.parameters,
            "metric": self.metric,
            "stat": self.stat,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "change": self.change,
            "percent": self.percent,
            "regression": self.failed,
        }


@dataclass
class Comparison:
    rows: list[Row]
    only_baseline: list[dict[str, Any]]
    only_candidate: list[dict[str, Any]]
    units: dict[str, str | None]

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.failed]

    def document(self) -> dict[str, Any]:
        return {
            "rows": [row.document() for row in self.rows],
            "only_baseline": self.only_baseline,
            "only_candidate": self.only_candidate,
            "regressions": len(self.regressions),
        }


def _key(parameters: dict[str, Any]) -> str:
    return json.dumps(parameters, sort_keys=True, default=str)


def compare(
    baseline: Results,
    candidate: Results,
    thresholds: Sequence[Threshold],
    stats: Sequence[str] = ("mean",),
) -> Comparison:
    """Rows for each matched parameter set, metric and statistic shown (*stats* and every
    threshold's)."""
    base_metrics = {m["name"]: m for m in baseline.summary["metrics"]}
    cand_metrics = {m["name"]: m for m in candidate.summary["metrics"]}
    shared = [name for name in base_metrics if name in cand_metrics]
    available = {
        name: [s for s in base_metrics[name]["summarize"] if s in cand_metrics[name]["summarize"]]
        for name in shared
    }
    for threshold in thresholds:
        if threshold.metric is not None and threshold.metric not in available:
            raise UsageError(
                f"--fail-if {threshold.text!r}: no metric {threshold.metric!r} in both sessions "
                f"(metrics: {', '.join(shared)})"
            )
        if not any(threshold.applies(name, stat) for name in available for stat in available[name]):
            raise UsageError(
                f"--fail-if {threshold.text!r}: no metric summarizes {threshold.stat!r} in both "
                "sessions"
            )
    base_groups = {_key(g["parameters"]): g for g in baseline.summary["groups"]}
    cand_groups = {_key(g["parameters"]): g for g in candidate.summary["groups"]}
    rows: list[Row] = []
    for key, group in base_groups.items():
        other = cand_groups.get(key)
        if other is None:
            continue
        for name in shared:
            wanted = [
                s
                for s in available[name]
                if s in stats or any(t.applies(name, s) for t in thresholds)
            ]
            for stat in wanted:
                row = Row(
                    group["parameters"],
                    name,
                    stat,
                    group["metrics"][name].get(stat),
                    other["metrics"][name].get(stat),
                )
                row.failed = [
                    t.text
                    for t in thresholds
                    if t.applies(name, stat) and t.met(row.change, row.percent)
                ]
                rows.append(row)
    return Comparison(
        rows,
        [g["parameters"] for k, g in base_groups.items() if k not in cand_groups],
        [g["parameters"] for k, g in cand_groups.items() if k not in base_groups],
        {name: base_metrics[name].get("units") for name in shared},
    )
