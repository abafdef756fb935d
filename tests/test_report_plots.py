"""The report of a three-parameter sweep reads at a glance: checked in its SVG, its HTML and a
headless browser's screenshot.

The sweep is a dry run (7 sizes × 4 worker counts × 3 modes, twice) whose
``simulate:`` block prints two values a run, so records keep ``samples``,
and fails the largest size on four workers.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest

from tests.conftest import Perfchart

SVG = "{http://www.w3.org/2000/svg}"

GRID = """
config:
  title: Three-parameter grid
  repeat: 2
  metrics:
    - {name: latency, units: ms, summarize: [mean, stddev, min, max]}
policies:
  - class: multivariable-explorer
    matrix:
      size: {type: discrete, values: [1024, 2048, 4096, 8192, 16384, 32768, 65536]}
      workers: {type: range, min: 1, max: 4}
      mode: {type: discrete, values: [fast, safe, slow]}
    events:
      signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}
channels:
  - class: channel.CmdlineChannel
    cmdline: "work {{size}} {{workers}} {{mode}}"
    simulate:
      exitcode: "size > 32768 and workers == 4"
      duration: "size / 65536 + workers / 10"
      output: ["latency={{size}} ms", "latency={{workers}} ms"]
trackers:
  - class: attribute
    event: LogLineEvent
    extract: [{metric: latency, attrib: line, match: 'latency=([0-9.]+)'}]
"""


@pytest.fixture(scope="module")
def grid(perfchart: Perfchart, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sweep's results directory, with its report written."""
    tmp = tmp_path_factory.mktemp("grid")
    (tmp / "grid.yml").write_text(GRID)
    done = perfchart("run", "grid.yml", "--dry-run", "-q", "--results", "results", cwd=tmp)
    assert done.returncode == 1, done.stderr  # some runs failed, as planted
    done = perfchart("report", str(tmp / "results"))
    assert done.returncode == 0, done.stderr
    return tmp / "results"


def svg(grid: Path, name: str) -> ElementTree.Element:
    return ElementTree.parse(grid / "plots" / name).getroot()


def legends(root: ElementTree.Element) -> list[list[str]]:
    """Each legend's entries: the text of every label in a ``legend_N`` group."""
    return [
        ["".join(text.itertext()) for text in group.iter(f"{SVG}text")]
        for group in root.iter(f"{SVG}g")
        if group.get("id", "").startswith("legend_")
    ]


@pytest.mark.slow
def test_no_plot_of_a_three_parameter_sweep_has_more_than_8_legend_entries(grid: Path) -> None:
    files = sorted((grid / "plots").glob("*.svg"))
    assert len(files) == 2 * (3 + 3)  # latency and duration: 3 effects, heat map, distribution,
    # timeline
    found = {file.name: legends(svg(grid, file.name)) for file in files}
    assert all(len(entries) <= 8 for per_file in found.values() for entries in per_file), found
    # Lines are coloured by the fewest-valued other parameter, the next one facets the plot.
    assert found["latency-by-size.svg"] == [["mode=fast", "mode=safe", "mode=slow", "failed runs"]]
    assert found["latency-by-mode.svg"] == [[*(f"workers={n}" for n in range(1, 5)), "failed runs"]]
    titles = ["".join(t.itertext()) for t in svg(grid, "latency-by-mode.svg").iter(f"{SVG}text")]
    assert [t for t in titles if t.startswith("size=")] == [f"size={2**n}" for n in range(10, 17)]


@pytest.mark.slow
def test_a_heat_map_a_timeline_and_a_distribution_per_set(grid: Path) -> None:
    heat = svg(grid, "latency-heatmap-size_workers.svg")
    assert len(list(heat.iter(f"{SVG}image"))) == 3 + 1  # one facet per mode, and the colour bar
    texts = ["".join(t.itertext()) for t in heat.iter(f"{SVG}text")]
    assert any("failed runs" in t for t in texts)
    assert texts.count("32.8k") == 12  # every size=65536 cell (the mean of 65536 and workers)
    timeline = svg(grid, "latency-timeline.svg")
    assert legends(timeline) == [["repetition 1", "repetition 2", "failed runs"]]
    distribution = svg(grid, "latency-distribution.svg")
    labels = ["".join(t.itertext()) for t in distribution.iter(f"{SVG}text")]
    sets = [label for label in labels if label.startswith("size=")]
    assert len(sets) == 7 * 4 * 3
    assert "size=65536 workers=4 mode=slow" in sets
    assert any("samples (boxes)" in label for label in labels)
    assert legends(distribution) == [["samples", "runs", "failed runs"]]


