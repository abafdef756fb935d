"""The channels' built-in metrics, with no tracker configured: a real loopback server and real
commands.

Each expected figure is computed here: from the server's known delays and statuses, from what a
command says of its own resource use, or from the simulated answers of a dry run.
"""

from __future__ import annotations

import csv
import json
import statistics
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Perfchart
from tests.httpserver import delaying

#: The 40 requests' delays on the server: 0, 5, ..., 195 ms, in a shuffled order of arrival.
DELAYS = [((index * 17) % 40) * 0.005 for index in range(40)]
#: The requests (in order of arrival) the server answers 500: 10 of 40.
FAILING = {3, 7, 11, 15, 19, 23, 27, 31, 35, 39}

HTTP_METRICS = ("http.latency", "http.ttfb", "http.rps", "http.error_rate")
COMMAND_METRICS = ("cpu_user", "cpu_system", "max_rss")


#: No metric declared, no tracker: only the channel's built-ins. One request at a time, so the
#: requests' delays add up.
HTTP = """
config:
  title: built-in HTTP metrics
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      one: {type: discrete, values: [1]}
    events:
      signal:
        OK: "HTTPLastResponseEndEvent"
channels:
  - class: channel.HTTPChannel
    url: "{{base}}/work?one={{one}}"
    repeat: 40
    concurrency: 1
    timeout: 10s
    simulate:
      status: 200
      duration: "0.01"
"""


def inclusive(values: list[float], pct: int) -> float:
    """The *pct* percentile by linear interpolation between closest ranks."""
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def run(perfchart: Perfchart, config: Path, results: Path, *args: str) -> list[dict[str, Any]]:
    done = perfchart("run", str(config), "--results", str(results), "-q", *args)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


