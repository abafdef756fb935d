"""A session whose results are surely not what was meant says so when it ends: a declared metric no
run got a value for, and runs the catch-all ``CmdlineExitEvent`` set OK whose command failed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Perfchart

#: Runs n = 1..4; the command exits n % 2 and prints "v=<n*10>" when *prints* says so.
CONFIG = """\
config:
  parameters: [{{name: n}}]
  metrics: [{{name: m}}, {{name: other}}]
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix: {{n: {{type: discrete, values: [1, 2, 3, 4]}}}}
    events:
      signal: {signal}
channels:
  - class: channel.CmdlineChannel
    cmdline: "echo v=$(({{{{n}}}} * 10)); exit $(({{{{n}}}} % 2))"
    shell: yes
trackers:
  - class: tracker.EventAttributeTracker
    event: LogLineEvent
    extract: [{{metric: m, attrib: line, match: '{match}'}}]
"""
CATCH_ALL = "{OK: CmdlineExitEvent}"
SPLIT = "{OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}"


def _run(perfchart: Perfchart, tmp_path: Path, *extra: str, **fields: str) -> tuple[str, list]:
    """The session's standard error, one line, and its runs' records."""
    config = tmp_path / "c.yml"
    config.write_text(CONFIG.format(**fields))
    results = tmp_path / "out"
    done = perfchart("run", str(config), "--results", str(results), *extra, cwd=tmp_path)
    assert done.returncode in (0, 1), done.stderr
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    return " ".join(done.stderr.split()), records


def test_a_catch_all_signal_over_failing_commands_and_an_empty_metric_are_warned_about(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    stderr, records = _run(perfchart, tmp_path, signal=CATCH_ALL, match="v=([0-9]+)")
    failed = [r for r in records if r["exitcodes"] != [0]]
    assert all(r["status"] == "OK" for r in records)
    assert [r["parameters"]["n"] for r in failed] == [1, 3]  # n % 2 != 0
    assert [r["metrics"]["m"] for r in records] == [10, 20, 30, 40]
    assert (
        f"multivariable-explorer: {len(failed)} runs were set OK although the command exited "
        "non-zero (exit code 1): its signal CmdlineExitEvent matches every exit; say "
        "CmdlineExitZeroEvent for OK and CmdlineExitNonzeroEvent for a failure" in stderr
    )
    # 'other' is declared and nothing writes it; 'm' got a value in every run.
    assert (
        "metric 'other' got no value in any of the 4 runs: no tracker's events (or match:) met "
        "what the runs published" in stderr
    )
    assert "metric 'm'" not in stderr
    assert "cpu_user" not in stderr  # a built-in metric is the channel's business


def test_a_signal_that_tells_exits_apart_and_a_match_that_never_meets_the_output(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    stderr, records = _run(perfchart, tmp_path, signal=SPLIT, match="w=([0-9]+)")
    assert [r["status"] for r in records] == ["FAILED", "OK", "FAILED", "OK"]
    assert all(r["metrics"]["m"] is None for r in records)
    assert "set OK although" not in stderr
    assert "metric 'm' got no value in any of the 4 runs" in stderr
    assert "metric 'other' got no value in any of the 4 runs" in stderr


def test_one_run_is_counted_in_the_singular(perfchart: Perfchart, tmp_path: Path) -> None:
    config = CONFIG.replace("values: [1, 2, 3, 4]", "values: [1]")
    (tmp_path / "c.yml").write_text(config.format(signal=CATCH_ALL, match="v=([0-9]+)"))
    done = perfchart("run", "c.yml", "--results", "out", cwd=tmp_path)
    stderr = " ".join(done.stderr.split())
    assert "multivariable-explorer: 1 run was set OK although" in stderr
    assert "metric 'other' got no value in the one run:" in stderr


@pytest.mark.parametrize("extra", [["--dry-run"], ["-q"]])
def test_a_dry_run_and_a_quiet_one_do_not_warn(
    perfchart: Perfchart, tmp_path: Path, extra: list[str]
) -> None:
    stderr, records = _run(perfchart, tmp_path, *extra, signal=CATCH_ALL, match="v=([0-9]+)")
    assert len(records) == 4
    assert "got no value" not in stderr
    assert "set OK although" not in stderr


HTTP_BESIDE = """\
config:
  parameters: [{name: n}]
  definitions: [{name: base, required: yes}]
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix: {n: {type: discrete, values: [1, 2]}}
    events:
      signal: {OK: CmdlineExitEvent}
channels:
  - class: channel.CmdlineChannel
    cmdline: "sleep 1 # {{n}}"
    shell: yes
  - class: channel.HTTPChannel
    url: "{{base}}/x/{{n}}"
"""


def test_an_http_status_beside_a_command_is_no_exit_code(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    """Each run's request is answered 500 (not ok) while its command exits 0: no warning."""
    from tests.httpserver import delaying

    config = tmp_path / "c.yml"
    config.write_text(HTTP_BESIDE)
    with delaying([0.0, 0.0], failing=[0, 1]) as base:
        done = perfchart("run", str(config), "-D", f"base={base}", "--results", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    records = [json.loads(line) for line in (tmp_path / "out/runs.jsonl").read_text().splitlines()]
    assert [sorted(r["exitcodes"]) for r in records] == [[0, 500], [0, 500]]
    assert all(r["status"] == "OK" for r in records)
    assert "set OK although" not in done.stderr
