"""The README's examples show the built-in metrics: the HTTP sweep prints latency percentiles and
requests/s with no tracker in its file, the command sweep its CPU time and peak memory.
"""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path

import pytest
import yaml

from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def records(results: Path) -> list[dict]:
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


@pytest.mark.slow
def test_the_http_example_prints_latency_percentiles_and_rps_with_no_tracker(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    assert "trackers" not in yaml.safe_load((ROOT / "examples" / "http-sweep.yml").read_text())
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = perfchart(
        "run",
        "examples/http-sweep.yml",
        "-D",
        f"port={free_port()}",
        "-D",
        f"python={sys.executable}",
        "--results",
        "r",
        cwd=tmp_path,
        env={"COLUMNS": "200"},
    )
    assert done.returncode == 0, done.stderr
    runs = records(tmp_path / "r")
    assert [len(r["samples"]["http.latency"]) for r in runs] == [10, 40] * 3
    assert "percentiles per parameter set" in done.stdout
    header = next(line for line in done.stdout.splitlines() if "p50" in line)
    assert [word for word in header.replace("┃", " ").split()][-6:] == [
        "metric",
        "p50",
        "p90",
        "p95",
        "p99",
        "max",
    ]
    assert "http.rps" in done.stdout
    # Each set's row of the percentiles table shows its one run's max latency, as runs.jsonl has it.
    lines = done.stdout.splitlines()
    table = lines[
        next(i for i, line in enumerate(lines) if "percentiles per parameter set" in line) :
    ]
    for run in runs:
        where = f"kib={run['parameters']['kib']} requests={run['parameters']['requests']}"
        (row,) = [line for line in table if where in line and "http.latency" in line]
        shown = float(row.replace("│", " ").split()[-1])
        assert shown == pytest.approx(max(run["samples"]["http.latency"]), rel=1e-3)


@pytest.mark.slow
def test_the_command_example_records_cpu_and_peak_memory(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = perfchart(
        "run", "examples/sweep.yml", "--results", "r", cwd=tmp_path, env={"COLUMNS": "200"}
    )
    assert done.returncode == 0, done.stderr
    runs = records(tmp_path / "r")
    assert len(runs) == 18
    for run in runs:
        metrics = run["metrics"]
        # A Python process: some user CPU, and more than a few MiB resident.
        assert metrics["cpu_user"] > 0
        assert metrics["cpu_system"] >= 0
        assert metrics["max_rss"] > 5
    summary = json.loads((tmp_path / "r" / "summary.json").read_text())
    assert [m["name"] for m in summary["metrics"]][2:5] == ["cpu_user", "cpu_system", "max_rss"]
    for name in ("cpu_user", "cpu_system", "max_rss"):
        assert name in done.stdout
