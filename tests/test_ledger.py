"""The run ledger owns runs: listeners are called in phases, and a dry run and a real run fill it
the same way."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from interpreter.core import (
    EventBus,
    FlagUpdateEvent,
    LogLineEvent,
    OutcomeEvent,
    ParameterUpdateEvent,
    RunEndEvent,
    RunKey,
)
from interpreter.engine import ParameterBatch, Record, RunLedger, RunListener
from interpreter.metrics import RunMetrics
from interpreter.results import Exports
from interpreter.session import Session, load_config

#: A real command whose output carries the metric; the dry run is told the same output, exit code
#: and duration.
CONFIG = """
config:
  title: ledger
  builtinMetrics: false         # a dry run has no CPU time to give: these tests are of trackers
  parameters:
    - {name: size, default: 1}
  metrics:
    - {name: took, units: ms}
    - {name: lines}
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      size: {type: discreet, values: [1, 2, 3]}
    events:
      signal:
        OK: CmdlineExitZeroEvent
        FAILED: CmdlineExitNonzeroEvent
channels:
  - class: channel.CmdlineChannel
    cmdline: "echo took {{size}}0 ms; test {{size}} != 2"
    shell: yes
    simulate:
      exitcode: "size == 2"
      duration: "0.25"
      output: "took {{size}}0 ms"
trackers:
  - class: tracker.EventAttributeTracker
    event: LogLineEvent[stream=stdout]
    extract: [{metric: took, attrib: line, match: 'took ([0-9]+) ms'}]
  - {class: tracker.CountTracker, metric: lines, events: "LogLineEvent[stream=stdout]"}
