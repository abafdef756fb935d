"""Results that are surely not what was meant, said once when the session ends.

Two mistakes leave a session that looks fine: a declared metric that no run
got a value for (a tracker's events or ``match:`` never met the output, as
when the original's LogStax observer is simply dropped), and runs set OK by
a signal that matches every command exit, ``signal: {OK: CmdlineExitEvent}``
(the original's examples), although their command failed. The summary then
says every run was OK; these warnings say why it is not to be believed.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any

from ..core import Event, OutcomeEvent
from ..engine import Record, RunListener
from .loader import TestConfig

log = logging.getLogger("perfchart")

#: The class the catch-all names; events are matched by class name, as filters match them.
EXIT = "CmdlineExitEvent"
#: A filter that matches every exit of a command: the class alone, no condition on the exit code.
CATCH_ALL = re.compile(rf"\s*{EXIT}\s*(?::\w+(?:\([^)]*\))?\s*)*")


def _catch_all_statuses(events: Any) -> frozenset[str]:
    """The statuses a policy's ``events.signal`` sets on any exit of a command."""
    signal = events.get("signal") if isinstance(events, Mapping) else None
    if not isinstance(signal, Mapping):
        return frozenset()
    return frozenset(
        str(status).upper()
        for status, text in signal.items()
        if isinstance(text, str) and CATCH_ALL.fullmatch(text)
    )


class Doubts(RunListener):
    """Counts, over the runs this session closes, the values of each declared metric and the runs
    a catch-all signal set OK whose command exited non-zero; :meth:`report` warns about both.
    """

    events = (OutcomeEvent,)

    def __init__(self, config: TestConfig) -> None:
        builtin = {entry["name"] for spec in config.channels for entry in spec.cls.metrics}
        #: Declared metrics (not a channel's built-in ones) without a value in any run so far.
        self.empty: dict[str, None] = {
            m.name: None for m in config.metrics if m.name not in builtin
        }
        self.catch_all = {
            spec.chart.name: statuses
            for spec in config.policies
            if (statuses := _catch_all_statuses(spec.config.get("events")))
        }
        self.runs = 0
        #: Open runs (by index) whose command exited non-zero, with the first such exit code.
        self.failed: dict[Any, int] = {}
        #: Policy -> (runs set OK though their command exited non-zero, the first such exit code).
        self.failed_ok: dict[str, tuple[int, int]] = {}

    def observe(self, event: Event, records: Sequence[Record]) -> None:
        """Note the runs whose command exited non-zero (an HTTP status is no exit code)."""
        if not isinstance(event, OutcomeEvent) or event.ok or not self.catch_all:
            return
        if not any(cls.__name__ == EXIT for cls in type(event).__mro__):
            return
        code = event.code if event.code is not None else -1
        for record in records:
            self.failed.setdefault(record.get("index"), code)

    def closed(self, record: Record) -> None:
        self.runs += 1
        values = record.get("metrics") or {}
        for name in [name for name in self.empty if values.get(name) is not None]:
            del self.empty[name]
        code = self.failed.pop(record.get("index"), None)
        policy = str(record.get("policy"))
        statuses = self.catch_all.get(policy)
        if code is None or not statuses or not record.get("ok"):
            return
        if str(record.get("status")).upper() in statuses:
            count, first = self.failed_ok.get(policy, (0, code))
            self.failed_ok[policy] = (count + 1, first)

    def report(self) -> None:
        """The warnings, once, when the session's runs are over (none when it closed no run)."""
        if not self.runs:
            return
        runs = f"any of the {self.runs} runs" if self.runs != 1 else "the one run"
        for name in self.empty:
            log.warning(
                "metric %r got no value in %s: no tracker's events (or match:) met what the "
                "runs published",
                name,
                runs,
            )
        for policy, (count, code) in self.failed_ok.items():
            log.warning(
                "%s: %d run%s set OK although the command exited non-zero (exit code %d): its "
                "signal CmdlineExitEvent matches every exit; say CmdlineExitZeroEvent for OK and "
                "CmdlineExitNonzeroEvent for a failure",
                policy,
                count,
                "s were" if count != 1 else " was",
                code,
            )
