"""Mermaid ``stateDiagram-v2``: for Markdown pages that render Mermaid (GitHub, GitLab, MkDocs).

Mermaid has a single end marker ``[*]``, so final states are drawn as named
states with a ``final`` class instead: each one stays distinct. Entry, exit
and internal transitions are description lines of their state; self-loops
are arrows.
"""

from __future__ import annotations

from .graph import Diagram, State, Transition, Visits


def to_mermaid(diagram: Diagram, visits: Visits | None = None) -> str:
    """The Mermaid text of *diagram*; the same input always gives the same text."""
    lines = ["stateDiagram-v2"]
    scopes = _scopes(diagram)
    _state(diagram, diagram.root, lines, 1, visits, scopes)
    lines += [f"    {_arrow(t, visits)}" for t in scopes.get(None, [])]
    finals = [s.name for s in diagram.states() if s.final]
    lines.append("    classDef final fill:#222,color:#fff,stroke:#000,stroke-width:4px")
    if finals:
        lines.append(f"    class {','.join(_id(name) for name in finals)} final")
    if visits is not None:
        lines.append("    classDef unvisited fill:#f5f5f5,color:#b0b0b0,stroke:#b0b0b0")
        unvisited = [s.name for s in diagram.states() if not s.composite and visits.state(s.name) == 0]
        if unvisited:
            lines.append(f"    class {','.join(_id(name) for name in unvisited)} unvisited")
    return "\n".join(lines) + "\n"


def _scopes(diagram: Diagram) -> dict[str | None, list[Transition]]:
    """Each transition goes in the innermost block holding both ends (None: the top level).

    Mermaid creates a new state when a block names one declared elsewhere.
    """
    parents = diagram.parents()

    def chain(name: str) -> list[str | None]:
        found: list[str | None] = []
        while name in parents:
            name = parents[name]
            found.append(name)
        return [*found, None]

    scopes: dict[str | None, list[Transition]] = {}
    for t in diagram.transitions:
        assert t.target is not None
        around_target = chain(t.target)
        scope = next(block for block in chain(t.source) if block in around_target)
        scopes.setdefault(scope, []).append(t)
    return scopes


def _state(diagram: Diagram, state: State, lines: list[str], depth: int, visits: Visits | None, scopes: dict[str | None, list[Transition]]) -> None:
    pad = "    " * depth
    title = state.name if visits is None else f"{state.name} ({visits.state(state.name)}x)"
    lines.append(f'{pad}state "{_text(title)}" as {_id(state.name)}')
    for text in _body(state, visits):
        lines.append(f"{pad}{_id(state.name)} : {_text(text)}")
    if not state.composite:
        return
    lines.append(f"{pad}state {_id(state.name)} {{")
    inner = pad + "    "
    if state.initial:
        lines.append(f"{inner}[*] --> {_id(state.initial)}")
    for child in state.children:
        _state(diagram, child, lines, depth + 1, visits, scopes)
    lines += [f"{inner}{_arrow(t, visits)}" for t in scopes.get(state.name, [])]
    lines.append(f"{pad}}}")


def _body(state: State, visits: Visits | None) -> list[str]:
    body = state.body()
    if visits is None:
        return body
    offset = len(body) - len(state.internal)
    return [text if i < offset else f"{text} ({visits.transition(state.internal[i - offset].index)}x)" for i, text in enumerate(body)]


def _arrow(t: Transition, visits: Visits | None) -> str:
    assert t.target is not None
    label = t.label()
    if visits is not None:
        label = f"{visits.transition(t.index)}x {label}".strip()
    text = f" : {_text(label)}" if label else ""
    return f"{_id(t.source)} --> {_id(t.target)}{text}"


def _id(name: str) -> str:
    """Mermaid ids are bare words: anything else becomes an underscore."""
    return "".join(c if c.isalnum() or c == "_" else "_" for c in name)


def _text(text: str) -> str:
    """Escape what Mermaid reads as syntax in labels, with its #code; entities."""
    out = []
    for c in text:
        if c in '#;:"<>{}':
            out.append(f"#{ord(c)};")
        else:
            out.append(c)
    return "".join(out)
