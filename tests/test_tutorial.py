"""The tutorial policy of docs/authoring.md (examples/ramp_bisect.yaml): real command, what-if dry
run, results."""

from __future__ import annotations

import json
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
PLAN = [1, 2, 4, 8, 16, 32, 64, 48, 40, 36, 38, 37]


def results(directory: Path) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    meta = json.loads((directory / "meta.json").read_text())
    runs = [json.loads(line) for line in (directory / "runs.jsonl").read_text().splitlines()]
    return meta, runs


@pytest.fixture
def examples(tmp_path: Path) -> Path:
    for name in ("ramp.yml", "ramp_bisect.yaml"):
        shutil.copy(EXAMPLES / name, tmp_path / name)
    return tmp_path


def test_the_tutorial_finds_the_boundary_against_a_real_command(
    perfchart: Perfchart, examples: Path
) -> None:
    done = perfchart(
        "run", "ramp.yml", "-D", f"python={sys.executable}", "--results", "r", cwd=examples
    )
    assert done.returncode == 1, done.stderr  # the failing runs above the boundary are not OK
    meta, runs = results(examples / "r")
    assert meta["results"] == {"ramp-bisect": {"largest_ok": 37}}
    assert [run["parameters"]["load"] for run in runs] == PLAN
    assert [run["status"] for run in runs] == ["OK" if load <= 37 else "FAILED" for load in PLAN]
    assert "ramp-bisect: largest_ok = 37" in done.stderr


def test_the_tutorial_finds_the_boundary_in_a_what_if_dry_run(
    perfchart: Perfchart, examples: Path
) -> None:
    started = time.monotonic()
    done = perfchart("run", "ramp.yml", "--dry-run", "--results", "d", cwd=examples)
    elapsed = time.monotonic() - started
    assert done.returncode == 1, done.stderr
    assert [int(line.split("load=")[1]) for line in done.stdout.splitlines()] == PLAN
    meta, runs = results(examples / "d")
    assert meta["results"] == {"ramp-bisect": {"largest_ok": 37}}
    assert meta["dry_run"] is True
    # Each run lasts what the channel's simulate: says, on the simulated clock, and prints its
    # simulated line.
    assert [round(run["duration"], 6) for run in runs] == [
        round(0.5 + load / 100, 6) for load in PLAN
    ]
    assert [run["exitcodes"] for run in runs] == [[int(load > 37)] for load in PLAN]
    # seconds of simulated runs take no real time; most of this is interpreter start-up
    assert elapsed < 10


@pytest.mark.parametrize("statuses", [True, False], ids=["with statuses", "without statuses"])
def test_a_dry_run_without_simulate_does_not_depend_on_the_order_of_bind_calls(
    perfchart: Perfchart, examples: Path, statuses: bool
) -> None:
    config = examples / "ramp.yml"
    config.write_text(config.read_text().split("    simulate:")[0])
    chart = examples / "ramp_bisect.yaml"
    text = chart.read_text()
    bind_ok = "    policy.bind('ok', config['events']['ok'], status='OK')\n"
    bind_failed = "    policy.bind('failed', config['events']['failed'], status='FAILED')\n"
    assert bind_ok + bind_failed in text
    plans = []
    for order in ((bind_ok, bind_failed), (bind_failed, bind_ok)):
        binds = "".join(order)
        if not statuses:
            binds = binds.replace(", status='OK'", "").replace(", status='FAILED'", "")
        chart.write_text(
            text.replace(bind_ok + bind_failed, binds).replace(
                "policy.set_status(event.status)", "policy.set_status('done')"
            )
        )
        done = perfchart(
            "run", "ramp.yml", "--dry-run", "--results", f"d{len(plans)}", cwd=examples
        )
        assert done.returncode in (0, 1), done.stderr
        plans.append((done.stdout, results(examples / f"d{len(plans)}")[0]["results"]))
    assert plans[0] == plans[1]
    if statuses:  # the all-OK path: the ramp goes up to the limit
        assert [int(line.split("load=")[1]) for line in plans[0][0].splitlines()] == [
            2**i for i in range(11)
        ]
        assert plans[0][1] == {"ramp-bisect": {"largest_ok": 1024}}


def test_a_bad_simulate_expression_is_reported_at_load(
    perfchart: Perfchart, examples: Path
) -> None:
    config = examples / "ramp.yml"
    config.write_text(
        config.read_text().replace('exitcode: "load > capacity"', 'exitcode: "load >> > capacity"')
    )
    done = perfchart("run", "ramp.yml", "--dry-run", "--results", "d", cwd=examples)
    assert done.returncode == 2
    assert done.stderr.startswith("perfchart: error: ramp.yml:28: channels[0].simulate.exitcode: ")
    assert not (examples / "d").exists()


def test_verbose_traces_what_the_chart_receives_and_does(
    perfchart: Perfchart, examples: Path
) -> None:
    done = perfchart("run", "ramp.yml", "--dry-run", "--results", "d", "-v", cwd=examples)
    said = [
        " ".join(line.split()[1:]) for line in done.stderr.splitlines() if line.startswith("DEBUG")
    ]
    first_run = said.index("ramp-bisect: event ok (CmdlineExitZeroEvent)")
    assert said[first_run : first_run + 4] == [
        "ramp-bisect: event ok (CmdlineExitZeroEvent)",
        "ramp-bisect: exit Try",
        "ramp-bisect: transition Try -> Next on ok",
        "ramp-bisect: enter Next",
    ]
    assert "ramp-bisect: event failed (CmdlineExitNonzeroEvent)" in said