def test_http_runs_record_latency_ttfb_rps_and_error_rate_without_a_tracker(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "http.yml"
    config.write_text(HTTP)
    results = tmp_path / "r"
    with delaying(DELAYS, FAILING) as base:
        (record,) = run(perfchart, config, results, "-D", f"base={base}")
    latency = record["samples"]["http.latency"]
    ttfb = record["samples"]["http.ttfb"]
    # Every request was answered (a 500 is an answer), one at a time, in the order of arrival.
    assert len(latency) == len(ttfb) == 40
    assert all(late >= delay * 1000 for late, delay in zip(latency, DELAYS, strict=True))
    assert all(first <= late for first, late in zip(ttfb, latency, strict=True))
    assert record["metrics"]["http.latency"] == pytest.approx(statistics.mean(latency))
    # 10 of 40 answers were 500.
    assert record["metrics"]["http.error_rate"] == 25.0
    # The requests ran one after another, within the run: 40 requests in more than the sum of the
    # delays and less than the run's duration.
    rps = record["metrics"]["http.rps"]
    assert 40 / record["duration"] <= rps < 40 / sum(DELAYS)

    (group,) = json.loads((results / "summary.json").read_text())["groups"]
    summary = group["metrics"]["http.latency"]
    assert summary["count"] == 40
    for name, pct in (("p50", 50), ("p90", 90), ("p95", 95), ("p99", 99)):
        assert summary[name] == pytest.approx(inclusive(latency, pct)), name
        # Each latency is at least its delay, so each order statistic is at least the delays'.
        assert summary[name] >= inclusive(DELAYS, pct) * 1000, name
    assert summary["max"] == max(latency)
    assert group["metrics"]["http.ttfb"]["p99"] == pytest.approx(inclusive(ttfb, 99))
    assert group["metrics"]["http.rps"]["mean"] == pytest.approx(rps)

    with open(results / "runs.csv", newline="") as rows:
        (row,) = list(csv.DictReader(rows))
    assert float(row["metric:http.error_rate"]) == 25.0
    assert float(row["metric:http.rps"]) == pytest.approx(rps)
    units = {
        m["name"]: m["units"] for m in json.loads((results / "summary.json").read_text())["metrics"]
    }
    assert (units["http.latency"], units["http.rps"], units["http.error_rate"]) == (
        "ms",
        "req/s",
        "%",
    )


def test_a_dry_run_gives_the_simulated_latency_and_rate_exactly(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "http.yml"
    config.write_text(HTTP)
    (record,) = run(perfchart, config, tmp_path / "r", "-D", "base=http://127.0.0.1:9", "--dry-run")
    # Each of the 40 requests took the simulated 10 ms, one after another: 400 ms for 40.
    assert record["samples"]["http.latency"] == [pytest.approx(10.0)] * 40
    assert record["metrics"]["http.rps"] == pytest.approx(40 / 0.4)
    assert record["metrics"]["http.error_rate"] == 0.0


def test_the_terminal_shows_the_latency_percentiles(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "http.yml"
    config.write_text(HTTP)
    done = perfchart(
        "run",
        str(config),
        "--results",
        str(tmp_path / "r"),
        "-D",
        "base=http://127.0.0.1:9",
        "--dry-run",
        env={"COLUMNS": "160"},
    )
    assert done.returncode == 0, done.stderr
    assert "percentiles per parameter set" in done.stderr
    (line,) = [
        line for line in done.stderr.splitlines() if "http.latency (ms)" in line and "one=1" in line
    ]
    # p50, p90, p95, p99 and max of 40 simulated 10 ms answers.
    assert [cell.strip() for cell in line.split("│")[3:8]] == ["10"] * 5


#: A command that burns CPU in user space, then fills 64 MiB, then prints what it used itself.
BURN = r"""
import resource, sys, time
t = time.process_time()
while time.process_time() - t < 0.2:
    pass
block = bytearray(64 * 1024 * 1024)
for i in range(0, len(block), 4096):
    block[i] = 1
usage = resource.getrusage(resource.RUSAGE_SELF)
print(usage.ru_utime, usage.ru_stime, usage.ru_maxrss * (1 if sys.platform == "darwin" else 1024))
"""

COMMAND = """
config:
  title: built-in command metrics
  repeat: 2
policies:
  - class: policy.SimplePolicy
    parameters: {x: 1}
    events:
      end: CmdlineExitZeroEvent
channels:
  - class: channel.CmdlineChannel
    cmdline: "{{python}} burn.py {{x}}"
"""


def test_a_command_run_records_its_cpu_and_peak_memory(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "burn.py").write_text(BURN)
    config = tmp_path / "c.yml"
    config.write_text(COMMAND)
    results = tmp_path / "r"
    records = run(perfchart, config, results, "-D", f"python={sys.executable}")
    lines = (results / "output.log").read_text().splitlines()
    said = [[float(v) for v in line.split()[-3:]] for line in lines if line.split()[-1].isdigit()]
    assert len(records) == len(said) == 2
    for record, (user, system, rss) in zip(records, said, strict=True):
        metrics = record["metrics"]
        # The kernel's figures at the reaping cover everything the process said of itself, and
        # a little more (what it did after it said it).
        assert user <= metrics["cpu_user"] < user + 0.1
        assert system <= metrics["cpu_system"] < system + 0.1
        assert metrics["max_rss"] * 1024 * 1024 >= rss >= 64 * 1024 * 1024
    (group,) = json.loads((results / "summary.json").read_text())["groups"]
    assert group["metrics"]["cpu_user"]["mean"] == pytest.approx(
        statistics.mean(r["metrics"]["cpu_user"] for r in records)
    )
    assert group["metrics"]["max_rss"]["max"] == max(r["metrics"]["max_rss"] for r in records)


def test_cpu_adds_up_over_the_processes_a_shell_waited_for(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "burn.py").write_text(BURN)
    config = tmp_path / "c.yml"
    config.write_text(
        COMMAND.replace("repeat: 2", "repeat: 1").replace(
            '"{{python}} burn.py {{x}}"',
            '"{{python}} burn.py {{x}}; {{python}} burn.py {{x}}"\n    shell: yes',
        )
    )
    results = tmp_path / "r"
    (record,) = run(perfchart, config, results, "-D", f"python={sys.executable}")
    lines = (results / "output.log").read_text().splitlines()
    said = [[float(v) for v in line.split()[-3:]] for line in lines if line.split()[-1].isdigit()]
    assert len(said) == 2
    assert record["metrics"]["cpu_user"] >= said[0][0] + said[1][0]
    # The peak is the largest process's, not a sum.
    assert record["metrics"]["max_rss"] * 1024 * 1024 < said[0][2] + said[1][2]


def test_a_declared_metric_of_a_built_in_name_keeps_its_declaration(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "http.yml"
    config.write_text(
        HTTP.replace(
            "  title: built-in HTTP metrics\n",
            "  title: built-in HTTP metrics\n  metrics:\n"
            "    - {name: http.latency, units: ms, summarize: [p99], aggregate: max}\n",
        )
    )
    results = tmp_path / "r"
    (record,) = run(perfchart, config, results, "-D", "base=http://127.0.0.1:9", "--dry-run")
    assert record["metrics"]["http.latency"] == pytest.approx(10.0)
    (group,) = json.loads((results / "summary.json").read_text())["groups"]
    assert list(group["metrics"]["http.latency"]) == ["p99"]
    assert [m["name"] for m in json.loads((results / "summary.json").read_text())["metrics"]][
        :4
    ] == list(HTTP_METRICS)


def test_builtin_metrics_false_records_none(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "http.yml"
    config.write_text(
        HTTP.replace("  title: built-in HTTP metrics\n", "  title: t\n  builtinMetrics: false\n")
    )
    (record,) = run(perfchart, config, tmp_path / "r", "-D", "base=http://127.0.0.1:9", "--dry-run")
    assert record["metrics"] == {}
    assert "samples" not in record
