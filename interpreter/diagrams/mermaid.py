"""Mermaid ``stateDiagram-v2``: for Markdown pages that render Mermaid (GitHub, GitLab, MkDocs).

Mermaid has a single end marker ``[*]``, so final states are drawn as named
states with a ``final`` class instead: each one stays distinct. Entry, exit
and internal transitions are description lines of their state (a note
beside a composite state, which Mermaid allows no description); self-loops
are arrows.
"""

from __future__ import annotations

from .graph import Diagram, State, Transition, Visits

#: History states have no symbol of their own here: their name says what they are.
_HISTORY = {"shallow history": " (H)", "deep history": " (H*)"}


def to_mermaid(diagram: Diagram, visits: Visits | None = None) -> str:
    """The Mermaid text of *diagram*; the same input always gives the same text."""
    writer = _Writer(diagram, visits)
    lines = ["stateDiagram-v2"]
    writer.state(diagram.root, lines, 1)
    lines += [f"    {writer.arrow(t)}" for t in writer.scopes.get(None, [])]
    ids = writer.ids
    finals = [s.name for s in diagram.states() if s.final]
    lines.append("    classDef final fill:#222,color:#fff,stroke:#000,stroke-width:4px")
    if finals:
        lines.append(f"    class {','.join(ids[name] for name in finals)} final")
    if visits is not None:
        lines.append("    classDef unvisited fill:#f5f5f5,color:#b0b0b0,stroke:#b0b0b0")
        unvisited = [
            s.name for s in diagram.states() if not s.composite and visits.state(s.name) == 0
        ]
        if unvisited:
            lines.append(f"    class {','.join(ids[name] for name in unvisited)} unvisited")
    return "\n".join(lines) + "\n"


class _Writer:
    def __init__(self, diagram: Diagram, visits: Visits | None) -> None:
        self.diagram = diagram
        self.visits = visits
        self.ids = diagram.bare_ids()
        self.scopes = _scopes(diagram)

    def state(self, state: State, lines: list[str], depth: int) -> None:
        pad = "    " * depth
        visits, sid = self.visits, self.ids[state.name]
        title = (
            state.name + _HISTORY.get(state.kind, "")
            if visits is None
            else f"{state.name} ({visits.state(state.name)}x)"
        )
        lines.append(f'{pad}state "{_text(title)}" as {sid}')
        if not state.composite:
            lines += [f"{pad}{sid} : {_text(text)}" for text in self.body(state)]
            return
        lines.append(f"{pad}state {sid} {{")
        inner = pad + "    "
        if state.initial:
            lines.append(f"{inner}[*] --> {self.ids[state.initial]}")
        for i, child in enumerate(state.children):
            if i and state.kind == "orthogonal":
                lines.append(f"{inner}--")
            self.state(child, lines, depth + 1)
        lines += [f"{inner}{self.arrow(t)}" for t in self.scopes.get(state.name, [])]
        lines.append(f"{pad}}}")
        body = self.body(state)
        if body:
            # Mermaid allows a composite state no description lines: its body is a note beside it.
            lines += [
                f"{pad}note right of {sid}",
                *(f"{inner}{_text(text)}" for text in body),
                f"{pad}end note",
            ]

    def body(self, state: State) -> list[str]:
        body = state.body()
        if self.visits is None:
            return body
        offset = len(body) - len(state.internal)
        return [
            text
            if i < offset
            else f"{text} ({self.visits.transition(state.internal[i - offset].index)}x)"
            for i, text in enumerate(body)
        ]

    def arrow(self, t: Transition) -> str:
        assert t.target is not None
        label = t.label()
        if self.visits is not None:
            label = f"{self.visits.transition(t.index)}x {label}".strip()
        text = f" : {_text(label)}" if label else ""
        return f"{self.ids[t.source]} --> {self.ids[t.target]}{text}"


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


def _text(text: str) -> str:
    """Escape what Mermaid reads as syntax in labels, with its #code; entities."""
    return "".join(f"#{ord(c)};" if c in '#;:"<>{}' else c for c in text)
