"""Every sample of a metric, warm-up runs and noise warnings: real servers, commands and files.

Each expected figure is computed here from the known delays or printed values, with the statistics
module.
"""

from __future__ import annotations

import json
import statistics
import sys
from pathlib import Path

import pytest

from interpreter.errors import ConfigError
from interpreter.session import load_config
from tests.conftest import Perfchart, environ, sweep_config
from tests.httpserver import delaying

#: The 40 requests' delays on the server: 0, 10, ..., 390 ms, in a shuffled order of arrival.
DELAYS = [((index * 17) % 40) * 0.010 for index in range(40)]
#: What a request may take beyond its delay on loopback: a loose bound, as busy machines stall.
OVERHEAD = 2.0


HTTP = """
config:
  metrics:
    - name: latency
      units: s
      aggregate: p95
      summarize: [p50, p95, max, count]
    - name: latency_of_runs
      units: s
      aggregate: p95
      summarize_over: runs
      summarize: [p50, p95, max, count]
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      one: {type: discrete, values: [1]}
    events:
      signal:
        OK: "HTTPLastResponseEndEvent[status<400]"
        FAILED: "HTTPResponseEndEvent[status>=400] HTTPResponseErrorEvent"
channels:
  - class: channel.HTTPChannel
    url: "{{base}}/work?one={{one}}"
    repeat: 40
    concurrency: 8
    timeout: 10s
trackers:
  - class: tracker.EventAttributeTracker
    event: HTTPResponseEndEvent
    extract:
      - {metric: latency, attrib: elapsed}
      - {metric: latency_of_runs, attrib: elapsed}
"""


