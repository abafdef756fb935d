"""The event filter language: expressions that select bus events for a policy.

An expression compiles once into rules (one per clause). Each policy instance
runs them in its own ``FilterSession``, so per-session state (counts,
``:last`` candidates, ``:after`` timers) never leaks between sessions.
docs/filters.md describes the language and the semantics chosen here.
"""

from __future__ import annotations

import math
import numbers
import operator
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from ..core import Event, SimulatedEvent, Timer, Timers, parse_duration
from ..errors import ConfigError, shorten

__all__ = ["EventFilter", "FilterSession", "FilterSyntaxError"]

Callback = Callable[[Event, bool], object]
Condition = Callable[[Any], bool]

_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_SPACE = re.compile(r"\s+")
_OPERATOR = re.compile(r"~==|~=|<~|==|!=|>=|<=|=|>|<")
_BARE_VALUE = re.compile(r"""[^\s,\[\]'"]+""")
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INTEGER = re.compile(r"[+-]?[0-9]+")
_COUNT = re.compile(r"[0-9]+")
_QUOTES = ("'", '"')
_NOT = ":not("
_ORDERINGS: dict[str, Callable[[Any, Any], bool]] = {
    ">": operator.gt,
    ">=": operator.ge,
    "<": operator.lt,
    "<=": operator.le,
}
_FLAGS = ("first", "last", "single", "notrace")
_SELECTORS = ":first, :last, :nth(n[,group]), :single, :after(T), :notrace"
#: Deep enough for any sensible expression, shallow enough to stay clear of the recursion limit.
MAX_NESTING = 16


#: Stands for an attribute or key that is not there, since None is a real value.
_MISSING: Any = object()


#: Characters of an expression an error shows around its fault.
SHOWN_FILTER = 160


