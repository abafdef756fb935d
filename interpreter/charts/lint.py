"""What ``perfchart check`` (and every run) finds in a chart beyond its schema, each at its line.

Errors are mistakes that would make a run fail or hang: a state named by a
YAML 1.1 boolean, a chart that cannot reach its end, a ``bind()`` naming a
class no event has. Warnings are likely mistakes: an unreachable state, a
transition on an event nothing sends, a name the code uses that nothing
defines.
"""

from __future__ import annotations

import ast
import builtins
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

from ..config import LocatedDict
from ..errors import ConfigError
from ..filters import EventFilter, FilterSyntaxError
from .checks import states
from .context import helpers

#: Events the runtime sends a chart without a binding (docs/authoring.md, "Events the chart
#: receives").
LIFECYCLE_EVENTS = frozenset({"interrupt", "restart", "stalled", "task_completed"})
#: Names chart code sees: the runtime contract (charts/context.py, helpers included) and sismic's
#: own.
CONTEXT_NAMES = frozenset(
    {"config", "definitions", "policy", *helpers(0, {}, {})}
    | {"event", "after", "idle", "active", "time", "send", "notify", "setdefault"}
)
_CODE_KEYS = ("preamble", "on entry", "on exit", "guard", "action")


class Finding(NamedTuple):
    """One problem: an error stops a run, a warning is printed (and fails ``check --strict``)."""

    error: ConfigError
    warning: bool = False

    def __str__(self) -> str:
        return f"{'warning' if self.warning else 'error'}: {self.error}"


class _Code(NamedTuple):
    block: LocatedDict
    place: str
    tree: ast.AST
    start: int


def _place(state: LocatedDict, transition: LocatedDict | None = None) -> str:
    """``state Next`` or ``transition Next -> Done on done``, as authors name them."""
    if transition is None:
        return f"state {state['name']}"
    target = (
        f" -> {transition['target']}" if transition.get("target") is not None else " (internal)"
    )
    event = f" on {transition['event']}" if transition.get("event") is not None else ""
    return f"transition {state['name']}{target}{event}"


def lint(path: Path, chart: LocatedDict) -> list[Finding]:
    """Every finding in the ``statechart:`` mapping *chart* of file *path*, errors first."""
    findings: list[Finding] = []
    code = list(_code(path, chart))
    roles, sent, literal_roles = _events(code, findings)
    findings.extend(_names(code))
    findings.extend(_structure(chart))
    if literal_roles:
        findings.extend(_unsent(chart, roles | sent))
    return sorted(findings, key=lambda f: (f.warning, f.error.line or 0))


def _code(path: Path, chart: LocatedDict) -> Iterator[_Code]:
    """Every block of code in the chart, parsed, with the file line its first line is on."""
    lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
    blocks: list[tuple[LocatedDict, str]] = [(chart, "")]
    for state in states(chart["root state"]):
        blocks.append((state, _place(state)))
        blocks.extend(
            (transition, _place(state, transition)) for transition in state.get("transitions") or ()
        )
    for block, place in blocks:
        for key in _CODE_KEYS:
            value = block.get(key)
            if value is None or (block is not chart and key == "preamble"):
                continue
            line = block.line_of(key) or 1
            if 0 < line <= len(lines) and lines[line - 1].split(":", 1)[-1].strip()[:1] in (
                "|",
                ">",
            ):
                line += 1
            try:
                tree = ast.parse(str(value).strip(), mode="eval" if key == "guard" else "exec")
            except SyntaxError:
                continue  # checks.build reports it
            yield _Code(block, f"{place} ({key})" if place else key, tree, line)


def _at(code: _Code, node: ast.AST, message: str, warning: bool = False) -> Finding:
    line = code.start + getattr(node, "lineno", 1) - 1
    return Finding(ConfigError(message, file=code.block.file, line=line, key=code.place), warning)


