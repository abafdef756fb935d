"""``include:``, several files on the command line and ``meta:`` with ``-M``: the original's merge
rules (lists concatenate, mappings merge), each entry still named at its own file and line."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from interpreter.errors import ConfigError
from interpreter.session import TestConfig, load_config
from tests.conftest import Perfchart

SETTINGS = """\
config:
  title: Sweep
  repeat: 2
  parameters: [{name: n, default: 1}]
  metrics: [{name: m, summarize: [mean]}]
define:
  greeting: hello
meta:
  owner: perf
policies:
  - class: multivariable-explorer
    matrix: {n: {type: discrete, values: [1, 2]}}
    events: {signal: {OK: CmdlineExitEvent}}
"""

MEASURE = """\
config:
  parameters: [{name: k, default: 3}]
  metrics: [{name: lines}]
define:
  farewell: bye
meta:
  team: core
channels:
  - class: cmdline
    cmdline: "echo {{greeting}} {{n}} {{meta:owner}}"
trackers:
  - class: count
    metric: lines
    events: LogLineEvent
"""

# What SETTINGS and MEASURE give merged by hand: lists concatenated, mappings merged.
MERGED = """\
config:
  title: Sweep
  repeat: 2
  parameters: [{name: n, default: 1}, {name: k, default: 3}]
  metrics: [{name: m, summarize: [mean]}, {name: lines}]
define:
  greeting: hello
  farewell: bye
meta:
  owner: perf
  team: core
policies:
  - class: multivariable-explorer
    matrix: {n: {type: discrete, values: [1, 2]}}
    events: {signal: {OK: CmdlineExitEvent}}
channels:
  - class: cmdline
    cmdline: "echo {{greeting}} {{n}} {{meta:owner}}"
trackers:
  - class: count
    metric: lines
    events: LogLineEvent
"""


def _files(tmp_path: Path, **texts: str) -> dict[str, Path]:
    paths = {}
    for name, text in texts.items():
        path = tmp_path / f"{name}.yml"
        path.write_text(text)
        paths[name] = path
    return paths


def _result(config: TestConfig) -> dict[str, Any]:
    """Everything a loaded configuration says, without where it was read from."""
    return {
        "title": config.title,
        "repeat": config.repeat,
        "parameters": config.parameters,
        "definitions": config.definitions,
        "meta": config.meta,
        "metrics": config.metrics,
        "policies": [(p.chart.name, dict(p.config)) for p in config.policies],
        "channels": [(c.cls, dict(c.config)) for c in config.channels],
        "tasks": config.tasks,
        "trackers": [(t.cls, dict(t.config)) for t in config.trackers],
    }


def test_an_include_and_two_files_load_as_the_merged_file(tmp_path: Path) -> None:
    paths = _files(
        tmp_path,
        settings=SETTINGS,
        measure=MEASURE,
        merged=MERGED,
        main="include:\n  - settings.yml\n  - measure.yml\n",
    )
    merged = _result(load_config(paths["merged"]))
    assert merged["definitions"] == {"greeting": "hello", "farewell": "bye"}
    assert merged["meta"] == {"owner": "perf", "team": "core"}
    assert [p.name for p in merged["parameters"]] == ["n", "k"]
    assert _result(load_config(paths["main"])) == merged
    assert _result(load_config([paths["settings"], paths["measure"]])) == merged


def test_the_including_file_and_earlier_files_win_a_scalar(tmp_path: Path) -> None:
    paths = _files(
        tmp_path,
        settings=SETTINGS,
        other="config:\n  title: Other\n  repeat: 5\n"
        "channels: [{class: cmdline, cmdline: 'true'}]\n",
        main="config:\n  title: Mine\ninclude: [other.yml, settings.yml]\n",
    )
    config = load_config(paths["main"])
    assert (config.title, config.repeat) == ("Mine", 5)
    config = load_config([paths["settings"], paths["other"]])
    assert (config.title, config.repeat) == ("Sweep", 2)


def test_an_error_in_a_fragment_names_the_fragment_and_its_line(tmp_path: Path) -> None:
    paths = _files(
        tmp_path,
        settings=SETTINGS,
        broken="trackers:\n  - class: count\n    metric: nosuch\n    events: LogLineEvent\n",
        main="include: [settings.yml, broken.yml]\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(paths["main"])
    assert str(caught.value) == (
        f"{paths['broken']}:3: trackers[0].metric: metric 'nosuch' is not declared in "
        "config.metrics (declared: m)"
    )


def test_an_include_cycle_is_refused_at_the_line_that_closes_it(tmp_path: Path) -> None:
    paths = _files(
        tmp_path,
        a=SETTINGS + "include: [b.yml]\n",
        b="define:\n  x: 1\ninclude:\n  - c.yml\n",
        c="include:\n  - a.yml\n",
    )
    with pytest.raises(ConfigError) as caught:
        load_config(paths["a"])
    assert str(caught.value) == (
        f"{paths['c']}:2: include[0]: include cycle: a.yml includes b.yml includes c.yml "
        "includes a.yml"
    )


def test_an_include_that_is_missing_or_not_a_mapping_is_refused_at_its_line(
    tmp_path: Path,
) -> None:
    paths = _files(tmp_path, a=SETTINGS + "include:\n  - nosuch.yml\n", b="- 1\n")
    with pytest.raises(ConfigError, match=r"a\.yml:15: include\[0\]: no file 'nosuch.yml'"):
        load_config(paths["a"])
    paths["a"].write_text(SETTINGS + "include: b.yml\n")
    with pytest.raises(ConfigError, match=r"a\.yml:14: include: b.yml holds a list, not a"):
        load_config(paths["a"])


def test_a_chart_file_is_found_beside_the_fragment_that_names_it(tmp_path: Path) -> None:
    (tmp_path / "lib").mkdir()
    chart = Path(__file__).resolve().parent.parent / "statecharts" / "simple.yaml"
    (tmp_path / "lib" / "mine.yaml").write_text(chart.read_text())
    paths = _files(tmp_path, main="include: [lib/policy.yml]\n")
    (tmp_path / "lib" / "policy.yml").write_text(
        "policies:\n  - statechart: mine.yaml\n    parameters: {}\n    timeout: 1s\n"
    )
    assert load_config(paths["main"]).policies[0].chart.path == tmp_path / "lib" / "mine.yaml"


def test_meta_macros_read_the_top_level_meta_and_minus_m_wins(tmp_path: Path) -> None:
    paths = _files(tmp_path, merged=MERGED)
    config = load_config(paths["merged"], meta={"owner": "me"})
    assert config.meta == {"owner": "me", "team": "core"}
    assert config.macro_values["meta:owner"] == "me"


def test_run_merges_several_files_and_takes_meta(perfchart: Perfchart, tmp_path: Path) -> None:
    paths = _files(tmp_path, settings=SETTINGS, measure=MEASURE)
    done = perfchart(
        "run",
        "--dry-run",
        "-q",
        "-M",
        "owner=me",
        str(paths["settings"]),
        str(paths["measure"]),
        "--results",
        str(tmp_path / "out"),
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    header, *rows = (tmp_path / "out" / "runs.csv").read_text().splitlines()
    assert header.endswith(
        ",n,k,metric:m,metric:lines,metric:cpu_user,metric:cpu_system,metric:max_rss"
    )
    assert len(rows) == 4  # two values of n, repeat 2