@pytest.mark.slow
def test_the_page_holds_the_statechart_inline_and_marks_failed_runs(grid: Path) -> None:
    page = (grid / "report.html").read_text()
    assert "http://" not in page
    figure = page[page.index('<figure class="diagram"') :]
    figure = figure[: figure.index("</figure>")]
    assert "<svg" in figure
    assert "<img" not in figure
    assert "xlink:title=" in figure  # the tooltips: each state's and arrow's code
    assert "entered 168x" in figure
    runs = [json.loads(line) for line in (grid / "runs.jsonl").read_text().splitlines()]
    failed = sum(not r["ok"] for r in runs)
    assert failed == 2 * 3 * 1
    assert page.count('<tr class="failed">') == failed
    for kind in ("heat map over size × workers", "distribution per parameter set"):
        assert f'alt="latency: {kind}"' in page


def browser() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    pytest.skip("no headless browser: install Debian's chromium package to take the screenshot")


@pytest.mark.slow
def test_a_headless_browser_renders_the_page(grid: Path, tmp_path: Path) -> None:
    image = pytest.importorskip("PIL.Image")
    shot = tmp_path / "report.png"
    done = subprocess.run(
        [
            browser(),
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--enable-logging=stderr",
            "--window-size=1280,4000",
            f"--screenshot={shot}",
            (grid / "report.html").as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    # With --enable-logging=stderr every console message is a line "...:CONSOLE:..."; none here.
    assert ":CONSOLE" not in done.stderr, done.stderr
    with image.open(shot) as png:
        assert png.size == (1280, 4000)
        pixels = png.convert("RGB").resize((320, 1000))
        colours = pixels.getcolors(maxcolors=1 << 16) or []
    white = sum(count for count, rgb in colours if min(rgb) > 245)
    assert len(colours) > 50  # plots in colour, not a blank or a one-colour page
    assert white / (320 * 1000) < 0.9


@pytest.mark.slow
def test_a_session_of_10000_runs_makes_a_small_page(
    perfchart: Perfchart, grid: Path, tmp_path: Path
) -> None:
    big = tmp_path / "big"
    big.mkdir()
    for name in ("meta.json", "runs.csv"):
        shutil.copy(grid / name, big / name)
    runs = [json.loads(line) for line in (grid / "runs.jsonl").read_text().splitlines()]
    copies = math.ceil(10_000 / len(runs))
    span = runs[-1]["end"] - runs[0]["start"]
    with (big / "runs.jsonl").open("w") as out:
        for copy in range(copies):
            for number, record in enumerate(runs):
                record = {**record, "parameters": {**record["parameters"], "copy": copy}}
                record["index"] = copy * len(runs) + number + 1
                record["start"] += copy * span
                out.write(json.dumps(record) + "\n")
    summary = json.loads((grid / "summary.json").read_text())
    summary["parameters"].append("copy")
    summary["varied"].append("copy")
    summary["groups"] = [
        {**group, "parameters": {**group["parameters"], "copy": copy}}
        for copy in range(copies)
        for group in summary["groups"]
    ]
    (big / "summary.json").write_text(json.dumps(summary))
    done = perfchart("report", str(big), "-o", str(tmp_path / "page" / "report.html"))
    assert done.returncode == 0, done.stderr
    page = (tmp_path / "page" / "report.html").read_text()
    assert len(page) < 1_500_000
    total = copies * len(runs)
    assert f'The first 500 of {total} runs; <a href="../big/runs.csv">runs.csv</a>' in page
    assert f"The first 500 of {copies * 84} parameter sets; " in page
    assert page.count("<tr") < 2 * 500 + 50
    for file in (tmp_path / "page" / "plots").glob("*.svg"):
        root = ElementTree.parse(file).getroot()
        assert all(len(entries) <= 8 for entries in legends(root)), file.name
