"""Summaries per parameter set: each metric over the runs (and repeats) that share one.

Runs with the same parameters form a group. Groups are built through a
temporary SQLite file, so memory stays flat however many runs and
parameter sets a session has: each run's values are filed under its group
as the run closes (a report files a results directory's ``runs.jsonl``
instead), and when the session ends SQLite groups them and they are read
back group by group, in the order the groups first ran, into running
:class:`Accumulator` statistics; each group is written out and dropped.
The end of a session reads no run record back. Every run's ``duration``
is summarized as a metric of its own.

``summary.json`` and ``summary.csv`` are written beside ``runs.csv``; the
report and compare commands read them back (``SessionReader.summary``, in
the results room).
"""

from __future__ import annotations

import collections
import csv
import json
import sqlite3
import tempfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .base import MetricSpec
from .stats import DEFAULT_SUMMARIZERS, Accumulator, summarizers

#: Every run's wall (or simulated) duration, summarized like a declared metric.
DURATION = MetricSpec("duration", summarizers(DEFAULT_SUMMARIZERS), units="s", desc="run duration")


def with_duration(metrics: Sequence[MetricSpec]) -> list[MetricSpec]:
    """The metrics a session summarizes: the declared ones, then ``duration``."""
    return [*metrics, DURATION] if all(m.name != DURATION.name for m in metrics) else list(metrics)


def metric_meta(spec: MetricSpec) -> dict[str, Any]:
    """A metric's declaration as written to meta.json and summary.json."""
    return {
        "name": spec.name,
        "units": spec.units,
        "desc": spec.desc,
        "aggregate": spec.aggregate,
        "summarize": [s.name for s in spec.summarize],
    }


@dataclass(slots=True)
class Group:
    """The runs of one parameter set, and the running statistics of each metric over them."""

    parameters: dict[str, Any]
    accumulators: dict[str, Accumulator]
    runs: int = 0
    ok: int = 0

    def row(self, metrics: Iterable[MetricSpec]) -> dict[str, Any]:
        """The group as summary.json has it: each metric's configured statistics."""
        return {
            "parameters": self.parameters,
            "runs": self.runs,
            "ok": self.ok,
            "metrics": {m.name: self.accumulators[m.name].result(m.summarize) for m in metrics},
        }


def _value(record: Mapping[str, Any], spec: MetricSpec) -> float | None:
    value = (
        record.get("duration") if spec is DURATION else (record.get("metrics") or {}).get(spec.name)
    )
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _differ(a: Any, b: Any) -> bool:
    """Whether two parameter values are different values (1 and 1.0 are one; True and 1 are two)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is not type(b) or a != b
    return bool(a != b)


#: Parameter values that JSON gives back as they are; anything else is normalised as runs.jsonl
#: holds it.
_PLAIN = (str, int, float, bool, type(None))
#: Runs filed per SQLite insert: memory stays flat, the insert cost is amortised.
BATCH = 1000


@dataclass
class Grouping:
    """The groups of a stream of run records, read back one at a time from a temporary SQLite file.

    A session files each record as its run closes (:meth:`add`), so the end
    of the session only asks SQLite to group what is already on disk; a
    report files a results directory's records in one go (:meth:`of`).
    """

    metrics: list[MetricSpec]
    parameter_names: list[str] = field(default_factory=list)
    varied: list[str] = field(default_factory=list)
    count: int = 0
    _db: sqlite3.Connection | None = None
    _tmp: tempfile.TemporaryDirectory[str] | None = None
    _insert: str = ""
    _batch: list[tuple[Any, ...]] = field(default_factory=list)
    _names: dict[str, None] = field(default_factory=dict)
    _varied: dict[str, None] = field(default_factory=dict)
    _first: Mapping[str, Any] | None = None
    _seq: int = 0
    _grouped: bool = False

    @classmethod
    def open(cls, metrics: Sequence[MetricSpec]) -> Grouping:
        """An empty grouping on a fresh temporary SQLite file, ready for :meth:`add`."""
        grouping = cls(list(metrics))
        grouping._tmp = tempfile.TemporaryDirectory(prefix="perfchart-summary-")
        db = grouping._db = sqlite3.connect(
            Path(grouping._tmp.name) / "groups.sqlite", check_same_thread=False
        )
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        values = [f"m{index}" for index in range(len(metrics))]
        db.execute(
            "CREATE TABLE runs (seq INTEGER PRIMARY KEY, key TEXT, ok INTEGER"
            f"{''.join(f', {v} REAL' for v in values)})"
        )
        grouping._insert = f"INSERT INTO runs VALUES ({', '.join('?' * (3 + len(values)))})"
        return grouping

    @classmethod
    def of(cls, records: Iterable[Mapping[str, Any]], metrics: Sequence[MetricSpec]) -> Grouping:
        """File every record under its parameter set: one row per run on disk; only parameter
        names are kept in memory."""
        grouping = cls.open(metrics)
        for record in records:
            grouping.add(record)
        grouping.group()
        return grouping

    def add(self, record: Mapping[str, Any]) -> None:
        """File one run's record: a row in the next batch, its parameter names noted."""
        parameters = record.get("parameters") or {}
        if not all(type(value) in _PLAIN for value in parameters.values()):
            parameters = json.loads(json.dumps(parameters, default=str))
        key = json.dumps(parameters, sort_keys=True, default=str)
        self._batch.append(
            (
                self._seq,
                key,
                int(bool(record.get("ok"))),
                *(_value(record, spec) for spec in self.metrics),
            )
        )
        self._seq += 1
        if len(self._batch) >= BATCH:
            self._flush()
        names, varied, first = self._names, self._varied, self._first
        for name in parameters:
            if name not in names:
                names[name] = None
                if first is not None:
                    varied[name] = None
        if first is None:
            self._first = parameters
        elif len(varied) < len(names):
            for name in names:
                if name not in varied and _differ(parameters.get(name), first.get(name)):
                    varied[name] = None

    def _flush(self) -> None:
        assert self._db is not None
        self._db.executemany(self._insert, self._batch)
        self._batch.clear()

    def group(self) -> None:
        """Group the filed runs by parameter set (once); after this, :meth:`groups` reads them
        back."""
        assert self._db is not None
        if self._grouped:
            return
        self._grouped = True
        self._flush()
        db = self._db
        db.execute(
            "CREATE TABLE groups AS SELECT key, MIN(seq) AS first, COUNT(*) AS runs, SUM(ok) AS ok "
            "FROM runs GROUP BY key"
        )
        db.execute("CREATE UNIQUE INDEX groups_key ON groups (key)")
        self.count = db.execute("SELECT COUNT(*) FROM groups").fetchone()[0]
        self.parameter_names = list(self._names)
        self.varied = [name for name in self._names if name in self._varied]

    def groups(self) -> Iterator[Group]:
        """Every group in the order it first ran, its statistics complete; one group in memory at
        a time."""
        assert self._db is not None
        keep = [any(s.needs_values for s in m.summarize) for m in self.metrics]
        columns = "".join(f", r.m{index}" for index in range(len(self.metrics)))
        cursor = self._db.execute(
            f"SELECT g.first, r.key, g.runs, g.ok{columns} "
            "FROM runs r JOIN groups g ON g.key = r.key ORDER BY g.first, r.seq"
        )
        current: Group | None = None
        position = -1
        accumulators: list[Accumulator] = []
        for first, key, runs, ok, *values in cursor:
            if first != position:
                if current is not None:
                    yield current
                position = first
                accumulators = [Accumulator(keep_values=k) for k in keep]
                parameters = json.loads(key)
                ordered = {
                    name: parameters[name] for name in self.parameter_names if name in parameters
                }
                current = Group(
                    ordered,
                    {m.name: acc for m, acc in zip(self.metrics, accumulators, strict=True)},
                    runs,
                    ok,
                )
            for acc, value in zip(accumulators, values, strict=True):
                if value is not None:
                    acc.add(value)
        if current is not None:
            yield current

    def close(self) -> None:
        if self._db is not None:
            self._db.close()
            self._db = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Grouping:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass
