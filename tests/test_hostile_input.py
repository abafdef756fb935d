"""Hostile and broken input, through the real command: one located line and exit 2, in bounded time
and memory."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.conftest import PERFCHART, Done, Perfchart, sweep_config

BASE = sweep_config(
    '"echo {{a}}"',
    matrix={"a": "{type: discrete, values: [1, 2]}"},
    head="config:\n  title: hostile\n",
)

#: About 800 bytes that expand to 9**9 values.
BOMB = "  a0: &a0 [x, x, x, x, x, x, x, x, x]\n" + "".join(
    f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]\n" for i in range(1, 9)
)


def timed(perfchart: Perfchart, *args: str, cwd: Path | None = None) -> tuple[Done, float]:
    """The command's answer and the seconds it took."""
    started = time.monotonic()
    done = perfchart(*args, cwd=cwd)
    return done, time.monotonic() - started


def rejected(
    perfchart: Perfchart, tmp_path: Path, text: str, *extra: str, seconds: float = 10
) -> str:
    """Run *text* as a config: it must fail with exit 2, one line, no traceback, in bounded time;
    the line is returned."""
    config = tmp_path / "c.yml"
    config.write_text(text)
    done, took = timed(perfchart, "run", str(config), "--results", str(tmp_path / "r"), *extra)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr[:2000]
    assert "Traceback" not in done.stderr
    assert len(lines[0]) < 1600
    assert took < seconds, f"took {took:.1f}s"
    return lines[0]


@pytest.mark.parametrize("section", ["define", "meta"])
def test_an_alias_bomb_is_refused_in_a_moment(
    perfchart: Perfchart, tmp_path: Path, section: str
) -> None:
    body = BASE.split("\n", 2)[2]
    if section == "define":
        text = "define:\n" + BOMB + "config:\n  title: hostile\n" + body
    else:
        text = "config:\n  title: hostile\n  meta:\n" + BOMB.replace("  ", "    ") + body
    assert len(BOMB) < 800
    line = rejected(perfchart, tmp_path, text, seconds=5)
    assert "anchors and aliases expand this to more than 100000 values" in line
    assert str(tmp_path / "c.yml") in line
    assert not (tmp_path / "r").exists()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            BASE.replace("title: hostile", "title: '{{nosuch}}'"),
            "c.yml:2: config.title: macro {{nosuch}} has no value",
        ),
        (
            BASE.replace("title: hostile", "title: hostile\n  {[1, 2]: x}: y"),
            "c.yml:3: a key must be a plain value such as a name or a number, not a list",
        ),
        ("a: " + "[" * 5000 + "]" * 5000 + "\n", "c.yml:1: "),
        ("a: " + "[" * 500 + "]" * 500 + "\n", "c.yml:1: nested more than 100 levels deep"),
        ("a: &a [*a]\n", "c.yml:1: an alias refers to the value that contains it"),
        (
            BASE.replace("title: hostile", "title: 'hostile"),
            "c.yml:2: invalid YAML: the quoted string that starts here is never closed",
        ),
        (
            BASE.replace("OK: CmdlineExitZeroEvent", 'OK: ""'),
            "c.yml:9: policies[0].events.signal.OK: expected a non-empty string",
        ),
        (
            BASE.replace(
                "      signal:", '      signalEventCount: "3999999**3999999 > 1"\n      signal:'
            ),
            'signalEventCount: cannot evaluate "3999999**3999999 > 1": '
            "3999999 ** 3999999 would have more than 100000 bits",
        ),
        (
            BASE.replace("      signal:", "      signalEventCount: \"'two'\"\n      signal:"),
            "signalEventCount: expected a whole number of at least 1; \"'two'\" gave 'two'",
        ),
        (
            BASE.replace("      signal:", '      signalEventCount: "a - 3"\n      signal:'),
            'signalEventCount: expected a whole number of at least 1; "a - 3" gave -2',
        ),
        (
            BASE.replace("      signal:", "      signalEventCount: 0.5\n      signal:"),
            "signalEventCount: expected an integer or a string, got a number",
        ),
        (
            BASE.replace(
                "a: {type: discrete, values: [1, 2]}",
                "a: {type: range, min: 1, max: 10000000}\n"
                "      b: {type: range, min: 1, max: 10000000}\n"
                "      c: {type: range, min: 1, max: 10000000}",
            ),
            "c.yml:6: policies[0].matrix: 10000000 x 10000000 x 10000000 = 1e+21 permutations, "
            "more than",
        ),
    ],
    ids=[
        "title-macro",
        "unhashable-key",
        "nested-5000",
        "nested-500",
        "recursive-alias",
        "unclosed-quote",
        "empty-filter",
        "power",
        "count-text",
        "count-negative",
        "count-float",
        "2^63",
    ],
)
def test_bad_input_is_one_located_line_and_exit_2(
    perfchart: Perfchart, tmp_path: Path, text: str, expected: str
) -> None:
    assert expected in rejected(perfchart, tmp_path, text, "--dry-run", "-q")


