"""Where a piece of a loaded chart was written: states, transitions and code, back to ``file:line``.

sismic's model forgets the YAML it came from; the runner and ``perfchart
check`` use this to report a failing guard or a bad ``bind()`` at the line
the author wrote, with the state and transition around it.
"""

from __future__ import annotations

from pathlib import Path
from types import TracebackType
from typing import Any

from sismic.model import Statechart, Transition

from ..config import LocatedDict
from .checks import states

#: The file name sismic gives the code it compiles: frames with it run chart code.
CHART_CODE = "<string>"


def describe_transition(transition: Transition) -> str:
    """``Source -> Target on event`` as authors read it (internal transitions have no target)."""
    target = f" -> {transition.target}" if transition.target is not None else " (internal)"
    event = f" on {transition.event}" if transition.event else ""
    return f"{transition.source}{target}{event}"


class ChartSource:
    """The located YAML of one chart file, with its text for quoting code."""

    def __init__(self, path: Path, data: LocatedDict) -> None:
        self.path = path
        self.chart: LocatedDict = data["statechart"]
        self._lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        self._states = {str(state.get("name")): state for state in states(self.chart["root state"])}

    def state(self, name: str) -> LocatedDict | None:
        return self._states.get(name)

    def transition(self, statechart: Statechart, transition: Transition) -> LocatedDict | None:
        """The YAML entry of *transition*: sismic keeps a state's transitions in file order."""
        state = self.state(transition.source)
        if state is None:
            return None
        entries = [
            entry for entry in state.get("transitions") or () if isinstance(entry, LocatedDict)
        ]
        mine = statechart.transitions_from(transition.source)
        index = next((i for i, t in enumerate(mine) if t is transition), None)
        return entries[index] if index is not None and index < len(entries) else None

    def code_start(self, block: LocatedDict, key: str) -> int | None:
        """The file line of the first line of code under *key* (the next line for ``|`` and ``>``
        blocks).
        """
        line = block.line_of(key)
        if line is None:
            return None
        if 0 < line <= len(self._lines):
            after = self._lines[line - 1].split(":", 1)[-1].strip()
            if after[:1] in ("|", ">"):
                return line + 1
        return line

    def code_line(self, block: LocatedDict, key: str, offset: int) -> tuple[int | None, str]:
        """File line and text of line *offset* (1-based) of the code under *key*."""
        code = str(block.get(key) or "")
        lines = code.splitlines() or [""]
        offset = min(max(offset, 1), len(lines))
        start = self.code_start(block, key)
        return (start + offset - 1 if start is not None else None), lines[offset - 1].strip()


def code_offset(exc: BaseException | None) -> int:
    """The line, within its code block, where chart code raised *exc* (1 when unknown)."""
    offset = 1
    tb: TracebackType | None = exc.__traceback__ if exc is not None else None
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == CHART_CODE:
            offset = tb.tb_lineno
        tb = tb.tb_next
    return offset


def block_of(
    source: ChartSource, statechart: Statechart, kind: str, obj: Any
) -> tuple[LocatedDict | None, str, str]:
    """The YAML block and key holding the code of (*kind*, *obj*), and where it sits in words."""
    if kind == "preamble":
        return source.chart, "preamble", "preamble"
    if kind in ("on entry", "on exit"):
        return source.state(obj.name), kind, f"state {obj.name} ({kind})"
    return (
        source.transition(statechart, obj),
        kind,
        f"transition {describe_transition(obj)} ({kind})",
    )
