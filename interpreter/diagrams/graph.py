"""The neutral graph every exporter draws: states, transitions and, optionally, a run's counts.

Exporters never look at sismic's model. Extraction (:mod:`.extract`) turns a
statechart into this small tree once, so each format only decides how to
write it, and an overlay of recorded visits (:class:`Visits`) attaches to the
same names and transition indexes whatever the format.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

#: Longest label text before it is shortened with an ellipsis (full text stays in tooltips).
LABEL_WIDTH = 40


@dataclass(frozen=True)
class Transition:
    """One transition; *index* is its position in the chart, the key run counts use."""

    index: int
    source: str
    target: str | None
    event: str | None = None
    guard: str | None = None
    action: str | None = None
    priority: int = 0

    @property
    def internal(self) -> bool:
        """No target: no state is exited or entered (unlike a self-loop)."""
        return self.target is None

    def label(self, width: int = LABEL_WIDTH) -> str:
        """``event [guard] / action``, each part shortened to *width*."""
        return transition_label(self, width)

    def full_label(self) -> str:
        """The same label with the code whole, for tooltips."""
        return transition_label(self, None)


@dataclass
class State:
    """A state and what is drawn inside its box."""

    name: str
    kind: str  # basic, compound, orthogonal, final, shallow history, deep history
    entry: str | None = None
    exit: str | None = None
    initial: str | None = None
    children: list[State] = field(default_factory=list)
    #: Internal transitions (no target), drawn in the state's body rather than as arrows.
    internal: list[Transition] = field(default_factory=list)

    @property
    def composite(self) -> bool:
        return bool(self.children)

    @property
    def final(self) -> bool:
        return self.kind == "final"

    def walk(self) -> Iterator[State]:
        """This state and every state nested in it, depth first, in chart order."""
        yield self
        for child in self.children:
            yield from child.walk()

    def body(self, width: int | None = LABEL_WIDTH) -> list[str]:
        """The lines under the state's name: entry, exit, then internal transitions."""
        lines = []
        if self.entry:
            lines.append(f"entry / {shorten(self.entry, width)}")
        if self.exit:
            lines.append(f"exit / {shorten(self.exit, width)}")
        lines.extend(transition_label(t, width) for t in self.internal)
        return lines


@dataclass
class Diagram:
    """A whole chart: its root state, every non-internal transition, and where it came from."""

    name: str
    root: State
    transitions: list[Transition]
    description: str = ""
    preamble: str = ""

    def states(self) -> Iterator[State]:
        return self.root.walk()

    def state(self, name: str) -> State:
        """The state named *name*, from an index built on first use: exporters ask for each
        transition's ends, so a walk per question made a chart of n states cost n² steps.
        """
        index = self.__dict__.get("_index")
        if index is None:
            index = self.__dict__["_index"] = {}
            for state in self.states():
                index.setdefault(state.name, state)
        return index[name]

    def parents(self) -> dict[str, str]:
        """Each state's parent name (the root has none)."""
        found = {}
        for state in self.states():
            for child in state.children:
                found[child.name] = state.name
        return found

    def bare_ids(self) -> dict[str, str]:
        """A distinct bare word per state, for formats whose ids are words (Mermaid, PlantUML).

        Other characters become ``_``; a clash (``a-b`` and ``a_b``) gets a
        numbered suffix, in chart order, so output stays deterministic.
        """
        ids: dict[str, str] = {}
        taken: set[str] = set()
        for state in self.states():
            base = "".join(c if c.isalnum() or c == "_" else "_" for c in state.name)
            if not base or base[0].isdigit():
                base = f"s_{base}"
            word, n = base, 1
            while word in taken:
                n += 1
                word = f"{base}_{n}"
            taken.add(word)
            ids[state.name] = word
        return ids

    def all_transitions(self) -> list[Transition]:
        """Every transition, internal ones included, in chart order."""
        internal = [t for state in self.states() for t in state.internal]
        return sorted(self.transitions + internal, key=lambda t: t.index)


@dataclass(frozen=True)
class Visits:
    """What runs did: entries per state, firings per transition index, over one or more
    repetitions."""

    states: Mapping[str, int]
    transitions: Mapping[int, int]
    repetitions: int = 1

    def state(self, name: str) -> int:
        return self.states.get(name, 0)

    def transition(self, index: int) -> int:
        return self.transitions.get(index, 0)

    @property
    def most(self) -> int:
        """The largest count, for scaling colours."""
        return max([*self.states.values(), *self.transitions.values(), 1])


def shorten(code: str, width: int | None = LABEL_WIDTH) -> str:
    """Code on one line (statements joined by ``; ``), cut to *width* with an ellipsis."""
    text = "; ".join(line.strip() for line in code.strip().splitlines() if line.strip())
    if width is not None and len(text) > width:
        return text[: width - 3].rstrip() + "..."
    return text


def transition_label(transition: Transition, width: int | None = LABEL_WIDTH) -> str:
    parts = []
    if transition.priority:
        parts.append(f"{transition.priority}:")
    if transition.event:
        parts.append(transition.event)
    if transition.guard:
        parts.append(f"[{shorten(transition.guard, width)}]")
    if transition.action:
        parts.append(f"/ {shorten(transition.action, width)}")
    return " ".join(parts)
