"""The event filter language: operators, selectors, traces, :not and errors."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest
from sismic.clock import SimulatedClock

from interpreter.core import Event, TickEvent, Timers
from interpreter.errors import ConfigError
from interpreter.filters import EventFilter, FilterSyntaxError
from tests.harness import OpenEvent


class SampleEvent(OpenEvent):
    """The event most operator cases run against."""


class SampleExitEvent(OpenEvent):
    pass


class SampleExitZeroEvent(SampleExitEvent):
    pass


class SampleLogEvent(OpenEvent):
    pass


class SampleTickEvent(OpenEvent, TickEvent):
    """A TickEvent with free attributes: another family of events than the Sample ones."""


CLASSES: dict[str, type[Event]] = {
    "S": SampleEvent,
    "X": SampleExitEvent,
    "Z": SampleExitZeroEvent,
    "L": SampleLogEvent,
    "T": SampleTickEvent,
}


def ev(kind: str = "S", traces: tuple[int, ...] = (1,), **attributes: Any) -> Event:
    return CLASSES[kind](traceids=traces, ts=0.0, **attributes)


def run(
    expression: str, events: list[Event], traceids: Any = None, finalize: bool = True
) -> list[tuple[int, bool]]:
    """Feed *events* through one session; (index, notrace) of each delivery, in order."""
    out: list[tuple[int, bool]] = []
    session = EventFilter(expression).start(
        traceids, lambda event, notrace: out.append((_index(events, event), notrace))
    )
    for event in events:
        session.handle(event)
    if finalize:
        session.finalize()
    return out


def _index(events: list[Event], event: Event) -> int:
    return next(i for i, candidate in enumerate(events) if candidate is event)


def indices(expression: str, events: list[Event], traceids: Any = None) -> list[int]:
    return [index for index, _ in run(expression, events, traceids)]


# ---------------------------------------------------------------- operators, paths, values

OPERATOR_CASES = [
    # equality: numbers compare as numbers, the rest as text
    ("SampleEvent[code=0]", {"code": 0}, True),
    ("SampleEvent[code==0]", {"code": 0}, True),
    ("SampleEvent[code=0]", {"code": 1}, False),
    ("SampleEvent[code=0]", {"code": "0"}, True),
    ("SampleEvent[code=1.0]", {"code": 1}, True),
    ("SampleEvent[code=1e3]", {"code": 1000}, True),
    ("SampleEvent[code=-1]", {"code": -1}, True),
    ("SampleEvent[code=+2]", {"code": 2.0}, True),
    ("SampleEvent[code=0]", {"code": "zero"}, False),
    ("SampleEvent[name=done]", {"name": "done"}, True),
    ("SampleEvent[name==done]", {"name": "Done"}, False),
    ("SampleEvent[flag=True]", {"flag": True}, True),
    ("SampleEvent[flag=1]", {"flag": True}, False),
    ("SampleEvent[x=None]", {"x": None}, True),
    ("SampleEvent[version=1.10]", {"version": "1.1"}, True),
    ("SampleEvent[version='1.10']", {"version": "1.1"}, False),
    ("SampleEvent[version='1.10']", {"version": "1.10"}, True),
    # != is the negation of = on a present attribute
    ("SampleEvent[code!=0]", {"code": 1}, True),
    ("SampleEvent[code!=0]", {"code": 0}, False),
    ("SampleEvent[code!=0]", {"code": "zero"}, True),
    ("SampleEvent[name!=done]", {"name": "failed"}, True),
    # orderings
    ("SampleEvent[code>1.5]", {"code": 2}, True),
    ("SampleEvent[code>1.5]", {"code": 1.5}, False),
    ("SampleEvent[code>=1.5]", {"code": 1.5}, True),
    ("SampleEvent[code>=1.5]", {"code": 1.4}, False),
    ("SampleEvent[code<10]", {"code": 9}, True),
    ("SampleEvent[code<10]", {"code": "9"}, True),
    ("SampleEvent[code<10]", {"code": 10}, False),
    ("SampleEvent[code<=-1]", {"code": -1}, True),
    ("SampleEvent[code<=-1]", {"code": 0}, False),
    ("SampleEvent[code>1]", {"code": "many"}, False),
    ("SampleEvent[code<1]", {"code": "many"}, False),
    ("SampleEvent[name>b]", {"name": "c"}, True),
    ("SampleEvent[name<b]", {"name": "c"}, False),
    ("SampleEvent[name<'10']", {"name": "9"}, False),
    # regular expressions: ~= searches, ~== must match the whole text
    ("SampleEvent[line~=don]", {"line": "all done"}, True),
    ("SampleEvent[line~=^done]", {"line": "all done"}, False),
    ("SampleEvent[line~==don]", {"line": "done"}, False),
    ("SampleEvent[line~==d.ne]", {"line": "done"}, True),
    ("SampleEvent[line~=(ok|done)$]", {"line": "all ok"}, True),
    (r"SampleEvent[code~==4\d\d]", {"code": 404}, True),
    (r"SampleEvent[code~==4\d\d]", {"code": 500}, False),
    # <~ : the value is an element of a list or a key of a mapping
    ("SampleEvent[codes<~1]", {"codes": [0, 1]}, True),
    ("SampleEvent[codes<~2]", {"codes": [0, 1]}, False),
    ("SampleEvent[codes<~'1']", {"codes": (0, 1)}, True),
    ("SampleEvent[names<~b]", {"names": {"a", "b"}}, True),
    ("SampleEvent[params<~rate]", {"params": {"rate": 5}}, True),
    ("SampleEvent[params<~5]", {"params": {"rate": 5}}, False),
    ("SampleEvent[line<~a]", {"line": "abc"}, False),
    ("SampleEvent[traceids<~1]", {}, True),
    # dotted paths, 'key' indexing and missing attributes
    ("SampleEvent[params.'rate'=5]", {"params": {"rate": 5}}, True),
    ("SampleEvent[params.'max rate'>4]", {"params": {"max rate": 5}}, True),
    ('SampleEvent[params."a.b"=x]', {"params": {"a.b": "x"}}, True),
    ("SampleEvent[params.'rate'=5]", {"params": {}}, False),
    ("SampleEvent[params.'rate'=5]", {"params": 5}, False),
    ("SampleEvent[params.rate=5]", {"params": {"rate": 5}}, False),
    ("SampleEvent[inner.code=5]", {"inner": SimpleNamespace(code=5)}, True),
    ("SampleEvent[inner.deep.'k'=v]", {"inner": SimpleNamespace(deep={"k": "v"})}, True),
    ("SampleEvent[inner.deep.'k'=v]", {"inner": SimpleNamespace()}, False),
    ("SampleEvent[missing=1]", {}, False),
    ("SampleEvent[missing!=1]", {}, False),
    ("SampleEvent[missing<~1]", {}, False),
    ("SampleEvent[missing~=.*]", {}, False),
    ("SampleEvent[event_name=SampleEvent]", {}, True),
    # quoted values may hold ',', ']' and spaces; conditions combine with AND
    ("SampleEvent[line='a, b]']", {"line": "a, b]"}, True),
    ('SampleEvent[line="it\'s done"]', {"line": "it's done"}, True),
    ("SampleEvent[line~='x ]y', code=1]", {"line": "ax ]yz", "code": 1}, True),
    ("SampleEvent[ line = 'a b' , code = 1 ]", {"line": "a b", "code": 1}, True),
    ("SampleEvent[a=1, b=2]", {"a": 1, "b": 2}, True),
    ("SampleEvent[a=1, b=2]", {"a": 1, "b": 3}, False),
    ("SampleEvent[]", {}, True),
]


@pytest.mark.parametrize(("expression", "attributes", "expected"), OPERATOR_CASES)
def test_operators(expression: str, attributes: dict[str, Any], expected: bool) -> None:
    assert bool(indices(expression, [ev("S", **attributes)])) is expected


CLASS_CASES = [
    ("SampleExitEvent", "Z", True),
    ("SampleExitEvent", "X", True),
    ("SampleExitZeroEvent", "X", False),
    ("SampleExitEvent", "T", False),
    ("*", "T", True),
    ("Event", "L", True),
    ("NoSuchEvent", "S", False),
    ("TickEvent SampleExitEvent", "Z", True),
    ("TickEvent SampleLogEvent", "Z", False),
    ("*[code=1]", "T", False),
]


@pytest.mark.parametrize(("expression", "kind", "expected"), CLASS_CASES)
def test_class_names_select_subclasses(expression: str, kind: str, expected: bool) -> None:
    assert bool(indices(expression, [ev(kind, code=0)])) is expected


@pytest.mark.parametrize(
    ("expression", "names"),
    [
        ("SampleEvent[x=1] TickEvent:first *", {"SampleEvent", "TickEvent"}),
        (":not(SampleLogEvent TickEvent)", {"SampleLogEvent", "TickEvent"}),
        ("*", set()),
        ("  TickEvent\n\tTickEvent  ", {"TickEvent"}),
    ],
)
def test_class_names_and_expression(expression: str, names: set[str]) -> None:
    event_filter = EventFilter(expression)
    assert event_filter.expression == expression
    assert event_filter.class_names == frozenset(names)


# ---------------------------------------------------------------- selectors, traces and groups

S, X, L = "S", "X", "L"
SELECTOR_CASES = [
    # (expression, events as (kind, traces, n), session traceids, delivered indices)
    ("SampleEvent", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [0, 1, 2]),
    ("SampleEvent:first", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [0]),
    ("SampleEvent[n>1]:first", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [1]),
    ("SampleEvent:last", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [2]),
    ("SampleEvent[n<3]:last", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [1]),
    ("SampleEvent:nth(2)", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [1]),
    ("SampleEvent:nth(4)", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, []),
    ("SampleEvent:single", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [0]),
    ("SampleEvent:nth(2):single", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [1]),
    ("SampleEvent:last:single", [(S, (1,), 1), (S, (1,), 2)], None, [1]),
    # each clause keeps its own selector state
    (
        "SampleEvent:first SampleLogEvent",
        [(S, (1,), 1), (L, (1,), 2), (S, (1,), 3), (L, (1,), 4)],
        None,
        [0, 1, 3],
    ),
    (
        "SampleEvent:single SampleLogEvent:single",
        [(L, (1,), 1), (S, (1,), 2), (L, (1,), 3), (S, (1,), 4)],
        None,
        [0, 1],
    ),
    ("SampleEvent:first SampleEvent:last", [(S, (1,), 1), (S, (1,), 2)], None, [0, 1]),
    # groups: one count shared by the clauses that name it
    (
        "SampleEvent:nth(2,g) SampleLogEvent:nth(2,g)",
        [(S, (1,), 1), (L, (1,), 2), (S, (1,), 3)],
        None,
        [1],
    ),
    (
        "SampleEvent:nth(2) SampleLogEvent:nth(2)",
        [(S, (1,), 1), (L, (1,), 2), (S, (1,), 3)],
        None,
        [2],
    ),
    (
        "SampleEvent:nth(1,g) SampleLogEvent:nth(3,g)",
        [(S, (1,), 1), (S, (1,), 2), (L, (1,), 3)],
        None,
        [0, 2],
    ),
    (
        "SampleEvent:nth(1) SampleLogEvent:nth(3)",
        [(S, (1,), 1), (S, (1,), 2), (L, (1,), 3)],
        None,
        [0],
    ),
    (
        "SampleEvent:nth(2,g) SampleLogEvent:nth(2,h)",
        [(S, (1,), 1), (L, (1,), 2), (S, (1,), 3), (L, (1,), 4)],
        None,
        [2, 3],
    ),
    (
        "SampleEvent[n>0]:nth(2,g) SampleEvent[n>1]:nth(2,g)",
        [(S, (1,), 1), (S, (1,), 2)],
        None,
        [1],
    ),
    ("SampleEvent:nth(2,g):single", [(S, (1,), 1), (S, (1,), 2), (S, (1,), 3)], None, [1]),
    # traces: only events sharing a session trace, unless :notrace
    ("SampleEvent", [(S, (2,), 1), (S, (1,), 2), (S, (1, 3), 3), (S, (), 4)], [1], [1, 2]),
    ("SampleEvent", [(S, (2,), 1), (S, (3, 4), 2)], [1, 3], [1]),
    ("SampleEvent:notrace", [(S, (2,), 1), (S, (1,), 2), (S, (), 3)], [1], [0, 1, 2]),
    ("SampleEvent", [(S, (2,), 1), (S, (), 2)], None, [0, 1]),
    ("SampleEvent", [(S, (1,), 1)], [], []),
    ("SampleEvent:notrace", [(S, (1,), 1)], [], [0]),
    ("SampleEvent:first", [(S, (2,), 1), (S, (1,), 2), (S, (1,), 3)], [1], [1]),
    ("SampleEvent:first:notrace", [(S, (2,), 1), (S, (1,), 2)], [1], [0]),
    ("SampleEvent:nth(2)", [(S, (1,), 1), (S, (2,), 2), (S, (1,), 3)], [1], [2]),
    ("SampleEvent:last", [(S, (1,), 1), (S, (2,), 2)], [1], [0]),
    ("SampleEvent:single", [(S, (2,), 1), (S, (1,), 2), (S, (1,), 3)], [1], [1]),
    (
        "SampleEvent:nth(2,g) SampleLogEvent:nth(2,g):notrace",
        [(S, (1,), 1), (S, (2,), 2), (L, (2,), 3)],
        [1],
        [2],
    ),
    # :not matches exactly what its inside does not; selectors go after it
    (":not(SampleExitEvent)", [(X, (1,), 1), (S, (1,), 2), (L, (1,), 3)], None, [1, 2]),
    (":not(SampleExitEvent[n=1])", [(X, (1,), 1), (X, (1,), 2), (S, (1,), 3)], None, [1, 2]),
    (":not(SampleExitEvent SampleLogEvent)", [(X, (1,), 1), (S, (1,), 2), (L, (1,), 3)], None, [1]),
    (":not(*)", [(X, (1,), 1), (S, (1,), 2)], None, []),
    (":not(*[n=1])", [(X, (1,), 1), (S, (1,), 2)], None, [1]),
    (":not(:not(SampleExitEvent))", [(X, (1,), 1), (S, (1,), 2)], None, [0]),
    (":not(SampleExitEvent):first", [(X, (1,), 1), (S, (1,), 2), (L, (1,), 3)], None, [1]),
    (
        ":not(SampleExitEvent):last",
        [(X, (1,), 1), (S, (1,), 2), (L, (1,), 3), (X, (1,), 4)],
        None,
        [2],
    ),
    (":not(SampleExitEvent):nth(2)", [(S, (1,), 1), (X, (1,), 2), (L, (1,), 3)], None, [2]),
    # the trace restriction is applied outside the negation
    (":not(SampleExitEvent)", [(S, (2,), 1), (S, (1,), 2), (X, (1,), 3), (X, (2,), 4)], [1], [1]),
    (
        ":not(SampleExitEvent):notrace",
        [(S, (2,), 1), (S, (1,), 2), (X, (1,), 3), (X, (2,), 4)],
        [1],
        [0, 1],
    ),
]


@pytest.mark.parametrize(("expression", "specs", "traceids", "expected"), SELECTOR_CASES)
def test_selectors(
    expression: str,
    specs: list[tuple[str, tuple[int, ...], int]],
    traceids: Any,
    expected: list[int],
) -> None:
    events = [ev(kind, traces, n=n) for kind, traces, n in specs]
    assert indices(expression, events, traceids) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("SampleEvent SampleEvent[n=1]", [(0, False)]),
        ("SampleEvent[n=1]:notrace SampleEvent", [(0, True)]),
        ("SampleEvent SampleEvent[n=1]:notrace", [(0, False)]),
        ("SampleEvent:notrace", [(0, True)]),
        ("SampleEvent:last:notrace", [(0, True)]),
        ("SampleEvent:last SampleEvent:last:notrace", [(0, False)]),
        (":not(TickEvent):notrace", [(0, True)]),
    ],
)
def test_an_event_is_delivered_once_with_the_first_delivering_clause_flag(
    expression: str, expected: list[tuple[int, bool]]
) -> None:
    assert run(expression, [ev("S", n=1)], traceids=[1]) == expected


NEGATED = [
    "SampleExitEvent",
    "SampleExitEvent[n>1]",
    "SampleExitZeroEvent SampleLogEvent[n=2]",
    "*[n!=2]",
    ":not(SampleLogEvent)",
    "Event[traceids<~2]",
]


@pytest.mark.parametrize("expression", NEGATED)
@pytest.mark.parametrize("traceids", [None, [1]])
def test_not_is_the_exact_complement_within_the_session_traces(
    expression: str, traceids: Any
) -> None:
    events = [
        ev(kind, traces, n=n)
        for kind in "SXZLT"
        for traces in [(1,), (2,), (1, 2)]
        for n in (1, 2, 3)
    ]
    plain = set(indices(expression, events, traceids))
    negated = set(indices(f":not({expression})", events, traceids))
    in_traces = {
        i for i, event in enumerate(events) if traceids is None or event.traceids & set(traceids)
    }
    assert plain.isdisjoint(negated)
    assert plain | negated == in_traces


def test_last_is_delivered_only_at_finalize() -> None:
    out: list[Event] = []
    session = EventFilter("SampleEvent:last").start(None, lambda event, notrace: out.append(event))
    first, second = ev("S"), ev("S")
    session.handle(first)
    session.handle(second)
    assert out == []
    session.finalize()
    assert out == [second]
    session.finalize()
    assert out == [second]


def test_a_finalized_session_ignores_later_events() -> None:
    out: list[Event] = []
    session = EventFilter("SampleEvent SampleEvent:last").start(
        None, lambda event, notrace: out.append(event)
    )
    session.finalize()
    session.handle(ev("S"))
    session.finalize()
    assert out == []


@pytest.mark.parametrize(
    "expression",
    ["SampleEvent:single", "SampleEvent:first", "SampleEvent:nth(1,g)", "SampleEvent:last"],
)
def test_selector_state_belongs_to_each_session(expression: str) -> None:
    event_filter = EventFilter(expression)
    first: list[Event] = []
    second: list[Event] = []
    one = event_filter.start(None, lambda event, notrace: first.append(event))
    one.handle(ev("S"))
    one.finalize()
    two = event_filter.start(None, lambda event, notrace: second.append(event))
    event = ev("S")
    two.handle(event)
    two.finalize()
    assert len(first) == 1
    assert second == [event]


def test_rejecting_an_unnamed_class_never_reads_its_attributes() -> None:
    class ExplodingEvent(Event):
        @property
        def code(self) -> int:
            raise AssertionError("attributes read for a class no clause names")

    out: list[Event] = []
    session = EventFilter("SampleEvent[code=1]").start(
        None, lambda event, notrace: out.append(event)
    )
    session.handle(ExplodingEvent())
    assert out == []


def test_classes_defined_after_the_first_event_are_routed_by_their_names() -> None:
    event_filter = EventFilter("SampleExitEvent[n=1]")
    out: list[Event] = []
    session = event_filter.start(None, lambda event, notrace: out.append(event))
    session.handle(ev("X", n=1))

    class LateExitEvent(SampleExitEvent):
        pass

    late = LateExitEvent(n=1)
    session.handle(late)
    assert out[-1] is late
    assert len(out) == 2


# ---------------------------------------------------------------- :after on the simulated clock


def timed(
    expression: str,
    schedule: list[tuple[float, Event | None]],
    traceids: Any = None,
    finalize_at: float | None = None,
) -> list[tuple[float, Event, bool]]:
    """Play *schedule* (time, event or None for 'just run timers'); (time, event, notrace) per
    delivery."""
    clock = SimulatedClock()
    timers = Timers(clock)
    out: list[tuple[float, Event, bool]] = []
    session = EventFilter(expression).start(
        traceids, lambda event, notrace: out.append((clock.time, event, notrace)), timers
    )
    for when, event in schedule:
        clock.time = when
        timers.run_due()
        if finalize_at is not None and when >= finalize_at:
            session.finalize()
        if event is not None:
            session.handle(event)
    return out


def test_after_fires_once_the_matches_stop_for_its_time() -> None:
    a, b, c = ev("S", n=1), ev("S", n=2), ev("S", n=3)
    out = timed(
        "SampleEvent:after(2s)", [(0, a), (1, b), (2.5, c), (4.4, None), (4.5, None), (9, None)]
    )
    assert out == [(4.5, c, False)]


def test_after_fires_again_after_each_quiet_period() -> None:
    a, b = ev("S"), ev("S")
    out = timed("SampleEvent:after(500ms)", [(0, a), (0.5, None), (1, b), (1.4, None), (1.5, None)])
    assert out == [(0.5, a, False), (1.5, b, False)]


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        ("SampleEvent:first:after(1s)", [(1.0, 0)]),
        ("SampleEvent:after(1s):single", [(1.5, 1)]),
        ("SampleEvent:nth(2):after(1s)", [(1.5, 1)]),
        ("SampleEvent:after(1s)", [(1.5, 1), (4.0, 2)]),
        ("SampleEvent[n>1]:after(1s)", [(1.5, 1), (4.0, 2)]),
        ("SampleEvent:nth(2,g):after(1s) SampleLogEvent:nth(2,g)", [(1.5, 1)]),
    ],
)
def test_after_combines_with_picks_and_single(
    expression: str, expected: list[tuple[float, int]]
) -> None:
    events = [ev("S", n=1), ev("S", n=2), ev("S", n=3)]
    schedule = [
        (0, events[0]),
        (0.5, events[1]),
        (1.0, None),
        (1.5, None),
        (3, events[2]),
        (4, None),
    ]
    out = timed(expression, schedule)
    assert [(when, events.index(event)) for when, event, _ in out] == expected


def test_after_only_restarts_on_events_in_the_session_traces() -> None:
    inside, outside = ev("S", (1,)), ev("S", (2,))
    out = timed("SampleEvent:after(1s)", [(0, inside), (0.5, outside), (1, None)], traceids=[1])
    assert out == [(1, inside, False)]
    out = timed(
        "SampleEvent:after(1s):notrace",
        [(0, inside), (0.5, outside), (1, None), (1.5, None)],
        traceids=[1],
    )
    assert out == [(1.5, outside, True)]


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("1.5s", 1.5), ("500ms", 0.5), ("2m", 120.0), ("1h30m", 5400.0), ("3", 3.0)],
)
def test_after_reads_time_expressions(text: str, seconds: float) -> None:
    clock = SimulatedClock()
    timers = Timers(clock)
    session = EventFilter(f"SampleEvent:after({text})").start(
        None, lambda event, notrace: None, timers
    )
    session.handle(ev("S"))
    assert timers.next_deadline() == seconds


def test_finalize_cancels_pending_after_timers() -> None:
    clock = SimulatedClock()
    timers = Timers(clock)
    out: list[Event] = []
    session = EventFilter("SampleEvent:after(1s)").start(
        None, lambda event, notrace: out.append(event), timers
    )
    session.handle(ev("S"))
    session.finalize()
    clock.time = 5
    assert timers.run_due() == 0
    assert timers.next_deadline() is None
    assert out == []


def test_after_needs_timers() -> None:
    with pytest.raises(ValueError, match="timers"):
        EventFilter("SampleEvent:after(1s)").start(None, lambda event, notrace: None)
    EventFilter("SampleEvent:first").start(None, lambda event, notrace: None)


# ---------------------------------------------------------------- errors

ERROR_CASES = [
    ("", 0, "empty expression"),
    ("   ", 3, "empty expression"),
    ("SampleEvent:foo", 11, "unknown selector ':foo'"),
    ("SampleEvent:Nth(2)", 11, "unknown selector ':Nth'"),
    ("A[x=1", 1, "unbalanced '['"),
    ("A[x", 1, "unbalanced '['"),
    ("A[x=1 , ", 1, "unbalanced '['"),
    ("A[x=1]]", 6, "unbalanced ']'"),
    ("A]", 1, "unbalanced ']'"),
    ("A)", 1, "unbalanced ')'"),
    (":not(A", 4, "unbalanced '('"),
    (":not(A B", 4, "unbalanced '('"),
    ("A:nth(2", 5, "unbalanced '('"),
    ("A[x~='(']", 6, "bad regular expression"),
    ("A[x~='a{2,1}']", 8, "bad regular expression"),
    ("A[x~==a)b]", 7, "bad regular expression"),
    ("A:after(soon)", 8, "bad time 'soon'"),
    ("A:after()", 8, "bad time"),
    ("A:after(-1s)", 8, "bad time"),
    ("A:after(" + "9" * 400 + "s)", 8, "bad time"),
    ("A:after", 1, "':after' needs a time"),
    ("A[x 1]", 4, "expected an operator"),
    ("A[x=]", 4, "expected a value"),
    ("A[x=[1]]", 4, "quote a value that contains '['"),
    ("A[x=a b]", 6, "expected ',' or ']'"),
    ("A[=1]", 2, "expected an attribute name"),
    ("A[x=1,]", 6, "expected an attribute name"),
    ("A[x.=1]", 4, "after '.'"),
    ("A[x='abc]", 4, "unterminated quote"),
    ("A:first:first", 7, "repeated selector ':first'"),
    ("A:first:last", 7, "cannot be combined"),
    ("A:nth(2):first", 8, "cannot be combined"),
    ("A:last:after(1s)", 6, "cannot be combined"),
    ("A:nth(0)", 6, "positive whole number"),
    ("A:nth(x)", 6, "positive whole number"),
    ("A:nth(" + "9" * 5000 + ")", 6, "positive whole number"),
    ("A:nth", 1, "':nth' needs a count"),
    ("A:nth(2,)", 8, "group must be a name"),
    ("A:nth(1,g,h)", 6, "at most two arguments"),
    ("A:first(1)", 7, "takes no arguments"),
    ("A:", 1, "expected a selector name"),
    (":not(A:first)", 6, "not allowed inside ':not(...)'"),
    (":not()", 5, "empty ':not()'"),
    (":not(A) B", 8, "must wrap the whole expression"),
    ("A :not(B)", 2, "must wrap the whole expression"),
    ("A:not(B)", 1, "must wrap the whole expression"),
    (":not(:not(A) B)", 13, "must wrap the whole expression"),
    (":not(" * 17 + "A" + ")" * 17, 80, "nested"),
    ("A[x=1][y=2]", 6, "one condition list"),
    ("A:first[x=1]", 7, "one condition list"),
    ("A [x=1]", 2, "right before '['"),
    (":first", 0, "a selector must follow"),
    ("A,B", 1, "unexpected ','"),
    ("-A", 0, "expected an event class name"),
]


@pytest.mark.parametrize(("expression", "position", "reason"), ERROR_CASES)
def test_errors_name_the_expression_and_mark_the_position(
    expression: str, position: int, reason: str
) -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        EventFilter(expression)
    error = caught.value
    assert isinstance(error, ConfigError)
    assert error.expression == expression
    assert error.position == position
    assert reason in error.reason
    message = str(error)
    assert f"position {position}" in message
    assert reason in message
    *_, shown, caret = message.splitlines()
    if len(expression) <= 160:
        assert shown == "    " + expression
        assert caret == "    " + " " * position + "^"
    else:
        assert len(shown) < 200, "a long expression is shown around its fault only"
        assert shown[len(caret) - 1] == (expression + " ")[position]


def test_error_caret_stays_under_the_fault_in_multiline_expressions() -> None:
    with pytest.raises(FilterSyntaxError) as caught:
        EventFilter("TickEvent\n\tLogEvent:bogus")
    *_, shown, caret = str(caught.value).splitlines()
    assert shown[caret.index("^") :] == ":bogus"


def test_error_keeps_config_location() -> None:
    error = FilterSyntaxError("empty expression", "", 0, file="policy.yaml", line=3, key="advance")
    assert str(error).startswith("policy.yaml:3: advance: at position 0: empty expression")


def test_expression_must_be_text() -> None:
    with pytest.raises(TypeError):
        EventFilter(3)  # type: ignore[arg-type]
