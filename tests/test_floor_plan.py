"""The floor plan: rooms import only downward, through each other's faces, and no import runs in a
circle.

The order of the floors is read from docs/architecture.md, the page that
draws them, so the picture and this test cannot disagree. The imports are
read from the source (AST), lazy and ``TYPE_CHECKING`` ones included: an
import that runs later is still a dependency.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "interpreter"
#: Packages that hold data, not code: they import nothing.
DATA = {"schemas/"}


def floors() -> dict[str, int]:
    """Room → floor number (higher is further up), from the table under "Floors" in
    docs/architecture.md."""
    page = (ROOT / "docs" / "architecture.md").read_text(encoding="utf-8")
    section = page.split("## Floors", 1)[1].split("\n## ", 1)[0]
    found: dict[str, int] = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*(\d+)\s*\|(.*)\|", line)
        if match:
            for room in re.findall(r"`([^`]+)`", match.group(2)):
                found[room] = int(match.group(1))
    return found


@dataclass(frozen=True)
class Import:
    importer: str  # module name
    target: str  # module name, or a module's name plus an imported name
    line: int
    lazy: bool  # inside a function
    typing_only: bool  # under ``if TYPE_CHECKING:``


def module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def room_of(module: str) -> str:
    """``interpreter.engine.runner`` → ``engine/``; ``interpreter.errors`` → ``errors.py``; the
    package → ``__init__.py``."""
    parts = module.split(".")
    if len(parts) == 1:
        return "__init__.py"
    if (PACKAGE / parts[1]).is_dir():
        return f"{parts[1]}/"
    return f"{parts[1]}.py"


def modules() -> Iterator[tuple[str, Path]]:
    for path in sorted(PACKAGE.rglob("*.py")):
        yield module_name(path), path


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _source(node: ast.ImportFrom, package: str) -> str:
    """The absolute module a ``from ... import`` in *package* names."""
    if not node.level:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - node.level + 1] if node.level > 1 else base
    return ".".join(base + ([node.module] if node.module else []))


def _targets(node: ast.Import | ast.ImportFrom, package: str) -> list[str]:
    """The ``module:name`` targets of an import statement that come from the interpreter package."""
    if isinstance(node, ast.ImportFrom):
        source = _source(node, package)
        if source.split(".")[0] != "interpreter":
            return []
        return [f"{source}:{alias.name}" for alias in node.names]
    return [f"{alias.name}:" for alias in node.names if alias.name.split(".")[0] == "interpreter"]


def imports_of(module: str, path: Path) -> Iterator[Import]:
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]

    def visit(node: ast.AST, lazy: bool, typing_only: bool) -> Iterator[Import]:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                yield from visit(child, True, typing_only)
            elif isinstance(child, ast.If) and _is_type_checking(child):
                yield from visit(child, lazy, True)
            elif isinstance(child, (ast.Import, ast.ImportFrom)):
                for target in _targets(child, package):
                    yield Import(module, target, child.lineno, lazy, typing_only)
            else:
                yield from visit(child, lazy, typing_only)

    yield from visit(ast.parse(path.read_text(encoding="utf-8")), False, False)


def resolved(target: str) -> str:
    """The module an import loads: ``pkg.mod:name`` is the submodule ``pkg.mod.name`` when one
    exists."""
    source, _, name = target.partition(":")
    candidate = f"{source}.{name}" if name else source
    path = ROOT / candidate.replace(".", "/")
    return (
        candidate
        if name and (path.with_suffix(".py").is_file() or (path / "__init__.py").is_file())
        else source
    )


ALL = [(module, path, list(imports_of(module, path))) for module, path in modules()]


def test_the_floors_name_every_room_and_only_rooms() -> None:
    order = floors()
    rooms = {room_of(module) for module, _ in modules()} - DATA
    assert rooms - order.keys() == set(), (
        "rooms missing from the floor table in docs/architecture.md"
    )
    assert order.keys() - rooms == set(), "the floor table names rooms that do not exist"


def test_no_room_imports_from_a_room_above_it_or_beside_it() -> None:
    order = floors()
    wrong = []
    for module, _, found in ALL:
        here = room_of(module)
        for imp in found:
            there = room_of(resolved(imp.target))
            if there == here or there in DATA:
                continue
            if order[there] >= order[here]:
                side = "above" if order[there] > order[here] else "beside"
                wrong.append(f"{module}:{imp.line} imports {imp.target} ({there}, {side} {here})")
    assert wrong == []


def test_other_rooms_are_imported_through_their_face() -> None:
    """A module-level import from another room names its face; only a lazy import may reach a module
    kept out of it."""
    wrong = []
    for module, _, found in ALL:
        here = room_of(module)
        for imp in found:
            target = resolved(imp.target)
            there = room_of(target)
            if there == here or not there.endswith("/") or imp.lazy:
                continue
            face = "interpreter." + there.rstrip("/")
            if target != face:
                wrong.append(f"{module}:{imp.line} imports {imp.target}, not from {face}")
    assert wrong == []


def test_no_import_runs_in_a_circle() -> None:
    """Between modules, counting every import at a module's top level, ``TYPE_CHECKING`` ones too.

    An import for annotations only runs no code, but it still ties the two
    modules: a circle through one is a circle in the picture. Lazy imports in
    functions are left out, being how a module reaches what it needs late.
    """
    graph: dict[str, set[str]] = {module: set() for module, _, _ in ALL}
    for module, _, found in ALL:
        for imp in found:
            target = resolved(imp.target)
            if not imp.lazy and target != module and target in graph:
                graph[module].add(target)
    # A package's face is loaded before its modules; a module importing its own face is no circle of
    # ours.
    for module in graph:
        graph[module] = {t for t in graph[module] if not module.startswith(t + ".")}
    circle = _find_circle(graph)
    assert circle is None, " -> ".join(circle or [])


def _find_circle(graph: dict[str, set[str]]) -> list[str] | None:
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                return [*stack[stack.index(nxt) :], nxt]
            if nxt not in state:
                found = visit(nxt)
                if found:
                    return found
        stack.pop()
        state[node] = 2
        return None

    for node in sorted(graph):
        if node not in state:
            found = visit(node)
            if found:
                return found
    return None


def test_no_module_hides_a_circle_behind_a_module_getattr() -> None:
    offenders = [
        module
        for module, path, _ in ALL
        if any(
            isinstance(node, ast.FunctionDef) and node.name == "__getattr__"
            for node in ast.parse(path.read_text(encoding="utf-8")).body
        )
    ]
    assert offenders == []


def _annotation_nodes(tree: ast.AST) -> set[int]:
    """ids of every node inside an annotation."""
    inside: set[int] = set()
    for node in ast.walk(tree):
        annotations: list[ast.expr | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            annotations += [a.annotation for a in [*args.posonlyargs, *args.args, *args.kwonlyargs]]
            annotations += [
                args.vararg.annotation if args.vararg else None,
                args.kwarg.annotation if args.kwarg else None,
                node.returns,
            ]
        elif isinstance(node, ast.AnnAssign):
            annotations.append(node.annotation)
        for annotation in annotations:
            if annotation is not None:
                inside.update(id(sub) for sub in ast.walk(annotation))
    return inside


def test_type_checking_imports_serve_annotations_only() -> None:
    wrong = []
    for module, path, found in ALL:
        # A name also imported for real (lazily, in the function that needs it) may be used there.
        typing_names = {imp.target.partition(":")[2] for imp in found if imp.typing_only}
        typing_names -= {imp.target.partition(":")[2] for imp in found if not imp.typing_only}
        if not typing_names:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        annotated = _annotation_nodes(tree)
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Name)
                and node.id in typing_names
                and id(node) not in annotated
                and isinstance(node.ctx, ast.Load)
            ):
                wrong.append(
                    f"{module}:{node.lineno} uses {node.id} at run time, imported only under "
                    "TYPE_CHECKING"
                )
    assert wrong == []


def test_only_the_session_puts_channels_and_results_files_together() -> None:
    both = []
    for module, _, found in ALL:
        rooms = {room_of(resolved(imp.target)) for imp in found}
        if room_of(module) != "session/" and {"channels/", "results/"} <= rooms:
            both.append(module)
    assert both == []


@pytest.mark.parametrize(
    "room",
    sorted(
        {room_of(m) for m, _ in modules()}
        - DATA
        - {"__init__.py"}
        - {r for r in floors() if r.endswith(".py")}
    ),
)
def test_each_room_face_declares_its_public_names(room: str) -> None:
    face = PACKAGE / room / "__init__.py"
    tree = ast.parse(face.read_text(encoding="utf-8"))
    exported = next(
        (
            ast.literal_eval(node.value)
            for node in tree.body
            if isinstance(node, ast.Assign)
            and any(getattr(t, "id", None) == "__all__" for t in node.targets)
        ),
        None,
    )
    assert exported, f"{face} has no __all__"
    imported = {
        alias.asname or alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    defined = {node.name for node in tree.body if isinstance(node, (ast.FunctionDef, ast.ClassDef))}
    defined |= {
        t.id
        for node in tree.body
        if isinstance(node, (ast.Assign, ast.AnnAssign))
        for t in (node.targets if isinstance(node, ast.Assign) else [node.target])
        if isinstance(t, ast.Name)
    }
    assert set(exported) <= imported | defined, f"{face}: __all__ names what it does not define"
