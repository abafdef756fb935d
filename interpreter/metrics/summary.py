"""Summaries per parameter set: each metric over the runs (and repeats) that share one.

Runs with the same parameters form a group. Groups are built through a
temporary SQLite file, so memory stays flat however many runs and
parameter sets a session has: each run's values are filed under its group
as the run closes (a report files a results directory's ``runs.jsonl``
instead), and when the session ends SQLite groups them and they are read
back group by group, in the order the groups first ran, into running
:class:`Accumulator` statistics; each group is written out and dropped.
Every run's ``duration`` is summarized as a metric of its own.

A session's runs mostly come a group at a time (each parameter set's runs
one after another), so a session's grouping also streams (:class:`_Stream`):
the group being run is summarized as its runs close and its rows are
spooled when the next group starts. The end of the session then only puts
the header before the spooled rows. Should a group run again after another
(a second repetition), a parameter name appear late, or an outlier rule
need the values read twice, the spool is dropped and the end groups in
SQLite as above: the files are the same either way.

``summary.json`` and ``summary.csv`` are written beside ``runs.csv``; the
report and compare commands read them back (``SessionReader.summary``, in
the results room).
"""

from __future__ import annotations

import collections
import csv
import json
import tempfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .base import MetricSpec
from .stats import DEFAULT_SUMMARIZERS, Accumulator, noise, summarizers

if TYPE_CHECKING:
    import sqlite3

#: Every run's wall (or simulated) duration, summarized like a declared metric.
DURATION = MetricSpec(
    "duration",
    summarizers(DEFAULT_SUMMARIZERS),
    units="s",
    desc="run duration",
    summarize_over="runs",
)


def with_duration(metrics: Sequence[MetricSpec]) -> list[MetricSpec]:
    """The metrics a session summarizes: the declared ones, then ``duration``."""
    return [*metrics, DURATION] if all(m.name != DURATION.name for m in metrics) else list(metrics)


def metric_meta(spec: MetricSpec) -> dict[str, Any]:
    """A metric's declaration as written to meta.json and summary.json."""
    return {
        "name": spec.name,
        "title": spec.title,
        "units": spec.units,
        "desc": spec.desc,
        "aggregate": spec.aggregate,
        "summarize_over": spec.summarize_over,
        "summarize": [s.name for s in spec.summarize],
    }


class Group:
    """The runs of one parameter set, and the running statistics of each metric over them.

    ``accumulators`` hold what each metric is summarized over (its samples or its runs' values),
    ``run_values`` its runs' values, which the noise warnings are about.
    """

    __slots__ = ("parameters", "accumulators", "runs", "ok", "run_values", "again", "warnings")

    def __init__(
        self,
        parameters: dict[str, Any],
        accumulators: dict[str, Accumulator],
        runs: int = 0,
        ok: int = 0,
        run_values: dict[str, Accumulator] | None = None,
        again: dict[str, Callable[[], Iterable[float]]] | None = None,
    ) -> None:
        self.parameters = parameters
        self.accumulators = accumulators
        self.runs = runs
        self.ok = ok
        self.run_values = {} if run_values is None else run_values
        #: Per metric, a way to read its summarized values once more (an ``outliers: no`` past the
        #: exact limit needs two more passes).
        self.again = {} if again is None else again
        self.warnings: list[str] = []

    def row(self, metrics: Iterable[MetricSpec]) -> dict[str, Any]:
        """The group as summary.json has it: each metric's configured statistics, and its noise
        warnings when it has any.
        """
        row = {
            "parameters": self.parameters,
            "runs": self.runs,
            "ok": self.ok,
            "metrics": {
                m.name: self.accumulators[m.name].result(m.summarize, self.again.get(m.name))
                for m in metrics
            },
        }
        if self.warnings:
            row["warnings"] = self.warnings
        return row


def _value(record: Mapping[str, Any], spec: MetricSpec) -> float | None:
    value = (
        record.get("duration") if spec is DURATION else (record.get("metrics") or {}).get(spec.name)
    )
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _samples(record: Mapping[str, Any], spec: MetricSpec) -> list[float]:
    """Every value of *spec* the run's trackers emitted: its samples, or its one value."""
    several = (record.get("samples") or {}).get(spec.name)
    if several:
        return [float(value) for value in several]
    value = _value(record, spec)
    return [] if value is None else [value]


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


