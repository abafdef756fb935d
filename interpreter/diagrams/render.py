"""SVG and PNG from DOT text, with pip alone.

A Graphviz ``dot`` on PATH is used when there is one (or the program named
by ``PERFCHART_DOT``); otherwise ``graphviz-pure``, a dependency of
perfchart: a port of Graphviz shipped as a wheel, needing no system
package, Java, browser or network. Its script is looked for beside the
running Python too, so an unactivated virtual environment finds it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from ..errors import PerfchartError

#: Environment variable naming the renderer to use instead of searching.
RENDERER_VARIABLE = "PERFCHART_DOT"
#: Output formats the renderers produce from DOT.
RENDERED_FORMATS = ("svg", "png")


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


def render(dot: str, fmt: str, program: str | None = None) -> bytes:
    """Lay out and render *dot* as *fmt* (svg or png)."""
    if fmt not in RENDERED_FORMATS:
        raise ValueError(f"cannot render {fmt!r}")
    program = program or find_renderer()
    try:
        done = subprocess.run(
            [program, f"-T{fmt}"], input=dot.encode(), capture_output=True, check=False, timeout=120
        )
    except OSError as exc:
        raise NoRenderer(f"cannot run {program}: {exc.strerror or exc}") from None
    if done.returncode != 0 or not done.stdout:
        message = done.stderr.decode(errors="replace").strip().splitlines()
        raise PerfchartError(
            f"{Path(program).name} failed (exit {done.returncode}): "
            f"{message[-1] if message else 'no output'}"
        )
    return done.stdout
