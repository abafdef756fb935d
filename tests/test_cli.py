"""The perfchart command, run as users run it: real files and commands, and a real process where
signals, the console script or start-up imports are what is tested."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, Perfchart, sweep_config

ROOT = Path(__file__).resolve().parent.parent

CONFIG = sweep_config(
    "\"{{python}} -c 'import sys, time; time.sleep({{sleep|0}} if {{a}} > 1 else 0); "
    "sys.exit({{a}} in ({{fail|()}},))' {{a}}\"",
    policy="policy.MultivariableExplorerPolicy",
    channel="channel.CmdlineChannel",
)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "test.yml"
    path.write_text(CONFIG)
    return path


def test_exit_0_when_every_run_is_ok(perfchart: Perfchart, config: Path, tmp_path: Path) -> None:
    done = perfchart(
        "run", str(config), "-D", f"python={sys.executable}", "--results", str(tmp_path / "r")
    )
    assert done.returncode == 0, done.stderr
    assert "3 runs, 3 OK" in done.stdout  # the summary is the output
    assert len((tmp_path / "r" / "runs.jsonl").read_text().splitlines()) == 3


def test_exit_1_when_a_run_is_not_ok(perfchart: Perfchart, config: Path, tmp_path: Path) -> None:
    done = perfchart(
        "run",
        str(config),
        "-D",
        f"python={sys.executable}",
        "-D",
        "fail=2",
        "--results",
        str(tmp_path / "r"),
        "-q",
    )
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    statuses = [
        json.loads(line)["status"]
        for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()
    ]
    assert statuses == ["OK", "FAILED", "OK"]


def test_exit_2_with_one_line_for_a_bad_config(
    perfchart: Perfchart, config: Path, tmp_path: Path
) -> None:
    config.write_text(CONFIG.replace("type: discrete", "type: discrete, min: high"))
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"))
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"perfchart: error: {config}:5: policies[0].matrix.a.min")
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_exit_2_for_a_missing_config_file(perfchart: Perfchart, tmp_path: Path) -> None:
    done = perfchart("run", str(tmp_path / "absent.yml"))
    assert done.returncode == 2
    assert str(tmp_path / "absent.yml") in done.stderr
    assert "Traceback" not in done.stderr


def test_exit_2_for_bad_usage(perfchart: Perfchart) -> None:
    done = perfchart("run")
    assert done.returncode == 2
    assert "CONFIG" in done.stderr


def test_verbose_shows_the_traceback_of_a_bad_config(perfchart: Perfchart, config: Path) -> None:
    config.write_text("policies: 3\n")
    done = perfchart("run", str(config), "-v")
    assert done.returncode == 2
    assert "Traceback" in done.stderr


def test_exit_130_on_ctrl_c_keeps_every_finished_run(config: Path, tmp_path: Path) -> None:
    results = tmp_path / "r"
    process = subprocess.Popen(
        [
            *PERFCHART,
            "run",
            str(config),
            "-D",
            f"python={sys.executable}",
            "-D",
            "sleep=60",
            "--results",
            str(results),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    runs = results / "runs.jsonl"
    deadline = time.monotonic() + 30
    while not (runs.exists() and runs.read_text().count("\n") >= 1):
        assert process.poll() is None, "the first run never finished"
        assert time.monotonic() < deadline, "the first run never finished"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    records = [json.loads(line) for line in runs.read_text().splitlines()]
    assert [(r["parameters"], r["status"]) for r in records] == [
        ({"a": 1}, "OK"),
        ({"a": 2}, "interrupted"),
    ]
    meta = json.loads((results / "meta.json").read_text())
    assert meta["status"] == "interrupted"
    assert meta["exit_status"] == 130
    assert (results / "runs.csv").exists()


def test_policies_lists_the_bundled_policies(perfchart: Perfchart) -> None:
    done = perfchart("policies")
    assert done.returncode == 0
    line = next(
        line for line in done.stdout.splitlines() if line.startswith("multivariable-explorer")
    )
    assert "policy.MultivariableExplorerPolicy" in line


def test_the_console_script_and_the_module_agree(perfchart: Perfchart) -> None:
    script = shutil.which("perfchart", path=os.path.dirname(sys.executable))
    assert script is not None
    done = subprocess.run([script, "--version"], capture_output=True, text=True)
    assert done.returncode == 0
    assert done.stdout == perfchart("--version", subprocess=True).stdout


#: Modules that only running, checking or drawing needs; help must start without them.
HEAVY = (
    "jsonschema",
    "sismic",
    "rich",
    "yaml",
    "ruamel",
    "matplotlib",
    "importlib.metadata",
    "logging",
    "interpreter.config",
    "interpreter.engine",
    "interpreter.charts",
)


def loaded_after(argv: list[str]) -> set[str]:
    """The HEAVY modules in sys.modules after the command's main ran *argv* in a fresh
    interpreter."""
    code = (
        "import sys\n"
        "from interpreter.cli import main\n"
        "try:\n"
        f"    main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    assert exc.code == 0, exc.code\n"
        "print('loaded:', *sorted(name for name in sys.modules if any(name == h or "
        f"name.startswith(h + '.') for h in {HEAVY!r})))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[-1].split()[1:])


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["--version"],
        ["run", "--help"],
        ["check", "--help"],
        ["draw", "--help"],
        ["report", "--help"],
    ],
)
def test_help_and_version_import_nothing_heavy(argv: list[str]) -> None:
    assert loaded_after(argv) == set()


def test_the_laziness_check_sees_what_a_command_imports() -> None:
    """The check above would pass vacuously if it could not see imports: listing the policies loads
    the charts."""
    assert {"interpreter.charts", "sismic"} <= loaded_after(["policies"])


def test_a_quiet_dry_run_never_loads_rich(config: Path, tmp_path: Path) -> None:
    """A quiet run shows nothing unless it logs an error, so its console is not even imported."""
    loaded = loaded_after(
        [
            "run",
            str(config),
            "--dry-run",
            "-q",
            "-D",
            f"python={sys.executable}",
            "--results",
            str(tmp_path / "r"),
        ]
    )
    assert "interpreter.engine" in loaded
    assert not any(name.startswith("rich") for name in loaded)
    assert len((tmp_path / "r" / "runs.jsonl").read_text().splitlines()) == 3


def test_the_run_log_handler_makes_its_console_at_the_first_record() -> None:
    import io
    import logging

    from rich.console import Console

    from interpreter.cli.logs import RichWhenNeeded

    made: list[Console] = []

    def console() -> Console:
        made.append(Console(file=io.StringIO(), width=100))
        return made[-1]

    handler = RichWhenNeeded(console)
    assert made == []
    for message in ("first", "second"):
        handler.handle(
            logging.LogRecord("perfchart", logging.ERROR, __file__, 1, message, None, None)
        )
    assert len(made) == 1
    output = made[0].file.getvalue()  # type: ignore[attr-defined]
    assert [line.split() for line in output.splitlines()] == [
        ["ERROR", "first"],
        ["ERROR", "second"],
    ]


@pytest.mark.slow
def test_the_readme_example_sweep_runs_as_written(perfchart: Perfchart, tmp_path: Path) -> None:
    """The README's first command, after its install step: `perfchart run examples/sweep.yml`."""
    readme = (ROOT / "README.md").read_text()
    assert "pip install -e . && perfchart run examples/sweep.yml" in readme
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = perfchart("run", "examples/sweep.yml", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    (results,) = (tmp_path / "perfchart-results").iterdir()
    assert results.name.startswith("sweep-")
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    assert len(records) == 18
    assert all(r["status"] == "OK" for r in records)
    # The metrics are what the workload printed, read here from output.log independently of the
    # trackers.
    printed: dict[int, dict[str, float]] = {}
    for line in (results / "output.log").read_text().splitlines():
        run = int(line.split("]")[0].removeprefix("[run "))
        words = line.split()
        if "hashed" in words:
            printed.setdefault(run, {})["hash_time"] = float(words[words.index("ms") - 1])
        elif "throughput=" in line:
            printed.setdefault(run, {})["throughput"] = float(
                line.split("throughput=")[1].split()[0]
            )
    read = {r["index"]: {k: r["metrics"][k] for k in ("hash_time", "throughput")} for r in records}
    assert read == printed
    # Beside them, the command's built-in CPU and memory, with no tracker.
    assert all(r["metrics"]["cpu_user"] > 0 and r["metrics"]["max_rss"] > 0 for r in records)
    assert all(value > 0 for metrics in printed.values() for value in metrics.values())


@pytest.mark.parametrize(
    ("example", "runs"),
    [
        pytest.param("time_evolution", 4, marks=pytest.mark.slow),
        pytest.param("multi_step", 5, marks=pytest.mark.slow),
        ("simple", 1),
    ],
)
def test_each_policy_example_runs_as_written(
    perfchart: Perfchart, tmp_path: Path, example: str, runs: int
) -> None:
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = perfchart(
        "run", f"{example}.yml", "--results", str(tmp_path / "r"), cwd=tmp_path / "examples"
    )
    assert done.returncode == 0, done.stderr
    records = [
        json.loads(line) for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()
    ]
    assert len(records) == runs
    assert all(r["ok"] and r["exitcodes"] == [0] for r in records)


@pytest.mark.parametrize(
    ("example", "timing"),
    [
        ("sweep", [("+0:00:00", "0.0 ms")] * 18),  # 6 permutations, repeat: 3
        (
            "time_evolution",
            [
                ("+0:00:00", "1.00 s"),
                ("+0:00:01", "1.00 s"),
                ("+0:00:02", "1.00 s"),
                ("+0:00:03", "1.00 s"),
            ],
        ),
        ("multi_step", [("+0:00:00", "0.0 ms")] * 4 + [("+0:00:00", "500.0 ms")]),
        ("simple", [("+0:00:00", "0.0 ms")]),
    ],
)
def test_a_dry_run_prints_each_policys_plan_with_simulated_times(
    perfchart: Perfchart, tmp_path: Path, example: str, timing: list[tuple[str, str]]
) -> None:
    done = perfchart(
        "run",
        str(ROOT / "examples" / f"{example}.yml"),
        "--dry-run",
        "--results",
        str(tmp_path / "r"),
    )
    assert done.returncode == 0, done.stderr
    lines = [line.split() for line in done.stdout.splitlines()]
    assert [(line[2], " ".join(line[3:5])) for line in lines] == timing
    assert [line[0] for line in lines] == [str(i) for i in range(1, len(timing) + 1)]


def test_the_readme_test_command_is_what_ci_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    command = "pip install -e '.[test]' && pytest"
    assert command in readme
    assert command in (ROOT / ".ci" / "run").read_text()


@pytest.mark.parametrize(
    ("signal", "reason"),
    [
        ("CmdlineExitZeroEvent:frist", "unknown selector"),
        ("'CmdlineExitZeroEvent[exitcode=0'", "["),
        ("\"LogLineEvent[line~='(']\"", "bad regular expression"),
        ("CmdlineExitZeroEvent:after(soon)", "soon"),
    ],
)
def test_a_bad_filter_is_reported_at_load_with_expression_and_position(
    perfchart: Perfchart, config: Path, tmp_path: Path, signal: str, reason: str
) -> None:
    config.write_text(CONFIG.replace("OK: CmdlineExitZeroEvent", f"OK: {signal}"))
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"))
    assert done.returncode == 2, done.stderr
    first, shown, caret = done.stderr.rstrip("\n").splitlines()
    assert first.startswith(
        f"perfchart: error: {config}:8: policies[0].events.signal.OK: at position "
    )
    assert reason in first
    position = int(first.split("at position ")[1].split(":")[0])
    assert caret.index("^") - shown.index(shown.strip()[0]) == position
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "r").exists()