class Grouping:
    """The groups of a stream of run records, read back one at a time from a temporary SQLite file.

    A session files each record as its run closes (:meth:`add`), so the end
    of the session only asks SQLite to group what is already on disk; a
    report files a results directory's records in one go (:meth:`of`).
    """

    def __init__(self, metrics: list[MetricSpec]) -> None:
        self.metrics = metrics
        self.parameter_names: list[str] = []
        self.varied: list[str] = []
        self.count = 0
        self._db: sqlite3.Connection | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._insert = ""
        self._batch: list[tuple[Any, ...]] = []
        self._names: dict[str, None] = {}
        self._varied: dict[str, None] = {}
        self._first: Mapping[str, Any] | None = None
        self._seq = 0
        self._grouped = False
        #: Positions of the metrics summarized over their samples: their values go to table
        #: samples.
        self._sampled: list[int] = []
        self._sample_batch: list[tuple[int, int, float]] = []
        #: The groups summarized as their runs close, while that holds (a session's grouping
        #: only).
        self.stream: _Stream | None = None

    @classmethod
    def open(cls, metrics: Sequence[MetricSpec], *, stream: bool = False) -> Grouping:
        """An empty grouping in a fresh temporary folder, ready for :meth:`add`; with *stream*,
        summarizing each group as its runs close.

        Its SQLite file is made when a batch of runs is first filed: a streamed session of fewer
        runs than a batch never imports sqlite3.
        """
        grouping = cls(list(metrics))
        grouping._tmp = tempfile.TemporaryDirectory(prefix="perfchart-summary-")
        values = len(metrics)
        grouping._insert = f"INSERT INTO runs VALUES ({', '.join('?' * (3 + values))})"
        grouping._sampled = [
            index for index, m in enumerate(metrics) if m.summarize_over == "samples"
        ]
        if stream and all(s.outliers for m in metrics for s in m.summarize):
            grouping.stream = _Stream(grouping, Path(grouping._tmp.name))
        return grouping

    def _connect(self) -> sqlite3.Connection:
        """The SQLite file the runs are filed in, made with its tables at the first call."""
        if self._db is not None:
            return self._db
        import sqlite3

        assert self._tmp is not None
        db = self._db = sqlite3.connect(
            Path(self._tmp.name) / "groups.sqlite", check_same_thread=False
        )
        db.execute("PRAGMA journal_mode = OFF")
        db.execute("PRAGMA synchronous = OFF")
        values = [f"m{index}" for index in range(len(self.metrics))]
        db.execute(
            "CREATE TABLE runs (seq INTEGER PRIMARY KEY, key TEXT, ok INTEGER"
            f"{''.join(f', {v} REAL' for v in values)})"
        )
        if self._sampled:
            db.execute("CREATE TABLE samples (seq INTEGER, metric INTEGER, value REAL)")
        if self.stream is not None:
            db.execute("CREATE TABLE seen (key TEXT PRIMARY KEY) WITHOUT ROWID")
        return db

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
        """File one run's record: a row in the next batch (its samples too), its parameter names
        noted; a warm-up run is left out.
        """
        if record.get("warmup"):
            return
        parameters = record.get("parameters") or {}
        if not all(type(value) in _PLAIN for value in parameters.values()):
            parameters = json.loads(json.dumps(parameters, default=str))
        key = _KEY_JSON.encode(parameters)
        self._batch.append(
            (
                self._seq,
                key,
                int(bool(record.get("ok"))),
                *(_value(record, spec) for spec in self.metrics),
            )
        )
        for index in self._sampled:
            self._sample_batch.extend(
                (self._seq, index, value) for value in _samples(record, self.metrics[index])
            )
        self._seq += 1
        self._note(parameters)
        if self.stream is not None:
            self.stream.add(key, parameters, record)
        if len(self._batch) >= BATCH or len(self._sample_batch) >= BATCH * 10:
            self._flush()

    def _note(self, parameters: Mapping[str, Any]) -> None:
        """Note the run's parameter names, and which of them vary."""
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
        db = self._connect()
        db.executemany(self._insert, self._batch)
        self._batch.clear()
        if self.stream is not None:
            self.stream.flush(db)
        if self._sample_batch:
            db.executemany("INSERT INTO samples VALUES (?, ?, ?)", self._sample_batch)
            self._sample_batch.clear()

    def group(self) -> None:
        """Group the filed runs by parameter set (once); after this, :meth:`groups` reads them
        back."""
        if self._grouped:
            return
        self._grouped = True
        self._flush()
        db = self._connect()
        db.execute(
            "CREATE TABLE groups AS SELECT key, MIN(seq) AS first, COUNT(*) AS runs, SUM(ok) AS ok "
            "FROM runs GROUP BY key"
        )
        db.execute("CREATE UNIQUE INDEX groups_key ON groups (key)")
        if any(not s.outliers for m in self.metrics for s in m.summarize):
            # An outlier rule past the exact limit reads a group's values again.
            db.execute("CREATE INDEX runs_key ON runs (key)")
            if self._sampled:
                db.execute("CREATE INDEX samples_seq ON samples (seq, metric)")
        self.count = db.execute("SELECT COUNT(*) FROM groups").fetchone()[0]
        self.parameter_names = list(self._names)
        self.varied = [name for name in self._names if name in self._varied]

    def groups(self) -> Iterator[Group]:
        """Every group in the order it first ran, its statistics complete; one group in memory at a
        time. The runs' values and the samples come in two streams in the same group order.
        """
        assert self._db is not None
        columns = "".join(f", r.m{index}" for index in range(len(self.metrics)))
        cursor = self._db.execute(
            f"SELECT g.first, r.key, g.runs, g.ok{columns} "
            "FROM runs r JOIN groups g ON g.key = r.key ORDER BY g.first, r.seq"
        )
        samples = self._sample_stream()
        pending = next(samples, None)
        current: Group | None = None
        position = -1
        run_values: list[Accumulator] = []
        for first, key, runs, ok, *values in cursor:
            if first != position:
                if current is not None:
                    pending = self._complete(current, position, pending, samples)
                    yield current
                position = first
                current = self._group(key, runs, ok)
                run_values = list(current.run_values.values())
            for acc, value in zip(run_values, values, strict=True):
                if value is not None:
                    acc.add(value)
        if current is not None:
            self._complete(current, position, pending, samples)
            yield current

    def _group(
        self, key: str, runs: int, ok: int, parameters: Mapping[str, Any] | None = None
    ) -> Group:
        """An empty group of the parameter set *key* (whose *parameters* are read from it unless
        given): an accumulator per metric, two for a metric summarized over its samples.
        """
        if parameters is None:
            parameters = json.loads(key)
        ordered = {name: parameters[name] for name in self._names if name in parameters}
        run_values = {m.name: Accumulator(keep_values=True) for m in self.metrics}
        summarized = dict(run_values)
        for index in self._sampled:
            m = self.metrics[index]
            summarized[m.name] = Accumulator(keep_values=any(s.needs_values for s in m.summarize))
        again = {
            m.name: self._again(key, index)
            for index, m in enumerate(self.metrics)
            if any(not s.outliers for s in m.summarize)
        }
        return Group(ordered, summarized, runs, ok, run_values, again)

    def _again(self, key: str, index: int) -> Callable[[], Iterable[float]]:
        """A way to read the summarized values of metric *index* in the set *key* once more."""
        if index in self._sampled:
            query = (
                "SELECT s.value FROM samples s JOIN runs r ON r.seq = s.seq "
                "WHERE r.key = ? AND s.metric = ?"
            )
            arguments: tuple[Any, ...] = (key, index)
        else:
            query = f"SELECT m{index} FROM runs WHERE key = ? AND m{index} IS NOT NULL"
            arguments = (key,)

        def read() -> Iterable[float]:
            assert self._db is not None
            return (value for (value,) in self._db.execute(query, arguments))

        return read

    def _sample_stream(self) -> Iterator[tuple[int, int, float]]:
        """Every sample as (its group's first run, metric position, value), in group order."""
        assert self._db is not None
        if not self._sampled:
            return iter(())
        return iter(
            self._db.execute(
                "SELECT g.first, s.metric, s.value FROM samples s JOIN runs r ON r.seq = s.seq "
                "JOIN groups g ON g.key = r.key ORDER BY g.first, s.rowid"
            )
        )

    def _complete(
        self,
        group: Group,
        position: int,
        pending: tuple[int, int, float] | None,
        samples: Iterator[tuple[int, int, float]],
    ) -> tuple[int, int, float] | None:
        """Add the group's samples from the stream, then its noise warnings; the next group's first
        sample is returned.
        """
        accumulators = [group.accumulators[m.name] for m in self.metrics]
        while pending is not None and pending[0] == position:
            accumulators[pending[1]].add(pending[2])
            pending = next(samples, None)
        group.warnings = [
            warning for m in self.metrics for warning in noise(m.name, group.run_values[m.name])
        ]
        return pending

    def close(self) -> None:
        if self.stream is not None:
            self.stream.close()
            self.stream = None
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


