"""The parameter batch: what a policy changes in one step becomes one run.

Changes, flags and run ends are buffered during a statechart step and
published when the step ends, in the order the chart made them; the
parameter update stands where the step first set a parameter. So a status
set just before the next run starts still lands on the run it was set in,
and the run a new update replaces is ended just before that update.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from ..core import (
    Event,
    EventBus,
    FlagUpdateEvent,
    ParameterUpdateEvent,
    RunEndEvent,
    RunKey,
    traces,
)


class ParameterBatch:
    """Collects one step's parameter changes under a fresh trace id."""

    def __init__(self, bus: EventBus, defaults: Mapping[str, Any], first_trace: int = 1) -> None:
        self.bus = bus
        self.current: dict[str, Any] = dict(defaults)
        self._traces = itertools.count(first_trace)
        self._changes: dict[str, Any] | None = None
        self._trace: int | None = None
        self._run: RunKey | None = None
        self._pending: list[Event | None] = []

    def set(
        self,
        parameters: Mapping[str, Any],
        run: RunKey | None = None,
        *,
        replaces: int | None = None,
    ) -> tuple[int, bool]:
        """Add *parameters* to this step's run; return its trace and whether it is new.

        A new run first ends run *replaces* (the policy's open run, if any);
        *run* says whose run it is, and rides on the update.
        """
        new = self._changes is None
        if new:
            if replaces is not None:
                self.end_run(replaces)
            self._changes = {}
            self._trace = next(self._traces)
            self._run = run
            self._pending.append(None)
        assert self._changes is not None
        assert self._trace is not None
        self._changes.update(parameters)
        return self._trace, new

    def flag(self, name: str, value: Any, trace: int | None) -> None:
        self._pending.append(FlagUpdateEvent(traceids=traces(trace), name=name, value=value))

    def end_run(self, trace: int, status: str | None = None) -> None:
        """Close run *trace*; *status* applies only if the run has none yet."""
        self._pending.append(RunEndEvent(traceids=traces(trace), status=status))

    def flush(self, ended_at: float | None = None) -> None:
        """Publish what the step produced, in order; ``None`` marks the parameter update.

        A run ends at *ended_at*, the time of the event the chart answered by ending it (a
        command's exit, not the moment the chart got to it), when the step had one.
        """
        if not self._pending:
            return
        for event in self._pending:
            if event is None:
                self.bus.publish(self._update())
            else:
                self.bus.publish(event, ended_at if isinstance(event, RunEndEvent) else None)
        self._pending = []

    def _update(self) -> ParameterUpdateEvent:
        assert self._changes is not None
        previous = self.current
        self.current = {**previous, **self._changes}
        update = ParameterUpdateEvent(
            traceids=traces(self._trace),
            parameters=self.current,
            previous=previous,
            changes=self._changes,
            run=self._run,
        )
        self._changes = None
        return update
