"""Metrics and trackers: real commands, real files; every expected figure computed here
independently."""

from __future__ import annotations

import csv
import json
import math
import random
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from interpreter.channels.cmdline import CmdlineExitEvent
from interpreter.core import FlagUpdateEvent, LogLineEvent, OutcomeEvent, TickEvent
from interpreter.errors import ConfigError
from interpreter.filters import EventFilter
from interpreter.metrics import Accumulator, Grouping, summarizers, with_duration
from interpreter.results import SessionReader
from interpreter.session import Session, load_config
from tests.conftest import Perfchart, environ

WORKLOAD = """
import sys, time
n = int(sys.argv[1])
for i in range(n):
    print(f"value={i * 10} of {n}")
time.sleep(0.05)
"""

CONFIG = """
config:
  repeat: "{{repeat|1}}"
  metrics:
    - name: lines
    - name: value
      summarize: [mean, max, p50]
    - name: top
      aggregate: max
    - name: chars
    - name: wait
      units: s
      summarize: [mean, stddev, median, p95, mean_err]
    - name: absent
policies:
  - class: multivariable-explorer
    matrix:
      n: {type: discrete, values: [0, 1, 3]}
    events:
      signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}
channels:
  - class: channel.CmdlineChannel
    cmdline: "{{python}} {{workload}} {{n}}"
trackers:
  - class: tracker.CountTracker
    metric: lines
    events: "LogLineEvent[stream=stdout]"
  - class: attribute
    event: LogLineEvent
    extract:
      - {metric: value, attrib: line, match: 'value=(?P<value>[0-9]+)'}
      - {metric: top, attrib: line, match: 'value=([0-9]+)'}
      - {metric: chars, eval: "len(line)"}
  - class: tracker.DurationTracker
    metric: wait
    events: {start: ParameterUpdateEvent, end: CmdlineExitEvent}
  - class: count
    metric: absent
    events: "LogLineEvent[line=never]"
    step: "len(line)"
"""


def run(tmp_path: Path, text: str = CONFIG, **defines: Any) -> tuple[int, Path]:
    config = tmp_path / "metrics.yml"
    config.write_text(text)
    workload = tmp_path / "workload.py"
    workload.write_text(WORKLOAD)
    results = tmp_path / "results"
    session = Session(
        load_config(config, {"python": sys.executable, "workload": str(workload), **defines}),
        results_dir=results,
    )
    return session.run(), results


