"""What a statechart can see: the ``policy`` object and a few pure helpers.

Bundled and user policies get exactly this context, so anything a bundled
chart does, a user's chart can do too. docs/authoring.md documents it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..config.durations import parse_duration
from ..config.evolution import Evolution
from ..config.expressions import SHOWN
from ..config.expressions import evaluate as evaluate_expression
from ..config.matrix import ParameterMatrix, Remaining, StepValues
from ..config.yamlsource import error_at, locate
from ..errors import ConfigError, shorten

if TYPE_CHECKING:
    from ..engine.runner import PolicyRunner

log = logging.getLogger("perfchart.policy")


class PolicyAPI:
    """The ``policy`` object in a statechart's context."""

    def __init__(self, runner: PolicyRunner) -> None:
        self._runner = runner

    def set_parameters(self, parameters: Mapping[str, Any]) -> int:
        """Change test parameters; all changes made in one step form one run.

        Returns the run's trace id: every event the change causes carries it.
        """
        runner = self._runner
        trace, new = runner.batch.set(parameters, replaces=runner.open_run, policy=runner.name, repetition=runner.repetition, run=runner.runs + 1)
        if new:
            runner.runs += 1
            runner.trace = runner.open_run = trace
        return trace

    def set_status(self, status: Any) -> None:
        """Set the ``status`` flag of the current run (``OK`` counts as success)."""
        self.set_flag("status", status)

    def set_flag(self, name: str, value: Any) -> None:
        """Set a flag on the current run; it lands in the run's results record."""
        runner = self._runner
        runner.batch.flag(name, value, runner.trace)

    def end_run(self) -> None:
        """Close the current run's record now (its end time is this moment)."""
        runner = self._runner
        if runner.open_run is not None:
            runner.batch.end_run(runner.open_run)
            runner.open_run = None

    def run_task(self, name: str) -> None:
        """Run the named task; the chart receives ``task_completed`` (``event.task``) when it ends."""
        self._runner.start_task(name)

    def bind(self, role: str, expression: str | Iterable[str], *, simulate: bool = True, **attrs: Any) -> None:
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
        """Record the policy's answer (``largest_ok``): it goes into meta.json and the summary, not into a run."""
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            raise ConfigError(f"set_result({name!r}, ...): expected JSON data (numbers, text, lists, mappings), got {value!r}") from None
        self._runner.results[str(name)] = value
        log.info("%s: %s = %r", self._runner.name, name, value)

    def set_total(self, runs: int) -> None:
        """Announce how many runs this policy will make, for the progress bar and ETA."""
        self._runner.total = int(runs)

    def log(self, message: str) -> None:
        log.info("%s: %s", self._runner.name, message)

    def warn(self, message: str) -> None:
        log.warning("%s: %s", self._runner.name, message)


def config_origin(config: Any, value: Any, origins: Mapping[int, tuple[Any, Any]]) -> str | None:
    """``file:line: key`` of the config entry *value* is, or was evaluated from; None for other values."""
    noted = origins.get(id(value))
    source = noted[1] if noted is not None and noted[0] is value else value
    if source is None or isinstance(source, (bool, int, float)):
        return None
    found = locate(config, source)
    if found is None:
        return None
    container, key = found
    return f"{container.key_path(key)} ({container.file}:{container.line_of(key)})"


def traced(event: Any, trace: int | Collection[int] | None) -> bool:
    """True when *event* belongs to run *trace* (or to any run of a collection, say a set), or its filter said ``:notrace``."""
    if getattr(event, "notrace", False):
        return True
    if trace is None:
        return False
    carried = getattr(event, "traceids", ())
    if isinstance(trace, int):
        return trace in carried
    # An event carries a trace or two; the collection may hold every run of a long step.
    return any(one in trace for one in carried)


def helpers(
    seed: int,
    config: Mapping[str, Any],
    definitions: Mapping[str, Any],
    origins: dict[int, tuple[Any, Any]] | None = None,
    done: Sequence[Mapping[str, Any]] = (),
) -> dict[str, Any]:
    """The pure helpers of a chart's context, bound to the session's seed and definitions.

    *origins* notes each value ``evaluate`` returned with the expression it
    came from, so a chart error on that value can name the config entry.

    *done* holds the parameters of runs a resumed session already has:
    ``matrix()`` leaves them out, so the chart runs only the rest.
    """

    def matrix(spec: Mapping[str, Any]) -> ParameterMatrix | Remaining:
        """The lazy product of a ``matrix:`` block, sampled with the session seed; ``len()`` works on it."""
        permutations = ParameterMatrix(spec, seed=seed)
        permutations.check_countable()
        return permutations.without(done) if done else permutations

    def evaluate(expression: Any, names: Mapping[str, Any] | None = None, **more: Any) -> Any:
        """Evaluate a config expression over definitions, *names* and keywords such as ``_i``."""
        scope = {**definitions, **(names or {}), **more}
        try:
            value = evaluate_expression(expression, scope)
        except ConfigError as exc:
            located = error_at(config, expression, exc.message) if exc.file is None else None
            if located is not None:
                raise located from None
            raise
        if origins is not None and not isinstance(value, (bool, int, float)):
            origins[id(value)] = (value, expression)
        return value

    def evolution(entries: Any) -> Evolution:
        """The schedule of an ``evolve:`` list: who changes when, as exact offsets from the start."""
        return Evolution(entries)

    def step_values(entries: Any, key: str = "values") -> StepValues:
        """The lazy product of a MultiStep step's ``values:`` list; samples use the session seed and *key*."""
        return StepValues(entries, seed=seed, evaluate=evaluate, key=key)

    def evaluate_count(expression: Any, names: Mapping[str, Any] | None = None, **more: Any) -> int:
        """Evaluate a config expression that counts something (events, steps): a whole number of at least 1."""
        value = evaluate(expression, names, **more)
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            shown = f'"{shorten(expression.strip(), SHOWN)}" gave' if isinstance(expression, str) else "got"
            message = f"expected a whole number of at least 1; {shown} {shorten(repr(value), SHOWN)}"
            raise error_at(config, expression, message) or ConfigError(message)
        return value

    return {
        "matrix": matrix,
        "evolution": evolution,
        "step_values": step_values,
        "evaluate": evaluate,
        "evaluate_count": evaluate_count,
        "traced": traced,
        "seconds": parse_duration,
    }
