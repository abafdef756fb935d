"""A session's summary, streamed as runs close, is byte for byte the one SQLite groups at the end.

The streamed files are checked against the files of the grouping that files
every run and groups them when the session ends (the only path before
streaming, and still the path a report and a second repetition take), on the
same records, and against statistics computed here from the records.
"""

from __future__ import annotations

import csv
import json
import random
import statistics
from pathlib import Path
from typing import Any

import pytest

from interpreter.metrics import (
    Grouping,
    MetricSpec,
    SummaryView,
    summarizers,
    with_duration,
    write_summary,
)

LATENCY = ["mean", "stddev", "min", "max", "count", "p90", "median"]
METRICS = with_duration(
    [
        MetricSpec(
            "latency", summarizers(["mean", "stddev", "min", "max", "count", "p90", "median"])
        ),
        MetricSpec("wait", summarizers(["mean", "max", "mean_err"]), summarize_over="runs"),
    ]
)


def records(order: list[dict[str, Any]], seed: int = 1) -> list[dict[str, Any]]:
    """A closed run's record per parameter set in *order*: samples, a run value, an odd failure."""
    rng = random.Random(seed)
    out = []
    for index, parameters in enumerate(order):
        samples = [rng.uniform(1, 100) for _ in range(rng.randint(0, 4))]
        metrics: dict[str, Any] = {"wait": rng.choice([rng.uniform(0, 5), None, 3])}
        if samples:
            metrics["latency"] = statistics.mean(samples)
        out.append(
            {
                "index": index + 1,
                "parameters": parameters,
                "ok": rng.random() > 0.2,
                "duration": rng.choice([rng.uniform(0.001, 2.0), 1000.0]),
                "metrics": metrics,
                "samples": {"latency": samples},
                "warmup": index == 0,
            }
        )
    return out


def summarize(folder: Path, runs: list[dict[str, Any]], *, stream: bool) -> tuple[Grouping, Any]:
    folder.mkdir()
    grouping = Grouping.open(METRICS, stream=stream)
    for record in runs:
        grouping.add(record)
    return grouping, write_summary(folder, grouping)


def shown(view: SummaryView) -> Any:
    """What the terminal is given of a summary, as plain values."""
    rows = [[g.row(view.metrics) for g in part] for part in (view.head, view.tail, view.noisy)]
    return view.parameter_names, view.varied, view.count, view.noisy_count, rows


def both(tmp_path: Path, runs: list[dict[str, Any]]) -> tuple[bool, dict[str, Any]]:
    """Whether the streamed grouping kept to its stream, having checked that its files and view
    are the SQLite path's; the summary.json they both wrote."""
    streamed, view = summarize(tmp_path / "streamed", runs, stream=True)
    _, expected = summarize(tmp_path / "grouped", runs, stream=False)
    for name in ("summary.json", "summary.csv"):
        got = (tmp_path / "streamed" / name).read_bytes()
        assert got == (tmp_path / "grouped" / name).read_bytes(), name
    assert shown(view) == shown(expected)
    assert not (tmp_path / "streamed" / "summary.json.tmp").exists()
    summary = json.loads((tmp_path / "streamed" / "summary.json").read_text())
    return not streamed._grouped, summary


def grid(a: int, b: int, repeats: int = 1) -> list[dict[str, Any]]:
    """Each parameter set's runs one after another, as a single repetition of a sweep runs."""
    return [{"a": i, "b": f"x{j}"} for i in range(a) for j in range(b) for _ in range(repeats)]


def test_a_sweep_streams_and_writes_what_sqlite_groups(tmp_path: Path) -> None:
    runs = records(grid(7, 3, repeats=4))
    kept_to_stream, summary = both(tmp_path, runs)
    assert kept_to_stream
    # Every figure against the records themselves: the first run is a warm-up, left out.
    counted = runs[1:]
    assert len(summary["groups"]) == 21
    for group in summary["groups"]:
        mine = [r for r in counted if r["parameters"] == group["parameters"]]
        assert group["runs"] == len(mine)
        assert group["ok"] == sum(r["ok"] for r in mine)
        samples = [v for r in mine for v in r["samples"]["latency"]]
        latency = group["metrics"]["latency"]
        assert latency["count"] == len(samples)
        if samples:
            assert latency["mean"] == pytest.approx(statistics.mean(samples))
            assert latency["median"] == pytest.approx(statistics.median(samples))
            assert (latency["min"], latency["max"]) == (min(samples), max(samples))
        waits = [r["metrics"]["wait"] for r in mine if r["metrics"]["wait"] is not None]
        assert group["metrics"]["wait"]["max"] == (max(waits) if waits else None)
        durations = [r["duration"] for r in mine]
        assert group["metrics"]["duration"]["mean"] == pytest.approx(statistics.mean(durations))
    assert [g["parameters"] for g in summary["groups"]] == [
        {"a": i, "b": f"x{j}"} for i in range(7) for j in range(3)
    ]
    with (tmp_path / "streamed" / "summary.csv").open(newline="") as table:
        assert len(list(csv.DictReader(table))) == 21


@pytest.mark.parametrize("sets", [3, 1101])
def test_a_parameter_set_that_runs_again_later_falls_back_to_sqlite(
    tmp_path: Path, sets: int
) -> None:
    """A second repetition of a sweep: in the batch its first runs were filed in, or a batch of
    filings later (1000 runs a batch)."""
    order = [{"a": i} for i in range(sets)]
    kept_to_stream, summary = both(tmp_path, records(order + order[:5]))
    assert not kept_to_stream
    runs = {g["parameters"]["a"]: g["runs"] for g in summary["groups"]}
    again = min(5, sets)
    assert [runs[a] for a in range(again)] == [1] + [2] * (again - 1)  # the first is a warm-up


def test_a_parameter_name_that_appears_late_falls_back_to_sqlite(tmp_path: Path) -> None:
    order = [*grid(3, 2), {"a": 9, "b": "x0", "c": True}, {"a": 9, "b": "x1"}]
    kept_to_stream, summary = both(tmp_path, records(order))
    assert not kept_to_stream
    assert summary["parameters"] == ["a", "b", "c"]


def test_the_groups_the_terminal_shows_stream_too(tmp_path: Path) -> None:
    """More groups than the terminal shows from the head and the tail, noisy ones among them."""
    kept_to_stream, summary = both(tmp_path, records(grid(15, 2, repeats=3), seed=7))
    assert kept_to_stream
    assert len(summary["groups"]) == 30
    assert any("warnings" in group for group in summary["groups"])


def test_no_runs_at_all(tmp_path: Path) -> None:
    kept_to_stream, summary = both(tmp_path, [])
    assert kept_to_stream
    assert summary["groups"] == []
    assert summary["parameters"] == []


def test_an_outlier_rule_groups_in_sqlite(tmp_path: Path) -> None:
    """``outliers: no`` may read a group's values twice: such a summary is not streamed."""
    spec = MetricSpec("latency", summarizers([{"class": "@mean", "outliers": False}]))
    grouping = Grouping.open([spec], stream=True)
    assert grouping.stream is None
    grouping.close()
