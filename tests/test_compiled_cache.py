"""Which engine runs a chart, said by ``check -v``; the compiled table kept on disk per content.

A chart outside the compiled subset runs on sismic and ``check -v`` names
what it uses and where; the table of a chart inside it is written once to
the user's cache directory and read back by the next start without being
computed again. A cache that cannot be written or read, or holds another
chart's table, changes nothing but the time it takes.
"""

from __future__ import annotations

import marshal
import os
import re
from pathlib import Path

import pytest

from interpreter.charts import load_chart, resolve
from interpreter.engine import compiled, engine_for, tables
from interpreter.testing import PolicyHarness
from tests.conftest import Perfchart, environ

ROOT = Path(__file__).resolve().parent.parent

#: A policy with a shallow history state (line 13), which the compiled subset leaves out.
HISTORY = """\
statechart:
  name: Remembers
  root state:
    name: R
    initial: A
    states:
      - name: A
        initial: A1
        transitions:
          - target: End
            event: task_completed
        states:
          - name: H
            type: shallow history
          - name: A1
            on entry: |
              policy.set_parameters({'x': 1})
              policy.run_task('intertest')
      - name: End
        type: final
        on entry: policy.end_run()
"""

#: The same policy without it: compiled.
PLAIN = HISTORY.replace("          - name: H\n            type: shallow history\n", "")


def chart_file(folder: Path, text: str, name: str = "chart.yaml") -> Path:
    path = folder / name
    path.write_text(text)
    return path


def kept(cache: Path) -> list[Path]:
    return sorted((cache / "perfchart" / "charts").glob("*.chart"))


def test_check_verbose_names_the_engine_of_each_chart_and_why(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    history = chart_file(tmp_path, HISTORY, "history.yaml")
    plain = chart_file(tmp_path, PLAIN, "plain.yaml")
    env = environ(XDG_CACHE_HOME=str(tmp_path / "cache"))
    result = perfchart("check", "-v", str(history), str(plain), env=env)
    lines = result.stderr.splitlines()
    assert f"{history}: engine: sismic (uses a history state at line 13)" in lines
    assert f"{plain}: engine: compiled" in lines
    assert lines[-1] == "2 files checked: 0 errors, 1 warning"  # H is never entered
    assert result.returncode == 0


def test_check_verbose_names_the_engine_of_every_chart_a_configuration_uses(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = ROOT / "examples" / "sweep.yml"
    env = environ(XDG_CACHE_HOME=str(tmp_path / "cache"))
    verbose = perfchart("check", "-v", str(config), env=env, cwd=config.parent)
    plain = perfchart("check", str(config), env=env, cwd=config.parent)
    engines = [line for line in verbose.stderr.splitlines() if ": engine: " in line]
    assert engines == [f"{resolve('multivariable-explorer').path}: engine: compiled"]
    # Without -v the output is what it was: no engine line.
    assert plain.stderr.splitlines() == [
        line for line in verbose.stderr.splitlines() if ": engine: " not in line
    ]
    assert verbose.returncode == plain.returncode == 0


def test_a_chart_outside_the_subset_still_runs_on_sismic(tmp_path: Path) -> None:
    harness = PolicyHarness(chart_file(tmp_path, HISTORY), {}, validate_config=False)
    assert harness.runner.engine == "sismic (uses a history state at line 13)"
    assert type(harness.runner.interpreter).__name__ == "ChartInterpreter"
    harness.complete("intertest")
    assert harness.runner.final
    assert [run["parameters"] for run in harness.runs] == [{"x": 1}]


def test_a_chart_inside_the_subset_runs_compiled(tmp_path: Path) -> None:
    harness = PolicyHarness(chart_file(tmp_path, PLAIN), {}, validate_config=False)
    assert harness.runner.engine == "compiled"
    assert type(harness.runner.interpreter).__name__ == "CompiledChartInterpreter"
    harness.complete("intertest")
    assert harness.runner.final
    assert [run["parameters"] for run in harness.runs] == [{"x": 1}]


def test_the_table_is_written_once_and_read_back_without_compiling(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = chart_file(tmp_path, PLAIN)
    first, line = engine_for(load_chart(path))
    assert line == "compiled"
    assert first is not None
    [written] = kept(tmp_path / "cache")
    assert re.fullmatch(r"[0-9a-f]{40}\..+\.f\d+\.chart", written.name)
    stamp = written.stat().st_mtime_ns

    def no_compiling(*_: object) -> None:
        raise AssertionError("compiled again")

    monkeypatch.setattr(tables, "compile_chart", no_compiling)
    again, _ = engine_for(load_chart(path))  # a new start: the chart loaded afresh
    assert again is not None
    assert again.plans == first.plans
    assert again.moves == first.moves
    assert kept(tmp_path / "cache") == [written]
    assert written.stat().st_mtime_ns == stamp


def test_an_edited_chart_gets_a_table_of_its_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = chart_file(tmp_path, PLAIN)
    engine_for(load_chart(path))
    path.write_text(PLAIN.replace("{'x': 1}", "{'x': 2}"))
    table, _ = engine_for(load_chart(path))
    assert len(kept(tmp_path / "cache")) == 2
    assert table is not None
    assert "policy.set_parameters({'x': 2})\n" in "".join(table.code)


@pytest.mark.parametrize("garbage", [b"", b"not marshal", marshal.dumps(("0" * 64, (1, 2)))])
def test_a_damaged_or_foreign_table_is_computed_again_and_replaced(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, garbage: bytes
) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    path = chart_file(tmp_path, PLAIN)
    good, _ = engine_for(load_chart(path))
    [written] = kept(tmp_path / "cache")
    written.write_bytes(garbage)
    table, line = engine_for(load_chart(path))
    assert line == "compiled"
    assert table is not None
    assert table.plans == good.plans
    digest, data = marshal.loads(written.read_bytes())
    assert data[0] == compiled.FORMAT


def test_a_cache_that_cannot_be_written_changes_nothing_but_the_time(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    path = chart_file(tmp_path, PLAIN)
    result = perfchart("check", "-v", str(path), env=environ(XDG_CACHE_HOME=str(blocked)))
    assert f"{path}: engine: compiled" in result.stderr.splitlines()
    assert result.returncode == 0
    assert blocked.read_text() == "not a directory"


def test_without_a_home_there_is_no_cache_and_the_chart_still_runs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)

    def homeless() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(homeless))
    assert tables.cache_file("0" * 64) is None
    harness = PolicyHarness(chart_file(tmp_path, PLAIN), {}, validate_config=False)
    assert harness.runner.engine == "compiled"
    assert not os.path.exists(tmp_path / ".cache")