def inclusive(values: list[float], pct: int) -> float:
    """The *pct* percentile by linear interpolation between closest ranks."""
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def test_the_summary_of_40_requests_is_over_every_request(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "http.yml"
    config.write_text(HTTP)
    results = tmp_path / "r"
    with delaying(DELAYS) as base:
        done = perfchart("run", str(config), "-D", f"base={base}", "--results", str(results), "-q")
    assert done.returncode == 0, done.stderr
    (record,) = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    samples = record["samples"]["latency"]
    assert len(samples) == 40
    assert record["samples"]["latency_of_runs"] == samples
    # The run's value is the p95 of its own requests (aggregate: p95).
    assert record["metrics"]["latency"] == pytest.approx(inclusive(samples, 95))
    (group,) = json.loads((results / "summary.json").read_text())["groups"]
    latency = group["metrics"]["latency"]
    assert latency["count"] == 40
    ordered = sorted(samples)
    # Each request took its delay and at most OVERHEAD more, so each order statistic does too.
    for name, exact in (
        ("p50", statistics.median(DELAYS)),
        ("p95", inclusive(DELAYS, 95)),
        ("max", max(DELAYS)),
    ):
        assert exact <= latency[name] <= exact + OVERHEAD, name
    assert latency["p50"] == pytest.approx(statistics.median(ordered))
    assert latency["p95"] == pytest.approx(inclusive(ordered, 95))
    assert latency["max"] == ordered[-1]
    # Over runs, the one run's value is the whole summary: the p95, never the 40 requests' max.
    over_runs = group["metrics"]["latency_of_runs"]
    assert over_runs["count"] == 1
    assert over_runs["p50"] == over_runs["max"] == pytest.approx(inclusive(samples, 95))
    assert over_runs["max"] < latency["max"]


WORKLOAD = """
import json, sys
from pathlib import Path
name, state = sys.argv[1], Path(sys.argv[2])
seen = json.loads(state.read_text()) if state.exists() else {}
index = seen.get(name, 0)
seen[name] = index + 1
state.write_text(json.dumps(seen))
for value in PRINTED[name][index]:
    print(f"value={value}")
"""

#: What each set's runs print, run by run: the first run is the warm-up.
PRINTED = {
    "noisy": [[1000], [10], [11], [12], [50]],
    "steady": [[999], [100], [101], [100], [101]],
    "several": [[5], [1, 2, 3], [4, 5, 6], [7, 8, 9], [10, 11, 12]],
}

WARMUP = """
config:
  warmup: 1
  repeat: 4
  metrics:
    - name: value
      summarize: [mean, max, count, stddev]
    - name: value_of_runs
      summarize_over: runs
      aggregate: max
      summarize: [mean, max, count]
policies:
  - class: multivariable-explorer
    matrix:
      set: {type: discrete, values: [noisy, steady, several]}
    events: {signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}}
channels:
  - class: channel.CmdlineChannel
    cmdline: "{{python}} {{workload}} {{set}} {{state}}"
trackers:
  - class: attribute
    event: LogLineEvent[stream=stdout]
    extract:
      - {metric: value, attrib: line, match: 'value=([0-9]+)'}
      - {metric: value_of_runs, attrib: line, match: 'value=([0-9]+)'}
"""


@pytest.fixture(scope="module")
def warmed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """One session of WARMUP: its summary (on stdout) and its results directory."""
    from tests.conftest import run_perfchart

    tmp = tmp_path_factory.mktemp("warmup")
    (tmp / "workload.py").write_text(f"PRINTED = {PRINTED!r}\n" + WORKLOAD)
    config = tmp / "warmup.yml"
    config.write_text(WARMUP)
    results = tmp / "r"
    defines = {"python": sys.executable, "workload": tmp / "workload.py", "state": tmp / "s.json"}
    args = [arg for name, value in defines.items() for arg in ("-D", f"{name}={value}")]
    done = run_perfchart(
        "run", str(config), *args, "--results", str(results), env=environ(COLUMNS="200")
    )
    assert done.returncode == 0, done.stderr
    return done.stdout, results


def test_warm_up_runs_are_recorded_and_left_out_of_the_summary(warmed: tuple[str, Path]) -> None:
    _, results = warmed
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    assert len(records) == 15  # (1 warm-up + 4) runs of each of 3 sets
    for name, printed in PRINTED.items():
        mine = [r for r in records if r["parameters"]["set"] == name]
        assert [r.get("warmup", False) for r in mine] == [True, False, False, False, False]
        assert [r["metrics"]["value_of_runs"] for r in mine] == [max(run) for run in printed]
    groups = {
        g["parameters"]["set"]: g
        for g in json.loads((results / "summary.json").read_text())["groups"]
    }
    for name, printed in PRINTED.items():
        measured = printed[1:]
        samples = [value for run in measured for value in run]
        group = groups[name]
        assert group["runs"] == 4
        assert group["metrics"]["value"] == {
            "mean": pytest.approx(statistics.mean(samples)),
            "max": max(samples),
            "count": len(samples),
            "stddev": pytest.approx(statistics.stdev(samples)),
        }
        maxima = [max(run) for run in measured]
        assert group["metrics"]["value_of_runs"] == {
            "mean": pytest.approx(statistics.mean(maxima)),
            "max": max(maxima),
            "count": 4,
        }


def test_a_noisy_set_is_warned_about_in_the_summary_and_the_terminal(
    warmed: tuple[str, Path],
) -> None:
    summary, results = warmed
    groups = {
        g["parameters"]["set"]: g
        for g in json.loads((results / "summary.json").read_text())["groups"]
    }
    runs = [10, 11, 12, 50]
    cv = statistics.stdev(runs) / statistics.mean(runs)
    center = statistics.median(runs)
    mad = statistics.median(abs(v - center) for v in runs)
    far = [v for v in runs if 0.6745 * abs(v - center) / mad > 3.5]
    assert far == [50]
    expected = [
        f"value: coefficient of variation {cv:.0%} over 4 runs (above 10%)",
        "value: 1 outlier run of 4 (modified z-score above 3.5)",
    ]
    of_value = [w for w in groups["noisy"]["warnings"] if w.startswith("value:")]
    assert of_value == expected
    # 100 and 101: a spread of 0.6 %, and no value far from the median.
    steady = [w for w in groups["steady"].get("warnings", []) if w.startswith("value")]
    assert steady == []
    shown = " ".join(summary.split())
    for warning in expected:
        assert f"warning: set=noisy: {warning}" in shown


POLICY = """
policies:
  - class: multivariable-explorer
    matrix: {n: {values: [1]}}
    events: {signal: {OK: CmdlineExitZeroEvent}}
"""


@pytest.mark.parametrize(
    ("metric", "line", "key", "message"),
    [
        ("      aggregate: p950\n", 5, "config.metrics[0].aggregate", "unknown aggregate 'p950'"),
        ("      summarize_over: both\n", 5, "config.metrics[0].summarize_over", "'both'"),
        (
            "      summarize: [{class: '@mean', outliers: maybe}]\n",
            5,
            "config.metrics[0].summarize[0].outliers",
            "expected true or false",
        ),
    ],
)
def test_a_bad_metric_option_is_a_located_error(
    tmp_path: Path, metric: str, line: int, key: str, message: str
) -> None:
    config = tmp_path / "bad.yml"
    config.write_text("config:\n  warmup: 1\n  metrics:\n    - name: v\n" + metric + POLICY)
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert (caught.value.line, caught.value.key) == (line, key)
    assert message in caught.value.message


def test_a_negative_warm_up_ends_the_command_with_one_line_and_status_2(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "bad.yml"
    config.write_text("config:\n  warmup: -1\n" + POLICY)
    done = perfchart("run", str(config), "--dry-run", "--results", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert done.stderr.startswith(f"perfchart: error: {config}:2: config.warmup: ")


def test_a_resumed_session_does_not_warm_up_a_set_again(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    from tests.test_resume import interrupted_after

    config = tmp_path / "warm.yml"
    config.write_text(
        sweep_config(
            '"sleep 0.05 # {{a}}"',
            matrix={"a": "{type: range, min: 1, max: 3}"},
            head="config:\n  warmup: 1\n  repeat: 2\n",
            options={"shell": "yes"},
        )
    )
    results = tmp_path / "r"
    interrupted_after(config, results, 4)
    kept = len((results / "runs.jsonl").read_text().splitlines())
    done = perfchart("run", str(config), "--resume", str(results), "-q")
    every = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    # The run cut by the interrupt stays on record, not OK, and is run again.
    records = [r for r in every if r["status"] != "interrupted"]
    assert done.returncode == (1 if len(every) > len(records) else 0), done.stderr
    assert kept < len(every)
    assert len(records) == 9
    for a in (1, 2, 3):
        mine = [r.get("warmup", False) for r in records if r["parameters"]["a"] == a]
        assert mine == [True, False, False]
    groups = json.loads((results / "summary.json").read_text())["groups"]
    assert [(g["parameters"]["a"], g["ok"]) for g in groups] == [(1, 2), (2, 2), (3, 2)]
