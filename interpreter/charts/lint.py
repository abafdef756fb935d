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
import difflib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

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


@dataclass(frozen=True)
class Finding:
    """One problem: an error stops a run, a warning is printed (and fails ``check --strict``)."""

    error: ConfigError
    warning: bool = False

    def __str__(self) -> str:
        return f"{'warning' if self.warning else 'error'}: {self.error}"


@dataclass(frozen=True)
class _Code:
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
            if not (
                isinstance(func, ast.Attribute)
                and func.attr == "bind"
                and isinstance(func.value, ast.Name)
                and func.value.id == "policy"
            ):
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


def _names(code: list[_Code]) -> Iterator[Finding]:
    """Names read that nothing defines: not the contract, not
    assigned in chart code, not a builtin.
    """
    assigned: set[str] = set()
    for block in code:
        for node in ast.walk(block.tree):
            if isinstance(node, ast.Name) and not isinstance(node.ctx, ast.Load):
                assigned.add(node.id)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                assigned.add(node.name)
            elif isinstance(node, ast.arg):
                assigned.add(node.arg)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                assigned.update(
                    (alias.asname or alias.name).partition(".")[0] for alias in node.names
                )
            elif isinstance(node, ast.ExceptHandler) and node.name:
                assigned.add(node.name)
    known = CONTEXT_NAMES | assigned | set(dir(builtins))
    for block in code:
        for node in ast.walk(block.tree):
            if (
                isinstance(node, ast.Name)
                and isinstance(node.ctx, ast.Load)
                and node.id not in known
            ):
                close = difflib.get_close_matches(node.id, sorted(known - set(dir(builtins))), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                yield _at(
                    block,
                    node,
                    f"name {node.id!r} is not in the chart's context, assigned in its code, or a "
                    f"builtin{hint}",
                    True,
                )


def _structure(chart: LocatedDict) -> Iterator[Finding]:
    """Unreachable states warn; a chart whose reachable states cannot all reach a final state is an
    error.
    """
    found = {str(state["name"]): state for state in states(chart["root state"])}
    root = str(chart["root state"]["name"])
    parent: dict[str, str] = {}
    for name, state in found.items():
        for key in ("states", "parallel states"):
            for child in state.get(key) or ():
                parent[str(child["name"])] = name

    def ancestors(name: str) -> Iterator[str]:
        while name in parent:
            name = parent[name]
            yield name

    def targets(name: str) -> list[str]:
        return [
            str(t["target"])
            for t in found[name].get("transitions") or ()
            if t.get("target") is not None
        ]

    def entered(name: str) -> list[str]:
        """States active on entering *name*: its ancestors, itself, and its initial or parallel
        descendants.
        """
        out = [name, *ancestors(name)]
        state = found[name]
        if state.get("type") in ("shallow history", "deep history") and name in parent:
            out.extend(str(c["name"]) for c in found[parent[name]].get("states") or ())
        if state.get("initial") is not None:
            out.extend(entered(str(state["initial"])))
        for child in state.get("parallel states") or ():
            out.extend(entered(str(child["name"])))
        return out

    reachable: set[str] = set()
    todo = entered(root)
    while todo:
        name = todo.pop()
        if name in reachable or name not in found:
            continue
        reachable.add(name)
        for target in targets(name):
            todo.extend(entered(target))
    for name, state in found.items():
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

    ends = {
        name
        for name in reachable
        if found[name].get("type") == "final" and parent.get(name) == root
    }
    if not ends:
        yield Finding(
            _error(
                chart["root state"],
                "name",
                "no final state of the root state is reachable: the policy could never end",
            )
        )
        return
    finishing = set(ends)
    changed = True
    while changed:
        changed = False
        for name in reachable - finishing:
            state = found[name]
            children = [
                str(c["name"])
                for key in ("states", "parallel states")
                for c in state.get(key) or ()
            ]
            if (
                any(
                    target in finishing
                    for scope in (name, *ancestors(name))
                    for target in targets(scope)
                )
                or (state.get("initial") is not None and str(state["initial"]) in finishing)
                or any(child in finishing for child in children)
            ):
                finishing.add(name)
                changed = True
    for name in sorted(reachable - finishing, key=lambda n: found[n].line or 0):
        if found[name].get("type") != "final":
            yield Finding(
                _error(
                    found[name],
                    "name",
                    f"from state {name!r} no transition leads to a final state: the policy would "
                    "never end",
                )
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