def test_a_huge_expression_is_not_repeated_in_its_error(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    huge = " + ".join(["a"] * 70_000) + " + nosuch"
    line = rejected(
        perfchart,
        tmp_path,
        BASE.replace("      signal:", f'      signalEventCount: "{huge}"\n      signal:'),
        "--dry-run",
    )
    assert "characters, more than 10000" in line


def test_a_bad_type_in_a_chart_header_schema_says_what_is_expected(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "mine.yaml").write_text(
        "perfchart:\n  name: mine\n  config:\n    type: object\n    properties:\n"
        "      x: {type: strin}\n"
        "statechart:\n  name: S\n  root state:\n    name: R\n    initial: E\n    states:\n"
        "      - name: E\n        type: final\n"
    )
    line = rejected(
        perfchart,
        tmp_path,
        BASE.replace("class: multivariable-explorer", "statechart: mine.yaml"),
        "--dry-run",
    )
    assert line.endswith(
        "mine.yaml:6: perfchart.config.properties.x.type: invalid JSON Schema: expected one of: "
        "array, boolean, integer, null, number, object, string; got 'strin'"
    )


def test_a_misspelt_config_key_is_an_error_even_with_q(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    line = rejected(
        perfchart, tmp_path, BASE.replace("title: hostile", "titel: hostile"), "--dry-run", "-q"
    )
    assert "c.yml:2: config.titel: unknown key 'titel' (did you mean title?" in line


def test_a_chart_without_a_final_state_is_refused_at_load(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "loop.yaml").write_text(
        "statechart:\n  name: Loop\n  root state:\n    name: R\n    initial: A\n    states:\n"
        "      - name: A\n"
    )
    line = rejected(
        perfchart,
        tmp_path,
        BASE.replace("class: multivariable-explorer", "statechart: loop.yaml"),
        "--dry-run",
    )
    assert line.endswith(
        "loop.yaml:4: no final state of the root state is reachable: the policy could never end"
    )


@pytest.mark.parametrize(
    ("results", "reason"),
    [
        ("afile", "it is a file"),
        ("afile/below", "a part of the path is a file"),
        ("/proc/perfchart-results", "No such file or directory"),
    ],
)
def test_a_results_directory_that_cannot_be_written_is_exit_2(
    perfchart: Perfchart, tmp_path: Path, results: str, reason: str
) -> None:
    (tmp_path / "afile").write_text("")
    config = tmp_path / "c.yml"
    config.write_text(BASE)
    done = perfchart("run", str(config), "--dry-run", "-q", "--results", results, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr
        == f"perfchart: error: {results}: cannot write results there: {reason}"
        + (" (/proc/perfchart-results)" if results.startswith("/proc") else "")
        + "; choose another --results directory\n"
    )


@pytest.mark.slow
def test_a_closed_stdout_does_not_turn_a_good_run_into_an_error(tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(
        BASE.replace("{type: discrete, values: [1, 2]}", "{type: range, min: 1, max: 3000}")
    )
    process = subprocess.Popen(
        [*PERFCHART, "run", str(config), "--dry-run", "--results", str(tmp_path / "r")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    assert process.stderr is not None
    assert process.stdout.readline().split()[0] == "1"
    process.stdout.close()  # what `| head -1` does
    stderr = process.stderr.read()
    assert process.wait(timeout=60) == 0, stderr
    assert "Traceback" not in stderr
    assert "error" not in stderr
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert (meta["status"], meta["runs"]) == ("finished", 3000)


def test_policies_into_a_closed_pipe_exits_0() -> None:
    process = subprocess.Popen(
        [*PERFCHART, "policies"], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    assert process.stdout is not None
    assert process.stderr is not None
    process.stdout.close()
    assert process.wait(timeout=30) == 0
    assert process.stderr.read() == b""


def test_a_long_stderr_line_is_shortened_in_the_summary_and_kept_in_output_log(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(
        BASE.replace(
            'cmdline: "echo {{a}}"',
            "cmdline: \"{{python}} -c 'import sys; "
            'sys.stderr.write(\\"x\\" * 100000 + \\"\\\\n\\"); sys.exit({{a}})\'"',
        )
    )
    done, took = timed(
        perfchart,
        "run",
        str(config),
        "-D",
        f"python={sys.executable}",
        "--results",
        str(tmp_path / "r"),
    )
    assert done.returncode == 1, done.stderr
    assert took < 15
    assert len(done.stdout + done.stderr) < 5000
    assert "more characters)" in done.stdout  # the summary is the output
    record = json.loads((tmp_path / "r" / "runs.jsonl").read_text().splitlines()[0])
    assert record["last_stderr"].startswith("x" * 1000 + "… (")
    assert len(record["last_stderr"]) < 1100
    # A line longer than 64 KiB arrives in pieces, so reading it never holds more than that.
    assert (tmp_path / "r" / "output.log").read_text().count("x") == 2 * 100000


def test_a_run_ended_by_its_timeout_is_recorded_and_shown_as_timeout(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(
        BASE.replace('cmdline: "echo {{a}}"', 'cmdline: "sleep {{a}}0"\n    timeout: 0.2s')
    )
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"))
    assert done.returncode == 1
    records = [
        json.loads(line) for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()
    ]
    assert [(r["status"], r["timedout"], r["flags"]["status"]) for r in records] == [
        ("TIMEOUT", True, "FAILED")
    ] * 2
    assert "TIMEOUT" in done.stderr
    assert "timedout" in (tmp_path / "r" / "runs.csv").read_text().splitlines()[0]


def test_a_missing_cwd_is_blamed_on_the_cwd(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(
        BASE.replace('cmdline: "echo {{a}}"', 'cmdline: "echo {{a}}"\n    cwd: no-such-dir')
    )
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"))
    assert done.returncode == 1
    record = json.loads((tmp_path / "r" / "runs.jsonl").read_text().splitlines()[0])
    assert (
        record["last_stderr"]
        == f"cannot run echo: its working directory (cwd) {tmp_path / 'no-such-dir'} does not exist"
    )


def test_failing_chart_code_is_one_line_naming_the_line_that_failed(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    body = "".join(f"    x{i} = {i}\n" for i in range(200)) + "    1 / 0\n"
    (tmp_path / "boom.yaml").write_text(
        "statechart:\n  name: Boom\n  preamble: |\n"
        + body
        + "  root state:\n    name: R\n    initial: E\n    states:\n      - name: E\n"
        "        type: final\n"
    )
    config = BASE.replace("class: multivariable-explorer", "statechart: boom.yaml").replace(
        "echo {{a}}", "echo x"
    )
    line = rejected(perfchart, tmp_path, config, "--dry-run", "-q")
    assert "boom.yaml:204: " in line
    assert "ZeroDivisionError: division by zero in `1 / 0`" in line
