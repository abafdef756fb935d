"""Per-run cost of trackers, against the same run's cost without them.

    python benchmarks/bench_trackers.py [RUNS]      (default: 20000)

Each run is what the example sweep's runs put on the bus: a parameter
update, a started command, ten output lines, an exit and the run's end.
The baseline feeds them to a run ledger (the run records every session
keeps); the measured case adds RunMetrics with the trackers of
``bench_trackers.yml`` (an attribute tracker reading two numbers from the
output with ``match:``, a count of lines, a duration from update to exit),
subscribed as a session subscribes them, the two cases alternated. Also
timed: building summary.json and summary.csv from the runs' records at the
end of a session. Best of 7.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from interpreter.channels.cmdline import CmdlineExitEvent, CmdlineStartedEvent
from interpreter.core import Event, EventBus, LogLineEvent, ParameterUpdateEvent, RunEndEvent, RunKey
from interpreter.engine import ParameterBatch, Record, RunLedger, RunListener
from interpreter.metrics import Grouping, RunMetrics, with_duration, write_summary
from interpreter.session import load_config

CONFIG = Path(__file__).with_name("bench_trackers.yml")


def events(runs: int) -> list[Event]:
    out: list[Event] = []
    for trace in range(1, runs + 1):
        t = frozenset((trace,))
        size = 4096 * (1 + trace % 3)
        out.append(ParameterUpdateEvent(traceids=t, parameters={"size": size, "workers": 1 + trace % 2}, run=RunKey(policy="p", number=trace), ts=trace))
        out.append(CmdlineStartedEvent(traceids=t, source="channels[0]", argv=["python3", "workload.py"], pid=1, ts=trace + 0.01))
        for line in range(8):
            out.append(LogLineEvent(traceids=t, line=f"progress {line}/8", source="channels[0]", ts=trace + 0.02))
        out.append(LogLineEvent(traceids=t, line=f"hashed {size} KiB on 1 workers in 4.{trace % 1000:03d} ms (1f0c3c7a2b9e)", source="channels[0]", ts=trace + 0.03))
        out.append(LogLineEvent(traceids=t, line=f"throughput={900 + trace % 100}.5 MiB/s", source="channels[0]", ts=trace + 0.03))
        out.append(CmdlineExitEvent(traceids=t, source="channels[0]", code=0, exitcode=0, ts=trace + 0.04))
        out.append(RunEndEvent(traceids=t, ts=trace + 0.05))
    return out


class Closed(RunListener):
    """Where closed records go."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def closed(self, record: Record) -> None:
        self.records.append(record)


def ledger(with_trackers: bool) -> tuple[RunLedger, list[Record]]:
    """A session's run ledger, with the trackers as its listener or without; and where closed records go."""
    bus = EventBus()
    book = RunLedger(bus, ParameterBatch(bus, {}))
    if with_trackers:
        config = load_config(CONFIG)
        book.add(RunMetrics(config.metrics, [spec.cls(spec.config, None) for spec in config.trackers]))
    closed = Closed()
    book.add(closed)
    return book, closed.records


def run(stream: list[Event], with_trackers: bool) -> tuple[float, list[Record]]:
    book, closed = ledger(with_trackers)
    # The bus hands the ledger only the classes it subscribed to: every event with trackers, its own without.
    wanted = book._subscribed
    started = time.perf_counter()
    for event in stream:
        if isinstance(event, wanted):
            book.handle(event)
    return time.perf_counter() - started, closed


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    stream = events(runs)
    # Alternated, so both cases see the same load from other work.
    bases, timings = [], []
    for _ in range(7):
        bases.append(run(stream, False)[0])
        timings.append(run(stream, True))
    base = min(bases)
    tracked = min(t for t, _ in timings)
    records = timings[0][1]
    assert all(r["metrics"]["hash_time"] is not None and r["metrics"]["lines"] == 10 for r in records)
    config = load_config(CONFIG)
    summary_times = []
    for _ in range(5):
        with tempfile.TemporaryDirectory() as directory:
            started = time.perf_counter()
            view = write_summary(Path(directory), Grouping.of(records, with_duration(config.metrics)))
            summary_times.append(time.perf_counter() - started)
    assert view.count == 6
    per = 1e6 / runs
    print(f"runs: {runs}, 13 events each")
    print(f"run ledger alone (baseline):     {base * per:7.1f} µs per run")
    print(f"ledger + 3 trackers, 4 metrics:  {tracked * per:7.1f} µs per run  ({tracked / base:.2f}× the baseline)")
    print(f"trackers' own cost:              {(tracked - base) * per:7.1f} µs per run")
    print(f"summary.json + summary.csv:      {min(summary_times) * per:7.1f} µs per run, at the end of the session")


if __name__ == "__main__":
    main()
