"""Whole sessions: real commands, real files, real sismic interpreters."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console
from sismic.clock import SimulatedClock

from interpreter.channels.cmdline import CmdlineExitEvent, CmdlineStartedEvent
from interpreter.cli.ui import ConsoleUI
from interpreter.core import (
    Event,
    LogLineEvent,
    ParameterUpdateEvent,
    RestartEvent,
    RunTaskCompletedEvent,
    RunTaskEvent,
    TickEvent,
)
from interpreter.engine import Summary
from interpreter.errors import ConfigError
from interpreter.session import Session, load_config
from tests.conftest import sweep_config

WORKER = """
import sys
import time
a, b = sys.argv[1], sys.argv[2]
with open(sys.argv[3], "a") as log:
    log.write(f"{a}|{b}\\n")
print(f"ran a={a} b={b}")
if a == "2":
    print(f"cannot handle a={a}", file=sys.stderr)
    sys.exit(1)
"""

CONFIG = sweep_config(
    '"{{python}} {{worker}} {{a}} {{b}} {{calls}}"',
    matrix={
        "a": "{type: discrete, values: [1, 2, 3]}",
        "b": '{type: discrete, values: [x, "y z"]}',
    },
    head="""
config:
  title: session test
  seed: 3
  parameters:
    - name: a
      default: 0
