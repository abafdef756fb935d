"""The parameter matrix of a policy, computed lazily.

A matrix of a few large axes has more permutations than fit in memory, so
nothing here builds the product: its length is arithmetic, permutation *i*
is mixed-radix arithmetic on the axis lengths, iteration is an odometer, and
a ``range`` axis computes each value from its index.
"""

from __future__ import annotations

import bisect
import hashlib
import logging
import math
import operator
import random
import secrets
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from fractions import Fraction
from types import MappingProxyType
from typing import Any, overload

from ..errors import ConfigError
from .yamlsource import Located

__all__ = ["ParameterMatrix", "RangeAxis", "Remaining", "SampleAxis", "StepValues"]

log = logging.getLogger("perfchart")

Number = int | float
Seed = int | str

_AXIS_KEYS = {
    "discreet": {"type", "values"},
    "discrete": {"type", "values"},
    "range": {"type", "min", "max", "step"},
    "sample": {"type", "min", "max", "step", "samples"},
}


class RangeAxis(Sequence[Number]):
    """Evenly spaced numbers computed from their index, so 10**7 of them cost no memory.

    With *digits* set, each value is rounded to that many decimals, which is
    the precision the configuration wrote: ``0.1 + 2 * 0.1`` reads ``0.3``.
    """

    __slots__ = ("start", "step", "_length", "_digits")

    def __init__(self, start: Number, step: Number, length: int, digits: int | None = None) -> None:
        self.start, self.step, self._length, self._digits = start, step, length, digits

    def __len__(self) -> int:
        return self._length

    @overload
    def __getitem__(self, index: int) -> Number: ...

    @overload
    def __getitem__(self, index: slice) -> RangeAxis: ...

    def __getitem__(self, index: int | slice) -> Number | RangeAxis:
        if isinstance(index, slice):
            picked = range(self._length)[index]
            return RangeAxis(
                self._value(picked.start), self.step * picked.step, len(picked), self._digits
            )
        i = operator.index(index)
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError("range axis index out of range")
        return self._value(i)

    def __iter__(self) -> Iterator[Number]:
        return map(self._value, range(self._length))

    def _value(self, i: int) -> Number:
        value = self.start + i * self.step
        return value if self._digits is None else round(value, self._digits)

    def find(self, value: Any) -> int | None:
        """The index of *value*, by arithmetic, or None when the axis does not hold it."""
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            return None
        i = round((value - self.start) / self.step)
        return i if 0 <= i < self._length and self._value(i) == value else None

    def __repr__(self) -> str:
        return f"RangeAxis(start={self.start!r}, step={self.step!r}, length={self._length})"


