"""``perfchart compare`` of very large sessions ends, in bounded memory: the table shows at most
``TABLE_ROWS`` rows (``--json`` has all), and what compare would have to hold beyond its limits is
refused in one line before it is read.
"""

from __future__ import annotations

import importlib
import json
from pathlib import Path

import pytest

from interpreter.cli.report import TABLE_ROWS, _shown
from interpreter.reports.compare import MAX_ROWS, MAX_SUMMARY, Row
from tests.conftest import PERFCHART, Perfchart
from tests.measured import run_measured

ROOT = Path(__file__).resolve().parents[1]
#: 100 x 250 parameter sets, one run each, in a dry run.
SETS = 25_000


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A finished dry run of 25,000 parameter sets, with its summary.json of about 4 MB."""
    import subprocess

    where = tmp_path_factory.mktemp("large")
    done = subprocess.run(
        [
            *PERFCHART,
            "run",
            str(ROOT / "benchmarks/dry_run.yml"),
            "--dry-run",
            "-q",
            "-D",
            f"b={SETS // 100}",
            "--results",
            str(where / "r"),
        ],
        capture_output=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    return where / "r"


@pytest.mark.slow
def test_25000_parameter_sets_are_compared_and_the_table_is_capped(
    large: Path, tmp_path: Path
) -> None:
    done = run_measured(
        "compare", str(large), str(large), "--json", "c.json", cwd=tmp_path, timeout=300
    )
    assert done.returncode == 0, done.stderr
    assert done.peak < 400 * 1024**2, f"peak RSS {done.peak / 1024**2:.0f} MiB"
    rows = [line for line in done.stdout.splitlines() if line.strip().startswith("a=")]
    assert len(rows) == TABLE_ROWS
    assert f"({SETS - TABLE_ROWS:,} more rows not shown" in done.stdout
    document = json.loads((tmp_path / "c.json").read_text())
    assert len(document["rows"]) == SETS
    assert {(r["parameters"]["a"], r["parameters"]["b"]) for r in document["rows"]} == {
        (a, b) for a in range(1, 101) for b in range(1, SETS // 100 + 1)
    }


@pytest.mark.slow
def test_a_summary_larger_than_compare_reads_is_refused_before_it_is_read(
    large: Path, tmp_path: Path
) -> None:
    huge = tmp_path / "huge"
    huge.mkdir()
    for name in ("meta.json", "runs.jsonl"):
        (huge / name).write_bytes((large / name).read_bytes())
    summary = json.loads((large / "summary.json").read_text())
    # 6 x 25,000 = 150,000 parameter sets (about 22 MB): new values of b for each copy.
    copies = [
        {**group, "parameters": {**group["parameters"], "b": group["parameters"]["b"] + k * SETS}}
        for k in range(6)
        for group in summary["groups"]
    ]
    (huge / "summary.json").write_text(json.dumps({**summary, "groups": copies}))
    size = (huge / "summary.json").stat().st_size
    assert size > MAX_SUMMARY
    done = run_measured("compare", str(huge), str(huge), cwd=tmp_path, timeout=120)
    assert done.returncode == 2, done.stderr
    assert done.stdout == ""
    assert done.stderr.strip() == (
        f"perfchart: error: {huge}/summary.json: {size / 1024**2:.0f} MiB, larger than the "
        f"{MAX_SUMMARY // 1024**2} MiB compare reads; compare sessions of fewer parameter sets or "
        "metrics"
    )
    assert done.peak < 100 * 1024**2, f"peak RSS {done.peak / 1024**2:.0f} MiB"


@pytest.mark.slow
def test_more_rows_than_compare_computes_are_refused(large: Path, perfchart: Perfchart) -> None:
    stats = ("mean", "stddev", "min", "max", "count")
    assert SETS * len(stats) > MAX_ROWS
    done = perfchart(
        "compare", str(large), str(large), *(f"--stat={s}" for s in stats), timeout=120
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"perfchart: error: {SETS * len(stats):,} rows to compare ({SETS:,} parameter sets in "
        f"both sessions, {len(stats)} statistics of their metrics), more than the {MAX_ROWS:,} "
        "compare computes; compare fewer statistics (--stat) or sessions of fewer parameter sets"
    )


def test_more_values_than_compare_holds_are_refused(
    perfchart: Perfchart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "c.yml"
    config.write_text((ROOT / "benchmarks/dry_run.yml").read_text())
    session = tmp_path / "r"
    made = perfchart(
        "run", str(config), "--dry-run", "-q", "-D", "a=3", "-D", "b=4", "--results", str(session)
    )
    assert made.returncode == 0, made.stderr
    # 12 runs a session, one value each: 24 in all; a limit of 10 is passed within the candidate.
    monkeypatch.setattr(importlib.import_module("interpreter.reports.compare"), "MAX_VALUES", 10)
    done = perfchart("compare", str(session), str(session))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"perfchart: error: {session}/runs.jsonl: more than 10 values of runs and samples to "
        "compare in the two sessions; compare fewer metrics, or sessions of fewer runs"
    )


def test_the_table_holds_every_regression_then_the_first_rows() -> None:
    rows = [Row({"i": i}, "x", "mean", 1.0, 2.0) for i in range(3 * TABLE_ROWS)]
    for i in (5, 2 * TABLE_ROWS, 3 * TABLE_ROWS - 1):
        rows[i].failed = ["x:mean > +10%"]
    shown = _shown(rows)
    assert len(shown) == TABLE_ROWS
    indexes = [row.parameters["i"] for row in shown]
    assert indexes == sorted(indexes)  # in the comparison's order
    assert {5, 2 * TABLE_ROWS, 3 * TABLE_ROWS - 1} <= set(indexes)
    assert indexes[: TABLE_ROWS - 2] == list(range(TABLE_ROWS - 2))
    assert _shown(rows[:TABLE_ROWS]) == rows[:TABLE_ROWS]
