"""PlantUML state diagrams, for tools and wikis that render PlantUML.

Unlike sismic's own exporter, each final state stays a distinct, named
state (stereotype ``<<final>>``, drawn dark) instead of collapsing into one
``[*]``. Entry, exit and internal transitions are description lines of
their state; self-loops are arrows.
"""

from __future__ import annotations

from .graph import Diagram, State, Transition, Visits

#: History states have no symbol of their own here: their name says what they are.
_HISTORY = {"shallow history": " (H)", "deep history": " (H*)"}


def to_plantuml(diagram: Diagram, visits: Visits | None = None) -> str:
    """The PlantUML text of *diagram*; the same input always gives the same text."""
    lines = [
        "@startuml",
        f"title {diagram.name}",
        "hide empty description",
        "skinparam state {",
        "  BackgroundColor<<final>> #222222",
        "  FontColor<<final>> #ffffff",
    ]
    if visits is not None:
        lines += [
            "  BackgroundColor<<unvisited>> #f5f5f5",
            "  FontColor<<unvisited>> #b0b0b0",
            "  BorderColor<<unvisited>> #b0b0b0",
        ]
    lines.append("}")
    ids = diagram.bare_ids()
    _state(diagram.root, lines, 0, visits, ids)
    for t in diagram.transitions:
        lines.append(_arrow(t, visits, ids))
    lines.append("@enduml")
    return "\n".join(lines) + "\n"


def _state(
    state: State, lines: list[str], depth: int, visits: Visits | None, ids: dict[str, str]
) -> None:
    pad = "  " * depth
    title = (
        state.name + _HISTORY.get(state.kind, "")
        if visits is None
        else f"{state.name} ({visits.state(state.name)}x)"
    )
    stereotype = (
        " <<final>>"
        if state.final
        else " <<unvisited>>"
        if visits is not None and not state.composite and visits.state(state.name) == 0
        else ""
    )
    opening = " {" if state.composite else ""
    lines.append(f'{pad}state "{_text(title)}" as {ids[state.name]}{stereotype}{opening}')
    inner = pad + "  " if state.composite else pad
    body = state.body()
    offset = len(body) - len(state.internal)
    for i, text in enumerate(body):
        if visits is not None and i >= offset:
            text = f"{text} ({visits.transition(state.internal[i - offset].index)}x)"
        lines.append(f"{inner}{ids[state.name]} : {_text(text)}")
    if not state.composite:
        return
    if state.initial:
        lines.append(f"{inner}[*] --> {ids[state.initial]}")
    for i, child in enumerate(state.children):
        if i and state.kind == "orthogonal":
            lines.append(f"{inner}--")
        _state(child, lines, depth + 1, visits, ids)
    lines.append(f"{pad}}}")


def _arrow(t: Transition, visits: Visits | None, ids: dict[str, str]) -> str:
    assert t.target is not None
    label = t.label()
    arrow = "-->"
    if visits is not None:
        fired = visits.transition(t.index)
        label = f"{fired}x {label}".strip()
        arrow = "-[#08306b,bold]->" if fired else "-[#b0b0b0,dashed]->"
    text = f" : {_text(label)}" if label else ""
    return f"{ids[t.source]} {arrow} {ids[t.target]}{text}"


def _text(text: str) -> str:
    # PlantUML reads a double quote as the end of a display name and \n as a line break.
    return text.replace("\\", "\\\\").replace('"', "''")