class ParameterMatrix(Sequence[dict[str, Any]]):
    """Every combination of the ``matrix:`` axes, in ``itertools.product`` order.

    *key* is the dotted path of *spec* used in error messages when *spec* is
    a plain dict; a loaded LocatedDict brings its own path, file and line.
    ``size`` is the exact number of permutations, also when it is too large
    for ``len()``.
    """

    def __init__(
        self,
        spec: Mapping[str, Mapping[str, Any]],
        *,
        seed: Seed | None = None,
        key: str = "matrix",
    ) -> None:
        path = getattr(spec, "path", "") or key
        if not isinstance(spec, Mapping) or not spec:
            got = "no parameters" if isinstance(spec, Mapping) else _shown(spec)
            raise _at(spec, path, f"expected a mapping of parameter names to axes, got {got}")
        self.seed: Seed = secrets.randbits(32) if seed is None else seed
        self._spec, self._path = spec, path
        axes: dict[str, Sequence[Any]] = {}
        for name in spec:
            if not isinstance(name, str):
                raise _error(spec, name, path, f"expected a parameter name, got {name!r}")
            axes[name] = _matrix_axis(spec, name, path, self.seed)
        self._set_axes(axes)

    @classmethod
    def from_axes(cls, axes: Mapping[str, Sequence[Any]], *, seed: Seed) -> ParameterMatrix:
        """The product of ready-made axes; no axes at all is one empty combination."""
        matrix = cls.__new__(cls)
        matrix.seed = seed
        matrix._set_axes(dict(axes))
        return matrix

    def _set_axes(self, axes: dict[str, Sequence[Any]]) -> None:
        self.names: tuple[str, ...] = tuple(axes)
        self.axes: Mapping[str, Sequence[Any]] = MappingProxyType(axes)
        self._axes = tuple(axes.values())
        self._lengths = tuple(len(axis) for axis in self._axes)
        self.size: int = math.prod(self._lengths)

    def __len__(self) -> int:
        return self.size

    def check_countable(self) -> None:
        """Raise a ConfigError naming the matrix when it has more permutations than ``len()`` can
        count.
        """
        if self.size > sys.maxsize:
            shape = " x ".join(str(length) for length in self._lengths)
            raise _at(
                self._spec,
                self._path,
                f"{shape} = {self.size:.3g} permutations, more than the {sys.maxsize} a sweep can "
                "count",
            )

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        rest = operator.index(index)
        if rest < 0:
            rest += self.size
        if not 0 <= rest < self.size:
            raise IndexError("parameter matrix index out of range")
        values = [None] * len(self._axes)
        for k in range(len(self._axes) - 1, -1, -1):
            rest, digit = divmod(rest, self._lengths[k])
            values[k] = self._axes[k][digit]
        return dict(zip(self.names, values, strict=True))

    def __iter__(self) -> Iterator[dict[str, Any]]:
        names, axes, lengths = self.names, self._axes, self._lengths
        digits = [0] * len(axes)
        current = [axis[0] for axis in axes]
        while True:
            yield dict(zip(names, current, strict=True))
            if not axes:
                return
            k = len(axes) - 1
            while True:
                digit = digits[k] + 1
                if digit < lengths[k]:
                    digits[k] = digit
                    current[k] = axes[k][digit]
                    break
                digits[k] = 0
                current[k] = axes[k][0]
                k -= 1
                if k < 0:
                    return

    def position(self, parameters: Mapping[str, Any]) -> int:
        """The position of the permutation whose values *parameters* holds (other keys are ignored).

        Computed per axis, so it costs nothing like a search of the product.
        Raises ValueError when no permutation matches.
        """
        position = 0
        for name, axis, length in zip(self.names, self._axes, self._lengths, strict=True):
            found = _find(axis, parameters[name]) if name in parameters else None
            if found is None:
                raise ValueError(f"no permutation has {name}={parameters.get(name)!r}")
            position = position * length + found
        return position

    def without(self, done: Iterable[Mapping[str, Any]]) -> Remaining:
        """This matrix less the permutations *done* names: what a
        resumed session still has to run.
        """
        skipped: set[int] = set()
        for parameters in done:
            try:
                skipped.add(self.position(parameters))
            except ValueError:
                continue
        return Remaining(self, skipped)

    def __repr__(self) -> str:
        shape = ", ".join(
            f"{name}={length}" for name, length in zip(self.names, self._lengths, strict=True)
        )
        return f"ParameterMatrix({shape}; {self.size} permutations, seed={self.seed!r})"


class StepValues(Sequence[dict[str, Any]]):
    """The runs of one MultiStep step: the product of its value kinds, in the order the step lists
    them.

    Each entry of *entries* names a ``parameter`` and gives ``values`` (a
    list), a range (``min``, ``max``, ``step``, ``inclusive``) or a sample of
    a range (``sample: N`` distinct values, drawn with *seed*, in ascending
    order, seeded by *seed*, *key* and the parameter); those are the axes. An entry with ``value``
    is not an axis: it is
    computed for each combination by *evaluate* over that combination (see
    :func:`fixed_value`), in the order listed, so it may use the axes and
    the fixed values before it.
    """

    def __init__(
        self,
        entries: Sequence[Mapping[str, Any]],
        *,
        seed: Seed,
        evaluate: Callable[[Any, Mapping[str, Any]], Any],
        key: str = "values",
    ) -> None:
        path = getattr(entries, "path", "") or key
        if not isinstance(entries, Sequence) or isinstance(entries, str) or not entries:
            raise _at(entries, path, "expected a non-empty list of parameters")
        axes: dict[str, Sequence[Any]] = {}
        fixed: list[tuple[str, Any]] = []
        for index, entry in enumerate(entries):
            where = getattr(entry, "path", "") or f"{path}[{index}]"
            name = entry.get("parameter") if isinstance(entry, Mapping) else None
            if not isinstance(name, str):
                raise _at(entry, where, "expected a mapping with a parameter name")
            if name in axes or name in dict(fixed):
                raise _at(entry, where, f"parameter {name!r} is listed twice in this step")
            if "value" in entry:
                fixed.append((name, entry["value"]))
            elif "values" in entry:
                axes[name] = _values(entry, where)
            elif "sample" in entry:
                axes[name] = _distinct_sample(entry, where, f"{seed}:{key}:{name}")
            else:
                axes[name] = _step_range(entry, where)
        self.fixed: tuple[tuple[str, Any], ...] = tuple(fixed)
        self.matrix = ParameterMatrix.from_axes(axes, seed=seed)
        self.names = (*self.matrix.names, *(name for name, _ in self.fixed))
        self._evaluate = evaluate

    def __len__(self) -> int:
        return len(self.matrix)

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        return self._complete(self.matrix[index])

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return map(self._complete, self.matrix)

    def _complete(self, combination: dict[str, Any]) -> dict[str, Any]:
        for name, expression in self.fixed:
            combination[name] = fixed_value(expression, combination, self._evaluate)
        return combination


