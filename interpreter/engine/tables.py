"""Each chart's compiled table, built once per file content and kept on disk like bytecode.

A start that finds the table of a chart's exact content (its SHA-256) reads
it back with ``marshal`` instead of computing it. Tables are kept in the
user's cache directory (``$XDG_CACHE_HOME/perfchart/charts``, else
``~/.cache/perfchart/charts``), bundled charts' too: an installed package
may not be writable, and chart folders stay as their authors left them. A
directory that cannot be written, a file that cannot be read or holds
something else are all the same to it: the table is computed in memory and
the run goes on. The tables are perfchart's own, not bytecode:
``PYTHONDONTWRITEBYTECODE``, set where bytecode must not be written, does
not stop them.
"""

from __future__ import annotations

import hashlib
import marshal
import os
import sys
import tempfile
from pathlib import Path

import sismic
from sismic.model import Statechart

from ..charts import PolicyChart
from .compiled import FORMAT, CompiledChart, compile_chart, subset_problem

#: What a file's name says beyond its content: the Python that compiled the code, the sismic whose
#: rules the table follows, the table's layout.
_TAG = f"{sys.implementation.cache_tag}.s{sismic.__version__}.f{FORMAT}"


def engine_for(chart: PolicyChart) -> tuple[CompiledChart | None, str]:
    """The chart's compiled table (None: it runs on sismic) and the engine line ``check -v``
    prints: ``compiled``, or ``sismic (uses … at line N)``.

    Decided once per loaded chart: the answer is kept on its sismic model.
    """
    statechart = chart.statechart()
    known = getattr(statechart, "_perfchart_engine", None)
    if known is not None:
        return known
    problem = subset_problem(statechart)
    engine: tuple[CompiledChart | None, str]
    if problem is None:
        engine = (load_table(chart.path, statechart), "compiled")
    else:
        reason, name = problem
        entry = chart.source().state(name) if name is not None else None
        line = getattr(entry, "line", None)
        engine = (None, f"sismic ({reason}{f' at line {line}' if line else ''})")
    statechart._perfchart_engine = engine
    return engine


def cache_file(digest: str) -> Path | None:
    """Where the table of a chart whose content has the SHA-256 *digest* is kept; None without a
    home directory to keep it in."""
    base = os.environ.get("XDG_CACHE_HOME")
    if not base:
        try:
            base = str(Path.home() / ".cache")
        except RuntimeError:
            return None
    return Path(base) / "perfchart" / "charts" / f"{digest[:40]}.{_TAG}.chart"


def load_table(path: Path, statechart: Statechart) -> CompiledChart:
    """The table of the chart file at *path* (its model *statechart*): read back when kept, else
    computed and kept."""
    try:
        content = path.read_bytes()
    except OSError:
        return compile_chart(statechart)
    digest = hashlib.sha256(content).hexdigest()
    where = cache_file(digest)
    table = None if where is None else _read(where, digest, statechart)
    if table is None:
        table = compile_chart(statechart)
        if where is not None:
            _write(where, digest, table)
    return table


def _read(where: Path, digest: str, statechart: Statechart) -> CompiledChart | None:
    """The kept table, if *where* holds one of this content that fits this model."""
    try:
        stored, data = marshal.loads(where.read_bytes())
    except (OSError, ValueError, EOFError, TypeError):
        return None
    table = CompiledChart.from_data(data) if stored == digest else None
    if table is None or set(table.settle) != set(statechart.states):
        return None
    if any(index >= len(statechart.transitions) for _, index in table.moves):
        return None
    return table


def _write(where: Path, digest: str, table: CompiledChart) -> None:
    """Keep *table* at *where*, whole or not at all (written aside, then renamed)."""
    try:
        where.parent.mkdir(parents=True, exist_ok=True)
        handle, aside = tempfile.mkstemp(dir=where.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(marshal.dumps((digest, table.as_data())))
            os.replace(aside, where)
        except BaseException:
            os.unlink(aside)
            raise
    except (OSError, ValueError):
        return
