"""The parameter batch: one update per step, in the order the chart acted."""

from __future__ import annotations

from interpreter.core import (
    Event,
    EventBus,
    FlagUpdateEvent,
    ParameterUpdateEvent,
    RunEndEvent,
    RunKey,
)
from interpreter.engine import ParameterBatch


def published(bus: EventBus) -> list[Event]:
    seen: list[Event] = []
    bus.subscribe(seen.append)
    bus.dispatch(0.0)
    return seen


def test_changes_in_one_step_become_one_update_with_one_trace() -> None:
    bus = EventBus()
    batch = ParameterBatch(bus, {"apps": 1, "size": 0, "mode": "fast"})
    first, new = batch.set({"apps": 4}, RunKey(policy="p", number=1))
    again, new_again = batch.set({"size": 8})
    assert (new, new_again) == (True, False)
    assert first == again
    batch.flush()
    (update,) = published(bus)
    assert isinstance(update, ParameterUpdateEvent)
    assert update.traceids == {first}
    assert update.parameters == {"apps": 4, "size": 8, "mode": "fast"}
    assert update.previous == {"apps": 1, "size": 0, "mode": "fast"}
    assert update.changes == {"apps": 4, "size": 8}
    assert update.run == RunKey(policy="p", repetition=1, number=1, lane=0)


def test_each_step_gets_a_fresh_trace_and_sees_the_previous_set() -> None:
    bus = EventBus()
    batch = ParameterBatch(bus, {})
    one, _ = batch.set({"a": 1})
    batch.flush()
    two, _ = batch.set({"a": 1})
    batch.flush()
    first, second = published(bus)
    assert one != two
    assert second.previous == {"a": 1}
    assert second.changes == {"a": 1}, "a repeated value still counts as set, so the run happens"


def test_flags_keep_their_place_around_the_update() -> None:
    bus = EventBus()
    batch = ParameterBatch(bus, {})
    old, _ = batch.set({"a": 1})
    batch.flush()
    published(bus)
    batch.flag("status", "OK", old)
    batch.end_run(old)
    new, _ = batch.set({"a": 2})
    batch.flag("note", "warm", new)
    batch.flush()
    seen = published(bus)
    assert [type(e).__name__ for e in seen[-4:]] == [
        "FlagUpdateEvent",
        "RunEndEvent",
        "ParameterUpdateEvent",
        "FlagUpdateEvent",
    ]
    status, end, update, note = seen[-4:]
    assert isinstance(status, FlagUpdateEvent)
    assert status.traceids == {old}
    assert status.name == "status"
    assert isinstance(end, RunEndEvent)
    assert end.traceids == {old}
    assert isinstance(note, FlagUpdateEvent)
    assert note.traceids == {new}
    assert note.value == "warm"


def test_a_step_without_changes_publishes_nothing() -> None:
    bus = EventBus()
    ParameterBatch(bus, {"a": 1}).flush()
    assert published(bus) == []