def fixed_value(
    expression: Any, names: Mapping[str, Any], evaluate: Callable[[Any, Mapping[str, Any]], Any]
) -> Any:
    """A ``value`` entry for one combination: an expression is evaluated, plain text and numbers
    stay.

    Text that does not parse as an expression (``"1.2.3"``, ``"two words"``)
    or is a single word that names nothing (``fast``) is taken as it is;
    anything else is evaluated, and a failure names the config key.
    """
    from .expressions import check

    if not isinstance(expression, str):
        return expression
    try:
        check(expression)
    except ConfigError:
        return expression
    word = expression.strip()
    if word.isidentifier() and word not in names:
        try:
            return evaluate(expression, names)
        except ConfigError:
            return expression
    return evaluate(expression, names)


def _step_range(config: Mapping[str, Any], path: str) -> RangeAxis:
    """A MultiStep range: min, min+step, ... up to max, or below it with ``inclusive: no``."""
    low, high, step, digits = _bounds(config, path)
    span = (_exact(high) - _exact(low)) / _exact(step)
    inclusive = config.get("inclusive", True)
    length = math.floor(span) + 1 if inclusive else math.ceil(span)
    if length < 1:
        raise _error(
            config, "max", path, f"the range from {low!r} to {high!r}, max excluded, has no values"
        )
    return RangeAxis(low, step, length, digits)


def _distinct_sample(config: Mapping[str, Any], path: str, seed: str) -> tuple[Number, ...]:
    population = _step_range(config, path)
    count = _count(config, "sample", path)
    if count > len(population):
        raise _error(
            config,
            "sample",
            path,
            f"cannot draw {count} distinct values from a range of {len(population)}",
        )
    picked = sorted(random.Random(seed).sample(range(len(population)), count))
    return tuple(population[i] for i in picked)


def _find(axis: Sequence[Any], value: Any) -> int | None:
    """The index of *value* on *axis*, or None."""
    if isinstance(axis, (RangeAxis, SampleAxis)):
        return axis.find(value)
    for i, item in enumerate(axis):
        if item == value and type(item) is type(value):
            return i
    return None


class Remaining(Sequence[dict[str, Any]]):
    """A parameter matrix less some permutations, in the same order, still lazy.

    ``len()`` is exact and permutation *i* is found by bisecting the skipped
    positions, so resuming a huge sweep costs memory for the runs already
    done only.
    """

    def __init__(self, matrix: ParameterMatrix, skipped: set[int]) -> None:
        self.matrix = matrix
        self.names = matrix.names
        self.axes = matrix.axes
        self.seed = matrix.seed
        self.skipped = len(skipped)
        self._skipped = sorted(skipped)
        self._set = skipped
        self.size = matrix.size - len(skipped)

    def __len__(self) -> int:
        return self.size

    def check_countable(self) -> None:
        self.matrix.check_countable()

    def __getitem__(self, index: int) -> dict[str, Any]:  # type: ignore[override]
        i = operator.index(index)
        if i < 0:
            i += self.size
        if not 0 <= i < self.size:
            raise IndexError("parameter matrix index out of range")
        position = i
        while True:
            before = bisect.bisect_right(self._skipped, position)
            if position - before == i and position not in self._set:
                return self.matrix[position]
            position = i + before

    def __iter__(self) -> Iterator[dict[str, Any]]:
        if not self._set:
            return iter(self.matrix)
        return (
            parameters
            for position, parameters in enumerate(self.matrix)
            if position not in self._set
        )

    def __repr__(self) -> str:
        return f"Remaining({self.matrix!r}, {self.skipped} done)"