class FilterSyntaxError(ConfigError):
    """An expression that does not compile; the message marks where it goes wrong.

    ``position`` is the 0-based offset into ``expression`` of the fault.
    """

    def __init__(
        self,
        reason: str,
        expression: str,
        position: int,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        self.reason = reason
        self.expression = expression
        self.position = position
        # One character per character keeps the caret under the fault even when the expression spans
        # lines.
        shown = "".join(" " if char.isspace() else char for char in expression)
        column = position
        if len(shown) > SHOWN_FILTER:
            # A hostile expression may be megabytes: show the stretch around the fault.
            start = max(0, position - SHOWN_FILTER // 2)
            end = start + SHOWN_FILTER
            column = position - start + (1 if start else 0)
            shown = ("…" if start else "") + shown[start:end] + ("…" if end < len(shown) else "")
        message = f"at position {position}: {reason}\n    {shown}\n    {' ' * column}^"
        super().__init__(message, file=file, line=line, key=key)


# ---------------------------------------------------------------- values


def _number(text: str) -> int | float | None:
    """The number *text* spells, or None; ints stay ints so large ones compare exactly."""
    if not _NUMBER.fullmatch(text):
        return None
    if _INTEGER.fullmatch(text):
        try:
            return int(text)
        except ValueError:  # more digits than int() accepts from text
            pass
    return float(text)


def _as_number(value: Any) -> Any:
    """*value* as a number for a numeric comparison, or None when it is not one."""
    kind = type(value)
    if kind is int or kind is float:
        return value
    if kind is bool:
        return None
    if isinstance(value, str):
        return _number(value.strip())
    if isinstance(value, numbers.Real):
        return value
    return None


def _text(value: Any) -> str:
    return value if type(value) is str else str(value)


def _equality(text: str, quoted: bool) -> Condition:
    number = None if quoted else _number(text)
    if number is None:
        return lambda value: _text(value) == text
    return lambda value: _as_number(value) == number


def _contains(container: Any, equals: Condition) -> bool:
    if isinstance(container, Mapping):
        return any(equals(key) for key in container)
    if isinstance(container, (list, tuple, set, frozenset)):
        return any(equals(item) for item in container)
    return False


def _comparison(op: str, text: str, quoted: bool) -> Condition:
    """The test one operator applies to an attribute value that is present."""
    if op in ("=", "=="):
        return _equality(text, quoted)
    if op == "!=":
        equals = _equality(text, quoted)
        return lambda value: not equals(value)
    if op == "<~":
        equals = _equality(text, quoted)
        return lambda value: _contains(value, equals)
    compare = _ORDERINGS[op]
    number = None if quoted else _number(text)
    if number is None:
        return lambda value: compare(_text(value), text)

    def ordered(value: Any) -> bool:
        left = _as_number(value)
        return left is not None and compare(left, number)

    return ordered


def _resolver(path: tuple[tuple[bool, str], ...]) -> Callable[[Any], Any]:
    """Follow a dotted path; each step is (is_key, name). Returns _MISSING where it breaks off."""

    def resolve(target: Any) -> Any:
        for is_key, name in path:
            if is_key:
                if not isinstance(target, Mapping):
                    return _MISSING
                target = target.get(name, _MISSING)
            else:
                target = getattr(target, name, _MISSING)
            if target is _MISSING:
                return _MISSING
        return target

    return resolve


def _condition(path: tuple[tuple[bool, str], ...], test: Condition) -> Condition:
    """A missing step makes the condition false rather than
    raising; one-step paths skip the loop.
    """
    if len(path) == 1 and not path[0][0]:
        name = path[0][1]
        return lambda event: (
            (value := getattr(event, name, _MISSING)) is not _MISSING and test(value)
        )
    resolve = _resolver(path)
    return lambda event: (value := resolve(event)) is not _MISSING and test(value)


# ---------------------------------------------------------------- compiled form


@dataclass(frozen=True)
class _Match:
    """A clause's class and conditions: the part of a clause that ``:not`` can negate."""

    name: str | None  # None for '*'
    conditions: tuple[Condition, ...]


@dataclass(frozen=True)
class _Not:
    """``:not(...)``: matches where none of its alternatives does."""

    alternatives: tuple[_Node, ...]


_Node = _Match | _Not
_Plan = tuple[Condition, ...]


def _any_of(plans: Iterable[_Plan | None]) -> _Plan | None:
    live = [plan for plan in plans if plan is not None]
    if not live:
        return None
    if any(not plan for plan in live):
        return ()
    if len(live) == 1:
        return live[0]
    return (lambda event: any(all(test(event) for test in plan) for plan in live),)


def _plan(node: _Node, names: frozenset[str]) -> _Plan | None:
    """What *node* still has to check on an event whose class answers to *names*.

    None means it can never match that class; ``()`` means it always does.
    Deciding this once per class keeps rejection to a dict lookup.
    """
    if isinstance(node, _Match):
        if node.name is not None and node.name not in names:
            return None
        return node.conditions
    inner = _any_of(_plan(alternative, names) for alternative in node.alternatives)
    if inner is None:
        return ()
    if not inner:
        return None
    return (lambda event: not all(test(event) for test in inner),)


def _names(node: _Node) -> Iterable[str]:
    if isinstance(node, _Match):
        if node.name is not None:
            yield node.name
    else:
        for alternative in node.alternatives:
            yield from _names(alternative)


@dataclass(frozen=True)
class _Rule:
    """One top-level clause with its selectors; ``:first`` is kept as ``nth`` with n=1."""

    index: int
    node: _Node
    notrace: bool = False
    pick: str | None = None  # "nth" or "last"
    n: int = 0
    group: str | None = None
    after: float | None = None
    single: bool = False


_Route = tuple[tuple[_Rule, _Plan], ...]


# ---------------------------------------------------------------- parser


class _Parser:
    """Recursive descent over the text; every failure is a FilterSyntaxError."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def fail(self, reason: str, position: int | None = None) -> FilterSyntaxError:
        return FilterSyntaxError(reason, self.text, self.pos if position is None else position)

    def peek(self) -> str:
        return self.text[self.pos : self.pos + 1]

    def at_end(self) -> bool:
        return self.pos >= len(self.text)

    def skip_space(self) -> bool:
        match = _SPACE.match(self.text, self.pos)
        if match is None:
            return False
        self.pos = match.end()
        return True

    def take(self, pattern: re.Pattern[str]) -> str | None:
        match = pattern.match(self.text, self.pos)
        if match is None:
            return None
        self.pos = match.end()
        return match.group()

    def unexpected(self) -> FilterSyntaxError:
        char = self.peek()
        if char in ("]", ")"):
            return self.fail(f"unbalanced {char!r}")
        if char == "[":
            return self.fail(
                "unexpected '[': a clause has one condition list, right after its class name"
            )
        return self.fail(f"unexpected {char!r} (clauses are separated by whitespace)")

    def unbalanced(self, opening: str, position: int) -> FilterSyntaxError:
        closing = "]" if opening == "[" else ")"
        return self.fail(f"unbalanced {opening!r}: missing {closing!r}", position)

    # expression := clause (space clause)* | ':not(' body ')' selector*

    def parse(self) -> list[_Rule]:
        self.skip_space()
        if self.at_end():
            raise self.fail("empty expression")
        if self.text.startswith(_NOT, self.pos):
            node = self.negation(depth=1)
            negated = [self.rule(0, node)]
            self.skip_space()
            if not self.at_end():
                raise self.fail("':not(...)' must wrap the whole expression")
            return negated
        rules: list[_Rule] = []
        while not self.at_end():
            rules.append(self.rule(len(rules), self.clause()))
            if not self.skip_space() and not self.at_end():
                raise self.unexpected()
        return rules

    def negation(self, depth: int) -> _Not:
        if depth > MAX_NESTING:
            raise self.fail(f"more than {MAX_NESTING} nested ':not(...)'")
        opening = self.pos + len(_NOT) - 1
        self.pos += len(_NOT)
        alternatives: list[_Node] = []
        self.skip_space()
        while True:
            if self.at_end():
                raise self.unbalanced("(", opening)
            if self.peek() == ")":
                if not alternatives:
                    raise self.fail("empty ':not()'")
                self.pos += 1
                return _Not(tuple(alternatives))
            nested = self.text.startswith(_NOT, self.pos)
            if alternatives and (nested or isinstance(alternatives[0], _Not)):
                raise self.fail("':not(...)' must wrap the whole expression")
            node = self.negation(depth + 1) if nested else self.clause()
            if self.peek() == ":":
                raise self.fail(
                    "selectors are not allowed inside ':not(...)'; put them after its ')'"
                )
            alternatives.append(node)
            if not self.skip_space() and not self.at_end() and self.peek() != ")":
                raise self.unexpected()

    # clause := (Name | '*') ('[' conditions ']')?

    def clause(self) -> _Match:
        if self.peek() == "*":
            self.pos += 1
            name = None
        else:
            name = self.take(_IDENT)
            if name is None:
                raise self.no_clause()
        conditions = self.conditions() if self.peek() == "[" else ()
        return _Match(name, conditions)

    def no_clause(self) -> FilterSyntaxError:
        char = self.peek()
        if char in ("]", ")"):
            return self.unexpected()
        if char == "[":
            return self.fail("expected an event class name or '*' right before '['")
        if char == ":":
            if self.text.startswith(_NOT, self.pos):
                return self.fail("':not(...)' must wrap the whole expression")
            return self.fail("a selector must follow an event class name or '*'")
        return self.fail(f"expected an event class name or '*', found {char!r}")

    def conditions(self) -> tuple[Condition, ...]:
        opening = self.pos
        self.pos += 1
        found: list[Condition] = []
        self.skip_space()
        if self.peek() == "]":
            self.pos += 1
            return ()
        while True:
            found.append(self.condition(opening))
            self.skip_space()
            char = self.peek()
            if char == ",":
                self.pos += 1
                self.skip_space()
            elif char == "]":
                self.pos += 1
                return tuple(found)
            elif not char:
                raise self.unbalanced("[", opening)
            else:
                raise self.fail(
                    f"expected ',' or ']', found {char!r} (quote values that contain spaces)"
                )

    # condition := path op value;  path := Name ('.' (Name | quoted))*

    def condition(self, opening: int) -> Condition:
        self.check_open(opening)
        name = self.take(_IDENT)
        if name is None:
            raise self.fail("expected an attribute name")
        path = [(False, name)]
        while self.peek() == ".":
            self.pos += 1
            self.check_open(opening)
            if self.peek() in _QUOTES:
                path.append((True, self.quoted()))
                continue
            name = self.take(_IDENT)
            if name is None:
                raise self.fail("expected an attribute name or a quoted 'key' after '.'")
            path.append((False, name))
        self.skip_space()
        self.check_open(opening)
        op = self.take(_OPERATOR)
        if op is None:
            raise self.fail("expected an operator: = == != > >= < <= ~= ~== <~")
        self.skip_space()
        self.check_open(opening)
        start = self.pos
        quoted = self.peek() in _QUOTES
        value = self.quoted() if quoted else self.take(_BARE_VALUE)
        if value is None:
            if self.peek() == "[":
                raise self.fail("quote a value that contains '['")
            raise self.fail(f"expected a value after {op!r}")
        if op in ("~=", "~=="):
            test = self.pattern(op, value, start + 1 if quoted else start)
        else:
            test = _comparison(op, value, quoted)
        return _condition(tuple(path), test)

    def check_open(self, opening: int) -> None:
        if self.at_end():
            raise self.unbalanced("[", opening)

    def quoted(self) -> str:
        quote = self.peek()
        end = self.text.find(quote, self.pos + 1)
        if end < 0:
            raise self.fail(f"unterminated quote {quote}")
        value = self.text[self.pos + 1 : end]
        self.pos = end + 1
        return value

    def pattern(self, op: str, source: str, start: int) -> Condition:
        try:
            compiled = re.compile(source)
        except re.error as exc:
            raise self.fail(f"bad regular expression: {exc.msg}", start + (exc.pos or 0)) from None
        except (RecursionError, OverflowError, ValueError) as exc:
            raise self.fail(f"bad regular expression: {exc}", start) from None
        if op == "~=":
            search = compiled.search
            return lambda value: search(_text(value)) is not None
        fullmatch = compiled.fullmatch
        return lambda value: fullmatch(_text(value)) is not None

    # selectors := (':' Name ('(' args ')')?)*

    def rule(self, index: int, node: _Node) -> _Rule:
        selectors: dict[str, tuple[int, Any]] = {}
        while self.peek() == ":":
            at = self.pos
            self.pos += 1
            name = self.take(_IDENT)
            if name is None:
                raise self.fail("expected a selector name after ':'", at)
            args: tuple[str, int] | None = None
            if self.peek() == "(":
                opening = self.pos
                closing = self.text.find(")", opening)
                if closing < 0:
                    raise self.unbalanced("(", opening)
                args = (self.text[opening + 1 : closing], opening + 1)
                self.pos = closing + 1
            value = self.selector(name, args, at)
            if name in selectors:
                raise self.fail(f"repeated selector ':{name}'", at)
            selectors[name] = (at, value)
        picks = [name for name in ("first", "last", "nth") if name in selectors]
        if len(picks) > 1:
            raise self.fail(
                f"':{picks[0]}' and ':{picks[1]}' cannot be combined: each picks which match is "
                "delivered",
                max(selectors[picks[0]][0], selectors[picks[1]][0]),
            )
        if "last" in selectors and "after" in selectors:
            raise self.fail(
                "':last' and ':after' cannot be combined: each decides when a match is delivered",
                max(selectors["last"][0], selectors["after"][0]),
            )
        n, group = selectors["nth"][1] if "nth" in selectors else (1, None)
        pick = "last" if "last" in selectors else "nth" if picks else None
        return _Rule(
            index=index,
            node=node,
            notrace="notrace" in selectors,
            pick=pick,
            n=n if pick == "nth" else 0,
            group=group,
            after=selectors["after"][1] if "after" in selectors else None,
            single="single" in selectors,
        )

    def selector(self, name: str, args: tuple[str, int] | None, at: int) -> Any:
        if name in _FLAGS:
            if args is not None:
                raise self.fail(f"':{name}' takes no arguments", args[1] - 1)
            return True
        if name == "nth":
            if args is None:
                raise self.fail("':nth' needs a count: ':nth(n)' or ':nth(n,group)'", at)
            return self.nth(*args)
        if name == "after":
            if args is None:
                raise self.fail("':after' needs a time, such as ':after(1.5s)'", at)
            return self.after(*args)
        if name == "not":
            raise self.fail("':not(...)' must wrap the whole expression", at)
        raise self.fail(f"unknown selector ':{name}' (known: {_SELECTORS})", at)

    def nth(self, text: str, start: int) -> tuple[int, str | None]:
        count, *rest = text.split(",")
        if len(rest) > 1:
            raise self.fail("':nth' takes at most two arguments: ':nth(n,group)'", start)
        try:
            n = int(count) if _COUNT.fullmatch(count.strip()) else 0
        except ValueError:
            n = 0
        if n < 1:
            raise self.fail(
                f"':nth' needs a positive whole number, got {shorten(repr(count.strip()), 40)}",
                start,
            )
        if not rest:
            return n, None
        group = rest[0].strip()
        if not _IDENT.fullmatch(group):
            raise self.fail(
                f"':nth' group must be a name, got {shorten(repr(group), 40)}",
                start + len(count) + 1,
            )
        return n, group

    def after(self, text: str, start: int) -> float:
        try:
            seconds = parse_duration(text)
        except (ValueError, ArithmeticError):
            seconds = math.nan
        if not math.isfinite(seconds):
            raise self.fail(
                f"bad time {shorten(repr(text.strip()), 40)} in ':after': expected a duration such "
                "as 1.5s, 500ms or 2m",
                start,
            )
        return seconds


# ---------------------------------------------------------------- filter and session


class EventFilter:
    """A compiled expression; cheap to start many sessions from."""

    def __init__(self, expression: str) -> None:
        if not isinstance(expression, str):
            raise TypeError(f"a filter expression is a string, not {type(expression).__name__}")
        self.expression = expression
        self._rules = tuple(_Parser(expression).parse())
        self.class_names: frozenset[str] = frozenset(
            name for rule in self._rules for name in _names(rule.node)
        )
        self._needs_timers = any(rule.after is not None for rule in self._rules)
        self._groups = frozenset(rule.group for rule in self._rules if rule.group is not None)
        self._routes: dict[type, _Route] = {}

    def __repr__(self) -> str:
        return f"EventFilter({self.expression!r})"

    def start(
        self, traceids: Iterable[int] | None, callback: Callback, timers: Timers | None = None
    ) -> FilterSession:
        """A fresh session; *traceids* None means no trace restriction."""
        if self._needs_timers and timers is None:
            raise ValueError(f"filter {self.expression!r} uses ':after' and needs timers")
        return FilterSession(self, traceids, callback, timers)

    def selects(self, cls: type) -> bool:
        """Whether an event of class *cls* can match at all: lets a subscriber skip the others
        cheaply.
        """
        route = self._routes.get(cls)
        return bool(self._route(cls) if route is None else route)

    def _route(self, cls: type) -> _Route:
        """The rules that can apply to *cls*, with what they still check; cached per class."""
        names = getattr(cls, "names", None) or frozenset({cls.__name__})
        # A dry run's answer is selected by the filter it answers, whole, never by its rules (see
        # FilterSession.handle).
        route = (
            ()
            if cls is SimulatedEvent
            else tuple(
                (rule, plan)
                for rule in self._rules
                if (plan := _plan(rule.node, names)) is not None
            )
        )
        self._routes[cls] = route
        return route


class _RuleState:
    """What one rule remembers within one session."""

    __slots__ = ("rule", "count", "finished", "last", "pending", "timer")

    def __init__(self, rule: _Rule) -> None:
        self.rule = rule
        self.count = 0
        self.finished = False  # can deliver nothing more, so skip its conditions
        self.last: Event | None = None
        self.pending: Event | None = None
        self.timer: Timer | None = None


class FilterSession:
    """One run of a filter: owns the counts, :last candidates and :after timers."""

    def __init__(
        self,
        event_filter: EventFilter,
        traceids: Iterable[int] | None,
        callback: Callback,
        timers: Timers | None,
    ) -> None:
        self._routes = event_filter._routes
        self._route = event_filter._route
        self._traceids = None if traceids is None else frozenset(traceids)
        self._callback = callback
        self._timers = timers
        self._states = [_RuleState(rule) for rule in event_filter._rules]
        self._groups = dict.fromkeys(event_filter._groups, 0)
        self._closed = False
        self._expression = event_filter.expression

    def handle(self, event: Event) -> None:  # noqa: C901 (every bus event's path: one call)
        """Run every rule on *event*; deliver it at most once, as the first delivering clause.

        A dry run's :class:`SimulatedEvent` stands for a match of one whole
        expression: it is delivered by the session of that expression, when
        its traces are the session's, and by no other.
        """
        route = self._routes.get(type(event))
        if route is None:
            route = self._route(type(event))
        if not route or self._closed:
            if type(event) is SimulatedEvent:  # checked here: this is every unwanted event's path
                self._simulated(event)
            return
        traceids = self._traceids
        states = self._states
        chosen: _Rule | None = None
        bumped: dict[str, int] | None = None
        for rule, plan in route:
            state = states[rule.index]
            if state.finished:
                continue
            if traceids is not None and not rule.notrace and traceids.isdisjoint(event.traceids):
                continue
            for test in plan:
                if not test(event):
                    break
            else:
                position = 0
                if rule.group is not None:
                    position, bumped = self._position(rule.group, bumped)
                if self._accept(state, event, position) and chosen is None:
                    chosen = rule
        if chosen is not None:
            self._callback(event, chosen.notrace)

    def _simulated(self, event: Event) -> None:
        """Deliver a dry run's stand-in for a match of this very expression, when its traces are
        the session's.
        """
        assert isinstance(event, SimulatedEvent)
        if not self._closed and event.expression == self._expression:
            if self._traceids is None or not self._traceids.isdisjoint(event.traceids):
                self._callback(event, False)

    def _position(self, group: str, bumped: dict[str, int] | None) -> tuple[int, dict[str, int]]:
        """This event's position in *group*: counted once per event however many of the group's
        rules match it (*bumped* holds the groups counted so far, made on first use).
        """
        if bumped is None:
            bumped = {}
        position = bumped.get(group, 0)
        if not position:
            position = bumped[group] = self._groups[group] = self._groups[group] + 1
        return position, bumped

    def _accept(self, state: _RuleState, event: Event, position: int) -> bool:
        """Apply the rule's selectors to a match; True when it is delivered now."""
        rule = state.rule
        if rule.pick == "last":
            state.last = event
            return False
        if rule.pick == "nth":
            if rule.group is None:
                state.count += 1
                position = state.count
                state.finished = position >= rule.n
            if position != rule.n:
                return False
        if rule.after is not None:
            if state.timer is not None:
                state.timer.cancel()
            state.pending = event
            assert self._timers is not None  # start() refuses :after without timers
            state.timer = self._timers.call_later(rule.after, lambda: self._fire(state))
            return False
        if rule.single and rule.group is None:
            state.finished = True
        return True

    def _fire(self, state: _RuleState) -> None:
        event, state.pending, state.timer = state.pending, None, None
        if state.rule.single and state.rule.group is None:
            state.finished = True
        if event is not None:
            self._callback(event, state.rule.notrace)

    def finalize(self) -> None:
        """End the session: drop pending :after matches, deliver :last ones; later events are
        ignored.
        """
        if self._closed:
            return
        self._closed = True
        delivered: list[Event] = []
        for state in self._states:
            if state.timer is not None:
                state.timer.cancel()
            state.timer = state.pending = None
        for state in self._states:
            event, state.last = state.last, None
            if event is not None and not any(event is seen for seen in delivered):
                delivered.append(event)
                self._callback(event, state.rule.notrace)