class SummaryView:
    """What the terminal shows of a session's summary: the first and last groups, and how many
    there are."""

    metrics: list[MetricSpec]
    parameter_names: list[str]
    varied: list[str]
    count: int
    head: list[Group]
    tail: list[Group]


def write_summary(directory: Path, grouping: Grouping, show: int = 10) -> SummaryView:
    """Write summary.json and summary.csv from the runs *grouping* filed, a group at a time; each
    file replaced atomically.

    The grouping is closed afterwards.
    """
    metrics = grouping.metrics
    grouping.group()
    with grouping:
        header: dict[str, Any] = {
            "metrics": [metric_meta(m) for m in metrics],
            "parameters": grouping.parameter_names,
            "varied": grouping.varied,
        }
        head: list[Group] = []
        tail: collections.deque[Group] = collections.deque(maxlen=show)
        json_tmp, csv_tmp = directory / "summary.json.tmp", directory / "summary.csv.tmp"
        with (
            json_tmp.open("w", encoding="utf-8") as as_json,
            csv_tmp.open("w", newline="", encoding="utf-8") as as_csv,
        ):
            as_json.write(json.dumps(header, default=str)[:-1] + ', "groups": [')
            writer = csv.writer(as_csv)
            columns = summary_columns(header)
            writer.writerow(
                [
                    *header["parameters"],
                    "runs",
                    "ok",
                    *(f"{metric}:{stat}" for metric, stat in columns),
                ]
            )
            for index, group in enumerate(grouping.groups()):
                row = group.row(metrics)
                as_json.write(("\n  " if not index else ",\n  ") + json.dumps(row, default=str))
                writer.writerow(summary_csv_row(header, row, columns))
                if len(head) < show:
                    head.append(group)
                else:
                    tail.append(group)
            as_json.write("\n]}\n")
        json_tmp.replace(directory / "summary.json")
        csv_tmp.replace(directory / "summary.csv")
        return SummaryView(
            metrics, grouping.parameter_names, grouping.varied, grouping.count, head, list(tail)
        )


def summary_columns(header: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(metric, statistic) of every summary column, in order."""
    return [(m["name"], stat) for m in header["metrics"] for stat in m["summarize"]]


def summary_csv_row(
    header: Mapping[str, Any], row: Mapping[str, Any], columns: Sequence[tuple[str, str]]
) -> list[Any]:
    return [
        *(row["parameters"].get(name) for name in header["parameters"]),
        row["runs"],
        row["ok"],
        *(_cell(row["metrics"].get(metric, {}).get(stat)) for metric, stat in columns),
    ]


def _cell(value: Any) -> Any:
    return "" if value is None else value
