"""The ``policy`` object in a statechart's context: what chart code asks of the runtime.

It stands beside the runner it drives: runs go through the run ledger's
cursor, bindings and tasks through the runner's public methods, as
:class:`ChartHost` states them. Bundled and user charts get the same object,
so anything a bundled chart does, a user's chart can do too.
docs/authoring.md documents it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

from ..errors import ConfigError
from .ledger import Cursor

log = logging.getLogger("perfchart.policy")


class ChartHost(Protocol):
    """What the ``policy`` object drives: a :class:`PolicyRunner` is one."""

    name: str
    cursor: Cursor
    results: dict[str, Any]
    total: int | None

    def bind(
        self,
        role: str,
        expression: str | Iterable[str],
        attrs: Mapping[str, Any],
        *,
        simulate: bool = True,
    ) -> None: ...
    def unbind(self, role: str) -> int: ...
    def start_task(self, task: str) -> None: ...


class PolicyAPI:
    """The ``policy`` object in a statechart's context."""

    def __init__(self, runner: ChartHost) -> None:
        self._runner = runner

    def set_parameters(self, parameters: Mapping[str, Any]) -> int:
        """Change test parameters; all changes made in one step form one run.

        Returns the run's trace id: every event the change causes carries it.
        """
        return self._runner.cursor.set_parameters(parameters)

    def set_status(self, status: Any) -> None:
        """Set the ``status`` flag of the current run (``OK`` counts as success)."""
        self.set_flag("status", status)

    def set_flag(self, name: str, value: Any) -> None:
        """Set a flag on the current run; it lands in the run's results record."""
        self._runner.cursor.set_flag(name, value)

    def end_run(self) -> None:
        """Close the current run's record now (its end time is this moment)."""
        self._runner.cursor.end_run()

    def run_task(self, name: str) -> None:
        """Run the named task; the chart receives
        ``task_completed`` (``event.task``) when it ends.
        """
        self._runner.start_task(name)

    def bind(
        self, role: str, expression: str | Iterable[str], *, simulate: bool = True, **attrs: Any
    ) -> None:
        """Deliver bus events matching *expression* to the chart as events named *role*.

        Keyword *attrs* ride along on every delivered event (``status='OK'``).
        ``simulate=False`` marks an event that cuts the policy short (an
        early end): a dry run then makes it up only when the chart waits for
        nothing else, so the plan shows the whole course.
        """
        self._runner.bind(role, expression, attrs, simulate=simulate)

    def unbind(self, role: str) -> int:
        """Stop delivering events for *role*.

        A filter holding a match until it ends (``:last``) delivers it now;
        the count of such events is returned, so a chart can act on a match
        it would otherwise only receive after moving on.
        """
        return self._runner.unbind(role)

    def set_result(self, name: str, value: Any) -> None:
        """Record the policy's answer (``largest_ok``): it goes into meta.json and the summary, not
        into a run.
        """
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"set_result({name!r}, ...): expected JSON data (numbers, text, lists, mappings), "
                f"got {value!r}"
            ) from None
        self._runner.results[str(name)] = value
        log.info("%s: %s = %r", self._runner.name, name, value)

    def set_total(self, runs: int) -> None:
        """Announce how many runs this policy will make, for the progress bar and ETA."""
        self._runner.total = int(runs)

    def log(self, message: str) -> None:
        log.info("%s: %s", self._runner.name, message)

    def warn(self, message: str) -> None:
        log.warning("%s: %s", self._runner.name, message)
