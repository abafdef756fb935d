"""Chart code that raises what is not an ``Exception`` (``GeneratorExit``, ``SystemExit``, a bare
``BaseException``): one located line and exit 2, without a traceback, and the session's files
completed; only ``KeyboardInterrupt`` keeps its meaning (Ctrl-C, exit 130)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import Perfchart, sweep_config

CONFIG = sweep_config('"echo x"', matrix={}).replace(
    "class: multivariable-explorer", "statechart: boom.yaml"
)

#: Where chart code runs: (the chart's body, the line the error names, the place it names).
PLACES = {
    "preamble": (
        "  preamble: |\n    x = 1\n    raise {exc}\n  root state:\n    name: R\n    initial: E\n"
        "    states:\n      - name: E\n        type: final\n",
        5,
        "preamble",
    ),
    "on-entry": (
        "  root state:\n    name: R\n    initial: A\n    states:\n      - name: A\n"
        "        on entry: raise {exc}\n        transitions:\n          - target: E\n"
        "      - name: E\n        type: final\n",
        8,
        "state A (on entry)",
    ),
    "guard": (
        "  root state:\n    name: R\n    initial: A\n    states:\n      - name: A\n"
        "        transitions:\n          - target: E\n"
        "            guard: (_ for _ in ()).throw({exc})\n"
        "      - name: E\n        type: final\n",
        10,
        "transition A -> E (guard)",
    ),
}

EXCEPTIONS = {
    "GeneratorExit": ("GeneratorExit()", "GeneratorExit"),
    "BaseException": ("BaseException()", "BaseException"),
    "SystemExit": ("SystemExit(3)", "SystemExit: 3"),
    "subclass": ("type('Escape', (BaseException,), {})('out')", "Escape: out"),
}


@pytest.mark.slow
@pytest.mark.parametrize("place", PLACES)
@pytest.mark.parametrize("raised", EXCEPTIONS)
def test_chart_code_raising_a_base_exception_is_one_located_line(
    perfchart: Perfchart, tmp_path: Path, place: str, raised: str
) -> None:
    body, line, where = PLACES[place]
    code, shown = EXCEPTIONS[raised]
    chart = tmp_path / "boom.yaml"
    chart.write_text("statechart:\n  name: Boom\n" + body.format(exc=code))
    (tmp_path / "c.yml").write_text(CONFIG)
    results = tmp_path / "r"
    done = perfchart(
        "run", "c.yml", "--dry-run", "-q", "--results", str(results), cwd=tmp_path, subprocess=True
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"perfchart: error: {chart.name}:{line}: {where}: {shown} in `"), (
        lines
    )
    if place != "preamble":  # a preamble fails while loading: no session starts
        meta = json.loads((results / "meta.json").read_text())
        assert meta["status"] != "running"


@pytest.mark.slow
def test_a_real_run_whose_chart_raises_generator_exit_ends_cleanly(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    body, line, where = PLACES["on-entry"]
    chart = tmp_path / "boom.yaml"
    chart.write_text("statechart:\n  name: Boom\n" + body.format(exc="GeneratorExit()"))
    (tmp_path / "c.yml").write_text(CONFIG)
    done = perfchart("run", "c.yml", "-q", "--results", "r", cwd=tmp_path, subprocess=True)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"perfchart: error: {chart.name}:{line}: {where}: GeneratorExit in `raise GeneratorExit()`"
    )


@pytest.mark.slow
def test_keyboard_interrupt_in_chart_code_is_still_ctrl_c(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    body, _, _ = PLACES["on-entry"]
    (tmp_path / "boom.yaml").write_text(
        "statechart:\n  name: Boom\n" + body.format(exc="KeyboardInterrupt()")
    )
    (tmp_path / "c.yml").write_text(CONFIG)
    done = perfchart(
        "run", "c.yml", "--dry-run", "-q", "--results", "r", cwd=tmp_path, subprocess=True
    )
    assert done.returncode == 130, done.stderr
    assert "Traceback" not in done.stderr