class _Stream:
    """A session's groups summarized as their runs close, each group's rows spooled when the next
    group starts, in the order they first ran; valid while no group runs again after another.

    Whether one does is known without a look-up per run: each group's parameter set is filed in a
    table of the sets seen, with the runs' batch, and a set already there is not filed again.
    """

    def __init__(self, grouping: Grouping, folder: Path) -> None:
        self.grouping = grouping
        self.columns = summary_columns({"metrics": [metric_meta(m) for m in grouping.metrics]})
        self.json = (folder / "rows.json").open("w", encoding="utf-8")
        self.csv = (folder / "rows.csv").open("w", newline="", encoding="utf-8")
        self.writer = csv.writer(self.csv)
        self.valid = True
        self.key: str | None = None
        self.current: Group | None = None
        self._values: list[Accumulator] = []
        self._samples: list[Accumulator] = []
        #: Parameter sets begun since the last batch was filed.
        self.keys: list[str] = []
        #: How many parameter names the first spooled row was written with: they must not grow.
        self.names: int | None = None
        self.count = 0
        self.head: list[Group] = []
        self.tail: collections.deque[Group] = collections.deque(maxlen=SHOW)
        self.noisy: list[Group] = []
        self.noisy_count = 0

    def add(self, key: str, parameters: Mapping[str, Any], record: Mapping[str, Any]) -> None:
        """Add one run to the group it belongs to (*key*, of *parameters*): the one being run, or a
        new one."""
        if not self.valid:
            return
        metrics = self.grouping.metrics
        if key != self.key:
            self._spool()
            self.key = key
            self.keys.append(key)
            self.current = self.grouping._group(key, 0, 0, parameters)
            self._values = [self.current.run_values[m.name] for m in metrics]
            self._samples = [self.current.accumulators[m.name] for m in metrics]
        group = self.current
        assert group is not None
        group.runs += 1
        group.ok += int(bool(record.get("ok")))
        for spec, accumulator in zip(metrics, self._values, strict=True):
            value = _value(record, spec)
            if value is not None:
                accumulator.add(value)
        for index in self.grouping._sampled:
            accumulator = self._samples[index]
            for value in _samples(record, metrics[index]):
                accumulator.add(value)

    def _spool(self) -> None:
        """Write the group being run, complete, as summary.json and summary.csv will have it."""
        group = self.current
        if group is None:
            return
        metrics, names = self.grouping.metrics, list(self.grouping._names)
        group.warnings = [w for m in metrics for w in noise(m.name, group.run_values[m.name])]
        if self.names is None:
            self.names = len(names)
        row = group.row(metrics)
        self.json.write(("\n  " if not self.count else ",\n  ") + _ROW_JSON.encode(row))
        self.writer.writerow(summary_csv_row({"parameters": names}, row, self.columns))
        self.count += 1
        if len(self.head) < SHOW:
            self.head.append(group)
        else:
            self.tail.append(group)
        if group.warnings:
            self.noisy_count += 1
            if len(self.noisy) < SHOW:
                self.noisy.append(group)
        self.current = None

    def flush(self, db: sqlite3.Connection) -> None:
        """File the parameter sets begun since the last batch; one seen before ends the stream."""
        if not self.keys:
            return
        before = db.total_changes
        db.executemany("INSERT OR IGNORE INTO seen VALUES (?)", [(key,) for key in self.keys])
        if db.total_changes - before != len(self.keys):
            self.valid = False
        self.keys.clear()

    def finish(self) -> bool:
        """Spool the last group; whether the spooled rows are the summary's."""
        if self.valid:
            self._spool()
            if self.grouping._db is not None:
                self.flush(self.grouping._db)
            elif len(set(self.keys)) < len(self.keys):  # all in one batch, never filed
                self.valid = False
        self.close()
        return self.valid and self.names in (None, len(self.grouping._names))

    def close(self) -> None:
        self.json.close()
        self.csv.close()


