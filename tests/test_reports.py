"""``perfchart report`` and ``perfchart compare`` on real sessions of the example sweep."""

from __future__ import annotations

import json
import shutil
import sys
import xml.etree.ElementTree as ElementTree
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.conftest import Perfchart, environ

ROOT = Path(__file__).resolve().parent.parent
#: Elements that never have a closing tag in HTML.
VOID = {
    "meta",
    "img",
    "br",
    "hr",
    "link",
    "input",
    "source",
    "col",
    "area",
    "base",
    "embed",
    "wbr",
    "track",
}


#: The terminal width the tables are drawn for.
COLUMNS = "200"


def sweep(perfchart: Perfchart, tmp: Path, name: str, slowdown: int = 1) -> Path:
    """Run the example sweep as shipped, or with its hashing done *slowdown* times over, and return
    its results."""
    examples = tmp / f"examples-{name}"
    shutil.copytree(ROOT / "examples", examples)
    if slowdown > 1:
        workload = examples / "workload.py"
        code = workload.read_text()
        slow = f"[hashlib.sha256(chunk).hexdigest() for _ in range({slowdown:d})][-1]"
        assert "hashlib.sha256(chunk).hexdigest()" in code
        workload.write_text(code.replace("hashlib.sha256(chunk).hexdigest()", slow))
    results = tmp / name
    done = perfchart(
        "run",
        "sweep.yml",
        "-q",
        "-D",
        f"python={sys.executable}",
        "--results",
        str(results),
        cwd=examples,
        env=environ(COLUMNS=COLUMNS),
    )
    assert done.returncode == 0, done.stderr
    return results


@pytest.fixture(scope="module")
def baseline(perfchart: Perfchart, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return sweep(perfchart, tmp_path_factory.mktemp("sessions"), "baseline")


class Checker(HTMLParser):
    """Parses a page, checking that every element closes in order, and collects what could load a
    resource."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.images: list[dict[str, str | None]] = []
        self.loads: list[str] = []
        self.tags: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        values = dict(attrs)
        self.loads += [
            value or ""
            for name, value in attrs
            if name in ("src", "href", "srcset", "data", "poster", "action")
        ]
        if tag == "img":
            self.images.append(values)
        if tag not in VOID:
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes <None>"
        assert self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1]}>"
        self.stack.pop()


@pytest.mark.slow
def test_report_is_one_self_contained_page_with_a_plot_per_metric_and_parameter(
    perfchart: Perfchart, baseline: Path, tmp_path: Path
) -> None:
    page = tmp_path / "out" / "report.html"
    page.parent.mkdir()
    done = perfchart("report", str(baseline), "-o", str(page), env=environ(COLUMNS=COLUMNS))
    assert done.returncode == 0, done.stderr
    text = page.read_text()
    checker = Checker()
    checker.feed(text)
    checker.close()
    assert checker.stack == []
    # Nothing loads from the network: every resource is inline, no scripts or stylesheets are
    # linked.
    assert "http://" not in text
    assert "https://" not in text
    assert all(load.startswith("data:") for load in checker.loads)
    assert not checker.tags & {"script", "link", "iframe", "object"}
    assert "@import" not in text
    assert "url(" not in text
    summary = json.loads((baseline / "summary.json").read_text())
    assert summary["varied"] == ["size", "workers"]
    expected = {
        f"{metric} by {parameter}"
        # the sweep's two, the command's built-in three, every run's duration
        for metric in ("hash_time", "throughput", "cpu_user", "cpu_system", "max_rss", "duration")
        for parameter in ("size", "workers")
    }
    alts = [image["alt"] or "" for image in checker.images]
    assert sorted(alt for alt in alts if " by " in alt) == sorted(expected)
    # Per metric, a heat map, the distribution per parameter set and the runs' timeline.
    kinds = (
        "heat map over size × workers",
        "distribution per parameter set",
        "timeline of the runs",
    )
    assert sorted(alt for alt in alts if " by " not in alt) == sorted(
        f"{metric}: {kind}"
        for metric in ("hash_time", "throughput", "cpu_user", "cpu_system", "max_rss", "duration")
        for kind in kinds
    )
    # The policy's diagram, coloured by the session's visits, inline.
    assert 'aria-label="policy diagram: multivariable-explorer"' in text
    # The same plots, as files to paste elsewhere; each one is well-formed SVG.
    files = sorted((page.parent / "plots").glob("*.svg"))
    assert [f.name for f in files if "-by-" in f.name] == sorted(
        f"{name.replace(' by ', '-by-')}.svg" for name in expected
    )
    for file in files:
        assert ElementTree.parse(file).getroot().tag == "{http://www.w3.org/2000/svg}svg"
    # Every run is in the page, with its metric values as recorded.
    runs = [json.loads(line) for line in (baseline / "runs.jsonl").read_text().splitlines()]
    assert len(runs) == 18
    for record in runs:
        assert f"{record['metrics']['hash_time']:.6g}" in text


def test_report_and_compare_read_runs_jsonl_by_the_readers_rules(
    perfchart: Perfchart, baseline: Path, tmp_path: Path
) -> None:
    """A last line cut off mid-write is skipped with a warning; any other bad line is one located
    error, exit 2."""
    damaged = tmp_path / "damaged"
    shutil.copytree(baseline, damaged)
    jsonl = damaged / "runs.jsonl"
    whole = jsonl.read_text()
    jsonl.write_text(whole + '{"index": 99, "pol')
    done = perfchart("report", str(damaged), "-o", str(tmp_path / "report.html"))
    assert done.returncode == 0, done.stderr
    assert done.stderr == f"{jsonl}: skipping its last line, cut off mid-write (18 bytes)\n"
    assert jsonl.read_text() == whole + '{"index": 99, "pol'
    lines = whole.splitlines(keepends=True)
    lines[4] = "garbage\n"
    jsonl.write_text("".join(lines))
    done = perfchart("report", str(damaged), "-o", str(tmp_path / "report.html"))
    assert done.returncode == 2
    assert done.stderr == f"perfchart: error: {jsonl}:5: not a run record\n"
    # compare tests the runs' values too, so it reads runs.jsonl by the same rules.
    done = perfchart("compare", str(baseline), str(damaged))
    assert done.returncode == 2
    assert done.stderr == f"perfchart: error: {jsonl}:5: not a run record\n"
    (damaged / "meta.json").write_text("[]")
    done = perfchart("compare", str(baseline), str(damaged))
    assert done.returncode == 2
    assert (
        done.stderr
        == f"perfchart: error: {damaged / 'meta.json'}: not the meta.json of a session\n"
    )


SERVICE = """
import sys, time
delay = float(sys.argv[2])
started = time.perf_counter()
time.sleep(0.05 * int(sys.argv[1]) + delay)
print(f"latency={(time.perf_counter() - started) * 1000:.3f} ms")
"""

SERVICE_CONFIG = """
config:
  repeat: 4
  metrics:
    - {name: latency, units: ms, summarize: [mean, min, p95]}
policies:
  - class: multivariable-explorer
    matrix:
      n: {type: discrete, values: [1, 2]}
      mode: {type: discrete, values: [a, b]}
    events:
      signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}
