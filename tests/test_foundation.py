"""What the runtime's foundation promises: plugins, load-time checks, one clock, one loop."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from interpreter.core import Event, RunTaskCompletedEvent, StalledEvent, TickEvent
from interpreter.session import Session, load_config
from tests.conftest import Perfchart, environ

ROOT = Path(__file__).resolve().parent.parent


# -------------------------------------------------------------- a channel from another distribution

PLUGIN = '''
"""A channel that answers each update by publishing its parameters' sum as an outcome."""

from dataclasses import dataclass

from interpreter.channels import Channel
from interpreter.core.events import OutcomeEvent


@dataclass(eq=False, kw_only=True, repr=False)
class SumEvent(OutcomeEvent):
    total: int = 0


class SumChannel(Channel):
    names = ("channel.SumChannel", "sum")
    schema = {
        "type": "object",
        "properties": {"offset": {"type": "integer"}},
        "additionalProperties": False,
    }
    events = (SumEvent,)

    def apply(self, update):
        total = sum(update.parameters.values()) + self.block.get("offset", 0)
        with open(self.context.definitions["log"], "a") as log:
            log.write(f"{self.context.name} {total}\\n")
        self.context.bus.publish(
            SumEvent(
                source=self.name,
                code=total,
                ok=total % 2 == 0,
                total=total,
                traceids=update.traceids,
            )
        )

    def close(self):
        pass
