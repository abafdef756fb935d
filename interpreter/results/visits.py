"""Where each policy's chart went: one ``visits-<n>-<policy>-<repetition>.json`` per policy and
repetition.

Written when the policy ends (finished, interrupted or stopped by an
error), so ``perfchart draw --run`` can colour the diagram by what the runs
did; :meth:`.SessionReader.visits` reads them back. Counts only: the
file's size depends on the chart, never on the runs. *n* is the policy's
position in the configuration, so two policies using the same chart keep
separate files.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .export import Exporter

if TYPE_CHECKING:
    from ..engine import PolicyRunner


def visits_path(directory: Path, index: int, policy: str, repetition: int) -> Path:
    return directory / f"visits-{index}-{policy}-{repetition}.json"


def write_visits(directory: Path, index: int, runner: PolicyRunner) -> Path:
    """Write *runner*'s counts atomically; transitions carry their ends so a changed chart is
    noticed."""
    transitions = runner.interpreter.statechart.transitions
    body: dict[str, Any] = {
        "policy": runner.name,
        "index": index,
        "repetition": runner.repetition,
        "chart": str(runner.chart.path),
        "final": runner.final,
        "ended_in": sorted(runner.interpreter.configuration),
        "states": dict(sorted(runner.entered.items())),
        "transitions": [
            {"index": i, "source": t.source, "target": t.target, "event": t.event, "count": count}
            for i, (t, count) in enumerate(zip(transitions, runner.fired, strict=True))
        ],
    }
    path = visits_path(directory, index, runner.name, runner.repetition)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(body, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


class VisitsFiles(Exporter):
    """Writes each policy's visits when it ends a repetition."""

    def policy_ended(self, index: int, runner: PolicyRunner) -> None:
        write_visits(self.context.directory, index, runner)
