"""The HTTP channel through ``perfchart run``: a sweep against a real server on 127.0.0.1, results
on disk."""

from __future__ import annotations

import json
import shutil
import socket
import sys
from pathlib import Path
from typing import Any

from tests.conftest import Perfchart
from tests.httpserver import serving

ROOT = Path(__file__).resolve().parent.parent

SWEEP = """
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      code: {type: discrete, values: [200, 302, 404, 500]}
    events:
      signal:
        OK: "HTTPResponseEndEvent[status<400]"
        FAILED: "HTTPResponseEndEvent[status>=400] HTTPResponseErrorEvent"
channels:
  - class: channel.HTTPChannel
    url: "{{base}}/status/{{code}}"
    timeout: 5s
"""


def runs(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_sweep_records_each_status_and_outcome(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "http.yml"
    config.write_text(SWEEP)
    with serving() as server:
        done = perfchart(
            "run", str(config), "-D", f"base={server.url}", "--results", str(tmp_path / "r"), "-q"
        )
    assert done.returncode == 1, done.stderr
    records = runs(tmp_path / "r")
    assert [(r["parameters"]["code"], r["status"], r["exitcodes"], r["ok"]) for r in records] == [
        (200, "OK", [200], True),
        (302, "OK", [302], True),
        (404, "FAILED", [404], False),
        (500, "FAILED", [500], False),
    ]
    assert [seen.target for seen in server.seen] == [
        "/status/200",
        "/status/302",
        "/status/404",
        "/status/500",
    ]
    assert [r["last_stderr"] for r in records] == [
        None,
        None,
        f"GET {server.url}/status/404: HTTP 404 Not Found",
        f"GET {server.url}/status/500: HTTP 500 Internal Server Error",
    ]


def test_requests_that_get_no_answer_fail_their_runs(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "http.yml"
    config.write_text(SWEEP)
    port = free_port()
    done = perfchart(
        "run",
        str(config),
        "-D",
        f"base=http://127.0.0.1:{port}",
        "--results",
        str(tmp_path / "r"),
        "-q",
    )
    assert done.returncode == 1, done.stderr
    records = runs(tmp_path / "r")
    assert [(r["status"], r["exitcodes"]) for r in records] == [("FAILED", [None])] * 4
    assert (
        records[0]["last_stderr"]
        == f"GET http://127.0.0.1:{port}/status/200: connection refused by http://127.0.0.1:{port}"
    )


def test_the_example_sweep_starts_and_stops_its_own_service(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    port = free_port()
    done = perfchart(
        "run",
        "examples/http-sweep.yml",
        "-D",
        f"port={port}",
        "-D",
        f"python={sys.executable}",
        "--results",
        "r",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    records = runs(tmp_path / "r")
    assert len(records) == 6
    assert all(r["status"] == "OK" for r in records)
    assert [len(r["exitcodes"]) for r in records] == [10, 40] * 3
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", port)) != 0, (
            "the teardown task left the service running"
        )


def test_a_dry_run_answers_through_the_same_events(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "http.yml"
    config.write_text(
        SWEEP.replace(
            "    timeout: 5s\n",
            "    repeat: 3\n    simulate: {status: 'code if code != 302 else 200', duration: "
            "'code / 1000'}\n",
        )
    )
    done = perfchart(
        "run",
        str(config),
        "--dry-run",
        "-D",
        "base=http://127.0.0.1:9",
        "--results",
        str(tmp_path / "r"),
        "-q",
    )
    assert done.returncode == 1, done.stderr
    records = runs(tmp_path / "r")
    assert [(r["status"], r["exitcodes"], r["dry_run"]) for r in records] == [
        ("OK", [200], True),
        ("OK", [200], True),
        ("FAILED", [404], True),
        ("FAILED", [500], True),
    ]
    assert [r["duration"] for r in records] == [0.2, 0.302, 0.404, 0.5]
