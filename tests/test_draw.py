"""perfchart draw: exporters over sismic's model, rendering with pip alone, run overlays and the
gallery."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from interpreter.charts import bundled, load_chart
from interpreter.cli.draw import gallery_text
from interpreter.diagrams import (
    NoRenderer,
    Visits,
    extract,
    find_renderer,
    to_dot,
    to_mermaid,
    to_plantuml,
    visits_for,
)
from interpreter.errors import UsageError
from interpreter.results import SessionReader
from tests.conftest import PERFCHART, Perfchart, sweep_config

ROOT = Path(__file__).resolve().parent.parent
DATA = Path(__file__).resolve().parent / "data" / "draw"
SMALL = DATA / "small.yaml"

#: A str.format template: {repeat} repetitions of 3 x {b} runs.
CONFIG = sweep_config(
    '"true"',
    matrix={"a": "{{type: discrete, values: [1, 2, 3]}}", "b": "{{type: range, min: 1, max: {b}}}"},
    head="\nconfig:\n  repeat: {repeat}\n",
    policy="MultivariableExplorerPolicy",
    channel="channel.CmdlineChannel",
)


def no_dot_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a machine with no Graphviz: PATH holds only an empty directory."""
    empty = tmp_path / "empty-path"
    empty.mkdir(exist_ok=True)
    env = {key: value for key, value in os.environ.items() if key != "PERFCHART_DOT"}
    env["PATH"] = str(empty)
    return env


def dry_run(perfchart: Perfchart, tmp_path: Path, *, b: int = 2, repeat: int = 1) -> Path:
    tmp_path.mkdir(parents=True, exist_ok=True)
    config = tmp_path / "sweep.yml"
    config.write_text(CONFIG.format(b=b, repeat=repeat))
    results = tmp_path / "results"
    done = perfchart("run", str(config), "--dry-run", "-q", "--results", str(results))
    assert done.returncode == 0, done.stderr
    return results


# -- text formats ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("exporter", "golden"),
    [(to_dot, "small.dot"), (to_mermaid, "small.mmd"), (to_plantuml, "small.puml")],
)
def test_text_formats_match_their_golden_files(exporter, golden: str) -> None:
    diagram = extract(load_chart(SMALL).statechart())
    assert exporter(diagram, None) == (DATA / golden).read_text()


@pytest.mark.parametrize("fmt", ["dot", "mermaid", "plantuml"])
def test_the_command_writes_the_same_text_as_the_golden_file(
    perfchart: Perfchart, fmt: str
) -> None:
    suffix = {"dot": "dot", "mermaid": "mmd", "plantuml": "puml"}[fmt]
    done = perfchart("draw", str(SMALL), "--format", fmt)
    assert done.returncode == 0, done.stderr
    assert done.stdout == (DATA / f"small.{suffix}").read_text()


def test_each_final_state_stays_distinct_and_named() -> None:
    diagram = extract(load_chart(SMALL).statechart())
    dot, mermaid, plantuml = to_dot(diagram), to_mermaid(diagram), to_plantuml(diagram)
    for name in ("Passed", "Failed"):
        assert f'"{name}" [shape=doublecircle, label="{name}"' in dot
        assert f'state "{name}" as {name} <<final>>' in plantuml
        assert f'state "{name}" as {name}' in mermaid
    assert "class Failed,Passed final" in mermaid
    assert "[*]" not in plantuml.split("--> Passed")[0].splitlines()[-1]
    assert "--> [*]" not in mermaid + plantuml


def test_an_internal_transition_is_a_body_line_and_a_self_loop_an_arrow() -> None:
    diagram = extract(load_chart(SMALL).statechart())
    dot, mermaid, plantuml = to_dot(diagram), to_mermaid(diagram), to_plantuml(diagram)
    assert '"Working" -> "Working" [label="reset"' in dot
    assert "ping / pings += 1" in dot.split('"Working" [label=')[1].split("\n")[0]
    assert not re.search(r'-> "Working" \[label="ping', dot)
    for text in (mermaid, plantuml):
        assert "Working : ping / pings += 1" in text
        assert "Working --> Working : reset" in text
        assert "Working --> Working : ping" not in text


def test_compound_states_are_nested_boxes_with_their_initial_marker() -> None:
    dot = to_dot(extract(load_chart(SMALL).statechart()))
    busy = dot.index('subgraph "cluster_Busy"')
    assert dot.index('subgraph "cluster_Root"') < busy
    assert '"Busy::initial" -> "Working"' in dot[busy:]
    assert (
        '"Busy::anchor" -> "Failed" [label="abort", tooltip="abort", ltail="cluster_Busy"]' in dot
    )


