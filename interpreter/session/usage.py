"""Parameters a policy sets that no channel or task reads: a run that would vary nothing.

A channel or task uses a parameter by naming it in a macro (``{{rate}}``).
A parameter nobody names is most often a typo in the chart or the config,
and the runs would all test the same thing; the session warns once per name.
"""

from __future__ import annotations

import logging

from ..config import macro_names
from ..core import Event, ParameterUpdateEvent
from .loader import TestConfig

log = logging.getLogger("perfchart")


class UnusedParameters:
    """Warns on the first update that sets a parameter no channel or task block names."""

    def __init__(self, config: TestConfig) -> None:
        blocks = [spec.config for spec in config.channels] + [
            task.command.config for task in config.tasks
        ]
        self.used: set[str] = (
            set().union(*(macro_names(dict(block)) for block in blocks)) if blocks else set()
        )
        self.warned: set[str] = set()

    def handle(self, event: Event) -> None:
        if not isinstance(event, ParameterUpdateEvent):
            return
        for name in event.changes:
            if name not in self.used and name not in self.warned:
                self.warned.add(name)
                log.warning(
                    "%s sets parameter %r, which no channel or task uses (no {{%s}} in channels: "
                    "or tasks:): every run tests the same thing",
                    event.run.policy if event.run is not None else "a policy",
                    name,
                    name,
                )