def test_a_bad_count_expression_is_reported_at_load(
    perfchart: Perfchart, config: Path, tmp_path: Path
) -> None:
    config.write_text(
        CONFIG.replace("    events:\n", "    events:\n      signalEventCount: 'a +* 2'\n")
    )
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"perfchart: error: {config}:7: policies[0].events.signalEventCount: "
        'cannot evaluate "a +* 2"'
    )
    assert not (tmp_path / "r").exists()


def test_bad_input_found_mid_session_keeps_the_finished_runs(
    perfchart: Perfchart, config: Path, tmp_path: Path
) -> None:
    config.write_text(
        CONFIG.replace("    events:\n", "    events:\n      signalEventCount: '1 / (a - 2) + 2'\n")
    )
    results = tmp_path / "r"
    done = perfchart(
        "run", str(config), "-D", f"python={sys.executable}", "--results", str(results), "-q"
    )
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"perfchart: error: {config}:7: policies[0].events.signalEventCount: cannot evaluate"
    )
    assert "division by zero" in done.stderr
    assert "Traceback" not in done.stderr
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    assert [(r["parameters"], r["status"]) for r in records] == [({"a": 1}, "OK")]
    meta = json.loads((results / "meta.json").read_text())
    assert (meta["status"], meta["exit_status"]) == ("error", 2)


def test_a_filter_naming_no_event_class_is_reported_at_load(
    perfchart: Perfchart, config: Path, tmp_path: Path
) -> None:
    config.write_text(CONFIG.replace("OK: CmdlineExitZeroEvent", "OK: CmdlineExitZeroEvnt"))
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"))
    assert done.returncode == 2
    assert done.stderr == (
        f"perfchart: error: {config}:8: policies[0].events.signal.OK: "
        "no event class is called 'CmdlineExitZeroEvnt' (did you mean CmdlineExitZeroEvent?)\n"
    )