def _matrix_axis(spec: Mapping[str, Any], name: str, top: str, seed: Seed) -> Sequence[Any]:
    config, path = spec[name], f"{top}.{name}"
    if not isinstance(config, Mapping):
        expected = "expected a mapping with a type (discreet, range or sample)"
        raise _error(spec, name, top, f"{expected}, got {_shown(config)}")
    kind = config.get("type", "sample")
    if not isinstance(kind, str) or kind not in _AXIS_KEYS:
        raise _error(
            config,
            "type",
            path,
            f"unknown matrix type {kind!r} (expected discreet, range or sample)",
        )
    _check_keys(config, path, _AXIS_KEYS[kind])
    if kind == "range":
        return _range(config, path)
    if kind == "sample":
        return _sample(config, path, f"{seed}:{name}")
    return _values(config, path)


def _values(config: Mapping[str, Any], path: str) -> tuple[Any, ...]:
    values = config.get("values")
    if not isinstance(values, (list, tuple)) or not values:
        raise _error(
            config, "values", path, f"expected a non-empty list of values, got {_shown(values)}"
        )
    return tuple(values)


def _range(config: Mapping[str, Any], path: str) -> RangeAxis:
    low, high, step, digits = _bounds(config, path)
    length = math.floor((_exact(high) - _exact(low)) / _exact(step)) + 1
    return RangeAxis(low, step, length, digits)


