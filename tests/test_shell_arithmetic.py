"""Macros inside shell arithmetic, ``$(( ))``, under every POSIX shell there is here.

The same command templates are rendered as perfchart renders them and run
by real ``dash`` and ``bash`` processes (and busybox sh where installed);
``perfchart run`` runs them through ``/bin/sh``. A value there must be an
integer: anything else fails its run before any process starts.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from interpreter.channels.commands import CommandTemplate
from tests.conftest import Perfchart, sweep_config

SHELLS = [
    pytest.param(["dash"], id="dash"),
    pytest.param(["bash"], id="bash"),
    pytest.param(["bash", "--posix"], id="bash-posix"),
    pytest.param(
        ["busybox", "sh"],
        id="busybox",
        marks=pytest.mark.skipif(shutil.which("busybox") is None, reason="busybox not installed"),
    ),
]

#: Command templates, with values, and what they print.
TEMPLATES = [
    ("echo $(({{a}} + {{b}}))", {"a": 3, "b": 4}, "7"),
    ("echo $(( {{a}} * ({{b}} - 1) ))", {"a": 3, "b": 4}, "9"),
    ('echo "sum=$(({{a}}+{{b}}))"', {"a": -3, "b": 10}, "sum=7"),
    ("echo $(({{a}}0 + {{b}}))", {"a": 3, "b": 4}, "34"),
    ("echo $(( $(echo {{a}}) + {{b}} )) {{a}}", {"a": "2", "b": 5}, "7 2"),
    ("x=$(({{a}} + 1)); echo \"$x '{{label}}'\"", {"a": 1, "label": "it's $(x)"}, "2 'it's $(x)'"),
]


def _run(
    shell: list[str], template: str, values: dict[str, Any]
) -> subprocess.CompletedProcess[str]:
    command = CommandTemplate({"cmdline": template, "shell": True}).render(values)
    assert command.refused is None, command.refused
    assert isinstance(command.args, str)
    return subprocess.run(
        [*shell, "-c", command.args],
        env={**os.environ, **command.env},
        capture_output=True,
        text=True,
        timeout=10,
        check=False,
    )


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize(("template", "values", "printed"), TEMPLATES)
def test_arithmetic_on_macros_works_in_each_shell(
    shell: list[str], template: str, values: dict[str, Any], printed: str
) -> None:
    done = _run(shell, template, values)
    assert (done.returncode, done.stdout, done.stderr) == (0, printed + "\n", "")


def test_inside_arithmetic_a_macro_is_a_plain_variable_reference() -> None:
    template = CommandTemplate({"cmdline": 'echo $(({{a}} + {{b}})) "{{a}}"', "shell": True})
    assert template.script is not None
    assert template.script.text == 'echo $(($PERFCHART_a + $PERFCHART_b)) "${PERFCHART_a}"'
    assert template.script.arithmetic == {"PERFCHART_a", "PERFCHART_b"}


@pytest.mark.parametrize(
    "value", ["1; rm -rf x", "a[$(touch pwned)]", "x", "1.5", "", "08", "1 + 1", "$(id)"]
)
def test_a_value_that_is_not_an_integer_refuses_the_command(value: str) -> None:
    command = CommandTemplate({"cmdline": "echo $(({{a}} + 1))", "shell": True}).render(
        {"a": value}
    )
    assert command.refused == (
        "{{a}} stands in shell arithmetic $(( )), where its value must be an integer (without "
        f"leading zeros), got {value!r}: nothing was run"
    )


@pytest.mark.parametrize("shell", SHELLS)
def test_what_bash_would_run_from_arithmetic_is_never_handed_to_a_shell(
    shell: list[str], tmp_path: Path
) -> None:
    """Unchecked, ``a[$(touch pwned)]`` in ``$(( ))`` runs touch in bash: the check comes first."""
    template = "echo $(({{a}} + 1))"
    command = CommandTemplate({"cmdline": template, "shell": True}).render(
        {"a": "a[$(touch pwned)]"}
    )
    assert command.refused is not None
    # What the refusal prevents: the same script and value, run anyway, in this shell.
    assert isinstance(command.args, str)
    subprocess.run(
        [*shell, "-c", command.args],
        env={**os.environ, **command.env},
        cwd=tmp_path,
        capture_output=True,
        check=False,
        timeout=10,
    )
    if shell[0] == "bash":
        assert (tmp_path / "pwned").exists()


SUMS = sweep_config(
    '"echo $(({{a}} + {{b}}))"',
    matrix={"a": "{type: discrete, values: [1, 20]}", "b": "{type: discrete, values: [300, 4000]}"},
    options={"shell": "yes"},
)


def _records(results: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


def _printed(results: Path) -> list[str]:
    return [
        line.split(" stdout: ", 1)[1]
        for line in (results / "output.log").read_text().splitlines()
        if " stdout: " in line
    ]


@pytest.mark.slow
def test_perfchart_run_gives_the_right_sums_through_bin_sh(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "sums.yml"
    config.write_text(SUMS)
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"), "-q")
    assert done.returncode == 0, done.stderr
    records = _records(tmp_path / "r")
    assert [r["status"] for r in records] == ["OK"] * 4
    expected = [str(r["parameters"]["a"] + r["parameters"]["b"]) for r in records]
    assert sorted(_printed(tmp_path / "r")) == sorted(expected)


@pytest.mark.slow
def test_a_value_that_is_code_fails_its_run_and_runs_nothing(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    (tmp_path / "x").mkdir()
    config = tmp_path / "sums.yml"
    config.write_text(
        sweep_config(
            '"touch ran-{{a}}; echo $(({{a}} + {{b}}))"',
            matrix={
                "a": "{type: discrete, values: [1, '1; rm -rf x']}",
                "b": "{type: discrete, values: [2]}",
            },
            options={"shell": "yes"},
        )
    )
    done = perfchart("run", str(config), "--results", str(tmp_path / "r"), "-q")
    assert done.returncode == 1, done.stderr
    ok, refused = _records(tmp_path / "r")
    assert (ok["status"], refused["status"]) == ("OK", "FAILED")
    assert refused["last_stderr"] == (
        "cannot run /bin/sh: {{a}} stands in shell arithmetic $(( )), where its value must be an "
        "integer (without leading zeros), got '1; rm -rf x': nothing was run"
    )
    assert (tmp_path / "x").is_dir()
    # Only the first run started a shell: the refused one touched nothing.
    assert _printed(tmp_path / "r") == ["3"]
    assert sorted(p.name for p in tmp_path.glob("ran-*")) == ["ran-1"]


def test_a_dry_run_refuses_the_same_value_as_a_real_run(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "sums.yml"
    config.write_text(
        sweep_config(
            '"echo $(({{a}} + 1))"',
            matrix={"a": "{type: discrete, values: [1, 'x']}"},
            options={"shell": "yes", "simulate": '{output: "{{a}}"}'},
        )
    )
    done = perfchart("run", "--dry-run", str(config), "--results", str(tmp_path / "r"), "-q")
    assert done.returncode == 1, done.stderr
    ok, refused = _records(tmp_path / "r")
    assert (ok["status"], refused["status"], refused["exitcodes"]) == ("OK", "FAILED", [127])
    assert refused["last_stderr"] == (
        "cannot run /bin/sh: {{a}} stands in shell arithmetic $(( )), where its value must be an "
        "integer (without leading zeros), got 'x': nothing was run"
    )
