"""Safe evaluation of the expressions users write in configuration values.

``signalEventCount: "apps + size/2"`` is a Python expression over the matrix
parameters, definitions and ``_i``. A configuration may come from anyone, so
it is evaluated by simpleeval, not ``eval``, after a static check that
rejects what simpleeval would allow but an expression never needs: dunder
names, private attributes and calls of anything but a few math functions.
"""

from __future__ import annotations

import ast
import math
import threading
import warnings
from collections.abc import Collection, Mapping
from functools import lru_cache
from typing import Any

from simpleeval import (
    DEFAULT_OPERATORS,
    AttributeDoesNotExist,
    NameNotDefined,
    SimpleEval,
    safe_mult,
)

from ..errors import ConfigError, shorten

__all__ = ["FUNCTIONS", "check", "evaluate"]

Where = tuple[str | None, int | None]
"""File and line of the configuration value, as far as known."""

#: Bits an integer an expression computes may have: a count or a size is far smaller,
#: and beyond this one multiplication or power could take seconds and gigabytes.
MAX_BITS = 100_000
#: Characters an expression may have; its error messages show at most SHOWN of them.
MAX_LENGTH = 10_000
SHOWN = 120


class TooCostly(ArithmeticError):
    """An operation whose result would be too large to compute in bounded time and memory."""


def _int_bits(value: Any) -> float:
    return float(abs(value).bit_length()) if isinstance(value, int) else 0.0


def bounded_power(base: Any, exponent: Any) -> Any:
    """``base ** exponent``, refused when the result would exceed MAX_BITS bits.

    simpleeval only caps the operands (``3999999 ** 3999999`` passes and
    takes half a minute); the size of the result is what costs.
    """
    if isinstance(base, int) and isinstance(exponent, int) and exponent > 0 and abs(base) > 1:
        if exponent * math.log2(abs(base)) > MAX_BITS:
            raise TooCostly(
                f"{shorten(repr(base), 40)} ** {shorten(repr(exponent), 40)} would have more than "
                f"{MAX_BITS} bits"
            )
    return base**exponent


def bounded_mult(left: Any, right: Any) -> Any:
    """``left * right``, refused when an integer product would exceed MAX_BITS bits."""
    if (
        isinstance(left, int)
        and isinstance(right, int)
        and _int_bits(left) + _int_bits(right) > MAX_BITS
    ):
        raise TooCostly(f"a product would have more than {MAX_BITS} bits")
    return safe_mult(left, right)


OPERATORS = {**DEFAULT_OPERATORS, ast.Pow: bounded_power, ast.Mult: bounded_mult}

FUNCTIONS: Mapping[str, Any] = {
    "abs": abs,
    "min": min,
    "max": max,
    "round": round,
    "int": int,
    "float": float,
    "len": len,
    "ceil": math.ceil,
    "floor": math.floor,
    "sqrt": math.sqrt,
    "log": math.log,
    "log2": math.log2,
    "log10": math.log10,
    "exp": math.exp,
    "pow": bounded_power,
}

_ALLOWED_NODES = (
    ast.Expression,
    ast.BinOp,
    ast.UnaryOp,
    ast.BoolOp,
    ast.Compare,
    ast.IfExp,
    ast.Call,
    ast.keyword,
    ast.Name,
    ast.Constant,
    ast.Attribute,
    ast.Subscript,
    ast.Slice,
    ast.expr_context,
    ast.operator,
    ast.unaryop,
    ast.cmpop,
    ast.boolop,
)
_REFUSED = {
    ast.Assign: "assignment",
    ast.AugAssign: "assignment",
    ast.AnnAssign: "assignment",
    ast.NamedExpr: "assignment",
    ast.Import: "import",
    ast.ImportFrom: "import",
    ast.Lambda: "lambda",
    ast.JoinedStr: "an f-string",
    ast.ListComp: "a comprehension",
    ast.SetComp: "a comprehension",
    ast.DictComp: "a comprehension",
    ast.GeneratorExp: "a comprehension",
}
_SHOWN_NAMES = 20


class _Invalid(Exception):
    """Why an expression cannot be evaluated, before the key and expression are added."""


class _Parsed:
    """A checked expression: its tree and the names it reads."""

    __slots__ = ("tree", "names")

    def __init__(self, tree: ast.expr, names: frozenset[str]) -> None:
        self.tree, self.names = tree, names


def evaluate(
    expression: Any, names: Mapping[str, Any], *, key: str | None = None, where: Where | None = None
) -> Any:
    """The value of *expression* over *names*; a value that is not a string is already one.

    Every failure is a ConfigError naming *key* (and *where*: file, line)
    that quotes the expression and says why.
    """
    if not isinstance(expression, str):
        return expression
    try:
        parsed = _parse(expression)
    except _Invalid as exc:
        raise _error(expression, str(exc), key, where) from None
    evaluator = _evaluator()
    outer, evaluator.names = evaluator.names, names
    try:
        return evaluator.eval(expression, previously_parsed=parsed.tree)
    except NameNotDefined as exc:
        raise _error(expression, _undefined(exc.name, names), key, where) from None
    except AttributeDoesNotExist as exc:
        raise _error(expression, f"attribute {exc.attr!r} does not exist", key, where) from None
    except Exception as exc:
        raise _error(expression, _cause(exc), key, where) from None
    finally:
        evaluator.names = outer