class SampleAxis(Sequence[Number]):
    """*count* distinct multiples of *step*, drawn by the seed from those in [min, max], computed
    from their index.

    Value *i* is multiple number ``perm(i)`` of a seeded permutation of the
    *space* multiples (a Feistel network walked back into range), so the
    values are distinct, reproducible, and a billion of them cost no memory.
    """

    __slots__ = ("first", "step", "space", "_length", "_digits", "_key", "_half")

    def __init__(
        self, first: int, step: Number, space: int, count: int, seed: str, digits: int | None = None
    ) -> None:
        self.first, self.step, self.space, self._length, self._digits = (
            first,
            step,
            space,
            count,
            digits,
        )
        self._key = hashlib.blake2b(seed.encode("utf-8"), digest_size=16).digest()
        self._half = max(1, ((space - 1).bit_length() + 1) // 2)

    def __len__(self) -> int:
        return self._length

    def __getitem__(self, index: int) -> Number:  # type: ignore[override]
        i = operator.index(index)
        if i < 0:
            i += self._length
        if not 0 <= i < self._length:
            raise IndexError("sample axis index out of range")
        k = self._permute(i)
        while k >= self.space:
            k = self._permute(k)
        value = (self.first + k) * self.step
        return value if self._digits is None else round(float(value), self._digits)

    def __iter__(self) -> Iterator[Number]:
        return map(self.__getitem__, range(self._length))

    def _round(self, round_: int, half: int) -> int:
        digest = hashlib.blake2b(
            half.to_bytes(16, "big"), digest_size=16, key=self._key, person=bytes([round_]) * 16
        ).digest()
        return int.from_bytes(digest, "big") & ((1 << self._half) - 1)

    def _permute(self, x: int) -> int:
        """A keyed bijection of [0, 4**half): four Feistel rounds."""
        half = self._half
        left, right = x >> half, x & ((1 << half) - 1)
        for round_ in range(4):
            left, right = right, left ^ self._round(round_, right)
        return (left << half) | right

    def _unpermute(self, y: int) -> int:
        """The inverse of :meth:`_permute`: the rounds backwards."""
        half = self._half
        left, right = y >> half, y & ((1 << half) - 1)
        for round_ in reversed(range(4)):
            left, right = right ^ self._round(round_, left), left
        return (left << half) | right

    def find(self, value: Any) -> int | None:
        """The index of *value*, by inverting the permutation, or None when it was not drawn."""
        if (
            isinstance(value, bool)
            or not isinstance(value, (int, float))
            or not math.isfinite(value)
        ):
            return None
        k = round(value / self.step) - self.first
        if not 0 <= k < self.space:
            return None
        i = self._unpermute(k)
        while i >= self.space:
            i = self._unpermute(i)
        return i if i < self._length and self[i] == value else None

    def __repr__(self) -> str:
        return f"SampleAxis(step={self.step!r}, space={self.space}, length={self._length})"


def _sample(config: Mapping[str, Any], path: str, seed: str) -> SampleAxis:
    """``samples`` distinct values; when fewer exist, each of
    them once, with a warning saying so.
    """
    low, high, step, digits = _bounds(config, path)
    first = math.ceil(_exact(low) / _exact(step))
    space = math.floor(_exact(high) / _exact(step)) - first + 1
    if space < 1:
        raise _error(
            config,
            "step",
            path,
            f"no multiple of step {step!r} lies between min {low!r} and max {high!r}",
        )
    count = _count(config, "samples", path, default=10)
    if count > space:
        file, line = (
            (config.file, config.line_of("samples"))
            if isinstance(config, Located)
            else (None, None)
        )
        where = f"{file}:{line}: " if file and line else ""
        log.warning(
            "%s%s.samples: %d asked, but only %d distinct multiples of %r lie in [%r, %r]; each is "
            "used once",
            where,
            path,
            count,
            space,
            step,
            low,
            high,
        )
        count = space
    return SampleAxis(first, step, space, count, seed, digits)


def _bounds(config: Mapping[str, Any], path: str) -> tuple[Number, Number, Number, int | None]:
    """min, max and step with their defaults, and the decimals the floats among them were written
    with.
    """
    low, high, step = (
        _number(config, name, default, path)
        for name, default in (("min", 0), ("max", 1), ("step", 1))
    )
    if step <= 0:
        raise _error(config, "step", path, f"expected a step greater than 0, got {step!r}")
    if low > high:
        raise _error(config, "min", path, f"min {low!r} is greater than max {high!r}")
    floats = [x for x in (low, high, step) if isinstance(x, float)]
    digits = (
        max(max(0, -int(Decimal(repr(x)).as_tuple().exponent)) for x in floats) if floats else None
    )
    return low, high, step, digits


def _number(config: Mapping[str, Any], name: str, default: Number, path: str) -> Number:
    value = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise _error(config, name, path, f"expected a number, got {_shown(value)}")
    return value


def _count(config: Mapping[str, Any], name: str, path: str, default: int | None = None) -> int:
    value = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise _error(
            config, name, path, f"expected a whole number of at least 1, got {_shown(value)}"
        )
    return value


def _exact(x: Number) -> Fraction:
    """The number as written in the configuration, so float steps divide exactly."""
    return Fraction(repr(x)) if isinstance(x, float) else Fraction(x)


def _check_keys(config: Mapping[str, Any], path: str, allowed: set[str]) -> None:
    for name in config:
        if name not in allowed:
            raise _error(
                config, name, path, f"unknown key {name!r} (expected {', '.join(sorted(allowed))})"
            )


def _error(container: Any, key: Any, path: str, message: str) -> ConfigError:
    """A ConfigError at entry *key* of *container*, whose dotted path is *path*."""
    file, line = (
        (container.file, container.line_of(key)) if isinstance(container, Located) else (None, None)
    )
    return ConfigError(message, file=file, line=line, key=f"{path}.{key}")


def _at(container: Any, path: str, message: str) -> ConfigError:
    """A ConfigError at *container* itself, whose dotted path is *path*."""
    return ConfigError(
        message,
        file=getattr(container, "file", None),
        line=getattr(container, "line", None),
        key=path,
    )


def _shown(value: Any) -> str:
    """A value as a message shows it: containers by kind, so a long list stays one line."""
    if value is None:
        return "nothing"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, (list, tuple)):
        return "a list" if value else "an empty list"
    return repr(value)