#: ``json.dumps(row, default=str)``, its encoder made once: a stream writes a row per group.
_ROW_JSON = json.JSONEncoder(default=str)
#: ``json.dumps(parameters, sort_keys=True, default=str)``, a parameter set's key, made once: a
#: key is made per run.
_KEY_JSON = json.JSONEncoder(sort_keys=True, default=str)
#: Groups the terminal shows from the head and from the tail of a summary.
SHOW = 10


class SummaryView:
    """What the terminal shows of a session's summary: the first and last groups, and how many
    there are."""

    __slots__ = (
        "metrics",
        "parameter_names",
        "varied",
        "count",
        "head",
        "tail",
        "noisy",
        "noisy_count",
    )

    def __init__(
        self,
        metrics: list[MetricSpec],
        parameter_names: list[str],
        varied: list[str],
        count: int,
        head: list[Group],
        tail: list[Group],
        noisy: list[Group],
        noisy_count: int,
    ) -> None:
        self.metrics = metrics
        self.parameter_names = parameter_names
        self.varied = varied
        self.count = count
        self.head = head
        self.tail = tail
        #: The first groups with noise warnings, and how many groups have any.
        self.noisy = noisy
        self.noisy_count = noisy_count


def write_summary(directory: Path, grouping: Grouping, show: int = SHOW) -> SummaryView:
    """Write summary.json and summary.csv from the runs *grouping* filed, a group at a time (or
    from the rows it streamed); each file replaced atomically.

    The grouping is closed afterwards.
    """
    stream = grouping.stream
    if stream is not None and show == SHOW and stream.finish():
        with grouping:
            return _write_streamed(directory, grouping, stream)
    metrics = grouping.metrics
    grouping.group()
    with grouping:
        header: dict[str, Any] = {
            "metrics": [metric_meta(m) for m in metrics],
            "parameters": grouping.parameter_names,
            "varied": grouping.varied,
        }
        head: list[Group] = []
        noisy: list[Group] = []
        noisy_count = 0
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
                if group.warnings:
                    noisy_count += 1
                    if len(noisy) < show:
                        noisy.append(group)
            as_json.write("\n]}\n")
        json_tmp.replace(directory / "summary.json")
        csv_tmp.replace(directory / "summary.csv")
        return SummaryView(
            metrics,
            grouping.parameter_names,
            grouping.varied,
            grouping.count,
            head,
            list(tail),
            noisy,
            noisy_count,
        )


