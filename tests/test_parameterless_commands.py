"""A command that uses no parameter runs once per run: with ``repeat: 8`` it runs 8 times, real and
dry, instead of never starting while its policy waits for its exit for ever."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from interpreter.channels.base import acts_on
from interpreter.core import ParameterUpdateEvent, RunKey
from tests.conftest import Perfchart

BENCH = "open('count.txt', 'a').write('ran\\n')\n"

SIMPLE = """\
config:
  repeat: 8
policies:
  - class: simple
    events:
      end: CmdlineExitZeroEvent
    timeout: 20s
channels:
  - class: cmdline
    cmdline: "{python} bench.py{argument}"
"""

EXPLORER = """\
config:
  repeat: 8
policies:
  - class: multivariable-explorer
    matrix:
      a: {{type: discrete, values: [1]}}
    events:
      signal:
        OK: CmdlineExitZeroEvent
        FAILED: CmdlineExitNonzeroEvent
channels:
  - class: cmdline
    cmdline: "{python} bench.py{argument}"
"""


def session(perfchart: Perfchart, tmp_path: Path, text: str, *extra: str) -> list[dict]:
    """Run *text* in *tmp_path*; its records, after checking it finished."""
    import sys

    (tmp_path / "bench.py").write_text(BENCH)
    (tmp_path / "c.yml").write_text(text.replace("{python}", sys.executable))
    done = perfchart("run", "c.yml", "-q", "--results", "r", *extra, cwd=tmp_path, timeout=60)
    assert done.returncode == 0, done.stderr
    meta = json.loads((tmp_path / "r" / "meta.json").read_text())
    assert meta["status"] == "finished"
    return [json.loads(line) for line in (tmp_path / "r" / "runs.jsonl").read_text().splitlines()]


CONFIGS = {
    "simple-no-macro": (SIMPLE.format(python="{python}", argument=""), ()),
    "simple-definition-only": (
        SIMPLE.format(python="{python}", argument=" {{size}}"),
        ("-D", "size=5"),
    ),
    "explorer-unused-parameter": (EXPLORER.format(python="{python}", argument=""), ()),
}


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS)
def test_a_command_using_no_parameter_runs_once_per_run(
    perfchart: Perfchart, tmp_path: Path, config: str
) -> None:
    text, extra = CONFIGS[config]
    records = session(perfchart, tmp_path, text, *extra)
    assert len(records) == 8
    assert [record["status"] for record in records] == ["OK"] * 8
    assert [record["exitcodes"] for record in records] == [[0]] * 8
    assert (tmp_path / "count.txt").read_text() == "ran\n" * 8


@pytest.mark.slow
@pytest.mark.parametrize("config", CONFIGS)
def test_a_dry_run_of_a_command_using_no_parameter_simulates_each_run(
    perfchart: Perfchart, tmp_path: Path, config: str
) -> None:
    text, extra = CONFIGS[config]
    records = session(perfchart, tmp_path, text, "--dry-run", *extra)
    assert [record["status"] for record in records] == ["OK"] * 8
    assert not (tmp_path / "count.txt").exists()


def update(changes: dict, parameters: dict, run: bool = True) -> ParameterUpdateEvent:
    return ParameterUpdateEvent(
        traceids=frozenset({1}),
        parameters=parameters,
        changes=changes,
        run=RunKey("p") if run else None,
    )


def test_a_block_acts_on_the_parameters_it_names_and_else_on_every_run() -> None:
    assert acts_on({"a"}, update({"a": 1}, {"a": 1}))
    # It names a parameter this step did not set: the process it started for that value stays.
    assert not acts_on({"a"}, update({"b": 2}, {"a": 1, "b": 2}))
    # It names no parameter of the run (nothing, or definitions only): it starts with each run.
    assert acts_on(set(), update({}, {}))
    assert acts_on({"size"}, update({"b": 2}, {"b": 2}))
    # An update no policy made starts no run.
    assert not acts_on(set(), update({}, {}, run=False))
