"""``perfchart run CONFIG --resume DIR``: the finished runs are kept, the rest run, into the same
files."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.config import ParameterMatrix
from tests.conftest import PERFCHART, Perfchart, sweep_config

#: No seed in the file: a resumed session must take the seed its samples were drawn with from
#: meta.json.
SWEEP = sweep_config(
    '"sleep 0.02; test {{a}} != 7 # {{s}}"',
    matrix={"a": "{type: range, min: 1, max: 8}", "s": "{min: 0, max: 100000, samples: 3}"},
    options={"shell": "yes"},
)


def records(results: Path) -> list[dict]:
    return [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]


def interrupted_after(config: Path, results: Path, runs: int) -> None:
    """Run *config* and Ctrl-C it once *runs* records are on disk."""
    process = subprocess.Popen(
        [*PERFCHART, "run", str(config), "--results", str(results), "-q"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    jsonl = results / "runs.jsonl"
    deadline = time.monotonic() + 30
    while not (jsonl.exists() and jsonl.read_text().count("\n") >= runs):
        assert process.poll() is None
        assert time.monotonic() < deadline
        time.sleep(0.01)
    os.kill(process.pid, signal.SIGINT)
    process.communicate(timeout=30)
    assert process.returncode == 130


@pytest.fixture
def sweep(tmp_path: Path) -> Path:
    config = tmp_path / "sweep.yml"
    config.write_text(SWEEP)
    return config


@pytest.mark.slow
def test_a_resumed_sweep_runs_each_combination_once_with_the_same_samples(
    perfchart: Perfchart, sweep: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r"
    interrupted_after(sweep, results, 5)
    before = records(results)
    seed = json.loads((results / "meta.json").read_text())["seed"]
    done = perfchart("run", str(sweep), "--resume", str(results), "-q")
    assert done.returncode == 1, done.stderr  # a=7 fails on purpose
    after = records(results)
    assert after[: len(before)] == before, "the records already there are kept as they were"
    finished = [
        (r["parameters"]["a"], r["parameters"]["s"]) for r in after if r["status"] != "interrupted"
    ]
    assert len(finished) == len(set(finished)) == 24, "every combination finished exactly once"
    samples = {r["parameters"]["s"] for r in after}
    assert len(samples) == 3, "the resumed session drew the same samples"
    assert [r["index"] for r in after] == list(range(1, len(after) + 1))
    assert len({r["trace"] for r in after}) == len(after)
    assert len({r["run"] for r in after}) == len(after)
    meta = json.loads((results / "meta.json").read_text())
    assert (meta["status"], meta["exit_status"], meta["runs"]) == ("finished", 1, len(after))
    assert meta["seed"] == seed
    (resume,) = meta["resumes"]
    assert resume["skipped"] == sum(1 for r in before if r["status"] != "interrupted")
    assert resume["forced"] is False
    assert len((results / "runs.csv").read_text().splitlines()) == len(after) + 1
    groups = json.loads((results / "summary.json").read_text())["groups"]
    assert sum(g["runs"] for g in groups) == len(after), (
        "the summary counts the runs of both sessions"
    )
    assert sum(g["ok"] for g in groups) == sum(1 for r in after if r["ok"])


@pytest.mark.slow
def test_resuming_a_finished_directory_runs_nothing(
    perfchart: Perfchart, sweep: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r"
    assert perfchart("run", str(sweep), "--results", str(results), "-q").returncode == 1
    before = records(results)
    done = perfchart("run", str(sweep), "--resume", str(results), "-q")
    assert done.returncode == 1, done.stderr
    assert records(results) == before
    assert json.loads((results / "meta.json").read_text())["runs"] == 24


@pytest.mark.slow
def test_a_changed_config_is_refused_unless_forced(
    perfchart: Perfchart, sweep: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r"
    interrupted_after(sweep, results, 3)
    sweep.write_text(SWEEP.replace("sleep 0.02", "sleep 0.01"))
    refused = perfchart("run", str(sweep), "--resume", str(results))
    assert refused.returncode == 2
    assert refused.stderr.startswith(
        f"perfchart: error: {results}: cannot resume: the configuration file changed (sha256 "
    )
    assert refused.stderr.rstrip().endswith("give --force to resume anyway")
    assert (
        perfchart(
            "run", str(sweep), "--resume", str(results), "-D", "x=1", "--force", "-q"
        ).returncode
        == 1
    )
    meta = json.loads((results / "meta.json").read_text())
    assert meta["resumes"][-1]["forced"] is True


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--seed", "12345"), "--seed 12345 differs from the seed"),
        (("-D", "extra=1"), "the definitions (define:, -D) differ"),
        (("--dry-run",), "a dry run cannot continue a real run"),
    ],
)
def test_another_seed_definitions_or_mode_is_refused(
    perfchart: Perfchart, sweep: Path, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    results = tmp_path / "r"
    interrupted_after(sweep, results, 2)
    refused = perfchart("run", str(sweep), "--resume", str(results), *args)
    assert refused.returncode == 2
    assert message in refused.stderr


@pytest.mark.slow
def test_a_last_line_cut_off_mid_write_is_dropped_and_the_rest_resumes(
    perfchart: Perfchart, sweep: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r"
    interrupted_after(sweep, results, 3)
    with (results / "runs.jsonl").open("a") as jsonl:
        jsonl.write('{"index": 99, "policy": "multivar')
    done = perfchart("run", str(sweep), "--resume", str(results))
    assert done.returncode == 1, done.stderr
    assert "dropping its last line, cut off mid-write" in done.stderr
    assert all(r["index"] != 99 for r in records(results))


@pytest.mark.slow
def test_a_damaged_line_in_the_middle_is_refused(
    perfchart: Perfchart, sweep: Path, tmp_path: Path
) -> None:
    results = tmp_path / "r"
    interrupted_after(sweep, results, 3)
    lines = (results / "runs.jsonl").read_text().splitlines(keepends=True)
    lines[1] = "garbage\n"
    (results / "runs.jsonl").write_text("".join(lines))
    refused = perfchart("run", str(sweep), "--resume", str(results))
    assert refused.returncode == 2
    assert f"{results / 'runs.jsonl'}:2: not a run record" in refused.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--force",), "--force only goes with --resume"),
        (("--resume", "nowhere"), "nowhere: no results to resume"),
    ],
)
def test_resume_usage_errors(
    perfchart: Perfchart, sweep: Path, args: tuple[str, ...], message: str
) -> None:
    done = perfchart("run", str(sweep), *args)
    assert done.returncode == 2
    assert message in done.stderr


MATRICES = st.fixed_dictionaries(
    {
        "d": st.just({"type": "discrete", "values": [1, "x", 2.5, None]}),
        "r": st.builds(
            lambda n: {"type": "range", "min": 0, "max": n, "step": 0.5}, st.integers(0, 3)
        ),
        "s": st.builds(lambda n: {"min": 0, "max": 1000, "samples": n}, st.integers(1, 5)),
    }
)


@settings(max_examples=60, deadline=None)
@given(spec=MATRICES, seed=st.integers(0, 2**31), pick=st.randoms(use_true_random=False))
def test_a_matrix_less_the_done_runs_is_exactly_the_rest_in_order(
    spec: dict, seed: int, pick: random.Random
) -> None:
    matrix = ParameterMatrix(spec, seed=seed)
    every = list(matrix)
    assert [matrix.position(p) for p in every] == list(range(len(every)))
    done = pick.sample(every, pick.randint(0, len(every)))
    rest = matrix.without([{**p, "other": 1} for p in done])
    expected = [p for p in every if p not in done]
    assert list(rest) == expected
    assert len(rest) == len(expected)
    assert [rest[i] for i in range(len(rest))] == expected