def _write_streamed(directory: Path, grouping: Grouping, stream: _Stream) -> SummaryView:
    """summary.json and summary.csv as the header before the rows *stream* spooled."""
    import shutil

    names = list(grouping._names)
    varied = [name for name in names if name in grouping._varied]
    header: dict[str, Any] = {
        "metrics": [metric_meta(m) for m in grouping.metrics],
        "parameters": names,
        "varied": varied,
    }
    json_tmp, csv_tmp = directory / "summary.json.tmp", directory / "summary.csv.tmp"
    with (
        json_tmp.open("w", encoding="utf-8") as as_json,
        open(stream.json.name, encoding="utf-8") as rows,
    ):
        as_json.write(json.dumps(header, default=str)[:-1] + ', "groups": [')
        shutil.copyfileobj(rows, as_json)
        as_json.write("\n]}\n")
    with (
        csv_tmp.open("w", newline="", encoding="utf-8") as as_csv,
        open(stream.csv.name, newline="", encoding="utf-8") as rows,
    ):
        csv.writer(as_csv).writerow(
            [*names, "runs", "ok", *(f"{metric}:{stat}" for metric, stat in stream.columns)]
        )
        shutil.copyfileobj(rows, as_csv)
    json_tmp.replace(directory / "summary.json")
    csv_tmp.replace(directory / "summary.csv")
    return SummaryView(
        grouping.metrics,
        names,
        varied,
        stream.count,
        stream.head,
        list(stream.tail),
        stream.noisy,
        stream.noisy_count,
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