""",
    channel="channel.CmdlineChannel",
)


@pytest.fixture
def sweep(tmp_path: Path) -> dict[str, Any]:
    worker = tmp_path / "worker.py"
    worker.write_text(WORKER)
    config = tmp_path / "sweep.yml"
    config.write_text(CONFIG)
    calls = tmp_path / "calls.txt"
    defines = {"python": sys.executable, "worker": str(worker), "calls": str(calls)}
    return {"config": config, "defines": defines, "calls": calls, "results": tmp_path / "results"}


def records(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


def test_a_real_cmdline_sweep_runs_every_permutation_with_traced_events(
    sweep: dict[str, Any],
) -> None:
    session = Session(load_config(sweep["config"], sweep["defines"]), results_dir=sweep["results"])
    seen: list[Event] = []
    session.bus.subscribe(
        seen.append, ParameterUpdateEvent, CmdlineStartedEvent, LogLineEvent, CmdlineExitEvent
    )

    assert session.run() == 1  # a=2 exits 1: those runs are FAILED

    assert sweep["calls"].read_text().splitlines() == [
        "1|x",
        "1|y z",
        "2|x",
        "2|y z",
        "3|x",
        "3|y z",
    ]
    runs = records(sweep["results"])
    assert [r["parameters"] for r in runs] == [
        {"a": a, "b": b} for a in (1, 2, 3) for b in ("x", "y z")
    ]
    assert [r["status"] for r in runs] == ["OK", "OK", "FAILED", "FAILED", "OK", "OK"]
    assert [r["exitcodes"] for r in runs] == [[0], [0], [1], [1], [0], [0]]
    assert [r["ok"] for r in runs] == [True, True, False, False, True, True]

    updates = [e for e in seen if isinstance(e, ParameterUpdateEvent)]
    assert [min(u.traceids) for u in updates] == [r["trace"] for r in runs]
    for update in updates:
        (trace,) = update.traceids
        caused = [
            e for e in seen if trace in e.traceids and not isinstance(e, ParameterUpdateEvent)
        ]
        assert [type(e).__name__ for e in caused][0] == "CmdlineStartedEvent"
        assert type(caused[-1]).__name__ in ("CmdlineExitZeroEvent", "CmdlineExitNonzeroEvent")
        lines = [e.line for e in caused if isinstance(e, LogLineEvent) and e.stream == "stdout"]
        assert lines == [f"ran a={update.parameters['a']} b={update.parameters['b']}"]
    assert all(e.traceids for e in seen)


def test_results_files_hold_every_run(sweep: dict[str, Any]) -> None:
    config = load_config(sweep["config"], sweep["defines"])
    Session(config, results_dir=sweep["results"], seed=11).run()
    runs = records(sweep["results"])
    assert set(runs[0]) >= {
        "index",
        "repetition",
        "policy",
        "run",
        "trace",
        "parameters",
        "flags",
        "status",
        "ok",
        "start",
        "end",
        "duration",
        "exitcodes",
    }
    assert [r["index"] for r in runs] == [1, 2, 3, 4, 5, 6]
    assert [r["run"] for r in runs] == [1, 2, 3, 4, 5, 6]
    assert all(
        r["end"] >= r["start"] and r["duration"] == pytest.approx(r["end"] - r["start"], abs=1e-5)
        for r in runs
    )

    assert [r["last_stderr"] for r in runs] == [
        None,
        None,
        "cannot handle a=2",
        "cannot handle a=2",
        None,
        None,
    ]
    output = (sweep["results"] / "output.log").read_text().splitlines()
    assert output[:2] == [
        "[run 1] channels[0] stdout: ran a=1 b=x",
        "[run 2] channels[0] stdout: ran a=1 b=y z",
    ]
    assert "[run 3] channels[0] stderr: cannot handle a=2" in output
    assert len(output) == 8

    with (sweep["results"] / "runs.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert [(row["a"], row["b"], row["status"], row["exitcodes"]) for row in rows] == [
        (
            str(r["parameters"]["a"]),
            r["parameters"]["b"],
            r["status"],
            " ".join(map(str, r["exitcodes"])),
        )
        for r in runs
    ]

    meta = json.loads((sweep["results"] / "meta.json").read_text())
    assert meta["config_sha256"] == hashlib.sha256(sweep["config"].read_bytes()).hexdigest()
    assert meta["seed"] == 11
    assert meta["status"] == "finished"
    assert meta["exit_status"] == 1
    assert meta["runs"] == 6
    assert meta["ok"] == 4
    assert meta["by_status"] == {"OK": 4, "FAILED": 2}
    assert meta["dry_run"] is False
    assert meta["policies"] == ["multivariable-explorer"]
    assert {"python", "sismic", "perfchart"} <= set(meta["versions"])


def test_a_dry_run_prints_the_plan_and_executes_nothing(sweep: dict[str, Any]) -> None:
    plan = io.StringIO()
    ui = ConsoleUI(Console(file=io.StringIO()), plan=plan)
    session = Session(
        load_config(sweep["config"], sweep["defines"]),
        results_dir=sweep["results"],
        dry_run=True,
        ui=ui,
    )
    assert session.run() == 0
    assert not sweep["calls"].exists()
    lines = plan.getvalue().splitlines()
    assert [line.split(None, 5)[5] for line in lines] == [
        f"a={a} b={b}" for a in (1, 2, 3) for b in ("x", "y z")
    ]
    assert [line.split()[:5] for line in lines][:2] == [
        ["1", "multivariable-explorer", "+0:00:00", "0.0", "ms"],
        ["2", "multivariable-explorer", "+0:00:00", "0.0", "ms"],
    ]
    runs = records(sweep["results"])
    assert len(runs) == 6
    assert all(r["dry_run"] and r["status"] == "OK" and r["exitcodes"] == [] for r in runs)
    assert json.loads((sweep["results"] / "meta.json").read_text())["dry_run"] is True


def test_repeat_runs_every_policy_again_in_a_fresh_interpreter(sweep: dict[str, Any]) -> None:
    sweep["config"].write_text(CONFIG.replace("seed: 3", "seed: 3\n  repeat: 2"))
    session = Session(
        load_config(sweep["config"], sweep["defines"]), results_dir=sweep["results"], dry_run=True
    )
    restarts: list[Event] = []
    session.bus.subscribe(restarts.append, RestartEvent)
    session.run()
    assert [(e.policy, e.repetition) for e in restarts] == [("multivariable-explorer", 2)]
    runs = records(sweep["results"])
    assert [r["repetition"] for r in runs] == [1] * 6 + [2] * 6
    assert [r["parameters"] for r in runs[:6]] == [r["parameters"] for r in runs[6:]]
    assert len({r["trace"] for r in runs}) == 12


def test_an_existing_results_directory_is_never_overwritten(sweep: dict[str, Any]) -> None:
    config = load_config(sweep["config"], sweep["defines"])
    Session(config, results_dir=sweep["results"], dry_run=True).run()
    before = (sweep["results"] / "runs.jsonl").read_text()
    with pytest.raises(Exception, match="already holds results"):
        Session(config, results_dir=sweep["results"], dry_run=True).run()
    assert (sweep["results"] / "runs.jsonl").read_text() == before


USER_CHART = """
perfchart:
  name: countdown
  summary: Runs n, n-1, ... 1, each until its command exits.