def _literal(node: ast.AST) -> list[str] | None:
    """The text of a string literal, or of a list or tuple of them; None for anything computed."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, (ast.List, ast.Tuple)):
        items = [_literal(item) for item in node.elts]
        if all(item is not None and len(item) == 1 for item in items):
            return [item[0] for item in items if item]
    return None


def _events(code: list[_Code], findings: list[Finding]) -> tuple[set[str], set[str], bool]:
    """Roles bound and events sent by literal name; checks literal filters. False when a role is
    computed.
    """
    from ..core import check_class_names

    roles: set[str] = set()
    sent: set[str] = set()
    literal_roles = True
    for block in code:
        for node in ast.walk(block.tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            if isinstance(func, ast.Name) and func.id == "send":
                name = _literal(node.args[0])
                sent.update(name or ())
            if not _is_bind(node):
                continue
            role = _literal(node.args[0])
            if role is None or len(role) != 1:
                literal_roles = False
            else:
                roles.add(role[0])
            for text in (_literal(node.args[1]) or []) if len(node.args) > 1 else []:
                try:
                    check_class_names(EventFilter(text).class_names)
                except FilterSyntaxError as exc:
                    findings.append(_at(block, node, f"bad event filter {text!r}: {exc}"))
                except ConfigError as exc:
                    findings.append(_at(block, node, exc.message))
    return roles, sent, literal_roles


def _is_bind(node: ast.Call) -> bool:
    """Whether *node* is a ``policy.bind(...)`` call."""
    func = node.func
    return (
        isinstance(func, ast.Attribute)
        and func.attr == "bind"
        and isinstance(func.value, ast.Name)
        and func.value.id == "policy"
    )


class Bound(NamedTuple):
    """A filter chart code binds as a literal, where it is written: what a session checks against
    what its config can publish.
    """

    text: str
    file: str | None
    line: int
    place: str


def bound_filters(path: Path, chart: LocatedDict) -> list[Bound]:
    """Every filter a ``policy.bind(role, '...')`` in the chart's code names literally."""
    found: list[Bound] = []
    for block in _code(path, chart):
        for node in ast.walk(block.tree):
            if isinstance(node, ast.Call) and len(node.args) > 1 and _is_bind(node):
                line = block.start + node.lineno - 1
                found += [
                    Bound(text, block.block.file, line, block.place)
                    for text in _literal(node.args[1]) or []
                ]
    return found


