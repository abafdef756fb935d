"""Properties of the filter language: compiling any text raises only FilterSyntaxError,
valid expressions never fail at run time, and :not is an exact complement."""

from __future__ import annotations

import re
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sismic.clock import SimulatedClock

from interpreter.core import Event, TickEvent, Timers
from interpreter.filters import EventFilter, FilterSyntaxError
from tests.harness import OpenEvent


class PropertyEvent(OpenEvent):
    pass


class PropertyChildEvent(PropertyEvent):
    pass


class PropertyTickEvent(OpenEvent, TickEvent):
    """A TickEvent with free attributes."""


def compiles_or_syntax_error(expression: str) -> EventFilter | None:
    """The only exception compiling may raise is FilterSyntaxError, and it points inside the
    text."""
    try:
        return EventFilter(expression)
    except FilterSyntaxError as caught:
        error = caught
    assert error.expression == expression
    assert 0 <= error.position <= len(expression)
    return None


# ---------------------------------------------------------------- strategies

NAMES = st.sampled_from(
    ["PropertyEvent", "PropertyChildEvent", "TickEvent", "Event", "*", "NoSuchEvent"]
)
PATHS = st.sampled_from(
    ["n", "code", "line", "params.'k'", 'params."a b"', "inner.code", "missing", "traceids"]
)
OPERATORS = st.sampled_from(["=", "==", "!=", ">", ">=", "<", "<=", "<~"])
BARE_VALUES = st.from_regex(r"[A-Za-z0-9_.+\-]{1,8}", fullmatch=True)
QUOTED_VALUES = st.text(
    st.characters(blacklist_characters="'", blacklist_categories=("Cs",)), max_size=8
).map(lambda text: f"'{text}'")
PATTERNS = st.text(
    st.characters(blacklist_characters="'", blacklist_categories=("Cs",)), max_size=6
).map(lambda text: f"'{re.escape(text)}'")
SELECTORS = st.sampled_from(
    [
        "",
        ":first",
        ":last",
        ":nth(2)",
        ":nth(2,g)",
        ":nth(1,g):single",
        ":single",
        ":notrace",
        ":first:notrace",
        ":last:notrace",
        ":after(1s)",
        ":first:after(500ms)",
    ]
)


@st.composite
def conditions(draw: st.DrawFn) -> str:
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        path = draw(PATHS)
        if draw(st.booleans()):
            parts.append(f"{path}{draw(st.sampled_from(['~=', '~==']))}{draw(PATTERNS)}")
        else:
            parts.append(f"{path}{draw(OPERATORS)}{draw(BARE_VALUES | QUOTED_VALUES)}")
    return f"[{', '.join(parts)}]" if parts or draw(st.booleans()) else ""


@st.composite
def clauses(draw: st.DrawFn, selectors: bool = True) -> str:
    return draw(NAMES) + draw(conditions()) + (draw(SELECTORS) if selectors else "")


@st.composite
def valid_expressions(draw: st.DrawFn) -> str:
    if draw(st.booleans()):
        inner = " ".join(draw(st.lists(clauses(selectors=False), min_size=1, max_size=3)))
        return f":not({inner}){draw(SELECTORS)}"
    return " ".join(draw(st.lists(clauses(), min_size=1, max_size=4)))


@st.composite
def mutated_expressions(draw: st.DrawFn) -> str:
    """A valid expression with a few characters deleted, inserted or swapped: near misses of the
    grammar."""
    text = list(draw(valid_expressions()))
    for _ in range(draw(st.integers(1, 4))):
        position = draw(st.integers(0, len(text)))
        edit = draw(st.sampled_from(["delete", "insert", "swap"]))
        if edit == "delete" and position < len(text):
            del text[position]
        elif edit == "insert":
            text.insert(
                position,
                draw(
                    st.sampled_from(list("[](),:'\". =<>~!*\\") + ["not(", "nth(", "after(", "\t"])
                ),
            )
        elif edit == "swap" and position + 1 < len(text):
            text[position], text[position + 1] = text[position + 1], text[position]
    return "".join(text)


