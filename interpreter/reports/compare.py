"""``perfchart compare``: each metric's change between two sessions, per matching parameter set.

Parameter sets match when every parameter has the same value. A threshold
``[METRIC:]STAT OP CHANGE`` (``p95 > +10%``, ``rps:mean < -5%``,
``duration:max > 0.5``) is met when the candidate's change over the
baseline meets it, for that metric or, without one, for any metric that
summarizes STAT; a percentage is relative to the baseline's value. A
threshold naming only a metric (``rps < -10%``) means its mean. A met
threshold is a regression only when the values differ significantly
(:mod:`.significance`, at *alpha*): noise is "not significant".

Bounded in time and memory: a summary larger than ``MAX_SUMMARY`` is
refused before it is read, and a comparison of more than ``MAX_ROWS`` rows,
or one holding more than ``MAX_VALUES`` values, is refused with what to
compare instead, each in one line; a gate that compared only a part would
pass what it never looked at.
"""

from __future__ import annotations

import json
import math
import operator
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .data import Results
from .significance import Shift, compare_samples

_THRESHOLD = re.compile(
    r"\s*(?:(?P<metric>[A-Za-z_][\w.-]*):)?(?P<stat>[A-Za-z_][\w.-]*)\s*(?P<op>>=|<=|>|<)\s*(?P<change>[+-]?(?:\d+(?:\.\d*)?|\.\d+))\s*(?P<pct>%?)\s*"
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


#: The significance level a met threshold must also reach to be a regression.
ALPHA = 0.05
#: How many of the sets only one session ran an error message names.
NAMED = 5
#: Bytes of one session's summary.json compare reads at most (100,000 parameter sets of one metric
#: take 15 MB).
MAX_SUMMARY = 16 * 1024**2
#: Rows (matched parameter sets × metrics × statistics) compare computes at most.
MAX_ROWS = 100_000
#: Values of runs (or samples) compare holds at most, both sessions together.
MAX_VALUES = 2_000_000


def read_for_compare(directory: Path) -> Results:
    """A session to compare; its summary is refused before it is read when larger than
    ``MAX_SUMMARY``.
    """
    path = directory / "summary.json"
    try:
        size = path.stat().st_size
    except OSError:
        size = 0  # Results.read says what is missing
    if size > MAX_SUMMARY:
        raise UsageError(
            f"{path}: {size / 1024**2:.0f} MiB, larger than the {MAX_SUMMARY // 1024**2} MiB "
            "compare reads; compare sessions of fewer parameter sets or metrics"
        )
    return Results.read(directory)


@dataclass
class Row:
    """One statistic of one metric in one parameter set, in both sessions, with the test of the
    metric's values.
    """

    parameters: dict[str, Any]
    metric: str
    stat: str
    baseline: float | None
    candidate: float | None
    units: str | None = None
    test: Shift | None = None
    alpha: float = ALPHA
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

    @property
    def significant(self) -> bool:
        return self.test is not None and self.test.significant(self.alpha)

    def document(self) -> dict[str, Any]:
        test = self.test
        return {
            "parameters": self.parameters,
            "metric": self.metric,
            "stat": self.stat,
            "units": self.units,
            "baseline": self.baseline,
            "candidate": self.candidate,
            "change": self.change,
            "percent": self.percent,
            "values": None if test is None else [test.baseline, test.candidate],
            "u": None if test is None else test.u,
            "p": None if test is None else test.p,
            "exact": None if test is None else test.exact,
            "significant": self.significant,
            "shift": None if test is None else test.shift,
            "ci": None if test is None or test.low is None else [test.low, test.high],
            "regression": self.failed,
        }


@dataclass
class Comparison:
    rows: list[Row]
    only_baseline: list[dict[str, Any]]
    only_candidate: list[dict[str, Any]]
    units: dict[str, str | None]
    alpha: float = ALPHA

    @property
    def regressions(self) -> list[Row]:
        return [row for row in self.rows if row.failed]

    def document(self) -> dict[str, Any]:
        return {
            "test": "mann-whitney-u",
            "alpha": self.alpha,
            "rows": [row.document() for row in self.rows],
            "only_baseline": self.only_baseline,
            "only_candidate": self.only_candidate,
            "regressions": len(self.regressions),
        }


def _key(parameters: dict[str, Any]) -> str:
    """A parameter set's identity, exactly as the summary's grouping writes it."""
    return json.dumps(parameters, sort_keys=True, default=str)


def describe(parameters: dict[str, Any]) -> str:
    """A parameter set in words: ``size=4096 workers=1``."""
    return " ".join(f"{name}={value}" for name, value in parameters.items()) or "(no parameters)"


def _resolve(threshold: Threshold, available: dict[str, list[str]]) -> Threshold:
    """``rps < -10%``: a threshold whose STAT is no statistic but a metric's name means that
    metric's mean.
    """
    if threshold.metric is not None or threshold.stat not in available:
        return threshold
    if any(threshold.stat in stats for stats in available.values()):
        return threshold
    return Threshold(
        threshold.text, threshold.stat, "mean", threshold.op, threshold.change, threshold.percent
    )


def _check(threshold: Threshold, available: dict[str, list[str]]) -> None:
    if threshold.metric is not None and threshold.metric not in available:
        raise UsageError(
            f"--fail-if {threshold.text!r}: no metric {threshold.metric!r} in both sessions "
            f"(metrics: {', '.join(available)})"
        )
    if not any(threshold.applies(name, stat) for name in available for stat in available[name]):
        raise UsageError(
            f"--fail-if {threshold.text!r}: no metric summarizes {threshold.stat!r} in both "
            "sessions"
        )


def _unmatched(
    base_groups: dict[str, dict[str, Any]], cand_groups: dict[str, dict[str, Any]]
) -> UsageError:
    """No parameter set in both sessions: the error names (the first few of) each side's sets."""
    parts = []
    for label, groups in (("baseline", base_groups), ("candidate", cand_groups)):
        names = [describe(g["parameters"]) for g in groups.values()]
        more = f" and {len(names) - NAMED} more" if len(names) > NAMED else ""
        parts.append(f"only in the {label}: {'; '.join(names[:NAMED]) or 'none'}{more}")
    return UsageError(f"no parameter set ran in both sessions ({', '.join(parts)})")


def _units(metric: dict[str, Any]) -> str | None:
    units = metric.get("units")
    return "s" if units is None and metric["name"] == DURATION else units


#: The metric every run has, in seconds, read from the record's own field.
DURATION = "duration"


def _values(
    results: Results, keys: set[str], metrics: dict[str, bool], held: list[int]
) -> dict[str, dict[str, list[float]]]:
    """Each wanted parameter set's values of each metric, from runs.jsonl: a run's samples when it
    has them and *metrics* says the metric is summarized over samples, else its one value.

    Warm-up runs, which summaries leave out, are left out here too. *held*
    counts the values kept, both sessions together; past ``MAX_VALUES`` the
    comparison is refused.
    """
    found: dict[str, dict[str, list[float]]] = {}
    for record in results.runs():
        if held[0] > MAX_VALUES:
            raise UsageError(
                f"{results.reader.runs_path}: more than {MAX_VALUES:,} values of runs and samples "
                "to compare in the two sessions; compare fewer metrics, or sessions of fewer runs"
            )
        if record.get("warmup"):
            continue
        parameters = json.loads(json.dumps(record.get("parameters") or {}, default=str))
        key = _key(parameters)
        if key not in keys:
            continue
        values = found.setdefault(key, {name: [] for name in metrics})
        samples = record.get("samples") or {}
        for name, over_samples in metrics.items():
            sampled = samples.get(name) if over_samples else None
            if isinstance(sampled, list):
                before = len(values[name])
                values[name].extend(float(v) for v in sampled if _number(v))
                held[0] += len(values[name]) - before
                continue
            value = (
                record.get(DURATION)
                if name == DURATION
                else (record.get("metrics") or {}).get(name)
            )
            if value is not None and _number(value):
                values[name].append(float(value))
                held[0] += 1
    return found


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def compare(
    baseline: Results,
    candidate: Results,
    thresholds: Sequence[Threshold],
    stats: Sequence[str] = ("mean",),
    alpha: float = ALPHA,
) -> Comparison:
    """Rows for each matched parameter set, metric and statistic shown (*stats* and every
    threshold's).

    A row fails a threshold when its change meets it and the metric's values
    in the set differ significantly at *alpha*. No set in both sessions is
    bad usage: a renamed parameter must not pass a gate by comparing nothing.
    """
    base_metrics = {m["name"]: m for m in baseline.summary["metrics"]}
    cand_metrics = {m["name"]: m for m in candidate.summary["metrics"]}
    shared = [name for name in base_metrics if name in cand_metrics]
    available = {
        name: [s for s in base_metrics[name]["summarize"] if s in cand_metrics[name]["summarize"]]
        for name in shared
    }
    thresholds = [_resolve(t, available) for t in thresholds]
    for threshold in thresholds:
        _check(threshold, available)
    base_groups = {_key(g["parameters"]): g for g in baseline.summary["groups"]}
    cand_groups = {_key(g["parameters"]): g for g in candidate.summary["groups"]}
    matched = [key for key in base_groups if key in cand_groups]
    if not matched:
        raise _unmatched(base_groups, cand_groups)
    wanted = {
        name: [
            s for s in available[name] if s in stats or any(t.applies(name, s) for t in thresholds)
        ]
        for name in shared
    }
    count = len(matched) * sum(map(len, wanted.values()))
    if count > MAX_ROWS:
        raise UsageError(
            f"{count:,} rows to compare ({len(matched):,} parameter sets in both sessions, "
            f"{sum(map(len, wanted.values()))} statistics of their metrics), more than the "
            f"{MAX_ROWS:,} compare computes; compare fewer statistics (--stat) or sessions of "
            "fewer parameter sets"
        )
    over_samples = {
        name: "runs"
        not in (base_metrics[name].get("summarize_over"), cand_metrics[name].get("summarize_over"))
        for name in shared
        if wanted[name]
    }
    held = [0]
    base_values = _values(baseline, set(matched), over_samples, held)
    cand_values = _values(candidate, set(matched), over_samples, held)
    units = {name: _units(base_metrics[name]) for name in shared}
    rows: list[Row] = []
    for key in matched:
        group, other = base_groups[key], cand_groups[key]
        for name in shared:
            if not wanted[name]:
                continue
            test = compare_samples(
                base_values.get(key, {}).get(name, []),
                cand_values.get(key, {}).get(name, []),
                alpha,
            )
            for stat in wanted[name]:
                row = Row(
                    group["parameters"],
                    name,
                    stat,
                    group["metrics"][name].get(stat),
                    other["metrics"][name].get(stat),
                    None if stat == "count" else units[name],
                    test,
                    alpha,
                )
                row.failed = [
                    t.text
                    for t in thresholds
                    if t.applies(name, stat) and t.met(row.change, row.percent) and row.significant
                ]
                rows.append(row)
    return Comparison(
        rows,
        [g["parameters"] for k, g in base_groups.items() if k not in cand_groups],
        [g["parameters"] for k, g in cand_groups.items() if k not in base_groups],
        units,
        alpha,
    )


def quantity(value: float | None, units: str | None, *, signed: bool = False) -> str:
    """A value with its units, readably: seconds below one as ms (below a millisecond as µs)."""
    if value is None:
        return "-"
    sign = "+" if signed else ""
    if units == "s":
        for scale, name in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
            if abs(value) >= scale or value == 0 or scale == 1e-6:
                return f"{value / scale:{sign}.4g} {name}"
    text = f"{value:{sign}.4g}"
    return f"{text} {units}" if units else text
