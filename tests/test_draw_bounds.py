"""``perfchart draw`` of a very large chart: SVG, PNG and HTML are refused before any renderer
starts, the text formats draw it; a renderer past its time limit is killed, its children too, with
one line and exit 2.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from interpreter.diagrams.render import MAX_RENDERED, TIMEOUT_VARIABLE
from tests.conftest import PERFCHART, Perfchart


def chain(states: int) -> str:
    """A chart of *states* states in a row, S0 -> S1 -> ... -> End, each one line of YAML (a state
    with an event on its transition would pass the YAML value limit at 10,000)."""
    lines = ["statechart:", "  name: Chain", "  root state:", "    name: R", "    initial: S0"]
    lines.append("    states:")
    for i in range(states):
        after = f"S{i + 1}" if i < states - 1 else "End"
        lines.append(f"      - {{name: S{i}, transitions: [{{target: {after}}}]}}")
    lines.append("      - {name: End, type: final}")
    return "\n".join(lines) + "\n"


def renderer(path: Path, body: str) -> Path:
    """A fake renderer: a shell script that records that it ran, then does *body*."""
    marker = path.with_suffix(".ran")
    path.write_text(f"#!/bin/sh\necho $$ >> {marker}\n{body}\n")
    path.chmod(0o755)
    return marker


def draw(tmp_path: Path, *args: str, env: dict[str, str], timeout: float = 300) -> tuple[int, str]:
    """``perfchart draw *args`` in a fresh interpreter, in *tmp_path*: its exit status and
    stderr."""
    done = subprocess.run(
        [*PERFCHART, "draw", *args],
        cwd=tmp_path,
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,  # a guard against a hang, not a speed target
    )
    return done.returncode, done.stderr


@pytest.fixture(scope="module")
def large(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("large") / "chain.yaml"
    path.write_text(chain(10_000))
    return path


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["svg", "png", "html"])
def test_10000_states_are_refused_as_a_picture_before_any_renderer_starts(
    large: Path, tmp_path: Path, fmt: str
) -> None:
    marker = renderer(tmp_path / "dot", "sleep 600")
    status, stderr = draw(
        tmp_path, str(large), "-o", f"out.{fmt}", env={"PERFCHART_DOT": str(tmp_path / "dot")}
    )
    assert status == 2, stderr
    assert stderr == (
        "perfchart: error: Chain: 10,002 states and 10,000 transitions are more than the "
        f"{MAX_RENDERED:,} a drawing as {fmt.upper()} is practical for; draw it with --format "
        "mermaid or --format dot\n"
    )
    assert not marker.exists()
    assert not (tmp_path / f"out.{fmt}").exists()


@pytest.mark.slow
def test_10000_states_are_drawn_as_dot_and_mermaid(large: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [*PERFCHART, "draw", str(large), "--format", "dot"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    edges = {line.split("[")[0].strip() for line in done.stdout.splitlines() if " -> " in line}
    expected = {f'"S{i}" -> "S{i + 1}"' for i in range(9_999)} | {'"S9999" -> "End"'}
    assert expected <= edges
    done = subprocess.run(
        [*PERFCHART, "draw", str(large), "--format", "mermaid"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    arrows = [line.strip() for line in done.stdout.splitlines() if "-->" in line]
    assert {f"S{i} --> S{i + 1}" for i in range(9_999)} <= set(arrows)


def test_a_chart_at_the_limit_is_rendered_and_one_past_it_refused(
    perfchart: Perfchart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # n states in a row are n + 2 states (the root and End) and n transitions.
    at_limit, past = (MAX_RENDERED - 2) // 2, (MAX_RENDERED - 2) // 2 + 1
    (tmp_path / "at.yaml").write_text(chain(at_limit))
    (tmp_path / "past.yaml").write_text(chain(past))
    marker = renderer(tmp_path / "dot", "cat > /dev/null; echo '<svg/>'")
    monkeypatch.setenv("PERFCHART_DOT", str(tmp_path / "dot"))
    done = perfchart("draw", str(tmp_path / "at.yaml"), "-o", str(tmp_path / "at.svg"))
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "at.svg").read_text() == "<svg/>\n"
    assert len(marker.read_text().split()) == 1
    done = perfchart("draw", str(tmp_path / "past.yaml"), "-o", str(tmp_path / "past.svg"))
    assert done.returncode == 2
    assert f"{past + 2:,} states and {past:,} transitions are more than the" in done.stderr
    assert len(marker.read_text().split()) == 1  # not started again


@pytest.mark.slow
def test_a_renderer_past_its_time_limit_is_killed_with_its_children(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    # The shell waits for a child that holds the renderer's pipes open: killing the shell alone
    # would leave perfchart waiting for the end of its output.
    renderer(tmp_path / "dot", f"sleep 600 & echo $! >> {pids}; wait")
    status, stderr = draw(
        tmp_path,
        "multivariable-explorer",
        "-o",
        "out.svg",
        env={"PERFCHART_DOT": str(tmp_path / "dot"), TIMEOUT_VARIABLE: "0.5"},
        timeout=60,
    )
    assert status == 2, stderr
    assert stderr == (
        "perfchart: error: dot: no SVG after 0.5 s, the renderer's time limit "
        f"({TIMEOUT_VARIABLE}); draw it with --format mermaid or --format dot\n"
    )
    (child,) = map(int, pids.read_text().split())
    assert not _running(child)
    assert not (tmp_path / "out.svg").exists()


def _running(pid: int) -> bool:
    """Whether *pid* is a live process (a zombie waiting for init to reap it is not)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_a_time_limit_that_is_no_number_of_seconds_is_one_line(
    perfchart: Perfchart, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv(TIMEOUT_VARIABLE, value)
    done = perfchart("draw", "simple", "-o", str(tmp_path / "s.svg"))
    assert done.returncode == 2
    assert done.stderr.strip() == (
        f"perfchart: error: {TIMEOUT_VARIABLE}={value}: expected a number of seconds above 0"
    )