channels:
  - class: channel.CmdlineChannel
    cmdline: "{{python}} service.py {{n}} {{delay}}"
trackers:
  - class: attribute
    event: LogLineEvent
    extract: [{metric: latency, attrib: line, match: 'latency=([0-9.]+)'}]
"""


def service(perfchart: Perfchart, tmp: Path, name: str, delay: float) -> Path:
    """A session of a service whose latency is 50 ms per n, plus an injected *delay* in seconds."""
    (tmp / "service.py").write_text(SERVICE)
    (tmp / "service.yml").write_text(SERVICE_CONFIG)
    results = tmp / name
    done = perfchart(
        "run",
        "service.yml",
        "-q",
        "-D",
        f"python={sys.executable}",
        "-D",
        f"delay={delay}",
        "--results",
        str(results),
        cwd=tmp,
        env=environ(COLUMNS=COLUMNS),
    )
    assert done.returncode == 0, done.stderr
    return results


@pytest.mark.slow
def test_compare_exits_1_on_an_injected_slowdown_and_0_without(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    # Sleeping, unlike computing, takes as long on a busy machine as on an idle one: the gate sees
    # the slowdown, not the load.
    before = service(perfchart, tmp_path, "before", 0.0)
    slower = service(perfchart, tmp_path, "slower", 0.1)
    same = service(perfchart, tmp_path, "same", 0.0)
    gate = "latency:min > +40%"

    failing = perfchart(
        "compare",
        str(before),
        str(slower),
        "--fail-if",
        gate,
        "--json",
        str(tmp_path / "slower.json"),
        env=environ(COLUMNS=COLUMNS),
    )
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "regressions: latency:min > +40%" in failing.stdout
    report = json.loads((tmp_path / "slower.json").read_text())
    base = {
        json.dumps(g["parameters"], sort_keys=True): g
        for g in json.loads((before / "summary.json").read_text())["groups"]
    }
    cand = {
        json.dumps(g["parameters"], sort_keys=True): g
        for g in json.loads((slower / "summary.json").read_text())["groups"]
    }
    rows = [row for row in report["rows"] if row["metric"] == "latency" and row["stat"] == "min"]
    assert len(rows) == 4
    for row in rows:
        key = json.dumps(row["parameters"], sort_keys=True)
        old, new = base[key]["metrics"]["latency"]["min"], cand[key]["metrics"]["latency"]["min"]
        assert row["change"] == pytest.approx(new - old)
        assert row["percent"] == pytest.approx((new - old) / old * 100)
        assert row["regression"] == ([gate] if (new - old) / old * 100 > 40 else [])
    # n=1 goes from 50 to 150 ms: +200%, far past the gate.
    assert report["regressions"] >= 2

    passing = perfchart(
        "compare", str(before), str(same), "--fail-if", gate, env=environ(COLUMNS=COLUMNS)
    )
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "no regression (latency:min > +40%)" in passing.stdout


@pytest.mark.slow
def test_compare_rejects_a_threshold_it_cannot_read_or_apply(
    perfchart: Perfchart, baseline: Path
) -> None:
    bad = perfchart(
        "compare",
        str(baseline),
        str(baseline),
        "--fail-if",
        "p95 bigger 10%",
        env=environ(COLUMNS=COLUMNS),
    )
    assert bad.returncode == 2
    assert bad.stderr.startswith(
        "perfchart: error: --fail-if 'p95 bigger 10%': expected [METRIC:]STAT OP CHANGE"
    )
    unknown = perfchart(
        "compare",
        str(baseline),
        str(baseline),
        "--fail-if",
        "throughput:p95 > +10%",
        env=environ(COLUMNS=COLUMNS),
    )
    assert unknown.returncode == 2
    assert "no metric summarizes 'p95'" in unknown.stderr


def test_report_of_a_directory_that_holds_no_session_is_one_line_and_status_2(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    done = perfchart("report", str(tmp_path), env=environ(COLUMNS=COLUMNS))
    assert done.returncode == 2
    assert (
        done.stderr == f"perfchart: error: {tmp_path}: no summary.json (not a results directory)\n"
    )
