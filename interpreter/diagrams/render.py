"""SVG and PNG from DOT text, with pip alone.

A Graphviz ``dot`` on PATH is used when there is one (or the program named
by ``PERFCHART_DOT``); otherwise ``graphviz-pure``, a dependency of
perfchart: a port of Graphviz shipped as a wheel, needing no system
package, Java, browser or network. Its script is looked for beside the
running Python too, so an unactivated virtual environment finds it.

Laying out takes time that grows faster than the chart (graphviz-pure spent
minutes on 10,000 states), so a renderer runs in a process group of its own
under a time limit (``RENDER_TIMEOUT``, or ``$PERFCHART_RENDER_TIMEOUT``),
killed whole when it runs out; and a diagram of more than ``MAX_RENDERED``
states and transitions is refused before any renderer starts: the text
formats draw it at once.
"""

from __future__ import annotations

import math
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import PerfchartError, UsageError

if TYPE_CHECKING:
    from .graph import Diagram

#: Environment variable naming the renderer to use instead of searching.
RENDERER_VARIABLE = "PERFCHART_DOT"
#: Output formats the renderers produce from DOT.
RENDERED_FORMATS = ("svg", "png")
#: Seconds a renderer may take for one diagram.
RENDER_TIMEOUT = 60.0
#: Environment variable giving the renderer's time limit in seconds instead.
TIMEOUT_VARIABLE = "PERFCHART_RENDER_TIMEOUT"
#: States and transitions a diagram may have to be laid out as SVG or PNG: graphviz-pure takes
#: about 2 s for 1,000 states in a row, and time grows faster than the size.
MAX_RENDERED = 3_000


class NoRenderer(PerfchartError):
    """No program can turn DOT into SVG or PNG here."""


def script_dirs() -> list[Path]:
    """Where pip puts console scripts for the running Python."""
    found = [Path(sys.executable).parent, Path(sysconfig.get_path("scripts"))]
    return list(dict.fromkeys(found))


def find_renderer(path: str | None = None, scripts: Sequence[Path] | None = None) -> str:
    """The program to run: ``$PERFCHART_DOT``, then ``dot`` on *path*, then ``graphviz-pure``."""
    chosen = os.environ.get(RENDERER_VARIABLE)
    if chosen:
        program = shutil.which(chosen)
        if program is None:
            raise NoRenderer(f"{RENDERER_VARIABLE}={chosen}: no such program")
        return program
    search = os.environ.get("PATH", "") if path is None else path
    program = shutil.which("dot", path=search)
    if program is not None:
        return program
    dirs = script_dirs() if scripts is None else scripts
    program = shutil.which("graphviz-pure", path=os.pathsep.join([search, *map(str, dirs)]))
    if program is not None:
        return program
    raise NoRenderer(
        "no renderer for SVG or PNG: pip install graphviz-pure (a perfchart dependency), or "
        "install Graphviz's dot; "
        "text formats (--format dot, mermaid, plantuml) need none"
    )


def check_renderable(diagram: Diagram, fmt: str) -> None:
    """Refuse, before any renderer starts, a diagram too large to lay out as *fmt* in practice."""
    states = sum(1 for _ in diagram.states())
    transitions = len(diagram.all_transitions())
    if states + transitions > MAX_RENDERED:
        raise UsageError(
            f"{diagram.name}: {states:,} states and {transitions:,} transitions are more than the "
            f"{MAX_RENDERED:,} a drawing as {fmt.upper()} is practical for; draw it with --format "
            "mermaid or --format dot"
        )


def time_limit() -> float:
    """The renderer's time limit: ``$PERFCHART_RENDER_TIMEOUT`` seconds, else RENDER_TIMEOUT."""
    text = os.environ.get(TIMEOUT_VARIABLE)
    if not text:
        return RENDER_TIMEOUT
    try:
        seconds = float(text)
    except ValueError:
        seconds = math.nan
    if not 0 < seconds < math.inf:
        raise UsageError(f"{TIMEOUT_VARIABLE}={text}: expected a number of seconds above 0")
    return seconds


def render(dot: str, fmt: str, program: str | None = None) -> bytes:
    """Lay out and render *dot* as *fmt* (svg or png), within the time limit."""
    if fmt not in RENDERED_FORMATS:
        raise ValueError(f"cannot render {fmt!r}")
    limit = time_limit()
    program = program or find_renderer()
    try:
        process = subprocess.Popen(
            [program, f"-T{fmt}"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except OSError as exc:
        raise NoRenderer(f"cannot run {program}: {exc.strerror or exc}") from None
    try:
        stdout, stderr = process.communicate(dot.encode(), timeout=limit)
    except subprocess.TimeoutExpired:
        _kill_group(process.pid)  # its children too, which may hold its pipes
        process.communicate()
        raise PerfchartError(
            f"{Path(program).name}: no {fmt.upper()} after {limit:g} s, the renderer's time limit "
            f"({TIMEOUT_VARIABLE}); draw it with --format mermaid or --format dot"
        ) from None
    finally:
        if process.poll() is None:
            _kill_group(process.pid)
            process.wait()
    if process.returncode != 0 or not stdout:
        message = stderr.decode(errors="replace").strip().splitlines()
        raise PerfchartError(
            f"{Path(program).name} failed (exit {process.returncode}): "
            f"{message[-1] if message else 'no output'}"
        )
    return stdout


def _kill_group(pgid: int) -> None:
    """SIGKILL the renderer's process group, which may have ended on its own meanwhile."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass
