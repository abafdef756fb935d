"""The original driver's command line under ``perfchart run``: ``-r DIR``, ``-D``, ``-M`` and
several configuration files; its options perfchart does not implement refused by name."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from tests.conftest import Perfchart

#: A configuration in two files, as the original's users split theirs.
POLICY = """\
config:
  parameters: [{name: n}]
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix: {n: {type: discrete, values: [1, 2, 3]}}
    events: {signal: {OK: CmdlineExitEvent}}
"""
CHANNEL = """\
channels:
  - class: channel.CmdlineChannel
    cmdline: "echo {{greeting}} {{meta:owner}} {{n}}"
"""


def _files(tmp_path: Path) -> list[str]:
    paths = [tmp_path / "policy.yml", tmp_path / "channel.yml"]
    for path, text in zip(paths, (POLICY, CHANNEL), strict=True):
        path.write_text(text)
    return [str(path) for path in paths]


def test_the_originals_command_line_runs_under_perfchart_run(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    results = tmp_path / "results"
    args = ["-r", str(results), "-D", "greeting=hi", "-M", "owner=perf", *_files(tmp_path)]
    done = perfchart("run", "-q", *args, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(results / "runs.csv", newline="") as handle:
        assert [row["n"] for row in csv.DictReader(handle)] == ["1", "2", "3"]
    log = (results / "output.log").read_text().splitlines()
    assert [line.split(" stdout: ")[1] for line in log] == [f"hi perf {n}" for n in (1, 2, 3)]


@pytest.mark.parametrize(
    ("option", "says"),
    [
        (["-w", "4"], "-w/--workers is an option of the original driver that perfchart does not"),
        (["--workers", "4"], "-w/--workers is an option of the original driver"),
        (["--clock-fps", "30"], "--clock-fps is an option of the original driver"),
        (["--clock-ms", "33.3"], "--clock-ms is an option of the original driver"),
    ],
)
def test_an_option_of_the_original_perfchart_has_no_use_for_is_refused_by_name(
    perfchart: Perfchart, tmp_path: Path, option: list[str], says: str
) -> None:
    results = tmp_path / "results"
    done = perfchart("run", *option, "-r", str(results), *_files(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1].startswith(f"perfchart run: error: {says}")
    assert "implement: perfchart" in done.stderr
    assert not results.exists()
    assert "--workers" not in perfchart("run", "--help").stdout


def test_the_originals_command_line_without_a_command_says_how_to_run_it(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    done = perfchart("-r", "out", *_files(tmp_path), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stderr == (
        "perfchart: error: a configuration is run with `perfchart run FILE...` (the original "
        "driver took its files and options without a command)\n"
    )
    assert not (tmp_path / "out").exists()
