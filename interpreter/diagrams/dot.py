"""Graphviz DOT: the format SVG and PNG are rendered from, and the one the gallery test compares.

Compound states are clusters (nested boxes) holding their initial marker
and an invisible anchor that arrows to and from the box attach to.
Internal transitions are rows in the state's body, unlike self-loops, which
are arrows. With :class:`~.graph.Visits`, visited states and transitions
are coloured by count and labelled with it; the rest is greyed out.
"""

from __future__ import annotations

import html
import math

from .graph import Diagram, State, Transition, Visits

FONT = "Helvetica"
#: Light to dark: how often a state or transition was visited, relative to the most visited.
HEAT = ("#f7fbff", "#deebf7", "#c6dbef", "#9ecae1", "#6baed6")
INK = "#08306b"
GREY = "#b0b0b0"
GREY_FILL = "#f5f5f5"


def to_dot(diagram: Diagram, visits: Visits | None = None) -> str:
    """The DOT text of *diagram*; the same input always gives the same text."""
    return _Writer(diagram, visits).write()


class _Writer:
    def __init__(self, diagram: Diagram, visits: Visits | None) -> None:
        self.diagram = diagram
        self.visits = visits
        self.lines: list[str] = []
        self.parents = diagram.parents()

    def write(self) -> str:
        d = self.diagram
        title = (
            d.name
            if self.visits is None
            else f"{d.name}: visits over {_plural(self.visits.repetitions, 'repetition')}"
        )
        self.lines += [
            f"digraph {_quote(d.name)} {{",
            f"  graph [compound=true, fontname={_quote(FONT)}, fontsize=12, labelloc=t, "
            f"label={_quote(title)}, "
            f"nodesep=0.35, ranksep=0.45, tooltip={_quote(d.description or d.name)}];",
            f'  node [shape=box, style="rounded,filled", fillcolor="#ffffff", '
            f'fontname={_quote(FONT)}, fontsize=10, margin="0.12,0.06"];',
            f"  edge [fontname={_quote(FONT)}, fontsize=9, arrowsize=0.7];",
        ]
        self._state(d.root, 1)
        for t in d.transitions:
            self._edge(t)
        self.lines.append("}")
        return "\n".join(self.lines) + "\n"

    # -- states ----------------------------------------------------------------

    def _state(self, state: State, depth: int) -> None:
        pad = "  " * depth
        if not state.composite:
            self.lines.append(f"{pad}{_quote(state.name)} [{self._node_attrs(state)}];")
            return
        style = (
            "dashed,rounded"
            if self.parents.get(state.name)
            and self.diagram.state(self.parents[state.name]).kind == "orthogonal"
            else "rounded"
        )
        count = self._count(state.name)
        color = '"#404040"' if count is None else _quote(GREY if count == 0 else INK)
        tooltip = (
            self._state_tooltip(state)
            if state is not self.diagram.root
            else self.diagram.preamble or state.name
        )
        fill = "" if count is None else f" fillcolor={_quote(_heat(count, self._most()))};"
        if count is not None:
            style += ",filled"
        self.lines += [
            f"{pad}subgraph {_quote('cluster_' + state.name)} {{",
            f"{pad}  label={self._html_label(state)}; labeljust=l; style={_quote(style)}; "
            f"color={color};{fill} tooltip={_quote(tooltip)};",
            f"{pad}  {_quote(_anchor(state.name))} "
            '[shape=point, style=invis, width=0.01, height=0.01, label=""];',
        ]
        if state.initial:
            initial = _quote(state.name + "::initial")
            self.lines.append(
                f"{pad}  {initial} [shape=circle, style=filled, fillcolor=black, width=0.14, "
                'height=0.14, fixedsize=true, label="", tooltip="initial"];'
            )
            into = (
                f", lhead={_quote('cluster_' + state.initial)}"
                if self.diagram.state(state.initial).composite
                else ""
            )
            self.lines.append(
                f"{pad}  {initial} -> {_quote(self._entry(state.initial))} [arrowsize=0.6{into}];"
            )
        for child in state.children:
            self._state(child, depth + 1)
        self.lines.append(f"{pad}}}")

    def _node_attrs(self, state: State) -> str:
        count = self._count(state.name)
        if state.final:
            attrs = [
                "shape=doublecircle",
                f"label={_quote(state.name)}",
                "fontsize=9",
                "width=0.3",
                "margin=0.02",
            ]
        elif state.kind in ("shallow history", "deep history"):
            attrs = [
                "shape=circle",
                f"label={_quote('H' if state.kind == 'shallow history' else 'H*')}",
                "width=0.3",
            ]
        else:
            attrs = [f"label={self._html_label(state)}"]
        attrs.append(f"tooltip={_quote(self._state_tooltip(state))}")
        if count is not None:
            attrs += [
                f"fillcolor={_quote(_heat(count, self._most()))}",
                f"color={_quote(GREY if count == 0 else INK)}",
            ]
            if count == 0:
                attrs.append(f"fontcolor={_quote(GREY)}")
            if state.final or state.kind.endswith("history"):
                attrs.append(f"xlabel={_quote(f'{count}x')}")
        return ", ".join(attrs)

    def _html_label(self, state: State) -> str:
        count = self._count(state.name)
        muted = count == 0
        rows = [f"<tr><td><b>{_html(state.name)}</b></td></tr>"]
        if count:
            rows.append(f'<tr><td><font point-size="8">entered {count}x</font></td></tr>')
        body = state.body()
        marks = state.internal
        lines = []
        offset = len(body) - len(marks)
        for i, text in enumerate(body):
            if i >= offset and self.visits is not None:
                fired = self.visits.transition(marks[i - offset].index)
                text = f"{text}  ({fired}x)" if fired else text
                color = INK if fired else GREY
            else:
                color = GREY if muted else "#303030"
            lines.append(
                f'<tr><td align="left"><font point-size="8" color="{color}">'
                f"{_html(text)}</font></td></tr>"
            )
        if lines:
            rows.append("<hr/>")
            rows += lines
        return (
            '<<table border="0" cellborder="0" cellspacing="0" cellpadding="1">'
            f"{''.join(rows)}</table>>"
        )

    def _state_tooltip(self, state: State) -> str:
        parts = [state.name]
        if state.entry:
            parts.append(f"entry:\n{state.entry}")
        if state.exit:
            parts.append(f"exit:\n{state.exit}")
        parts += [f"internal: {t.full_label()}" for t in state.internal]
        return "\n\n".join(parts)

    # -- transitions -----------------------------------------------------------

    def _edge(self, t: Transition) -> None:
        assert t.target is not None
        source, target = self._entry(t.source), self._entry(t.target)
        attrs = [
            f"label={_quote(t.label())}",
            f"tooltip={_quote(t.full_label() or t.source + ' -> ' + t.target)}",
        ]
        if self.diagram.state(t.source).composite and not self._inside(t.target, t.source):
            attrs.append(f"ltail={_quote('cluster_' + t.source)}")
        if self.diagram.state(t.target).composite and not self._inside(t.source, t.target):
            attrs.append(f"lhead={_quote('cluster_' + t.target)}")
        if self.visits is not None:
            fired = self.visits.transition(t.index)
            if fired:
                level = _level(fired, self._most())
                attrs[0] = f"label={_quote(f'{fired}x ' + t.label())}"
                attrs += [
                    f"color={_quote(INK)}",
                    f"fontcolor={_quote(INK)}",
                    f"penwidth={1 + level * 0.5:g}",
                ]
            else:
                attrs += [f"color={_quote(GREY)}", f"fontcolor={_quote(GREY)}", "style=dashed"]
        self.lines.append(f"  {_quote(source)} -> {_quote(target)} [{', '.join(attrs)}];")

    def _entry(self, name: str) -> str:
        """The node an arrow to or from *name* attaches to: a compound state's anchor."""
        return _anchor(name) if self.diagram.state(name).composite else name

    def _inside(self, name: str, ancestor: str) -> bool:
        while name in self.parents:
            name = self.parents[name]
            if name == ancestor:
                return True
        return False

    # -- counts ----------------------------------------------------------------

    def _count(self, name: str) -> int | None:
        return None if self.visits is None else self.visits.state(name)

    def _most(self) -> int:
        return 1 if self.visits is None else self.visits.most


def _anchor(name: str) -> str:
    return name + "::anchor"


def _level(count: int, most: int) -> int:
    """0..4 on a log scale: one visit and a million both stay readable."""
    if count <= 0:
        return 0
    return min(len(HEAT) - 1, 1 + int(math.log(count) / math.log(most + 1) * (len(HEAT) - 1)))


def _heat(count: int, most: int) -> str:
    return GREY_FILL if count == 0 else HEAT[_level(count, most)]


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def _html(text: str) -> str:
    """Text for an HTML-like label: Graphviz reads backslash escapes even there (``\\N`` is the
    node's name), so each is doubled."""
    return html.escape(text, quote=True).replace("\\", "\\\\")


def _quote(text: str) -> str:
    """A DOT double-quoted string: backslashes and quotes escaped, newlines as DOT's centred \\n."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'
