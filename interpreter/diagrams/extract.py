"""From sismic's model to the neutral graph: the only module that reads sismic's classes."""

from __future__ import annotations

from sismic.model import (
    CompoundState,
    DeepHistoryState,
    FinalState,
    OrthogonalState,
    ShallowHistoryState,
    Statechart,
)
from sismic.model import Transition as ChartTransition

from .graph import Diagram, State, Transition


def extract(statechart: Statechart) -> Diagram:
    """The diagram of *statechart*: states in chart order, transitions keyed by their position.

    The position of a transition in ``statechart.transitions`` is the key the
    engine records run counts under, so an overlay finds its arrow.
    """
    transitions = [_transition(index, t) for index, t in enumerate(statechart.transitions)]
    internal: dict[str, list[Transition]] = {}
    for t in transitions:
        if t.internal:
            internal.setdefault(t.source, []).append(t)
    root = _state(statechart, statechart.root, internal)
    return Diagram(
        name=statechart.name or statechart.root,
        root=root,
        transitions=[t for t in transitions if not t.internal],
        description=(statechart.description or "").strip(),
        preamble=(statechart.preamble or "").strip(),
    )


def _state(statechart: Statechart, name: str, internal: dict[str, list[Transition]]) -> State:
    model = statechart.state_for(name)
    return State(
        name=name,
        kind=_kind(model),
        entry=_code(getattr(model, "on_entry", None)),
        exit=_code(getattr(model, "on_exit", None)),
        initial=getattr(model, "initial", None),
        children=[_state(statechart, child, internal) for child in statechart.children_for(name)],
        internal=internal.get(name, []),
    )


def _kind(model: object) -> str:
    for cls, kind in (
        (FinalState, "final"),
        (ShallowHistoryState, "shallow history"),
        (DeepHistoryState, "deep history"),
        (OrthogonalState, "orthogonal"),
        (CompoundState, "compound"),
    ):
        if isinstance(model, cls):
            return kind
    return "basic"


def _transition(index: int, t: ChartTransition) -> Transition:
    return Transition(
        index=index,
        source=t.source,
        target=t.target,
        event=t.event,
        guard=_code(t.guard),
        action=_code(t.action),
        priority=int(t.priority or 0),
    )


def _code(code: str | None) -> str | None:
    return code.strip() if code and code.strip() else None