def test_long_code_is_shortened_in_labels_and_whole_in_tooltips() -> None:
    dot = to_dot(extract(load_chart(SMALL).statechart()))
    assert "exit / policy.log(&#x27;leaving&#x27;); policy.log(f&#x27;a..." in dot
    assert "exit:\\npolicy.log('leaving')\\npolicy.log(f'after {pings} pings')" in dot


@pytest.mark.parametrize("chart", bundled(), ids=lambda chart: chart.name)
def test_the_same_chart_always_gives_the_same_text(perfchart: Perfchart, chart) -> None:
    first = [
        exporter(extract(chart.statechart()), None)
        for exporter in (to_dot, to_mermaid, to_plantuml)
    ]
    done = perfchart("draw", chart.name, "--format", "dot")
    assert done.stdout == first[0]
    assert first == [
        exporter(extract(load_chart(chart.path).statechart()), None)
        for exporter in (to_dot, to_mermaid, to_plantuml)
    ]


# -- SVG and PNG with pip alone ------------------------------------------------------


@pytest.mark.parametrize("chart", bundled(), ids=lambda chart: chart.name)
def test_svg_parses_and_names_every_state_without_a_system_dot(
    perfchart: Perfchart, chart, tmp_path: Path
) -> None:
    out = tmp_path / "chart.svg"
    done = perfchart("draw", chart.name, "-o", str(out), env=no_dot_env(tmp_path))
    assert done.returncode == 0, done.stderr
    root = ET.parse(out).getroot()
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    text = " ".join(root.itertext())
    for state in chart.statechart().states:
        assert state in text


def test_png_without_a_system_dot(perfchart: Perfchart, tmp_path: Path) -> None:
    out = tmp_path / "chart.png"
    done = perfchart("draw", "multivariable-explorer", "-o", str(out), env=no_dot_env(tmp_path))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(data) > 10_000
    width, height = int.from_bytes(data[16:20], "big"), int.from_bytes(data[20:24], "big")
    assert width > 200
    assert height > 200


def test_without_any_renderer_the_search_says_how_to_get_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERFCHART_DOT", raising=False)
    with pytest.raises(NoRenderer, match="pip install graphviz-pure"):
        find_renderer(path=str(tmp_path), scripts=[tmp_path])
    assert Path(find_renderer(path=str(tmp_path))).name == "graphviz-pure"


