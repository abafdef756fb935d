"""The pure helpers a statechart's code sees beside ``policy`` (which the engine provides).

Bundled and user policies get exactly this context, so anything a bundled
chart does, a user's chart can do too. docs/authoring.md documents it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from ..config import SHOWN, Evolution, ParameterMatrix, Remaining, StepValues, error_at, locate
from ..config import evaluate as evaluate_expression
from ..core import parse_duration
from ..errors import ConfigError, shorten


def config_origin(config: Any, value: Any, origins: Mapping[int, tuple[Any, Any]]) -> str | None:
    """``file:line: key`` of the config entry *value* is, or was evaluated from; None for other
    values.
    """
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
    """True when *event* belongs to run *trace* (or to any run of a collection, say a set), or its
    filter said ``:notrace``.
    """
    data = getattr(event, "data", None)
    if type(data) is dict:  # a statechart event: its attributes are its data, read at once
        notrace, carried = data.get("notrace", False), data.get("traceids", ())
    else:
        notrace, carried = getattr(event, "notrace", False), getattr(event, "traceids", ())
    if notrace:
        return True
    if trace is None:
        return False
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
        """The lazy product of a ``matrix:`` block, sampled with the session seed; ``len()`` works
        on it.
        """
        permutations = ParameterMatrix(spec, seed=seed)
        permutations.check_countable()
        return permutations.without(done) if done else permutations

    def evaluate(expression: Any, names: Mapping[str, Any] | None = None, **more: Any) -> Any:
        """Evaluate a config expression over definitions, *names* and keywords such as ``_i``."""
        scope = {**definitions, **(names or {}), **more}
        return _evaluate(config, expression, scope, origins)

    def evolution(entries: Any) -> Evolution:
        """The schedule of an ``evolve:`` list: who changes when,
        as exact offsets from the start.
        """
        return Evolution(entries)

    def step_values(entries: Any, key: str = "values") -> StepValues:
        """The lazy product of a MultiStep step's ``values:`` list; samples use the session seed and
        *key*.
        """
        return StepValues(entries, seed=seed, evaluate=evaluate, key=key)

    def evaluate_count(expression: Any, names: Mapping[str, Any] | None = None, **more: Any) -> int:
        """Evaluate a config expression that counts something (events, steps): a whole number of at
        least 1.
        """
        return _whole_count(config, expression, evaluate(expression, names, **more))

    return {
        "matrix": matrix,
        "evolution": evolution,
        "step_values": step_values,
        "evaluate": evaluate,
        "evaluate_count": evaluate_count,
        "traced": traced,
        "seconds": parse_duration,
    }


def _evaluate(
    config: Mapping[str, Any],
    expression: Any,
    scope: Mapping[str, Any],
    origins: dict[int, tuple[Any, Any]] | None,
) -> Any:
    """*expression*'s value over *scope*; an error without a place is put at the config entry
    holding *expression*, and *origins* (when kept) notes where a value came from.
    """
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


def _whole_count(config: Mapping[str, Any], expression: Any, value: Any) -> int:
    """*value* (what *expression* gave) as a whole number of at least 1; a ConfigError at the
    config entry otherwise.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        shown = (
            f'"{shorten(expression.strip(), SHOWN)}" gave' if isinstance(expression, str) else "got"
        )
        message = f"expected a whole number of at least 1; {shown} {shorten(repr(value), SHOWN)}"
        raise error_at(config, expression, message) or ConfigError(message)
    return value
