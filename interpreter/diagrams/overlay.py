"""A run's recorded visits, matched to a diagram: the counts ``draw --run`` prints on it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from ..errors import UsageError
from .graph import Diagram, Visits


def visits_for(
    diagram: Diagram, policy: str, records: Iterable[Mapping[str, Any]], index: int | None = None
) -> Visits | None:
    """The counts of *policy* summed over its repetitions (only policy *index* of the config,
    when given).

    None when the results hold no record of it. A record whose transitions do
    not match the chart's was made with another version of the chart: its
    counts would land on the wrong arrows, so that is an error.
    """
    states: dict[str, int] = {}
    fired: dict[int, int] = {}
    repetitions = 0
    by_index = {t.index: t for t in diagram.all_transitions()}
    for record in records:
        if record.get("policy") != policy or (index is not None and record.get("index") != index):
            continue
        repetitions += 1
        for name, count in record.get("states", {}).items():
            states[name] = states.get(name, 0) + int(count)
        for entry in record.get("transitions", []):
            t = by_index.get(entry.get("index"))
            if t is None or (t.source, t.target, t.event) != (
                entry.get("source"),
                entry.get("target"),
                entry.get("event"),
            ):
                raise UsageError(
                    f"the recorded visits of {policy} do not match its chart: was the chart "
                    "changed since the run?"
                )
            fired[t.index] = fired.get(t.index, 0) + int(entry.get("count", 0))
    unknown = sorted(set(states) - {state.name for state in diagram.states()})
    if unknown:
        raise UsageError(
            f"the recorded visits of {policy} name states its chart lacks ({', '.join(unknown)}): "
            "was the chart changed since the run?"
        )
    if not repetitions:
        return None
    return Visits(states=states, transitions=fired, repetitions=repetitions)