def test_a_renderer_that_cannot_run_is_one_line_and_exit_2(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    env = {**no_dot_env(tmp_path), "PERFCHART_DOT": str(tmp_path / "no-such-dot")}
    done = perfchart("draw", "multivariable-explorer", "-o", str(tmp_path / "x.svg"), env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        f"perfchart: error: PERFCHART_DOT={tmp_path / 'no-such-dot'}: no such program"
    ]
    assert not (tmp_path / "x.svg").exists()
    text = perfchart("draw", "multivariable-explorer", "--format", "mermaid", env=env)
    assert text.returncode == 0
    assert text.stdout_bytes.startswith(b"stateDiagram-v2")


# -- targets, formats and outputs ------------------------------------------------------


@pytest.mark.parametrize("fmt", ["svg", "png", "html", "dot", "mermaid", "plantuml"])
def test_a_user_chart_with_a_perfchart_header_draws_in_every_format(
    perfchart: Perfchart, fmt: str, tmp_path: Path
) -> None:
    suffix = {"mermaid": ".mmd", "plantuml": ".puml"}.get(fmt, f".{fmt}")
    out = tmp_path / f"small{suffix}"
    done = perfchart("draw", str(SMALL), "-o", str(out))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert len(data) > 200
    if fmt in ("svg", "html", "dot", "mermaid", "plantuml"):
        assert all(name in data.decode() for name in ("Working", "Passed", "Failed", "Busy"))


def test_a_config_draws_each_of_its_policies(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "two.yml"
    config.write_text(
        CONFIG.format(b=2, repeat=1).replace(
            "policies:\n", "policies:\n  - statechart: " + str(SMALL) + "\n"
        )
    )
    done = perfchart("draw", str(config), "-o", str(tmp_path / "out.dot"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out-small.dot").read_text() == (DATA / "small.dot").read_text()
    assert (
        (tmp_path / "out-multivariable-explorer.dot")
        .read_text()
        .startswith('digraph "MultivariableExplorer"')
    )


def test_without_output_text_goes_to_stdout_and_images_to_a_named_file(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    done = perfchart("draw", "MultivariableExplorerPolicy", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout_bytes == b""
    ET.parse(tmp_path / "multivariable-explorer.svg")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["no-such-policy"], "unknown policy 'no-such-policy'"),
        (["missing.yaml"], "no statechart file 'missing.yaml'"),
        (
            ["multivariable-explorer", "-o", "chart.jpeg"],
            "cannot tell the format from 'chart.jpeg'",
        ),
        ([], "draw needs a TARGET"),
        (
            ["multivariable-explorer", "--run", "no-such-results"],
            "no-such-results: no such results directory",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    perfchart: Perfchart, args: list[str], message: str, tmp_path: Path
) -> None:
    done = perfchart("draw", *args, cwd=tmp_path)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert message in lines[0], lines
    assert "Traceback" not in done.stderr


# -- runs ------------------------------------------------------------------------


def test_every_policy_and_repetition_records_its_visits(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    results = dry_run(perfchart, tmp_path, b=4, repeat=2)
    records = SessionReader(results).visits()
    assert [(r["policy"], r["index"], r["repetition"]) for r in records] == [
        ("multivariable-explorer", 0, 1),
        ("multivariable-explorer", 0, 2),
    ]
    assert sorted(p.name for p in results.glob("visits-*.json")) == [
        "visits-0-multivariable-explorer-1.json",
        "visits-0-multivariable-explorer-2.json",
    ]
    runs = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    for record in records:
        per_repetition = sum(1 for run in runs if run["repetition"] == record["repetition"])
        assert per_repetition == 12
        assert record["final"] is True
        assert (
            record["states"]["Deploy"]
            == record["states"]["Waiting"]
            == record["states"]["Intertest"]
            == per_repetition
        )
        assert record["states"]["Start"] == record["states"]["End"] == 1
        fired = {
            (t["source"], t["target"], t["event"]): t["count"]
            for t in record["transitions"]
            if t["count"]
        }
        assert fired[("Intertest", "Deploy", "task_completed")] == per_repetition - 1


def test_recorded_visits_do_not_grow_with_the_runs(perfchart: Perfchart, tmp_path: Path) -> None:
    small = json.loads(
        next(dry_run(perfchart, tmp_path / "small", b=1).glob("visits-*.json")).read_text()
    )
    large = json.loads(
        next(dry_run(perfchart, tmp_path / "large", b=300).glob("visits-*.json")).read_text()
    )
    assert small["states"].keys() == large["states"].keys()
    assert [t["index"] for t in small["transitions"]] == [t["index"] for t in large["transitions"]]
    assert large["states"]["Deploy"] == 900


def test_the_overlay_counts_equal_what_the_results_list(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    results = dry_run(perfchart, tmp_path, b=3, repeat=2)
    runs = len((results / "runs.jsonl").read_text().splitlines())
    done = perfchart("draw", "multivariable-explorer", "--run", str(results), "--format", "dot")
    assert done.returncode == 0, done.stderr
    dot = done.stdout
    assert "visits over 2 repetitions" in dot
    deploy = dot.split('subgraph "cluster_Deploy"')[1].split("\n")[1]
    assert f"entered {runs}x" in deploy
    assert f'label="{runs}x signal [traced(event, trace) and remaining <= 1]' in dot
    assert f'label="{runs - 2}x task_completed' in dot
    assert 'label="2x task_completed' in dot
    start = next(line for line in dot.splitlines() if line.strip().startswith('"Start" ['))
    assert "entered 2x" in start
    # Never visited: greyed out and dashed, without a count.
    interrupt = next(
        line for line in dot.splitlines() if '-> "End"' in line and "interrupt" in line
    )
    assert 'label="interrupt"' in interrupt
    assert 'color="#b0b0b0"' in interrupt
    assert "style=dashed" in interrupt


def test_the_overlay_needs_no_target_and_reaches_every_format(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    results = dry_run(perfchart, tmp_path, b=2)
    for fmt, needle in [
        ("mermaid", 'state "Deploy (6x)" as Deploy'),
        ("plantuml", 'state "Deploy (6x)" as Deploy'),
        ("dot", "entered 6x"),
    ]:
        done = perfchart("draw", "--run", str(results), "--format", fmt)
        assert done.returncode == 0, done.stderr
        assert needle in done.stdout


def test_visits_of_a_changed_chart_are_refused(tmp_path: Path) -> None:
    diagram = extract(load_chart(SMALL).statechart())
    record = {
        "policy": "small",
        "index": 0,
        "repetition": 1,
        "states": {"Working": 1},
        "transitions": [
            {"index": 0, "source": "Nowhere", "target": None, "event": "x", "count": 1}
        ],
    }
    with pytest.raises(UsageError, match="was the chart changed"):
        visits_for(diagram, "small", [record])
    assert visits_for(diagram, "other", [record]) is None


def test_html_is_one_self_contained_page_with_the_run_table(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    results = dry_run(perfchart, tmp_path, b=2)
    out = tmp_path / "run.html"
    done = perfchart("draw", "multivariable-explorer", "--run", str(results), "-o", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>")
    assert "<svg" in page
    assert "<!DOCTYPE svg" not in page
    # Nothing is fetched when the page opens: no scripts, links, images, imports or remote URLs in
    # attributes.
    assert not re.search(r"<(script|link|img|iframe|object|embed)\b", page)
    assert not re.search(r"(src|href)\s*=\s*[\"'](https?:)?//", page)
    assert "@import" not in page
    assert "url(" not in page
    # Full code in the tooltips, shortened in the labels.
    assert (
        "policy.log(f&#39;exploring {len(permutations)} permutations" in page
        or "policy.log(f&#x27;exploring {len(permutations)} permutations" in page
    )
    runs = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    rows = re.findall(r"<tr(?: class=\"notok\")?><td class=\"num\">(\d+)</td>", page)
    assert [int(r) for r in rows] == [run["index"] for run in runs]
    assert f"<h2>Runs ({len(runs)})</h2>" in page


def test_the_run_table_skips_a_last_line_cut_off_mid_write_and_refuses_a_bad_one(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    results = dry_run(perfchart, tmp_path, b=2)
    jsonl = results / "runs.jsonl"
    whole = jsonl.read_text()
    runs = [json.loads(line) for line in whole.splitlines()]
    jsonl.write_text(whole + '{"index": 99')
    out = tmp_path / "run.html"
    done = perfchart("draw", "--run", str(results), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert (
        done.stderr.splitlines()[0]
        == f"{jsonl}: skipping its last line, cut off mid-write (12 bytes)"
    )
    assert f"<h2>Runs ({len(runs)})</h2>" in out.read_text()
    jsonl.write_text(whole.replace("\n", "\n\n", 1))
    done = perfchart("draw", "--run", str(results), "-o", str(out))
    assert done.returncode == 2
    assert done.stderr == f"perfchart: error: {jsonl}:2: not a run record\n"


# -- the documentation's gallery ----------------------------------------------------------


def test_the_gallery_is_up_to_date() -> None:
    """Regenerate with `perfchart draw --gallery docs/gallery` when this fails."""
    gallery = ROOT / "docs" / "gallery"
    for name, text in gallery_text(bundled()).items():
        assert (gallery / name).read_text() == text, (
            f"docs/gallery/{name} is out of date: run perfchart draw --gallery docs/gallery"
        )
    for chart in bundled():
        assert (gallery / f"{chart.name}.svg").is_file()


def test_the_gallery_command_is_documented() -> None:
    assert "perfchart draw --gallery docs/gallery" in (ROOT / "docs" / "drawing.md").read_text()


def test_visits_scale_colours_from_light_to_dark() -> None:
    diagram = extract(load_chart(SMALL).statechart())
    dot = to_dot(
        diagram,
        Visits(states={"Root": 1, "Busy": 1, "Working": 100, "Passed": 1}, transitions={2: 1}),
    )
    working = next(line for line in dot.splitlines() if line.strip().startswith('"Working" ['))
    passed = next(line for line in dot.splitlines() if line.strip().startswith('"Passed" ['))
    failed = next(line for line in dot.splitlines() if line.strip().startswith('"Failed" ['))
    assert 'fillcolor="#6baed6"' in working
    assert "entered 100x" in working
    assert 'fillcolor="#deebf7"' in passed
    assert 'xlabel="1x"' in passed
    assert 'fillcolor="#f5f5f5"' in failed
    assert 'fontcolor="#b0b0b0"' in failed


def test_the_readme_draw_commands_run_as_written(perfchart: Perfchart, tmp_path: Path) -> None:
    readme = (ROOT / "README.md").read_text()
    block = readme.split("## Drawing a policy or a run\n\n```sh\n")[1].split("```")[0]
    commands = [line.split("#")[0].split() for line in block.strip().splitlines()]
    assert [c[:2] for c in commands] == [["perfchart", "draw"]] * 3
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    done = perfchart(
        "run", "examples/sweep.yml", "--dry-run", "-q", "--results", "results", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    outputs = []
    for command in commands:
        args = ["results" if arg == "RESULTS_DIR" else arg for arg in command[1:]]
        done = perfchart(*args, cwd=tmp_path)
        assert done.returncode == 0, (command, done.stderr)
        outputs.append(done.stdout)
    ET.parse(tmp_path / "multivariable-explorer.svg")
    assert outputs[1].startswith("stateDiagram-v2")
    assert "<svg" in (tmp_path / "run.html").read_text()
    # the example sweep: 6 permutations, repeat: 3
    assert "<h2>Runs (18)</h2>" in (tmp_path / "run.html").read_text()


def test_the_command_offers_exactly_the_exporters_formats() -> None:
    from interpreter import diagrams
    from interpreter.cli import draw

    assert set(draw.FORMATS) == set(diagrams.FORMATS)
    assert set(draw.TEXT_FORMATS) == set(diagrams.TEXT_FORMATS)
    assert set(draw.SUFFIXES.values()) == set(diagrams.FORMATS)


def test_regions_history_and_names_that_are_not_words(perfchart: Perfchart, tmp_path: Path) -> None:
    chart = load_chart(DATA / "parallel.yaml")
    diagram = extract(chart.statechart())
    assert diagram.state("both").kind == "orthogonal"
    assert diagram.state("memory").kind == "shallow history"
    ids = diagram.bare_ids()
    assert len(set(ids.values())) == len(ids) == len(chart.statechart().states)
    assert ids["left a"] != ids["left_a"]
    assert ids["1st"] == "s_1st"
    mermaid, plantuml, dot = to_mermaid(diagram), to_plantuml(diagram), to_dot(diagram)
    for text in (mermaid, plantuml):
        assert 'state "left a" as left_a_2' in text
        assert 'state "left_a" as left_a' in text
        assert "left_a_2 --> left_a : go" in text
        assert 'state "memory (H)" as memory' in text
        assert text.count("--\n") == 1  # the one separator between the two regions
    assert 'subgraph "cluster_left-region"' in dot
    assert 'style="dashed,rounded"' in dot
    out = tmp_path / "parallel.svg"
    done = perfchart("draw", str(DATA / "parallel.yaml"), "-o", str(out))
    assert done.returncode == 0, done.stderr
    text = " ".join(ET.parse(out).getroot().itertext())
    assert all(state in text for state in chart.statechart().states)


def test_an_interrupted_run_keeps_its_visits_and_draws_the_interrupt(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "slow.yml"
    config.write_text(
        CONFIG.format(b=1, repeat=1).replace(
            'cmdline: "true"',
            "cmdline: \"{{python}} -c 'import time; time.sleep(0 if {{a}} == 1 else 60)'\"",
        )
    )
    results = tmp_path / "results"
    process = subprocess.Popen(
        [
            *PERFCHART,
            "run",
            str(config),
            "-D",
            f"python={sys.executable}",
            "-q",
            "--results",
            str(results),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    runs = results / "runs.jsonl"
    deadline = time.monotonic() + 30
    while not (runs.exists() and runs.read_text().count("\n") >= 1):
        assert process.poll() is None, "the first run never finished"
        assert time.monotonic() < deadline, "the first run never finished"
        time.sleep(0.05)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 130, stderr
    (record,) = SessionReader(results).visits()
    assert record["final"] is True
    assert record["states"]["Deploy"] == 2
    assert record["states"]["End"] == 1
    fired = {(t["source"], t["event"]): t["count"] for t in record["transitions"]}
    assert fired[("MultivariableExplorerPolicy", "interrupt")] == 1
    done = perfchart(
        "draw",
        str(config),
        "-D",
        f"python={sys.executable}",
        "--run",
        str(results),
        "--format",
        "dot",
    )
    assert done.returncode == 0, done.stderr
    assert 'label="1x interrupt"' in done.stdout


def test_quotes_markup_and_backslashes_survive_every_format(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    chart = DATA / "odd.yaml"
    out = tmp_path / "odd.svg"
    done = perfchart("draw", str(chart), "-o", str(out), env=no_dot_env(tmp_path))
    assert done.returncode == 0, done.stderr
    texts = list(ET.parse(out).getroot().itertext())
    assert 'root "q"' in texts
    assert "a\\b" in texts
    assert "c&d <e>" in texts
    # Graphviz reads \\ and \N as escapes even in HTML labels: the code must come out as written.
    entry = next(text for text in texts if text.startswith("entry / "))
    assert entry.startswith('entry / x = "<&>" + \'\\\\N\' + "{}"; y = \'é')
    edge = next(text for text in texts if text.startswith("go ["))
    assert edge == 'go [x != "<&>" and y] / print("\\\\n", x)'
    for fmt in ("mermaid", "plantuml", "html"):
        done = perfchart("draw", str(chart), "--format", fmt, "-o", "-", env=no_dot_env(tmp_path))
        assert done.returncode == 0, done.stderr