def records(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


def test_trackers_put_each_runs_metrics_in_runs_jsonl_and_runs_csv(tmp_path: Path) -> None:
    status, results = run(tmp_path)
    assert status == 0
    runs = records(results)
    by_n = {r["parameters"]["n"]: r for r in runs}
    assert sorted(by_n) == [0, 1, 3]
    for n, record in by_n.items():
        printed = [f"value={i * 10} of {n}" for i in range(n)]
        metrics = record["metrics"]
        assert metrics["lines"] == n
        # A value the run did not produce is missing, never 0; several values average, or follow the
        # metric's aggregate.
        assert metrics["value"] == (statistics.mean(i * 10 for i in range(n)) if n else None)
        assert metrics["top"] == ((n - 1) * 10 if n else None)
        assert metrics["chars"] == (statistics.mean(len(line) for line in printed) if n else None)
        assert metrics["absent"] == 0  # a count of nothing is a real zero
        # The run ends at the command's exit: the tracker's span is the run's, to the microsecond
        # its duration is rounded to.
        assert metrics["wait"] >= 0.05
        assert metrics["wait"] == pytest.approx(record["duration"], abs=1e-6)
        assert record.get("samples", {}).get("value") == (
            [i * 10 for i in range(n)] if n > 1 else None
        )
    rows = {int(row["n"]): row for row in csv.DictReader((results / "runs.csv").open())}
    assert rows[0]["metric:value"] == ""
    assert rows[0]["metric:lines"] == "0"
    assert float(rows[3]["metric:value"]) == 10.0
    assert float(rows[3]["metric:wait"]) == by_n[3]["metrics"]["wait"]


@pytest.mark.slow
def test_repeats_are_summarized_per_parameter_set(tmp_path: Path) -> None:
    status, results = run(tmp_path, repeat=3)
    assert status == 0
    runs = records(results)
    assert len(runs) == 9
    summary = json.loads((results / "summary.json").read_text())
    assert summary["varied"] == ["n"]
    assert [m["name"] for m in summary["metrics"]] == [
        "lines",
        "value",
        "top",
        "chars",
        "wait",
        "absent",
        "cpu_user",  # the command channel's built-ins, after the declared metrics
        "cpu_system",
        "max_rss",
        "duration",
    ]
    groups = {g["parameters"]["n"]: g for g in summary["groups"]}
    table = {int(row["n"]): row for row in csv.DictReader((results / "summary.csv").open())}
    for n in (0, 1, 3):
        waits = [r["metrics"]["wait"] for r in runs if r["parameters"]["n"] == n]
        durations = [r["duration"] for r in runs if r["parameters"]["n"] == n]
        assert len(waits) == 3
        assert groups[n]["runs"] == 3
        assert groups[n]["ok"] == 3
        wait = groups[n]["metrics"]["wait"]
        assert wait["mean"] == pytest.approx(statistics.mean(waits))
        assert wait["stddev"] == pytest.approx(statistics.stdev(waits))
        assert wait["median"] == pytest.approx(statistics.median(waits))
        assert wait["p95"] == pytest.approx(
            statistics.quantiles(waits, n=100, method="inclusive")[94]
        )
        # t(0.975, 2) times the population deviation over the root of the count, as the original.
        assert wait["mean_err"] == pytest.approx(
            4.302652729749464 * statistics.pstdev(waits) / math.sqrt(3)
        )
        assert groups[n]["metrics"]["duration"]["mean"] == pytest.approx(statistics.mean(durations))
        assert float(table[n]["wait:stddev"]) == pytest.approx(statistics.stdev(waits))
    # No values: count 0 and empty statistics, never zeros.
    assert groups[0]["metrics"]["value"] == {"mean": None, "max": None, "p50": None}
    assert table[0]["value:mean"] == ""
    # Filed run by run as the session went, the summary is what the finished runs.jsonl gives.
    with Grouping.of(
        SessionReader(results).runs(),
        with_duration(
            load_config(results / ".." / "metrics.yml", {"python": "", "workload": ""}).metrics
        ),
    ) as grouping:
        assert [g.row(grouping.metrics) for g in grouping.groups()] == summary["groups"]


def test_accumulator_matches_the_statistics_module() -> None:
    rng = random.Random(5)
    values = [rng.uniform(-50, 200) for _ in range(501)]
    acc = Accumulator(keep_values=True)
    for value in values:
        acc.add(value)
    got = acc.result(
        summarizers(
            ["mean", "stddev", "min", "max", "count", "sum", "median", "p90", "p99.9", "p0", "p100"]
        )
    )
    cuts = statistics.quantiles(values, n=1000, method="inclusive")
    assert got["mean"] == pytest.approx(statistics.mean(values))
    assert got["stddev"] == pytest.approx(statistics.stdev(values))
    assert (got["min"], got["max"], got["count"]) == (min(values), max(values), 501)
    assert got["sum"] == pytest.approx(math.fsum(values))
    assert got["median"] == pytest.approx(statistics.median(values))
    assert got["p90"] == pytest.approx(cuts[899])
    assert got["p99.9"] == pytest.approx(cuts[998])
    assert (got["p0"], got["p100"]) == (min(values), max(values))


def test_original_summarizer_forms_are_accepted() -> None:
    found = summarizers(
        ["mean_err", {"class": "summarize.PercentileSummarizer", "name": "p90", "percentile": 90}]
    )
    assert [s.name for s in found] == ["mean", "mean_err", "p90"]


def test_trackers_see_the_runtimes_own_events_in_a_dry_run(tmp_path: Path) -> None:
    text = """
config:
  metrics: [{name: flags}, {name: passed}, {name: exits}, {name: span}]
  builtinMetrics: false
policies:
  - class: multivariable-explorer
    matrix: {n: {type: discrete, values: [1, 2]}}
    events: {signal: {OK: CmdlineExitZeroEvent}}
trackers:
  - {class: count, metric: flags, events: FlagUpdateEvent}
  - class: attribute
    event: "FlagUpdateEvent[name=status]"
    extract: [{metric: passed, eval: "1 if value == 'OK' else 0"}]
  - {class: count, metric: exits, events: CmdlineExitEvent, step: exitcode}
  - {class: duration, metric: span, events: {start: ParameterUpdateEvent, end: RunEndEvent}}
channels:
  - {class: cmdline, cmdline: "true"}
"""
    config = tmp_path / "dry.yml"
    config.write_text(text)
    assert Session(load_config(config), results_dir=tmp_path / "r", dry_run=True).run() == 0
    runs = records(tmp_path / "r")
    # The simulated answer sets the status flag; no command runs, so no exit is counted; the span is
    # the run's own.
    assert [r["metrics"] for r in runs] == [
        {"flags": 1, "passed": 1, "exits": 0, "span": r["duration"]} for r in runs
    ]
    assert len(runs) == 2


# --- bad input: located errors at load ---------------------------------------

BASE = """\
config:
  metrics:
    - name: rps
policies:
  - class: multivariable-explorer
    matrix: {apps: {values: [1]}}
    events: {signal: {OK: CmdlineExitZeroEvent}}
trackers:
"""


def error(tmp_path: Path, trackers: str, base: str = BASE) -> ConfigError:
    path = tmp_path / "bad.yml"
    path.write_text(base + trackers)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return caught.value


@pytest.mark.parametrize(
    ("tracker", "line", "key", "message"),
    [
        (
            "  - class: tracker.DurationTrackr\n",
            9,
            "trackers[0].class",
            "unknown tracker class 'tracker.DurationTrackr' (did you mean tracker.DurationTracker?",
        ),
        (
            "  - class: count\n    metric: rpz\n    events: LogLineEvent\n",
            10,
            "trackers[0].metric",
            "metric 'rpz' is not declared in config.metrics (declared: rps)",
        ),
        (
            "  - class: attribute\n    event: LogLineEvent\n    extract:\n      - metric: rps\n"
            "        attrib: line\n        match: 'rps=([0-9.]+'\n",
            14,
            "trackers[0].extract[0].match",
            "bad regular expression",
        ),
        (
            "  - class: attribute\n    event: LogLineEvent\n    extract:\n      - metric: rps\n"
            "        attrib: line\n        match: 'rps=[0-9.]+'\n",
            14,
            "trackers[0].extract[0].match",
            "has no group: name the number's group (?P<value>...) or use exactly one group",
        ),
        (
            "  - class: attribute\n    event: LogLineEvent\n    extract:\n"
            "      - {metric: rps, attrib: line, match: '(a)(b)'}\n",
            12,
            "trackers[0].extract[0].match",
            "has 2 groups",
        ),
        (
            "  - class: attribute\n    event: LogLineEvent\n    extract:\n"
            "      - {metric: rps, attrib: line, eval: line}\n",
            12,
            "trackers[0].extract[0]",
            "not both",
        ),
        (
            "  - class: attribute\n    event: LogLineEvent\n    extract:\n"
            "      - {metric: rps, eval: '__import__(1)'}\n",
            12,
            "trackers[0].extract[0].eval",
            "not allowed",
        ),
        (
            "  - class: count\n    metric: rps\n    events: LogLinEvent\n",
            11,
            "trackers[0].events",
            "no event class is called 'LogLinEvent' (did you mean LogLineEvent?)",
        ),
        (
            "  - class: count\n    metric: rps\n    events: LogLineEvent\n    step: 'x ='\n",
            12,
            "trackers[0].step",
            "invalid syntax",
        ),
        (
            "  - class: duration\n    metric: rps\n    events: {start: ParameterUpdateEvent}\n",
            11,
            "trackers[0].events",
            "missing required key 'end'",
        ),
    ],
)
def test_a_bad_tracker_is_a_located_error(
    tmp_path: Path, tracker: str, line: int, key: str, message: str
) -> None:
    problem = error(tmp_path, tracker)
    assert (problem.file, problem.line, problem.key) == (str(tmp_path / "bad.yml"), line, key)
    assert message in problem.message


@pytest.mark.parametrize(
    ("metrics", "line", "key", "message"),
    [
        (
            "    - name: rps\n      summarize: [mean, p95, avg]\n",
            4,
            "config.metrics[0].summarize",
            "unknown summarizer 'avg'",
        ),
        ("    - name: rps\n    - name: rps\n", 4, "config.metrics[1]", "declared twice"),
        ("    - name: duration\n", 3, "config.metrics[0].name", "recorded for every run"),
        (
            "    - name: rps\n      aggregate: average\n",
            4,
            "config.metrics[0].aggregate",
            "expected one of: mean, median",
        ),
    ],
)
def test_a_bad_metric_is_a_located_error(
    tmp_path: Path, metrics: str, line: int, key: str, message: str
) -> None:
    base = BASE.replace("    - name: rps\n", metrics).replace("trackers:\n", "")
    problem = error(tmp_path, "", base)
    assert (problem.line, problem.key) == (line, key)
    assert message in problem.message


#: The terminal width the summary is drawn for.
COLUMNS = "160"


def test_a_bad_tracker_ends_the_command_with_one_line_and_status_2(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "bad.yml"
    config.write_text(
        BASE + "  - class: attribute\n    event: LogLineEvent\n    extract:\n"
        "      - {metric: rps, attrib: line, match: 'rps=[0-9.]+'}\n"
    )
    done = perfchart(
        "run",
        str(config),
        "--dry-run",
        "--results",
        str(tmp_path / "r"),
        env=environ(COLUMNS=COLUMNS),
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(
        f"perfchart: error: {config}:12: trackers[0].extract[0].match: regular expression "
        "'rps=[0-9.]+' has no group"
    )
    assert not (tmp_path / "r").exists()


def test_the_terminal_summary_of_1000_parameter_sets_shows_both_ends_and_points_to_the_file(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "wide.yml"
    config.write_text(
        "policies:\n  - class: multivariable-explorer\n"
        "    matrix: {a: {type: range, min: 1, max: 1000}}\n"
        "    events: {signal: {OK: CmdlineExitZeroEvent}}\n"
        "channels: [{class: cmdline, cmdline: 'true'}]\n"
    )
    results = tmp_path / "r"
    done = perfchart(
        "run", str(config), "--dry-run", "--results", str(results), env=environ(COLUMNS=COLUMNS)
    )
    assert done.returncode == 0, done.stderr
    shown = [int(word[2:]) for word in done.stderr.split() if word.startswith("a=")]
    assert shown == [*range(1, 11), *range(991, 1001)]
    assert f"… 980 more in {results / 'summary.csv'}" in " ".join(done.stderr.split())
    assert len((results / "summary.csv").read_text().splitlines()) == 1001


@pytest.mark.slow
def test_a_tracker_sees_only_its_runs_events_unless_notrace(tmp_path: Path) -> None:
    text = """
config:
  metrics: [{name: traced_ticks}, {name: ticks}, {name: lines}]
policies:
  - class: multivariable-explorer
    matrix: {n: {type: discrete, values: [1]}}
    events: {signal: {OK: CmdlineExitZeroEvent}}
channels:
  - class: channel.CmdlineChannel
    cmdline: "{{python}} -c 'import time; print({{n}}); time.sleep(1.3)'"
trackers:
  - {class: count, metric: traced_ticks, events: TickEvent}
  - {class: count, metric: ticks, events: "TickEvent:notrace"}
  - {class: count, metric: lines, events: LogLineEvent}
"""
    status, results = run(tmp_path, text)
    assert status == 0
    (record,) = records(results)
    # Session ticks carry no trace: only a :notrace clause counts them (one per second of the run).
    assert record["metrics"]["traced_ticks"] == 0
    assert 1 <= record["metrics"]["ticks"] <= math.ceil(record["duration"])
    assert record["metrics"]["lines"] == 1


def test_perfchart_run_does_not_import_the_plotting_library(tmp_path: Path) -> None:
    config = tmp_path / "plain.yml"
    config.write_text(
        "config:\n  metrics: [{name: m}]\npolicies:\n  - class: multivariable-explorer\n"
        "    matrix: {a: {type: discrete, values: [1, 2]}}\n"
        "    events: {signal: {OK: CmdlineExitZeroEvent}}\n"
        "channels: [{class: cmdline, cmdline: 'true'}]\n"
    )
    code = (
        "import sys\n"
        "from interpreter.cli import main\n"
        f"status = main(['run', {str(config)!r}, '--dry-run', '-q', '--results', "
        f"{str(tmp_path / 'r')!r}])\n"
        "assert status == 0, status\n"
        "print(sorted(name for name in sys.modules if name.split('.')[0] in ('matplotlib', "
        "'numpy')))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[-1] == "[]"  # after "results: DIR"
    assert (tmp_path / "r" / "summary.json").is_file()


def test_trackers_are_fed_by_a_channels_simulated_answers_in_a_dry_run(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    """The HTTP example's `simulate:` (status 200 after 0.001 + kib/100000 s, 4 in flight) drives
    the trackers."""
    examples = Path(__file__).resolve().parent.parent / "examples"
    text = (examples / "http-sweep.yml").read_text()
    assert "      default: 1\n" in text
    assert "trackers:" not in text
    text = text.replace(
        "      default: 1\n",
        "      default: 1\n  metrics:\n    - {name: latency, units: s}\n    - {name: answered}\n"
        "    - {name: batch_time, units: s}\n",
        1,
    )
    text += """
trackers:
  - class: attribute
    event: HTTPResponseEndEvent
    extract: [{metric: latency, attrib: elapsed}]
  - {class: count, metric: answered, events: "HTTPResponseEndEvent[status=200]"}
  - class: duration
    metric: batch_time
    events: {start: ParameterUpdateEvent, end: HTTPLastResponseEndEvent}
"""
    config = tmp_path / "http-sweep.yml"
    config.write_text(text)
    done = perfchart(
        "run",
        str(config),
        "--dry-run",
        "-q",
        "--results",
        str(tmp_path / "r"),
        env=environ(COLUMNS=COLUMNS),
    )
    assert done.returncode == 0, done.stderr
    runs = records(tmp_path / "r")
    assert sorted((r["parameters"]["kib"], r["parameters"]["requests"]) for r in runs) == [
        (k, n) for k in (1, 64, 1024) for n in (10, 40)
    ]
    for record in runs:
        kib, requests = record["parameters"]["kib"], record["parameters"]["requests"]
        each = 0.001 + kib / 100000
        assert record["metrics"]["latency"] == pytest.approx(each)
        assert record["metrics"]["answered"] == requests
        assert record["metrics"]["batch_time"] == pytest.approx(
            math.ceil(requests / 4) * each, abs=1e-6
        )


def test_a_filter_says_which_event_classes_it_can_select() -> None:
    assert EventFilter("LogLineEvent[stream=stderr]").selects(LogLineEvent)
    assert not EventFilter("LogLineEvent[stream=stderr]").selects(TickEvent)
    assert EventFilter("OutcomeEvent").selects(CmdlineExitEvent)  # a subclass of a named class
    assert not EventFilter("CmdlineExitEvent").selects(OutcomeEvent)
    assert EventFilter("*[name=status]").selects(FlagUpdateEvent)
    assert EventFilter("*").selects(TickEvent)
    assert EventFilter(":not(LogLineEvent)").selects(TickEvent)