def _names(code: list[_Code]) -> Iterator[Finding]:
    """Names read that nothing defines: not the contract, not
    assigned in chart code, not a builtin.
    """
    known = CONTEXT_NAMES | _assigned(code) | set(dir(builtins))
    for block in code:
        for node in ast.walk(block.tree):
            if (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)
                and node.id not in known
            ):
                import difflib  # here: only a near miss needs it

                close = difflib.get_close_matches(node.id, sorted(known - set(dir(builtins))), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                yield _at(
                    block,
                    node,
                    f"name {node.id!r} is not in the chart's context, assigned in its code, or a "
                    f"builtin{hint}",
                    True,
                )


def _assigned(code: list[_Code]) -> set[str]:
    """Every name chart code binds: assigned, defined, a parameter, imported or caught."""
    assigned: set[str] = set()
    for block in code:
        for node in ast.walk(block.tree):
            assigned.update(_bound_names(node))
    return assigned


def _bound_names(node: ast.AST) -> Iterator[str]:
    """The names *node* itself binds."""
    if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
        yield node.id
    elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        yield node.name
    elif isinstance(node, ast.arg):
        yield node.arg
    elif isinstance(node, (ast.Import, ast.ImportFrom)):
        yield from ((alias.asname or alias.name).partition(".")[0] for alias in node.names)
    elif isinstance(node, ast.ExceptHandler) and node.name:
        yield node.name


def _structure(chart: LocatedDict) -> Iterator[Finding]:
    """Unreachable states warn; a chart whose reachable states cannot all reach a final state is an
    error.
    """
    tree = _StateTree(chart)
    reachable = tree.reachable()
    yield from _unreachable(tree, reachable)
    ends = tree.root_finals(reachable)
    if not ends:
        yield Finding(
            _error(
                chart["root state"],
                "name",
                "no final state of the root state is reachable: the policy could never end",
            )
        )
        return
    stuck = reachable - tree.finishing(reachable, ends)
    yield from _never_ending(tree, stuck)
    yield from _eventless_loops(tree, reachable)


class _StateTree:
    """A chart's states by name, with each one's parent: what reachability is worked out on."""

    def __init__(self, chart: LocatedDict) -> None:
        self.found = {str(state["name"]): state for state in states(chart["root state"])}
        self.root = str(chart["root state"]["name"])
        self.parent: dict[str, str] = {}
        for name, state in self.found.items():
            for child in self.children(state):
                self.parent[child] = name

    @staticmethod
    def children(state: LocatedDict) -> list[str]:
        """The names of *state*'s direct children, sequential then parallel."""
        return [
            str(c["name"]) for key in ("states", "parallel states") for c in state.get(key) or ()
        ]

    def ancestors(self, name: str) -> Iterator[str]:
        while name in self.parent:
            name = self.parent[name]
            yield name

    def targets(self, name: str) -> list[str]:
        return [
            str(t["target"])
            for t in self.found[name].get("transitions") or ()
            if t.get("target") is not None
        ]

    def entered(self, name: str) -> list[str]:
        """States active on entering *name*: its ancestors, itself, and its initial or parallel
        descendants.
        """
        out = [name, *self.ancestors(name)]
        state = self.found[name]
        if state.get("type") in ("shallow history", "deep history") and name in self.parent:
            out.extend(str(c["name"]) for c in self.found[self.parent[name]].get("states") or ())
        if state.get("initial") is not None:
            out.extend(self.entered(str(state["initial"])))
        for child in state.get("parallel states") or ():
            out.extend(self.entered(str(child["name"])))
        return out

    def reachable(self) -> set[str]:
        """Every state some path of transitions from the start enters."""
        reachable: set[str] = set()
        todo = self.entered(self.root)
        while todo:
            name = todo.pop()
            if name in reachable or name not in self.found:
                continue
            reachable.add(name)
            for target in self.targets(name):
                todo.extend(self.entered(target))
        return reachable

    def root_finals(self, reachable: set[str]) -> set[str]:
        """The reachable final states directly under the root: where the policy ends."""
        return {
            name
            for name in reachable
            if self.found[name].get("type") == "final" and self.parent.get(name) == self.root
        }

    def finishing(self, reachable: set[str], ends: set[str]) -> set[str]:
        """The reachable states from which one of *ends* can be reached.

        Worked backwards from *ends*, each state once: asking every state
        again until nothing changed cost a chain of n states n² steps.
        """
        waiting: dict[str, list[str]] = {}
        for name in reachable:
            for step in self._moves(name):
                waiting.setdefault(step, []).append(name)
        finishing = set(ends)
        todo = list(ends)
        while todo:
            for name in waiting.get(todo.pop(), ()):
                if name not in finishing:
                    finishing.add(name)
                    todo.append(name)
        return finishing

    def _moves(self, name: str) -> Iterator[str]:
        """Where *name* moves: its own and its ancestors' targets, its initial state, its
        children.
        """
        state = self.found[name]
        for scope in (name, *self.ancestors(name)):
            yield from self.targets(scope)
        if state.get("initial") is not None:
            yield str(state["initial"])
        yield from self.children(state)


def _unreachable(tree: _StateTree, reachable: set[str]) -> Iterator[Finding]:
    """A warning for each state no transition leads to, in chart order."""
    for name, state in tree.found.items():
        if name not in reachable:
            yield Finding(
                _error(
                    state,
                    "name",
                    f"state {name!r} is unreachable: no transition leads to it and it is no "
                    "initial state",
                ),
                True,
            )


def _never_ending(tree: _StateTree, stuck: set[str]) -> Iterator[Finding]:
    """An error for each non-final state in *stuck*, in file order."""
    for name in sorted(stuck, key=lambda n: tree.found[n].line or 0):
        if tree.found[name].get("type") != "final":
            yield Finding(
                _error(
                    tree.found[name],
                    "name",
                    f"from state {name!r} no transition leads to a final state: the policy would "
                    "never end",
                )
            )


def _free(state: LocatedDict) -> list[LocatedDict]:
    """*state*'s transitions with neither event nor guard: they fire whenever it is active."""
    return [
        t
        for t in state.get("transitions") or ()
        if t.get("event") is None and t.get("guard") is None
    ]


def _eventless_loops(tree: _StateTree, reachable: set[str]) -> Iterator[Finding]:
    """A warning for each loop of transitions with neither event nor guard: once entered, the
    chart takes them for ever (the runtime ends it after MAX_EVENTLESS_STEPS).
    """
    moves: dict[str, list[tuple[str, LocatedDict]]] = {}
    for name in sorted(reachable, key=lambda n: tree.found[n].line or 0):
        for transition in _free(tree.found[name]):
            target = transition.get("target")
            if target is None:
                yield Finding(_loop_error(transition, [name, name]), True)
                continue
            entered = [s for s in tree.entered(str(target)) if s in tree.found]
            moves.setdefault(name, []).extend(
                (s, transition) for s in entered if _free(tree.found[s])
            )
    seen: set[frozenset[str]] = set()
    looping = _on_cycles(moves)
    for start in moves:
        if start not in looping:
            continue  # no way back: looking for one cost a long eventless chain n² steps
        path = _path_back(moves, start)
        if path is not None and frozenset(path[0]) not in seen:
            seen.add(frozenset(path[0]))
            yield Finding(_loop_error(path[1], path[0]), True)


def _on_cycles(moves: dict[str, list[tuple[str, LocatedDict]]]) -> set[str]:
    """The states that may lie on a cycle of *moves*: what is left once each state with no move in
    or no move out among the rest is taken away, again and again (a chain leaves nothing).
    """
    outs = {name: {target for target, _ in targets} for name, targets in moves.items()}
    ins: dict[str, set[str]] = {}
    for name, targets in outs.items():
        for target in targets:
            ins.setdefault(target, set()).add(name)
    left = set(outs) | set(ins)
    todo = [name for name in left if not outs.get(name) or not ins.get(name)]
    while todo:
        name = todo.pop()
        if name not in left:
            continue
        left.discard(name)
        for target in outs.get(name, ()):
            ins[target].discard(name)
            if not ins[target]:
                todo.append(target)
        for source in ins.get(name, ()):
            outs[source].discard(name)
            if not outs[source]:
                todo.append(source)
    return left


def _path_back(
    moves: dict[str, list[tuple[str, LocatedDict]]], start: str
) -> tuple[list[str], LocatedDict] | None:
    """The shortest way from *start* back to itself through *moves*, and its first transition."""
    came: dict[str, tuple[str, LocatedDict]] = {}
    todo = [start]
    while todo:
        name = todo.pop(0)
        for target, transition in moves.get(name, ()):
            if target in came:
                continue
            came[target] = (name, transition)
            if target == start:
                states, at = [start], start
                while True:
                    at, first = came[at]
                    states.insert(0, at)
                    if at == start:
                        return states, first
            todo.append(target)
    return None


def _loop_error(transition: LocatedDict, states: list[str]) -> ConfigError:
    return _error(
        transition,
        "target" if transition.get("target") is not None else "action",
        f"states {' -> '.join(states)} loop through transitions with neither event nor guard: "
        "once there the policy would loop for ever; give one of them a guard or an event",
    )


def _error(block: LocatedDict, key: str, message: str) -> ConfigError:
    """A finding at *key*'s line; the message names the state or transition, so no key path."""
    return ConfigError(message, file=block.file, line=block.line_of(key))


def _unsent(chart: LocatedDict, known: set[str]) -> Iterator[Finding]:
    """Transitions on an event no binding delivers and the
    runtime never sends: they can never fire.
    """
    for state in states(chart["root state"]):
        for transition in state.get("transitions") or ():
            event = transition.get("event")
            if event is None or str(event) in LIFECYCLE_EVENTS or str(event) in known:
                continue
            candidates = sorted(known | LIFECYCLE_EVENTS)
            import difflib  # here: only a near miss needs it

            close = difflib.get_close_matches(str(event), candidates, n=1)
            hint = f"did you mean {close[0]}? " if close else ""
            yield Finding(
                _error(
                    transition,
                    "event",
                    f"{_place(state, transition)}: nothing sends {event!r}: it is no lifecycle "
                    f"event and no bind() gives this role ({hint}known: {', '.join(candidates)})",
                ),
                True,
            )