'''

PLUGIN_CONFIG = """
policies:
  - class: multivariable-explorer
    matrix:
      a: {type: discrete, values: [1, 2]}
      b: {type: discrete, values: [10, 20, 30]}
    events:
      signal:
        OK: SumEvent[ok=True]
        FAILED: SumEvent[ok=False]
channels:
  - class: channel.SumChannel
    offset: 1
"""


def install_plugin(site: Path) -> None:
    """A distribution the way pip leaves it: a module and its dist-info with an entry point."""
    (site / "sum_channel.py").write_text(PLUGIN)
    info = site / "sum_channel-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: sum-channel\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text("[perfchart.channels]\nsum = sum_channel:SumChannel\n")


def test_a_channel_from_another_distribution_runs_a_sweep(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    site.mkdir()
    install_plugin(site)
    config = tmp_path / "sum.yml"
    config.write_text(PLUGIN_CONFIG)
    log = tmp_path / "applied.log"
    env = environ(PYTHONPATH=os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]))
    # A fresh interpreter, which finds the plugin's entry point on its PYTHONPATH.
    done = perfchart(
        "run",
        str(config),
        "-D",
        f"log={log}",
        "--results",
        str(tmp_path / "r"),
        "-q",
        env=env,
        subprocess=True,
    )
    assert done.returncode == 1, done.stderr  # odd sums are not OK
    records = [
        json.loads(line) for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()
    ]
    sums = [a + b + 1 for a in (1, 2) for b in (10, 20, 30)]
    assert [r["exitcodes"] for r in records] == [[s] for s in sums]
    assert [r["status"] for r in records] == ["OK" if s % 2 == 0 else "FAILED" for s in sums]
    assert log.read_text().splitlines() == [f"channels[0] {s}" for s in sums]


def test_without_the_plugin_its_class_is_unknown(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "sum.yml"
    config.write_text(
        PLUGIN_CONFIG.replace("SumEvent[ok=True]", "CmdlineExitZeroEvent").replace(
            "SumEvent[ok=False]", "CmdlineExitNonzeroEvent"
        )
    )
    done = perfchart("run", str(config), "--dry-run", "--results", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"perfchart: error: {config}:12: channels[0].class: unknown channel class "
        "'channel.SumChannel' ("
    )
    assert "known channels: " in done.stderr
    assert "cmdline" in done.stderr


# -------------------------------------------------------- a dry run rejects what a real run rejects

BASE = """
policies:
  - class: multivariable-explorer
    matrix: {a: {type: discrete, values: [1]}}
    events: {signal: {OK: CmdlineExitZeroEvent}}
channels:
  - class: cmdline
    cmdline: echo {{a}}
"""


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        (
            "echo {{a}}\n",
            "echo {{a}}\n    timeout: 3 fortnights\n",
            ":9: channels[0].timeout: expected a duration such as 10s, 500ms or 2m, got '3 "
            "fortnights'",
        ),
        (
            "echo {{a}}\n",
            "echo {{a}}\n    timout: 3s\n",
            ":9: channels[0].timout: unknown key 'timout' (did you mean timeout?",
        ),
        (
            "echo {{a}}\n",
            "echo {{a}}\ntasks:\n  - at: setup\n    cmdlin: echo hi\n",
            ":11: tasks[0].cmdlin: unknown key 'cmdlin' (did you mean cmdline?",
        ),
        (
            "class: cmdline",
            "class: channel.MarathonUpdateChannel",
            ":7: channels[0].class: channel.MarathonUpdateChannel is a channel of the original "
            "driver",
        ),
    ],
)
def test_dry_and_real_runs_reject_the_same_input_the_same_way(
    perfchart: Perfchart, tmp_path: Path, old: str, new: str, message: str
) -> None:
    config = tmp_path / "bad.yml"
    config.write_text(BASE.replace(old, new))
    dry = perfchart("run", str(config), "--dry-run", "--results", str(tmp_path / "dry"))
    real = perfchart("run", str(config), "--results", str(tmp_path / "real"))
    assert (dry.returncode, real.returncode) == (2, 2)
    assert dry.stderr == real.stderr
    assert dry.stderr.startswith(f"perfchart: error: {config}{message}")
    assert len(dry.stderr.splitlines()) == 1
    assert not (tmp_path / "dry").exists()
    assert not (tmp_path / "real").exists()


def test_loading_a_config_imports_no_process_machinery(tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(BASE)
    code = (
        f"import sys, interpreter.session as c; c.load_config({str(config)!r}); print('subprocess' "
        "in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"


# ---------------------------------------------------------------- one clock

WAITING_CHART = """
perfchart:
  name: waiter
  config: {type: object, properties: {runs: {type: integer}}, additionalProperties: false}
statechart:
  name: Waiter
  preamble: |
    runs = config['runs']
    done = 0
  root state:
    name: Root
    initial: Wait
    states:
      - name: Wait
        on entry: |
          policy.set_parameters({'n': done})
        transitions:
          - target: Wait
            guard: after(60) and done + 1 < runs
            action: done += 1
          - target: End
            guard: after(60) and done + 1 >= runs
      - name: End
        type: final
"""


def test_a_dry_run_records_the_simulated_durations(perfchart: Perfchart, tmp_path: Path) -> None:
    (tmp_path / "waiter.yaml").write_text(WAITING_CHART)
    config = tmp_path / "wait.yml"
    config.write_text("policies:\n  - statechart: waiter.yaml\n    runs: 3\n")
    done = perfchart("run", str(config), "--dry-run", "-q", "--results", str(tmp_path / "r"))
    assert done.returncode == 0, done.stderr
    records = [
        json.loads(line) for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()
    ]
    assert [r["parameters"] for r in records] == [{"n": 0}, {"n": 1}, {"n": 2}]
    assert [r["duration"] for r in records] == [60.0, 60.0, 60.0]
    assert [b["start"] - a["start"] for a, b in zip(records, records[1:], strict=False)] == [
        60.0,
        60.0,
    ]


# ----------------------------------------------------- one loop: session tasks keep the clock going

TASK_CONFIG = """
config:
  staleTimeout: 2s
policies:
  - class: multivariable-explorer
    matrix: {a: {type: discrete, values: [1]}}
    events: {signal: {OK: CmdlineExitZeroEvent}}
channels: [{class: cmdline, cmdline: "true"}]
tasks:
  - at: setup
    cmdline: sleep 3
"""


def test_a_setup_task_sees_ticks_and_its_stall_is_detected(tmp_path: Path) -> None:
    path = tmp_path / "t.yml"
    path.write_text(TASK_CONFIG)
    session = Session(
        load_config(path), results_dir=tmp_path / "r", dry_run=True, task_seconds={"setup": 3.0}
    )
    seen: list[tuple[float, Event]] = []
    start = session.clock.time
    session.bus.subscribe(
        lambda event: seen.append((round(event.ts - start, 6), event)),
        TickEvent,
        StalledEvent,
        RunTaskCompletedEvent,
    )
    assert session.run() == 0
    before_setup_ends = [(ts, e) for ts, e in seen if ts <= 3.0]
    ticks = [e.count for ts, e in before_setup_ends if isinstance(e, TickEvent)]
    assert ticks == [1, 2, 3]
    stalls = [(ts, e) for ts, e in before_setup_ends if isinstance(e, StalledEvent)]
    assert [(ts, e.task) for ts, e in stalls] == [(2.0, "setup")]
    completed = [(ts, e.task) for ts, e in seen if isinstance(e, RunTaskCompletedEvent)]
    assert completed[0] == (3.0, "setup")


def test_the_architecture_page_names_every_room() -> None:
    page = (ROOT / "docs" / "architecture.md").read_text()
    rooms = sorted(
        p.name
        for p in (ROOT / "interpreter").iterdir()
        if (p / "__init__.py").exists() and p.name not in ("schemas",)
    )
    assert rooms
    for room in rooms:
        assert f"interpreter/{room}/" in page, room
    assert "interpreter/testing.py" in page


def test_the_package_ships_its_type_information() -> None:
    assert (ROOT / "interpreter" / "py.typed").exists()
    assert "py.typed" in (ROOT / "pyproject.toml").read_text()


def test_ci_checks_types_and_lint() -> None:
    script = (ROOT / ".ci" / "run").read_text()
    assert "mypy interpreter" in script
    assert "ruff check interpreter tests" in script


def test_ci_checks_the_wheel_the_readme_says_it_does() -> None:
    command = "bash .ci/wheel-check"
    assert command in (ROOT / "README.md").read_text()
    assert command in (ROOT / ".ci" / "run").read_text()
    assert (ROOT / ".ci" / "wheel-check").stat().st_mode & 0o111
