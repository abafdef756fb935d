"""``perfchart check`` and the same checks in ``run``: each kind of mistake, at its file and line,
without running anything."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, Perfchart

ROOT = Path(__file__).resolve().parent.parent

CHART = """\
statechart:
  name: Ramp
  preamble: |
    n = config['from']
  root state:
    name: Root
    initial: Next
    transitions:
      - target: Done
        event: interrupt
    states:
      - name: Next
        on entry: |
          trace = policy.set_parameters({'n': n})
          policy.bind('done', 'CmdlineExitZeroEvent')
        transitions:
          - target: Next
            event: done
            guard: traced(event, trace) and n > 1
            action: n -= 1
          - target: Done
            event: done
            guard: traced(event, trace) and n <= 1
      - name: Done
        type: final
"""

CONFIG = """\
config:
  parameters: [{name: n, default: 0}]
policies:
  - statechart: chart.yaml
    from: 2
channels:
  - class: cmdline
    cmdline: "{{python|python3}} -c pass {{n}}"
"""


def write(tmp_path: Path, chart: str = CHART, **edits: str) -> Path:
    for old, new in edits.items():
        assert old in chart, old
        chart = chart.replace(old, new)
    (tmp_path / "config.yml").write_text(CONFIG)
    path = tmp_path / "chart.yaml"
    path.write_text(textwrap.dedent(chart))
    return path


def test_a_clean_chart_and_its_config_pass(perfchart: Perfchart, tmp_path: Path) -> None:
    chart = write(tmp_path)
    done = perfchart("check", "--strict", str(chart), str(tmp_path / "config.yml"))
    assert (done.returncode, done.stderr) == (0, "2 files checked: 0 errors, 0 warnings\n")


def test_the_bundled_charts_pass_strict_with_no_warnings(perfchart: Perfchart) -> None:
    charts = sorted(str(path) for path in (ROOT / "statecharts").glob("*.yaml"))
    done = perfchart("check", "--strict", *charts)
    assert done.returncode == 0, done.stderr
    assert (
        done.stderr
        == f"{len(charts)} file{'s' if len(charts) > 1 else ''} checked: 0 errors, 0 warnings\n"
    )


ERRORS = [
    (
        "bind class typo",
        {"'CmdlineExitZeroEvent')": "'CmdlineExitZeroEvnt')"},
        15,
        "state Next (on entry): no event class is called 'CmdlineExitZeroEvnt' (did you mean "
        "CmdlineExitZeroEvent?)",
    ),
    (
        "YAML 1.1 boolean",
        {"event: interrupt": "event: on"},
        10,
        "statechart.root state.transitions[0].event: YAML reads on, yes or true as a boolean, "
        "not a name: quote it, e.g. event: 'on'",
    ),
    (
        "syntax error",
        {"action: n -= 1": "action: n -=- 1 +"},
        20,
        "statechart.root state.states[0].transitions[0].action: Python syntax error in action",
    ),
    (
        "unknown target",
        {"target: Done\n        event: interrupt": "target: Dne\n        event: interrupt"},
        9,
        "unknown target state 'Dne'",
    ),
    (
        "no final state",
        {
            "        type: final\n": "",
            "    transitions:\n      - target: Done\n        event: interrupt\n": "",
        },
        6,
        "no final state of the root state is reachable",
    ),
    (
        "cannot reach the end",
        {
            "    transitions:\n      - target: Done\n        event: interrupt\n": "",
            "          - target: Next\n": "          - target: Trap\n",
            "      - name: Done\n": "      - name: Trap\n      - name: Done\n",
        },
        21,
        "from state 'Trap' no transition leads to a final state: the policy would never end",
    ),
    (
        "schema",
        {"    initial: Next\n": "    initial: Next\n    colour: red\n"},
        8,
        "statechart.root state.colour",
    ),
]


@pytest.mark.parametrize(
    ("edits", "line", "message"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS]
)
def test_each_error_is_reported_at_its_line_with_exit_2(
    perfchart: Perfchart, tmp_path: Path, edits: dict[str, str], line: int, message: str
) -> None:
    chart = write(tmp_path, **edits)
    done = perfchart("check", str(chart))
    assert done.returncode == 2, done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"error: {chart}:{line}: "), first
    assert message in first
    assert "Traceback" not in done.stderr


WARNINGS = [
    (
        "event nothing sends",
        {
            "event: done\n            guard: traced(event, trace) and n <= 1": (
                "event: fial\n            guard: traced(event, trace) and n <= 1"
            )
        },
        22,
        "transition Next -> Done on fial: nothing sends 'fial'",
    ),
    (
        "unknown name",
        {"n > 1": "n > 1 and valu"},
        19,
        "transition Next -> Next on done (guard): name 'valu' is not in the chart's context",
    ),
    (
        "unreachable state",
        {
            "      - name: Done\n": (
                "      - name: Lost\n        transitions:\n          - target: Done\n"
                "      - name: Done\n"
            )
        },
        24,
        "state 'Lost' is unreachable",
    ),
]


@pytest.mark.parametrize(
    ("edits", "line", "message"),
    [case[1:] for case in WARNINGS],
    ids=[case[0] for case in WARNINGS],
)
def test_each_warning_is_reported_at_its_line_and_fails_only_strict(
    perfchart: Perfchart, tmp_path: Path, edits: dict[str, str], line: int, message: str
) -> None:
    chart = write(tmp_path, **edits)
    done = perfchart("check", str(chart))
    assert done.returncode == 0, done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"warning: {chart}:{line}: "), first
    assert message in first
    assert perfchart("check", "--strict", str(chart)).returncode == 1


def test_a_config_is_checked_with_the_charts_it_uses(perfchart: Perfchart, tmp_path: Path) -> None:
    write(tmp_path, **{"n > 1": "n > 1 and valu"})
    done = perfchart("check", str(tmp_path / "config.yml"))
    assert done.returncode == 0
    assert done.stderr.splitlines()[0].startswith(f"warning: {tmp_path / 'chart.yaml'}:19: ")


def test_run_refuses_a_bind_typo_within_a_second_before_anything_starts(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    write(tmp_path, **{"'CmdlineExitZeroEvent')": "'CmdlineExitZeroEvnt')"})
    started = time.monotonic()
    done = perfchart(
        "run", "config.yml", "-D", f"python={sys.executable}", "--results", "r", cwd=tmp_path
    )
    # a second of work; the rest is interpreter start-up on a loaded machine
    assert time.monotonic() - started < 5
    assert done.returncode == 2
    assert done.stderr == (
        "perfchart: error: chart.yaml:15: state Next (on entry): no event class is called "
        "'CmdlineExitZeroEvnt' (did you mean CmdlineExitZeroEvent?)\n"
    )
    assert not (tmp_path / "r").exists()


def test_run_prints_the_chart_warnings_before_it_starts(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    write(
        tmp_path,
        **{
            "event: done\n            guard: traced(event, trace) and n <= 1": (
                "event: fial\n            guard: traced(event, trace) and n <= 1"
            )
        },
    )
    done = perfchart(
        "run",
        "config.yml",
        "-D",
        f"python={sys.executable}",
        "--results",
        "r",
        "--dry-run",
        cwd=tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.endswith(
        "perfchart: error: dry run: policy chart is stuck in Next, waiting for done: "
        "CmdlineExitZeroEvent (0s of 600s before stalled): "
        "nothing this dry run sends moves it, not even stalled\n"
    )
    assert "chart.yaml:22: transition Next -> Done on fial: nothing sends 'fial'" in " ".join(
        done.stderr.split()
    )


def test_a_parameter_no_channel_or_task_uses_is_warned_about_once(tmp_path: Path) -> None:
    """The channel never reruns for a parameter its command does not name, so the run waits: the
    warning says why at once."""
    write(tmp_path)
    (tmp_path / "config.yml").write_text(CONFIG.replace(" {{n}}", ""))
    process = subprocess.Popen(
        [*PERFCHART, "run", "config.yml", "-D", f"python={sys.executable}", "--results", "r"],
        cwd=tmp_path,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stderr is not None
    said = ""
    deadline = time.monotonic() + 30
    while (
        "every run tests the same thing" not in " ".join(said.split())
        and time.monotonic() < deadline
    ):
        said += process.stderr.readline()
    process.send_signal(signal.SIGINT)
    said += process.communicate(timeout=30)[1]
    said = " ".join(said.split())
    assert (
        "chart sets parameter 'n', which no channel or task uses (no {{n}} in channels: or tasks:)"
        in said
    )
    assert said.count("which no channel or task uses") == 1
    assert process.returncode == 130


def test_a_used_parameter_is_not_warned_about(perfchart: Perfchart, tmp_path: Path) -> None:
    write(tmp_path)
    done = perfchart(
        "run", "config.yml", "-D", f"python={sys.executable}", "--results", "r", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert "WARNING" not in done.stderr


def test_a_config_value_that_breaks_bundled_chart_code_is_named_with_its_key(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    from interpreter.charts import bundled

    (explorer,) = [chart for chart in bundled() if chart.name == "multivariable-explorer"]
    config = tmp_path / "two.yml"
    config.write_text(
        "policies:\n  - class: multivariable-explorer\n    matrix:\n"
        "      a: {type: discrete, values: [1, 2]}\n"
        "    events:\n      signalEventCount: \"'two'\"\n      signal:\n"
        "        OK: CmdlineExitZeroEvent\n"
        "channels:\n  - class: cmdline\n    cmdline: 'true {{a}}'\n"
    )
    done = perfchart("run", "two.yml", "--dry-run", "--results", "r", "-q", cwd=tmp_path)
    assert done.returncode == 2
    # The chart asks for a count with evaluate_count, which names the entry before the value can
    # break a guard.
    assert explorer.path.read_text().count("evaluate_count(count") == 1
    assert (
        done.stderr
        == "perfchart: error: two.yml:6: policies[0].events.signalEventCount: expected a whole "
        "number of at least 1; \"'two'\" gave 'two'\n"
    )