statechart:
  name: Countdown
  preamble: |
    n = config['from']
    policy.set_total(n)
    policy.bind('done', 'CmdlineExitEvent')
  root state:
    name: Countdown
    initial: Next
    transitions:
      - target: Done
        event: interrupt
    states:
      - name: Next
        on entry: |
          trace = policy.set_parameters({'n': n})
        transitions:
          - target: Next
            event: done
            guard: traced(event, trace) and n > 1
            action: |
              policy.set_status('OK')
              n -= 1
          - target: Done
            event: done
            guard: traced(event, trace) and n <= 1
            action: policy.set_status('OK')
      - name: Done
        type: final
"""


def test_a_user_written_chart_runs_the_same_way(tmp_path: Path) -> None:
    (tmp_path / "countdown.yaml").write_text(USER_CHART)
    config = tmp_path / "test.yml"
    config.write_text(
        "config:\n  parameters:\n    - name: n\n"
        "policies:\n  - statechart: countdown.yaml\n    from: 3\n"
        "channels:\n  - class: channel.CmdlineChannel\n"
        "    cmdline: '{{python}} -c \"print({{n}})\"'\n"
    )
    session = Session(load_config(config, {"python": sys.executable}), results_dir=tmp_path / "out")
    assert session.total_runs == 3
    assert session.run() == 0
    runs = records(tmp_path / "out")
    assert [(r["policy"], r["parameters"], r["status"]) for r in runs] == [
        ("countdown", {"n": n}, "OK") for n in (3, 2, 1)
    ]


@pytest.mark.slow
def test_waiting_for_a_long_command_leaves_the_cpu_idle(tmp_path: Path) -> None:
    config = tmp_path / "slow.yml"
    config.write_text(
        "policies:\n  - class: multivariable-explorer\n    matrix:\n"
        "      a: {type: discrete, values: [1]}\n"
        "    events:\n      signal: {OK: CmdlineExitZeroEvent}\n"
        "channels:\n  - class: channel.CmdlineChannel\n"
        "    cmdline: \"{{python}} -c 'import time; time.sleep(1.0)' {{a}}\"\n"
    )
    session = Session(load_config(config, {"python": sys.executable}), results_dir=tmp_path / "out")
    cpu = time.process_time()
    wall = time.perf_counter()
    assert session.run() == 0
    wall = time.perf_counter() - wall
    cpu = time.process_time() - cpu
    assert wall >= 1.0
    assert cpu < 0.25 * wall, f"the session used {cpu:.2f}s of CPU while waiting {wall:.2f}s"


def test_the_progress_bar_shows_the_true_count_though_runs_never_touch_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Runs only bump counters; the drawing the bar makes (each redraw, and the last one at stop)
    reads them."""
    from rich.progress import Progress

    touched: list[str] = []
    main = threading.current_thread()
    for name in ("update", "advance"):
        original = getattr(Progress, name)

        def spy(
            self: Progress, *args: Any, _name: str = name, _original: Any = original, **kwargs: Any
        ) -> Any:
            if threading.current_thread() is main:
                touched.append(_name)
            return _original(self, *args, **kwargs)

        monkeypatch.setattr(Progress, name, spy)
    plan = io.StringIO()
    console = Console(file=io.StringIO(), width=200)
    ui = ConsoleUI(console, plan=plan)
    ui.session_started(7)
    touched.clear()  # starting draws the bar once, from this thread; the runs must not
    for index in range(1, 6):
        record = {
            "index": index,
            "policy": "p",
            "start": float(index),
            "duration": 0.5,
            "parameters": {"a": index},
            "ok": True,
        }
        ui.run_opened(record)
        ui.run_closed(record)
    assert touched == []
    assert plan.getvalue() == ""  # kept in a batch until the session ends
    progress = ui._progress
    assert progress is not None
    with console.capture() as drawn:
        console.print(progress.get_renderable())
    assert "5/7" in drawn.get()
    assert "a=5" in drawn.get()
    ui.session_finished(Summary(), Path("results"), "finished")
    assert [line.split()[0] for line in plan.getvalue().splitlines()] == ["1", "2", "3", "4", "5"]


def test_the_summary_names_the_runs_that_were_not_ok(sweep: dict[str, Any]) -> None:
    output = io.StringIO()
    ui = ConsoleUI(Console(file=output, width=200))
    Session(
        load_config(sweep["config"], sweep["defines"]), results_dir=sweep["results"], ui=ui
    ).run()
    text = output.getvalue()
    assert "6 runs, 4 OK, 2 not OK (finished)" in text
    assert [line.strip() for line in text.splitlines() if "not OK:" in line] == [
        "not OK: run 3 (FAILED) a=2 b=x: cannot handle a=2",
        "not OK: run 4 (FAILED) a=2 b=y z: cannot handle a=2",
    ]


