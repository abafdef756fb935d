"""``perfchart compare`` with statistics, on real sessions of a seeded, noisy workload.

Each run of ``draw.py`` prints one value drawn from a seeded, skewed
distribution (within about 10 % of its scale, and one run in twenty ten
times slower: timing data's long tail). Two sessions with different seeds
draw from the same distribution; a third multiplies every value by 1.3.
Every figure is checked against one computed here from runs.jsonl: U by
counting pairs, its exact distribution from the Gaussian binomial
coefficient (not the recurrence perfchart counts with), the shift's
interval from the sorted differences.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
import statistics
import sys
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import Perfchart, environ

ROOT = Path(__file__).resolve().parent.parent

DRAW = '''
"""One run's values: seeded draws from a skewed distribution, each printed as x=VALUE."""
import pathlib
import random
import sys

scale, seed, factor, samples = float(sys.argv[1]), sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
counter = pathlib.Path(f"draws-{seed}-{scale:g}-{factor:g}.count")
k = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(k + 1))
rng = random.Random(f"{seed}:{scale:g}:{k}")
for _ in range(samples):
    slow = 10.0 if rng.random() < 0.05 else 1.0
    print(f"x={scale * factor * slow * rng.lognormvariate(0, 0.1):.6f}")
'''

CONFIG = """
config:
  repeat: {repeat}
  metrics:
    - {{name: x, units: ms, summarize: [mean, stddev, p95]}}
policies:
  - class: multivariable-explorer
    matrix:
      scale: {{type: discrete, values: {scales}}}
    events:
      signal: {{OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}}
channels:
  - class: channel.CmdlineChannel
    cmdline: "{{{{python}}}} draw.py {{{{scale}}}} {{{{seed}}}} {{{{factor}}}} {{{{samples}}}}"
trackers:
  - class: attribute
    event: LogLineEvent
    extract: [{{metric: x, attrib: line, match: 'x=([0-9.]+)'}}]
"""

GATE = "x:mean > +10%"
ALPHA = 0.05


class Sessions:
    def __init__(self, perfchart: Perfchart, tmp: Path) -> None:
        self.perfchart, self.tmp = perfchart, tmp
        (tmp / "draw.py").write_text(DRAW)

    def run(
        self,
        name: str,
        seed: str,
        factor: float = 1.0,
        repeat: int = 20,
        scales: str = "[100, 200]",
        samples: int = 1,
    ) -> Path:
        config = self.tmp / f"{name}.yml"
        config.write_text(CONFIG.format(repeat=repeat, scales=scales))
        results = self.tmp / name
        defines = ["-D", f"python={sys.executable}", "-D", f"seed={seed}", "-D", f"factor={factor}"]
        defines += ["-D", f"samples={samples}"]
        done = self.perfchart(
            "run", config.name, "-q", *defines, "--results", str(results), cwd=self.tmp
        )
        assert done.returncode == 0, done.stderr
        return results


@pytest.fixture(scope="module")
def sessions(perfchart: Perfchart, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    made = Sessions(perfchart, tmp_path_factory.mktemp("draws"))
    return {
        "baseline": made.run("baseline", "a"),
        "same": made.run("same", "b"),
        "shifted": made.run("shifted", "e", factor=1.3),
        "elsewhere": made.run("elsewhere", "f", repeat=1, scales="[300, 400]"),
        "partly": made.run("partly", "g", repeat=1, scales="[200, 300]"),
        "sampled": made.run("sampled", "h", repeat=4, scales="[100]", samples=10),
        "sampled-slower": made.run(
            "sampled-slower", "i", 1.3, repeat=4, scales="[100]", samples=10
        ),
    }


def values(results: Path) -> dict[int, list[float]]:
    """Each parameter set's values of x, by scale, read from runs.jsonl."""
    found: dict[int, list[float]] = defaultdict(list)
    for line in (results / "runs.jsonl").read_text().splitlines():
        record = json.loads(line)
        found[record["parameters"]["scale"]].append(record["metrics"]["x"])
    return found


def u_distribution(n: int, m: int) -> list[int]:
    """How many splits give each U: the coefficients of the Gaussian binomial [n+m choose n]_q."""
    poly = [1]
    for i in range(1, n + 1):
        times = poly + [0] * (m + i)  # times (1 - q^(m+i))
        times = [c - (times[j - m - i] if j >= m + i else 0) for j, c in enumerate(times)]
        quotient: list[int] = []  # divided by (1 - q^i): a polynomial at every step
        for j, c in enumerate(times):
            quotient.append(c + (quotient[j - i] if j >= i else 0))
        poly = quotient[: i * m + 1]
    return poly


def expected_test(baseline: list[float], candidate: list[float], alpha: float) -> dict[str, Any]:
    """U, the exact two-sided p-value, the Hodges-Lehmann shift and its interval, computed from
    their definitions.
    """
    assert len(set(baseline + candidate)) == len(
        baseline + candidate
    )  # no ties: the exact distribution applies
    n, m = len(baseline), len(candidate)
    u = sum(1 for x in baseline for y in candidate if y > x)
    counts = u_distribution(n, m)
    total = math.comb(n + m, n)
    assert sum(counts) == total
    p = min(1.0, 2 * min(sum(counts[: u + 1]), sum(counts[u:])) / total)
    differences = sorted(y - x for x in baseline for y in candidate)
    k = next(k for k in range(len(counts)) if sum(counts[: k + 1]) / total >= alpha / 2)
    return {
        "u": u,
        "p": p,
        "shift": statistics.median(differences),
        "ci": [differences[k - 1], differences[-k]],
    }


def compare(
    perfchart: Perfchart, tmp: Path, base: Path, cand: Path, *options: str
) -> tuple[Any, dict[str, Any]]:
    report = tmp / f"{base.name}-{cand.name}.json"
    done = perfchart(
        "compare", str(base), str(cand), *options, "--json", str(report), env=environ(COLUMNS="200")
    )
    return done, json.loads(report.read_text()) if report.exists() else {}


def check_rows(
    document: dict[str, Any], base: Path, cand: Path, gate: str, alpha: float
) -> list[tuple[int, float, bool]]:
    """Every x:mean row against values computed from the runs; returns (scale, change %, regression)
    per set.
    """
    old, new = values(base), values(cand)
    seen = []
    rows = [row for row in document["rows"] if row["metric"] == "x" and row["stat"] == "mean"]
    assert sorted(row["parameters"]["scale"] for row in rows) == sorted(set(old) & set(new))
    for row in rows:
        scale = row["parameters"]["scale"]
        before, after = statistics.fmean(old[scale]), statistics.fmean(new[scale])
        percent = (after - before) / before * 100
        want = expected_test(old[scale], new[scale], alpha)
        assert row["baseline"] == pytest.approx(before)
        assert row["candidate"] == pytest.approx(after)
        assert row["percent"] == pytest.approx(percent)
        assert (row["units"], row["values"], row["u"], row["exact"]) == (
            "ms",
            [20, 20],
            want["u"],
            True,
        )
        assert row["p"] == pytest.approx(want["p"], rel=1e-9)
        assert row["shift"] == pytest.approx(want["shift"])
        assert row["ci"] == pytest.approx(want["ci"])
        assert row["significant"] is (want["p"] < alpha)
        regression = percent > 10 and want["p"] < alpha
        assert row["regression"] == ([gate] if regression else [])
        seen.append((scale, percent, regression))
    return seen


def rows_of(stdout: str, metric: str) -> list[list[str]]:
    """The table's lines for *metric*, split into words."""
    return [line.split() for line in stdout.splitlines() if line.split()[1:2] == [metric]]


@pytest.mark.slow
def test_the_same_distribution_is_not_significant_even_where_the_mean_moved_past_the_gate(
    perfchart: Perfchart, sessions: dict[str, Path], tmp_path: Path
) -> None:
    done, document = compare(
        perfchart, tmp_path, sessions["baseline"], sessions["same"], "--fail-if", GATE
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.rstrip().endswith(f"no regression ({GATE})")
    seen = check_rows(document, sessions["baseline"], sessions["same"], GATE, ALPHA)
    # A gate on the means alone would fail here: one set's mean moved by more than +10 % (a slow run
    # or two).
    assert any(percent > 10 for _, percent, _ in seen)
    assert not any(regression for *_, regression in seen)
    assert (document["test"], document["alpha"], document["regressions"]) == (
        "mann-whitney-u",
        ALPHA,
        0,
    )
    shown = rows_of(done.stdout, "x")
    assert len(shown) == 2
    assert all(words[-2:] == ["not", "significant"] for words in shown)


@pytest.mark.slow
def test_a_real_30_percent_shift_is_a_significant_regression(
    perfchart: Perfchart, sessions: dict[str, Path], tmp_path: Path
) -> None:
    done, document = compare(
        perfchart, tmp_path, sessions["baseline"], sessions["shifted"], "--fail-if", GATE
    )
    assert done.returncode == 1, done.stdout + done.stderr
    seen = check_rows(document, sessions["baseline"], sessions["shifted"], GATE, ALPHA)
    failing = [scale for scale, _, regression in seen if regression]
    assert failing
    assert document["regressions"] == len(failing)
    assert f"{len(failing)} regressions: {GATE}" in done.stdout
    # Every value is 1.3 times a draw from the baseline's distribution: each set's shift is
    # significant.
    assert all(
        row["significant"] and row["ci"][0] > 0 for row in document["rows"] if row["metric"] == "x"
    )
    table = {int(words[0].removeprefix("scale=")): words for words in rows_of(done.stdout, "x")}
    old, new = values(sessions["baseline"]), values(sessions["shifted"])
    assert sorted(table) == [100, 200]
    for scale, words in table.items():
        before, after = statistics.fmean(old[scale]), statistics.fmean(new[scale])
        # Values carry their units: x is in ms as declared.
        assert words[3:9] == [
            f"{before:.4g}",
            "ms",
            f"{after:.4g}",
            "ms",
            f"{after - before:+.4g}",
            "ms",
        ]
        assert words[-1] == (
            "FAIL"
            if scale in failing
            else f"{expected_test(old[scale], new[scale], ALPHA)['p']:.3g}"
        )


@pytest.mark.slow
def test_a_threshold_naming_only_a_metric_means_its_mean_and_alpha_sets_the_level(
    perfchart: Perfchart, sessions: dict[str, Path], tmp_path: Path
) -> None:
    done, document = compare(
        perfchart, tmp_path, sessions["baseline"], sessions["shifted"], "--fail-if", "x > +10%"
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert {row["stat"] for row in document["rows"] if row["regression"]} == {"mean"}
    check_rows(document, sessions["baseline"], sessions["shifted"], "x > +10%", ALPHA)
    # At a level below every set's p-value nothing is significant, so nothing is a regression.
    old, new = values(sessions["baseline"]), values(sessions["shifted"])
    smallest = min(expected_test(old[s], new[s], ALPHA)["p"] for s in old)
    strict = f"{smallest / 2:.3g}"
    done, document = compare(
        perfchart,
        tmp_path,
        sessions["baseline"],
        sessions["shifted"],
        "--fail-if",
        GATE,
        "--alpha",
        strict,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert document["alpha"] == float(strict)
    assert document["regressions"] == 0
    check_rows(document, sessions["baseline"], sessions["shifted"], GATE, float(strict))


@pytest.mark.slow
def test_durations_are_in_seconds_shown_readably(
    perfchart: Perfchart, sessions: dict[str, Path], tmp_path: Path
) -> None:
    done, document = compare(perfchart, tmp_path, sessions["baseline"], sessions["same"])
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((sessions["baseline"] / "summary.json").read_text())
    means = {g["parameters"]["scale"]: g["metrics"]["duration"]["mean"] for g in summary["groups"]}
    rows = [row for row in document["rows"] if row["metric"] == "duration"]
    assert rows
    assert all(row["units"] == "s" for row in rows)
    shown = rows_of(done.stdout, "duration")
    assert len(shown) == 2
    for words in shown:
        mean = means[int(words[0].removeprefix("scale="))]
        assert mean < 1  # a Python start-up: well under a second, so shown in ms
        assert words[3:5] == [f"{mean * 1000:.4g}", "ms"]


@pytest.mark.slow
def test_no_parameter_set_in_both_sessions_is_exit_2_naming_each_sides_sets(
    perfchart: Perfchart, sessions: dict[str, Path], tmp_path: Path
) -> None:
    done, document = compare(
        perfchart, tmp_path, sessions["baseline"], sessions["elsewhere"], "--fail-if", GATE
    )
    assert (done.returncode, done.stdout, document) == (2, "", {})
    assert done.stderr == (
        "perfchart: error: no parameter set ran in both sessions "
        "(only in the baseline: scale=100; scale=200, only in the candidate: scale=300; "
        "scale=400)\n"
    )


@pytest.mark.slow
def test_sets_only_one_side_ran_are_named_and_the_rest_compared(
    perfchart: Perfchart, sessions: dict[str, Path], tmp_path: Path
) -> None:
    done, document = compare(
        perfchart, tmp_path, sessions["baseline"], sessions["partly"], "--fail-if", GATE
    )
    # One run against twenty: no level below 0.05 can be reached, so the set is compared but not
    # significant.
    assert done.returncode == 0, done.stdout + done.stderr
    assert [row["parameters"] for row in document["rows"] if row["metric"] == "x"] == [
        {"scale": 200}
    ]
    assert document["rows"][0]["values"] == [20, 1]
    assert document["rows"][0]["ci"] is None
    assert (document["only_baseline"], document["only_candidate"]) == (
        [{"scale": 100}],
        [{"scale": 300}],
    )
    assert "1 parameter sets only in the baseline, not compared: scale=100\n" in done.stdout
    assert "1 parameter sets only in the candidate, not compared: scale=300\n" in done.stdout


@pytest.mark.parametrize("alpha", ["0", "1", "-0.1", "five"])
def test_a_bad_alpha_is_one_line_and_status_2(
    perfchart: Perfchart, tmp_path: Path, alpha: str
) -> None:
    done = perfchart("compare", str(tmp_path), str(tmp_path), "--alpha", alpha)
    assert (done.returncode, done.stdout) == (2, "")
    assert (
        done.stderr == f"perfchart: error: --alpha {alpha!r}: "
        "expected a significance level between 0 and 1, such as 0.05\n"
    )


def documented_commands(page: Path) -> list[list[str]]:
    """Every ``perfchart compare results/...`` line of the page's sh blocks, as words."""
    blocks = re.findall(r"```sh\n(.*?)```", page.read_text(), re.S)
    return [
        shlex.split(line)
        for block in blocks
        for line in block.splitlines()
        if line.startswith("perfchart compare results/")
    ]


@pytest.mark.slow
def test_the_documented_compare_commands_run_as_written_on_two_example_sweeps(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    commands = documented_commands(ROOT / "README.md") + documented_commands(
        ROOT / "docs" / "metrics.md"
    )
    assert len(commands) == 2
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    for name in ("main", "my-branch"):
        done = perfchart(
            "run",
            "sweep.yml",
            "-q",
            "-D",
            f"python={sys.executable}",
            "--results",
            str(tmp_path / "results" / name),
            cwd=tmp_path / "examples",
        )
        assert done.returncode == 0, done.stderr
    for words in commands:
        done = perfchart(*words[1:], cwd=tmp_path, env=environ(COLUMNS="200"))
        # Three runs a side: the smallest two-sided p-value is 2 / C(6, 3) = 0.1, so nothing is
        # significant at 0.05.
        assert done.returncode == 0, done.stdout + done.stderr
        gates = [words[i + 1] for i, word in enumerate(words) if word == "--fail-if"]
        assert done.stdout.rstrip().endswith(f"no regression ({'; '.join(gates)})")
        shown = [
            line.split()
            for line in done.stdout.splitlines()
            if line.split()[2:3] in (["hash_time"], ["throughput"])  # after size= and workers=
        ]
        assert len(shown) >= 6
        for row in shown:
            assert row[-2:] == ["not", "significant"]
            assert float(row[-3]) >= 0.1


def samples_of(results: Path) -> tuple[list[float], list[float]]:
    """The x samples of every run, and each run's one value, from runs.jsonl."""
    records = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    assert all(len(r["samples"]["x"]) == 10 for r in records)
    return [v for r in records for v in r["samples"]["x"]], [r["metrics"]["x"] for r in records]


@pytest.mark.slow
def test_runs_with_samples_are_tested_on_every_sample_unless_summarized_over_runs(
    perfchart: Perfchart, sessions: dict[str, Path], tmp_path: Path
) -> None:
    base, cand = sessions["sampled"], sessions["sampled-slower"]
    (old, old_runs), (new, new_runs) = samples_of(base), samples_of(cand)
    done, document = compare(perfchart, tmp_path, base, cand, "--fail-if", GATE)
    assert done.returncode == 1, done.stdout + done.stderr
    (row,) = [row for row in document["rows"] if row["metric"] == "x"]
    # 40 samples a side: 1600 pairs, past the exact distribution; the tie-free normal approximation.
    n = m = 40
    u = sum(1 for x in old for y in new if y > x)
    z = max(0.0, abs(u - n * m / 2) - 0.5) / math.sqrt(n * m * (n + m + 1) / 12)
    assert (row["values"], row["u"], row["exact"]) == ([40, 40], u, False)
    assert row["p"] == pytest.approx(2 * (1 - statistics.NormalDist().cdf(z)), rel=1e-9)
    assert row["shift"] == pytest.approx(statistics.median(y - x for x in old for y in new))
    assert row["p"] < ALPHA
    assert row["regression"] == [GATE]
    # Summarized over runs, the metric is tested on the four runs' values: 4 against 4, exact.
    over_runs = tmp_path / "over-runs"
    shutil.copytree(cand, over_runs)
    summary = json.loads((over_runs / "summary.json").read_text())
    for metric in summary["metrics"]:
        metric["summarize_over"] = "runs"
    (over_runs / "summary.json").write_text(json.dumps(summary))
    done, document = compare(perfchart, tmp_path, base, over_runs, "--fail-if", GATE)
    (row,) = [row for row in document["rows"] if row["metric"] == "x"]
    want = expected_test(old_runs, new_runs, ALPHA)
    assert (row["values"], row["u"], row["exact"]) == ([4, 4], want["u"], True)
    assert row["p"] == pytest.approx(want["p"])
    assert row["regression"] == ([GATE] if want["p"] < ALPHA else [])
    assert done.returncode == (1 if want["p"] < ALPHA else 0)