def check(
    expression: Any,
    names: Collection[str] | None = None,
    *,
    key: str | None = None,
    where: Where | None = None,
) -> frozenset[str]:
    """Validate *expression* when the configuration loads, before any value is known.

    Returns the names the expression reads. With *names*, a name outside
    them is an error too, so a typo fails at load time, not mid-run.
    """
    if not isinstance(expression, str):
        return frozenset()
    try:
        parsed = _parse(expression)
    except _Invalid as exc:
        raise _error(expression, str(exc), key, where) from None
    if names is not None:
        for name in sorted(parsed.names):
            if name not in names:
                raise _error(expression, _undefined(name, names), key, where)
    return parsed.names


@lru_cache(maxsize=1024)
def _parse(expression: str) -> _Parsed:
    """Parse and check once: a policy evaluates the same few expressions for every run."""
    text = expression.strip()
    if not text:
        raise _Invalid("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise _Invalid(f"the expression has {len(text)} characters, more than {MAX_LENGTH}")
    tree = _syntax_tree(text)
    names: set[str] = set()
    called: set[str] = set()
    for node in ast.walk(tree):
        _check_node(node, names, called)
    return _Parsed(tree.body, frozenset(names - called))


def _syntax_tree(text: str) -> Any:
    """The expression's syntax tree; _Invalid saying why when it does not parse."""
    try:
        return _quiet_parse(text, "eval")
    except SyntaxError as exc:
        syntax = exc.msg if exc.msg.startswith("invalid syntax") else f"invalid syntax: {exc.msg}"
        raise _Invalid(_statement(text) or syntax) from None
    except (ValueError, RecursionError, MemoryError) as exc:
        raise _Invalid(f"cannot parse: {str(exc) or type(exc).__name__}") from None


def _check_node(node: ast.AST, names: set[str], called: set[str]) -> None:
    """_Invalid when *node* is not allowed; names it reads go to *names*, functions it calls to
    *called*.
    """
    if not isinstance(node, _ALLOWED_NODES):
        raise _Invalid(f"{_describe(node)} is not allowed")
    if isinstance(node, (ast.operator, ast.unaryop, ast.cmpop)) and type(node) not in OPERATORS:
        raise _Invalid(f"operator {type(node).__name__} is not allowed")
    if isinstance(node, ast.Name):
        if node.id.startswith("__"):
            raise _Invalid(f"name {node.id!r} is not allowed")
        names.add(node.id)
    elif isinstance(node, ast.Attribute) and node.attr.startswith("_"):
        raise _Invalid(f"attribute {node.attr!r} is not allowed")
    elif isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            raise _Invalid(
                f"calling {ast.unparse(node.func)!r} is not allowed (functions: "
                f"{', '.join(FUNCTIONS)})"
            )
        called.add(node.func.id)


def _quiet_parse(text: str, mode: str) -> Any:
    """ast.parse without Python's SyntaxWarnings ("invalid decimal literal"): on a terminal they are
    noise; errors say enough.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ast.parse(text, mode=mode)


def _statement(text: str) -> str | None:
    """Why a text that is not an expression was refused, when it is a statement."""
    try:
        body = _quiet_parse(text, "exec").body
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        return None
    if len(body) != 1:
        return "only one expression is allowed"
    return f"{_REFUSED.get(type(body[0]), 'a statement')} is not allowed"


def _describe(node: ast.AST) -> str:
    return _REFUSED.get(type(node), type(node).__name__)


_local = threading.local()


def _evaluator() -> SimpleEval:
    """One evaluator per thread: building one costs more than evaluating."""
    evaluator = getattr(_local, "evaluator", None)
    if evaluator is None:
        evaluator = _local.evaluator = SimpleEval(
            operators=dict(OPERATORS), functions=dict(FUNCTIONS)
        )
    return evaluator


def _undefined(name: str, names: Collection[str]) -> str:
    known = list(names)
    if not known:
        return f"name {name!r} is not defined (no names are defined)"
    shown = ", ".join(known[:_SHOWN_NAMES])
    if len(known) > _SHOWN_NAMES:
        shown += f", … {len(known) - _SHOWN_NAMES} more"
    return f"name {name!r} is not defined (names: {shown})"


def _cause(exc: Exception) -> str:
    """The exception's own words, with its kind where they alone
    say too little (``KeyError: 'x'``).
    """
    text = str(exc)
    if text and not isinstance(exc, LookupError):
        return text
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _error(expression: str, cause: str, key: str | None, where: Where | None) -> ConfigError:
    file, line = where if where is not None else (None, None)
    return ConfigError(
        f'cannot evaluate "{shorten(expression.strip(), SHOWN)}": {cause}',
        file=file,
        line=line,
        key=key,
    )