@pytest.mark.slow
def test_a_run_closes_when_its_policy_ends_not_when_the_session_does(tmp_path: Path) -> None:
    chart = USER_CHART.replace("policy.set_status('OK')", "policy.set_flag('seen', True)")
    (tmp_path / "first.yaml").write_text(chart.replace("name: countdown", "name: first"))
    (tmp_path / "second.yaml").write_text(chart.replace("name: countdown", "name: second"))
    config = tmp_path / "test.yml"
    config.write_text(
        "config:\n  parameters:\n    - name: n\n"
        "policies:\n  - statechart: first.yaml\n    from: 1\n  - statechart: second.yaml\n"
        "    from: 1\n"
        "channels:\n  - class: channel.CmdlineChannel\n"
        "    cmdline: '{{python}} -c \"import time; time.sleep(0.3)\" {{n}}'\n"
    )
    assert (
        Session(load_config(config, {"python": sys.executable}), results_dir=tmp_path / "out").run()
        == 0
    )
    first, second = records(tmp_path / "out")
    assert (first["policy"], second["policy"]) == ("first", "second")
    assert first["status"] is None
    assert first["ok"] is True
    assert first["flags"] == {"seen": True}
    assert first["end"] <= second["start"], "the first policy's run ended when that policy did"


TICKER = """
perfchart:
  name: ticker
statechart:
  name: Ticker
  preamble: |
    policy.bind('tick', 'TickEvent:notrace')
    ticks = 0
  root state:
    name: Ticker
    initial: Counting
    states:
      - name: Counting
        on entry: policy.run_task('warmup')
        transitions:
          - event: tick
            guard: ticks < 2
            action: ticks += 1
          - target: Done
            event: tick
            guard: ticks >= 2
      - name: Done
        type: final
"""


def test_ticks_and_task_runs_are_published_on_the_session_clock(tmp_path: Path) -> None:
    (tmp_path / "ticker.yaml").write_text(TICKER)
    config = tmp_path / "test.yml"
    config.write_text("policies:\n  - statechart: ticker.yaml\n")
    clock = SimulatedClock()
    session = Session(load_config(config), results_dir=tmp_path / "out", clock=clock)
    seen: list[Event] = []
    session.bus.subscribe(seen.append, TickEvent, RunTaskEvent, RunTaskCompletedEvent)
    assert session.run() == 0
    assert [(type(e).__name__, getattr(e, "count", getattr(e, "task", None))) for e in seen] == [
        ("RunTaskEvent", "setup"),
        ("RunTaskCompletedEvent", "setup"),
        ("RunTaskEvent", "pretest"),
        ("RunTaskCompletedEvent", "pretest"),
        ("RunTaskEvent", "warmup"),
        ("RunTaskCompletedEvent", "warmup"),
        ("TickEvent", 1),
        ("TickEvent", 2),
        ("TickEvent", 3),
        ("RunTaskEvent", "posttest"),
        ("RunTaskCompletedEvent", "posttest"),
        ("RunTaskEvent", "teardown"),
        ("RunTaskCompletedEvent", "teardown"),
    ]
    assert clock.time == 3.0


def test_a_run_cut_short_by_bad_input_is_recorded_as_error(tmp_path: Path) -> None:
    chart = USER_CHART.replace(
        """            action: |
              policy.set_status('OK')
              n -= 1""",
        """            action: |
              policy.set_flag('ratio', 1 / (n - 2))
              n -= 1""",
    )
    (tmp_path / "countdown.yaml").write_text(chart)
    config = tmp_path / "test.yml"
    config.write_text(
        "config:\n  parameters:\n    - name: n\n"
        "policies:\n  - statechart: countdown.yaml\n    from: 3\n"
        "channels:\n  - class: channel.CmdlineChannel\n"
        "    cmdline: '{{python}} -c \"print({{n}})\"'\n"
    )
    session = Session(load_config(config, {"python": sys.executable}), results_dir=tmp_path / "out")
    with pytest.raises(ConfigError, match="division by zero"):
        session.run()
    runs = records(tmp_path / "out")
    assert [(r["parameters"], r["status"], r["ok"]) for r in runs] == [
        ({"n": 3}, None, True),
        ({"n": 2}, "error", False),
    ]
    assert json.loads((tmp_path / "out" / "meta.json").read_text())["status"] == "error"