TOKEN_SOUP = st.lists(
    st.sampled_from(
        [
            "Tick",
            "Event",
            "*",
            "[",
            "]",
            "(",
            ")",
            ":",
            ",",
            ".",
            "'",
            '"',
            " ",
            "=",
            "!=",
            ">=",
            "<~",
            "~=",
            "~==",
            "0",
            "-1",
            "1e3",
            "s",
            "ms",
        ]
        + [
            ":first",
            ":last",
            ":nth(",
            ":single",
            ":after(",
            ":notrace",
            ":not(",
            ":nth(2,g)",
            "\\",
            "{2,1}",
            "é",
            "\u00a0",
            "\n",
        ]
    ),
    max_size=25,
).map("".join)

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(),
    st.text(max_size=8),
    st.lists(st.integers(-3, 3), max_size=3),
    st.dictionaries(st.sampled_from(["k", "a b", "x"]), st.integers(-3, 3), max_size=2),
    st.builds(SimpleNamespace, code=st.integers(-3, 3)),
)


@st.composite
def events(draw: st.DrawFn) -> Event:
    cls = draw(st.sampled_from([PropertyEvent, PropertyChildEvent, PropertyTickEvent]))
    attributes = draw(
        st.dictionaries(
            st.sampled_from(["n", "code", "line", "params", "inner"]), VALUES, max_size=4
        )
    )
    return cls(traceids=draw(st.frozensets(st.integers(1, 3), max_size=2)), ts=0.0, **attributes)


TRACEIDS = st.none() | st.frozensets(st.integers(1, 3), max_size=2)


# ---------------------------------------------------------------- properties


@settings(max_examples=500, deadline=None)
@given(st.text())
def test_arbitrary_text_raises_only_filter_syntax_errors(expression: str) -> None:
    compiles_or_syntax_error(expression)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(TOKEN_SOUP | mutated_expressions())
def test_grammar_shaped_text_raises_only_filter_syntax_errors(expression: str) -> None:
    compiles_or_syntax_error(expression)


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(valid_expressions(), TRACEIDS, st.lists(events(), max_size=8))
def test_valid_expressions_compile_and_handle_any_event(
    expression: str, traceids: Any, stream: list[Event]
) -> None:
    clock = SimulatedClock()
    timers = Timers(clock)
    delivered: list[Event] = []
    session = EventFilter(expression).start(
        traceids, lambda event, notrace: delivered.append(event), timers
    )
    for event in stream:
        session.handle(event)
        assert delivered in ([], [event]), "one handle() delivers at most its own event, once"
        delivered.clear()
        clock.time += 0.4
        timers.run_due()
        delivered.clear()
    session.finalize()
    assert all(any(event is sent for sent in stream) for event in delivered)
    assert len({id(event) for event in delivered}) == len(delivered), (
        "finalize() delivers each event once"
    )


def _matches(expression: str, traceids: Any, stream: list[Event]) -> list[bool]:
    hits: list[Event] = []
    session = EventFilter(expression).start(traceids, lambda event, notrace: hits.append(event))
    for event in stream:
        session.handle(event)
    return [any(event is hit for hit in hits) for event in stream]


@pytest.mark.slow
@settings(max_examples=200, deadline=None)
@given(
    st.lists(clauses(selectors=False), min_size=1, max_size=3).map(" ".join),
    TRACEIDS,
    st.lists(events(), max_size=8),
)
def test_not_matches_exactly_the_other_events_in_the_session_traces(
    expression: str, traceids: Any, stream: list[Event]
) -> None:
    plain = _matches(expression, traceids, stream)
    negated = _matches(f":not({expression})", traceids, stream)
    for event, hit, miss in zip(stream, plain, negated, strict=True):
        in_traces = traceids is None or not traceids.isdisjoint(event.traceids)
        assert (hit or miss) is in_traces
        assert not (hit and miss)