"""

#: Fields that are times, or say which kind of run made the record.
TIMES = ("start", "end", "duration", "dry_run")


def records(results: Path) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in (results / "runs.jsonl").read_text(encoding="utf-8").splitlines()
    ]


class TrackersLast(Session):
    """A session whose trackers join the ledger after every results file and the terminal."""

    def _wire(self, exports: Exports) -> None:
        trackers = self.run_metrics
        self.run_metrics = RunMetrics(self.config.metrics, [])
        super()._wire(exports)
        self.ledger.add(trackers)
        self.run_metrics = trackers


def test_a_tracker_added_after_the_results_files_still_gets_every_metric_into_every_record(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(CONFIG)
    session = TrackersLast(load_config(path), results_dir=tmp_path / "r")
    assert session.run() == 1  # size 2 exits 1
    assert session.ledger._listeners[-1] is session.run_metrics, (
        "the trackers really were the last listener"
    )
    got = records(tmp_path / "r")
    assert [(r["parameters"]["size"], r["status"], r["metrics"]) for r in got] == [
        (1, "OK", {"took": 10.0, "lines": 1.0}),
        (2, "FAILED", {"took": 20.0, "lines": 1.0}),
        (3, "OK", {"took": 30.0, "lines": 1.0}),
    ]
    rows = (tmp_path / "r" / "runs.csv").read_text(encoding="utf-8").splitlines()
    assert rows[0].endswith("metric:took,metric:lines")
    assert [row.split(",")[-2:] for row in rows[1:]] == [
        ["10.0", "1"],
        ["20.0", "1"],
        ["30.0", "1"],
    ]


def test_one_chart_and_config_dry_and_real_give_the_same_records_apart_from_times(
    tmp_path: Path,
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(CONFIG)
    real = Session(load_config(path), results_dir=tmp_path / "real", seed=5)
    dry = Session(load_config(path), results_dir=tmp_path / "dry", dry_run=True, seed=5)
    assert (real.run(), dry.run()) == (1, 1)
    as_real, as_dry = records(tmp_path / "real"), records(tmp_path / "dry")
    assert len(as_real) == 3
    assert [{k: v for k, v in r.items() if k not in TIMES} for r in as_real] == [
        {k: v for k, v in r.items() if k not in TIMES} for r in as_dry
    ]
    assert all(r["dry_run"] for r in as_dry)
    assert not any("dry_run" in r for r in as_real)
    assert [r["duration"] for r in as_dry] == [0.25, 0.25, 0.25]


class Keep(RunListener):
    """Keeps every record it receives closed."""

    def __init__(self, into: list[Record]) -> None:
        self.into = into

    def closed(self, record: Record) -> None:
        self.into.append(record)


class Calls(RunListener):
    """Notes each hook as it is called, with what the record held then."""

    events = (LogLineEvent,)

    def __init__(self, name: str, calls: list[tuple[str, str, Any]], adds: bool = False) -> None:
        self.name = name
        self.calls = calls
        self.adds = adds

    def opened(self, record: Record) -> None:
        self.calls.append((self.name, "opened", record["trace"]))

    def observe(self, event: Any, records: Any) -> None:
        self.calls.append((self.name, "observe", [r["trace"] for r in records]))

    def finish(self, record: Record) -> None:
        if self.adds:
            record.setdefault("metrics", {})["seen"] = 1
        self.calls.append((self.name, "finish", dict(record.get("metrics") or {})))

    def closed(self, record: Record) -> None:
        self.calls.append((self.name, "closed", dict(record.get("metrics") or {})))


def test_every_listener_finishes_a_record_before_any_receives_it_closed() -> None:
    bus = EventBus()
    batch = ParameterBatch(bus, {})
    ledger = RunLedger(bus, batch)
    calls: list[tuple[str, str, Any]] = []
    ledger.add(Calls("writer", calls))
    ledger.add(Calls("tracker", calls, adds=True))
    cursor = ledger.cursor("p", 1)
    trace = cursor.set_parameters({"a": 1})
    cursor.set_flag("status", "OK")
    batch.flush()
    bus.publish(LogLineEvent(traceids=frozenset({trace}), line="x"))
    bus.publish(OutcomeEvent(traceids=frozenset({trace}), code=0))
    cursor.end_run()
    batch.flush()
    bus.dispatch()
    assert calls == [
        ("writer", "opened", trace),
        ("tracker", "opened", trace),
        ("writer", "observe", [trace]),
        ("tracker", "observe", [trace]),
        ("writer", "finish", {}),
        ("tracker", "finish", {"seen": 1}),
        ("writer", "closed", {"seen": 1}),
        ("tracker", "closed", {"seen": 1}),
    ]
    assert ledger.summary.runs == 1
    assert ledger.summary.ok == 1
    assert ledger.open_runs == []


def test_the_update_says_whose_run_it_opens_and_the_record_says_it_too() -> None:
    bus = EventBus()
    batch = ParameterBatch(bus, {"a": 0})
    ledger = RunLedger(bus, batch)
    seen: list[ParameterUpdateEvent] = []
    bus.subscribe(seen.append, ParameterUpdateEvent)
    cursor = ledger.cursor("explorer", 2, runs=4, lane=0)
    cursor.set_parameters({"a": 1})
    batch.flush()
    bus.dispatch()
    assert seen[0].run == RunKey(policy="explorer", repetition=2, number=5, lane=0)
    (record,) = ledger.open_runs
    assert (record["policy"], record["repetition"], record["run"], record["parameters"]) == (
        "explorer",
        2,
        5,
        {"a": 1},
    )
    # A second step's update ends the open run first, and a status set then still lands on the run
    # it was set in.
    cursor.set_flag("status", "FAILED")
    cursor.set_parameters({"a": 2})
    batch.flush()
    closed: list[Record] = []
    ledger.add(Keep(closed))
    bus.dispatch()
    assert [(r["run"], r["status"], r["ok"]) for r in closed] == [(5, "FAILED", False)]
    assert [r["run"] for r in ledger.open_runs] == [6]
    assert cursor.runs == 6
    assert cursor.trace == cursor.open_run


def test_flags_and_outcomes_reach_only_the_runs_their_traces_name() -> None:
    bus = EventBus()
    batch = ParameterBatch(bus, {})
    ledger = RunLedger(bus, batch)
    first, second = ledger.cursor("a", 1), ledger.cursor("b", 1)
    one = first.set_parameters({"x": 1})
    batch.flush()
    two = second.set_parameters({"x": 2})
    batch.flush()
    bus.publish(FlagUpdateEvent(traceids=frozenset({two}), name="status", value="OK"))
    bus.publish(OutcomeEvent(traceids=frozenset({one}), code=3, ok=False))
    bus.publish(RunEndEvent(traceids=frozenset({one, two})))
    closed: list[Record] = []
    ledger.add(Keep(closed))
    bus.dispatch()
    by_trace = {r["trace"]: r for r in closed}
    assert (by_trace[one]["status"], by_trace[one]["exitcodes"], by_trace[one]["ok"]) == (
        None,
        [3],
        False,
    )
    assert (by_trace[two]["status"], by_trace[two]["exitcodes"], by_trace[two]["ok"]) == (
        "OK",
        [],
        True,
    )
