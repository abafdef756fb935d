"""The parts of sismic perfchart relies on beyond its API are still there, in the installed sismic.

The list, with what each name is for, is ``interpreter/engine/sismic_surface.py``.
Each check fails naming the sismic name and what perfchart uses it for, so an
upgrade of sismic fails here instead of giving wrong error locations or wrong
time guards. The scans at the end keep the list and the package's code
together: a private sismic name used but not listed fails, and so does a
listed name no module uses any more.
"""

from __future__ import annotations

import ast
import importlib
import importlib.util
import inspect
import pkgutil
import re
import textwrap
from collections.abc import Callable, Iterator
from importlib.metadata import version
from pathlib import Path
from types import TracebackType
from typing import Any

import pytest
from sismic.code import Evaluator, PythonEvaluator
from sismic.exceptions import CodeEvaluationError, NonDeterminismError
from sismic.interpreter import Interpreter
from sismic.io import import_from_yaml
from sismic.model import Event, Statechart

import interpreter
from interpreter.charts.lint import CONTEXT_NAMES
from interpreter.engine import sismic_surface as surface
from interpreter.engine.sismic_surface import Attribute, FrameLocal, Method

SISMIC = f"sismic {version('sismic')}"
PACKAGE = Path(interpreter.__file__).resolve().parent
ROOT = PACKAGE.parent

CHART = """
statechart:
  name: surface
  preamble: x = 1
  root state:
    name: root
    initial: a
    states:
      - name: a
        transitions:
          - target: b
            event: go
      - name: b
        type: final
"""


def tiny() -> Statechart:
    return import_from_yaml(CHART)


def instances() -> dict[type, Any]:
    """A stock interpreter that has taken its first step and holds a queued event, and its
    evaluator."""
    running = Interpreter(tiny())
    running.execute_once()
    running.queue(Event("go", delay=0))
    return {Interpreter: running, PythonEvaluator: running._evaluator}


def perfchart_subclasses(base: type) -> list[type]:
    """perfchart's subclasses of a sismic class, from every module of the package that uses
    sismic."""
    for info in pkgutil.walk_packages(interpreter.__path__, "interpreter."):
        if info.name.endswith("__main__") or info.ispkg:
            continue
        spec = importlib.util.find_spec(info.name)
        if (
            spec is not None
            and spec.origin
            and "sismic" in Path(spec.origin).read_text(encoding="utf-8")
        ):
            importlib.import_module(info.name)
    found, todo = [], [base]
    while todo:
        for sub in todo.pop().__subclasses__():
            todo.append(sub)
            if sub.__module__.startswith("interpreter."):
                found.append(sub)
    return sorted(set(found), key=lambda cls: cls.__qualname__)


def signature_of(function: Callable[..., Any]) -> str:
    """Parameters after ``self`` as the catalogue writes them: names, ``*`` before keyword-only
    ones, ``*args``, ``**kwargs``."""
    words: list[str] = []
    star = False
    for parameter in list(inspect.signature(function).parameters.values())[1:]:
        if parameter.kind is parameter.POSITIONAL_ONLY:
            words.append(parameter.name)
        elif parameter.kind is parameter.VAR_POSITIONAL:
            words.append(f"*{parameter.name}")
            star = True
        elif parameter.kind is parameter.KEYWORD_ONLY:
            if not star:
                words.append("*")
                star = True
            words.append(parameter.name)
        elif parameter.kind is parameter.VAR_KEYWORD:
            words.append(f"**{parameter.name}")
        else:
            words.append(parameter.name)
    return ", ".join(words)


# -- the checks, one per kind of entry (the meta-test at the end makes each fail) ------------------


def check_attribute(use: Attribute, objects: dict[type, Any]) -> None:
    where = f"{SISMIC}: {use.owner.__name__}.{use.name}"
    obj = objects[use.owner]
    assert hasattr(obj, use.name), f"{where} is gone; perfchart uses it for: {use.purpose}"
    value = getattr(obj, use.name)
    assert isinstance(value, use.shape), (
        f"{where} is a {type(value).__name__}, not the {use.shape} perfchart treats it as; it is "
        f"used for: {use.purpose}"
    )


def check_method(use: Method) -> None:
    where = f"{SISMIC}: {use.owner.__name__}.{use.name}"
    function = getattr(use.owner, use.name, None)
    assert callable(function), f"{where} is gone; perfchart uses it for: {use.purpose}"
    found = signature_of(function)
    assert found == use.signature, (
        f"{where} takes ({found}), perfchart relies on ({use.signature}); it is used for: "
        f"{use.purpose}"
    )


def check_frame_local(use: FrameLocal, evaluator: type) -> None:
    where = f"{SISMIC}: {evaluator.__name__}.{use.method}"
    function = getattr(evaluator, use.method, None)
    assert callable(function), f"{where} is gone; perfchart uses its frame for: {use.purpose}"
    code = function.__code__
    assert code.co_name == use.method, (
        f"{where} runs as code named {code.co_name!r}: no frame is named {use.method!r}, so "
        f"{use.kind} errors lose their place ({use.purpose})"
    )
    if use.local is not None:
        assert use.local in code.co_varnames, (
            f"{where} has no local {use.local!r} (its locals: {', '.join(code.co_varnames)}); "
            f"perfchart reads it: {use.purpose}"
        )


# -- the entries against the installed sismic ------------------------------------------------------


@pytest.mark.parametrize(
    "use", surface.ATTRIBUTES, ids=lambda use: f"{use.owner.__name__}.{use.name}"
)
def test_each_private_attribute_perfchart_reads_is_there(use: Attribute) -> None:
    check_attribute(use, instances())


@pytest.mark.parametrize("use", surface.METHODS, ids=lambda use: f"{use.owner.__name__}.{use.name}")
def test_each_method_perfchart_calls_or_overrides_takes_the_same_parameters(use: Method) -> None:
    check_method(use)


@pytest.mark.parametrize("use", surface.FRAME_LOCALS, ids=lambda use: use.method)
def test_each_evaluator_frame_perfchart_reads_has_its_name_and_local(use: FrameLocal) -> None:
    for evaluator in [PythonEvaluator, *perfchart_subclasses(PythonEvaluator)]:
        check_frame_local(use, evaluator)


def test_perfchart_subclasses_sismic_where_the_list_says() -> None:
    """The frame and scope checks run on perfchart's evaluators too: there must be some to run them
    on."""
    assert [cls.__name__ for cls in perfchart_subclasses(PythonEvaluator)], (
        "no perfchart subclass of PythonEvaluator found"
    )
    assert [cls.__name__ for cls in perfchart_subclasses(Interpreter)], (
        "no perfchart subclass of Interpreter found"
    )


FAILING = {
    "preamble": ("preamble: |\n    y = 1\n    1 / 0", None),
    "guard": ("", "guard: |\n              (True and\n              1 / 0)"),
    "action": ("", "action: |\n              y = 1\n              1 / 0"),
    "on entry": ("", None),
    "on exit": ("", None),
}


def failing_chart(kind: str) -> Statechart:
    """A chart whose *kind* code raises ZeroDivisionError on its second line."""
    preamble, transition = FAILING[kind]
    text = CHART.replace("preamble: x = 1", preamble or "preamble: x = 1")
    if transition:
        text = text.replace("event: go", f"event: go\n            {transition}")
    if kind == "on entry":
        text = text.replace(
            "- name: b\n", "- name: b\n        on entry: |\n          y = 1\n          1 / 0\n"
        )
    if kind == "on exit":
        text = text.replace(
            "- name: a\n", "- name: a\n        on exit: |\n          y = 1\n          1 / 0\n"
        )
    return import_from_yaml(text)


def frames(tb: TracebackType | None) -> Iterator[Any]:
    while tb is not None:
        yield tb
        tb = tb.tb_next


def run_on_go(running: Interpreter) -> None:
    """Send *running* ``go`` and run it until it has nothing left to do."""
    running.queue("go")
    while running.execute_once() is not None:
        pass


@pytest.mark.parametrize("use", surface.FRAME_LOCALS, ids=lambda use: use.kind)
def test_failing_chart_code_raises_through_the_frame_and_file_name_perfchart_reads(
    use: FrameLocal,
) -> None:
    """What ``_running`` and ``code_offset`` find: the evaluator frame, its state or transition, the
    chart line."""
    for engine in [Interpreter, *perfchart_subclasses(Interpreter)]:
        for evaluator in [PythonEvaluator, *perfchart_subclasses(PythonEvaluator)]:
            chart = failing_chart(use.kind)
            with pytest.raises(CodeEvaluationError) as caught:
                run_on_go(engine(chart, evaluator_klass=evaluator, ignore_contract=True))
            where = f"{SISMIC}, {engine.__name__} with {evaluator.__name__}: a failing {use.kind}"
            named = [
                tb.tb_frame
                for tb in frames(caught.value.__traceback__)
                if tb.tb_frame.f_code.co_name == use.method
            ]
            assert named, (
                f"{where} raised through no frame named {use.method!r}; perfchart needs it: "
                f"{use.purpose}"
            )
            if use.local is not None:
                expected = (
                    chart.transitions_from("a")[0]
                    if use.local == "transition"
                    else chart.state_for("b" if use.kind == "on entry" else "a")
                )
                assert named[-1].f_locals.get(use.local) is expected, (
                    f"{where}: the frame's {use.local!r} is not the {use.local} whose code raised "
                    f"({use.purpose})"
                )
            cause = caught.value.__cause__
            assert isinstance(cause, ZeroDivisionError), (
                f"{where} does not keep the chart's own exception as its cause"
            )
            lines = [
                tb.tb_lineno
                for tb in frames(cause.__traceback__)
                if tb.tb_frame.f_code.co_filename == surface.CODE_FILENAME
            ]
            assert lines == [2], (
                f"{where}: no frame of file {surface.CODE_FILENAME!r} at the code's line 2 "
                f"({lines}); code_offset reports failing lines from it"
            )


def test_a_non_deterministic_choice_raises_from_sort_transitions() -> None:
    """ChartInterpreter._sort_transitions catches this error from sismic's to name the
    transitions."""
    chart = import_from_yaml(
        CHART.replace("event: go", "event: go\n          - target: b\n            event: go")
    )
    running = Interpreter(chart)
    running.execute_once()
    running.queue("go")
    with pytest.raises(NonDeterminismError) as caught:
        running.execute_once()
    raised_in = [tb.tb_frame.f_code.co_name for tb in frames(caught.value.__traceback__)]
    assert raised_in[-1] == "_sort_transitions", (
        f"{SISMIC} raises NonDeterminismError from {raised_in[-1]}, not _sort_transitions, which "
        "ChartInterpreter overrides to catch it"
    )


def test_the_external_queue_holds_due_time_and_event_pairs_in_due_order() -> None:
    """TunedInterpreter._queue_event appends (due, event) after the last pair due no later: where
    sismic's bisection puts it."""
    running = instances()[Interpreter]
    late, soon = Event("late", delay=5), Event("soon", delay=0)
    running.queue(late, soon)
    pairs = running._external_queue
    assert all(isinstance(pair, tuple) and len(pair) == 2 for pair in pairs), (
        f"{SISMIC}: _external_queue holds {pairs!r}, not (due time, event) pairs"
    )
    unordered = f"{SISMIC}: _external_queue is not in due order: {pairs!r}"
    assert [event.name for _, event in pairs] == ["go", "soon", "late"], unordered
    assert pairs[-1][0] == running.time + 5, unordered


def test_sismic_calls_an_evaluator_factory_as_perfchart_defines_one() -> None:
    """PolicyRunner passes a factory taking (interpreter, *, initial_context) as evaluator_klass."""
    made = []

    def factory(interpreter: Interpreter, *, initial_context: Any) -> PythonEvaluator:
        made.append(interpreter)
        return PythonEvaluator(interpreter, initial_context=initial_context)

    running = Interpreter(tiny(), evaluator_klass=factory, initial_context={"seen": 1})
    assert made == [running]
    assert running._evaluator.context["seen"] == 1


def scope_keys(*functions: Callable[..., Any]) -> set[str]:
    """The string keys of every dict literal in the source of *functions*: the names sismic puts in
    scope."""
    keys: set[str] = set()
    for function in functions:
        tree = ast.parse(textwrap.dedent(inspect.getsource(function)))
        for node in ast.walk(tree):
            if isinstance(node, ast.Dict):
                keys |= {
                    key.value
                    for key in node.keys
                    if isinstance(key, ast.Constant) and isinstance(key.value, str)
                }
    return keys


def test_perfchart_builds_the_guard_scope_sismic_builds() -> None:
    sismic = scope_keys(PythonEvaluator.evaluate_guard, PythonEvaluator._evaluate_code)
    assert sismic == surface.GUARD_SCOPE, (
        f"{SISMIC} gives guards {sorted(sismic)}, perfchart's DeadlineEvaluator.evaluate_guard "
        f"gives {sorted(surface.GUARD_SCOPE)}"
    )
    for evaluator in perfchart_subclasses(PythonEvaluator):
        if "evaluate_guard" in vars(evaluator):
            ours = scope_keys(evaluator.evaluate_guard)
            assert ours == surface.GUARD_SCOPE, (
                f"{evaluator.__name__}.evaluate_guard gives guards {sorted(ours)}, sismic's "
                f"guards see {sorted(surface.GUARD_SCOPE)}"
            )


def test_perfchart_check_knows_every_name_sismic_gives_chart_code() -> None:
    runners = [getattr(PythonEvaluator, use.method) for use in surface.FRAME_LOCALS]
    sismic = scope_keys(PythonEvaluator._evaluate_code, PythonEvaluator._execute_code, *runners)
    assert sismic == surface.CHART_SCOPE, (
        f"{SISMIC} gives chart code {sorted(sismic)}, the list says {sorted(surface.CHART_SCOPE)}"
    )
    assert surface.CHART_SCOPE <= CONTEXT_NAMES, (
        "perfchart check would call these defined names undefined: "
        f"{sorted(surface.CHART_SCOPE - CONTEXT_NAMES)}"
    )


def test_sismic_is_pinned_to_the_minor_version_the_list_was_checked_against() -> None:
    major, minor = surface.TESTED.split(".")
    pin = f"sismic>={surface.TESTED},<{major}.{int(minor) + 1}"
    assert f'"{pin}"' in (ROOT / "pyproject.toml").read_text(), (
        f"pyproject.toml must pin {pin}: sismic_surface.TESTED is what was checked"
    )
    assert version("sismic").startswith(f"{surface.TESTED}."), (
        f"{SISMIC} is installed; the list was checked against {surface.TESTED}"
    )


# -- the list against the package's code ----------------------------------------------------------


def sismic_private_names() -> set[str]:
    """Single-underscore names of sismic's interpreter and evaluator: classes and live instances."""
    names: set[str] = set()
    for obj in [*instances().values(), Interpreter, PythonEvaluator, Evaluator]:
        names |= {name for name in dir(obj) if name.startswith("_") and not name.startswith("__")}
    return names


def package_uses() -> Iterator[tuple[str, int, str, str]]:
    """(file, line, name, what) for every attribute, method defined in a class and string constant
    in the package, but the list."""
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.resolve() == Path(surface.__file__).resolve():
            continue
        file = str(path.relative_to(ROOT))
        tree = ast.parse(path.read_text(encoding="utf-8"))
        methods = {
            id(item)
            for node in ast.walk(tree)
            if isinstance(node, ast.ClassDef)
            for item in node.body
            if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))
        }
        for node in ast.walk(tree):
            if isinstance(node, ast.Attribute):
                yield file, node.lineno, node.attr, "attribute"
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and id(node) in methods:
                yield file, node.lineno, node.name, "method"
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                yield file, node.lineno, node.value, "constant"


def test_every_private_sismic_name_the_package_uses_is_listed() -> None:
    listed = {use.name for use in surface.ATTRIBUTES} | {use.name for use in surface.METHODS}
    private = sismic_private_names()
    unlisted = sorted(
        {
            f"{file}:{line}: {name}"
            for file, line, name, what in package_uses()
            if what != "constant" and name in private and name not in listed
        }
    )
    assert not unlisted, (
        "these use private names of sismic's Interpreter or evaluator not in "
        "interpreter/engine/sismic_surface.py; list each with what it is for:\n"
        + "\n".join(unlisted)
    )


def test_every_listed_name_is_still_used_by_the_package() -> None:
    used = {name for _, _, name, _ in package_uses()}
    listed = (
        [use.name for use in surface.ATTRIBUTES]
        + [use.name for use in surface.METHODS]
        + [use.method for use in surface.FRAME_LOCALS]
    )
    stale = sorted(set(listed) - used)
    assert not stale, (
        f"interpreter/engine/sismic_surface.py lists names no module uses any more: {stale}"
    )
    assert surface.CODE_FILENAME in used, (
        f"no module reads frames by sismic's code file name {surface.CODE_FILENAME!r} any more"
    )


def test_the_evaluator_frames_the_package_looks_for_are_listed() -> None:
    """An evaluator method's name as a string is a frame looked for by name (methods called or
    overridden are attributes)."""
    evaluator_methods = {
        name
        for name, _ in inspect.getmembers(Evaluator, inspect.isfunction)
        if not name.startswith("_")
    }
    looked_for = {
        name
        for _, _, name, what in package_uses()
        if what == "constant" and name in evaluator_methods
    }
    listed = {use.method for use in surface.FRAME_LOCALS}
    assert looked_for == listed, (
        f"the package looks for evaluator frames {sorted(looked_for)}; "
        f"interpreter/engine/sismic_surface.py lists {sorted(listed)}"
    )


def own_names(cls: type) -> dict[str, type]:
    """Names perfchart's classes between *cls* and sismic define or assign on ``self``, with the
    class that does."""
    names: dict[str, type] = {}
    for klass in cls.__mro__:
        if not klass.__module__.startswith("interpreter."):
            continue
        # _abc_impl: what ABCMeta gives every class, not a name of perfchart's.
        names.update(
            dict.fromkeys(
                [name for name in vars(klass) if not name.startswith("__") and name != "_abc_impl"],
                klass,
            )
        )
        for node in ast.walk(ast.parse(textwrap.dedent(inspect.getsource(klass)))):
            targets = (
                node.targets
                if isinstance(node, ast.Assign)
                else [node.target]
                if isinstance(node, (ast.AnnAssign, ast.AugAssign))
                else []
            )
            for target in targets:
                if (
                    isinstance(target, ast.Attribute)
                    and isinstance(target.value, ast.Name)
                    and target.value.id == "self"
                ):
                    names.setdefault(target.attr, klass)
    return names


@pytest.mark.parametrize("base", [Interpreter, PythonEvaluator], ids=lambda base: base.__name__)
def test_perfchart_subclasses_add_no_name_that_shadows_one_of_sismic(base: type) -> None:
    listed = {
        use.name for use in (*surface.ATTRIBUTES, *surface.METHODS) if issubclass(base, use.owner)
    }
    stock = set(dir(instances()[base]))
    for cls in perfchart_subclasses(base):
        shadowing = sorted(
            f"{klass.__name__}.{name}"
            for name, klass in own_names(cls).items()
            if name in stock and name not in listed
        )
        assert not shadowing, (
            f"{SISMIC} has these names too: perfchart's would replace sismic's: {shadowing} "
            "(rename them, or list them if the override is meant)"
        )


# -- the checks can fail ---------------------------------------------------------------------------


def test_each_check_fails_naming_the_missing_name_and_its_purpose(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    objects = instances()
    entry = next(use for use in surface.ATTRIBUTES if use.name == "_entry_time")
    del objects[Interpreter]._entry_time
    with pytest.raises(
        AssertionError,
        match=re.escape(
            "Interpreter._entry_time is gone; perfchart uses it for: when each active state"
        ),
    ):
        check_attribute(entry, objects)

    method = next(use for use in surface.METHODS if use.name == "_sort_transitions")
    monkeypatch.delattr(Interpreter, "_sort_transitions")
    with pytest.raises(
        AssertionError,
        match=re.escape(
            "Interpreter._sort_transitions is gone; perfchart uses it for: ChartInterpreter"
        ),
    ):
        check_method(method)

    reshaped = next(use for use in surface.METHODS if use.name == "_select_transitions")
    monkeypatch.setattr(
        Interpreter, "_select_transitions", lambda self, event, configuration, **options: []
    )
    with pytest.raises(
        AssertionError,
        match=re.escape(
            "takes (event, configuration, **options), perfchart relies on (event, states, *, "
            "eventless_first, inner_first)"
        ),
    ):
        check_method(reshaped)

    local = next(use for use in surface.FRAME_LOCALS if use.method == "execute_on_entry")

    def execute_on_entry(self: Any, entered: Any) -> list[Any]:
        return []

    monkeypatch.setattr(Evaluator, "execute_on_entry", execute_on_entry)
    with pytest.raises(
        AssertionError, match=re.escape("PythonEvaluator.execute_on_entry has no local 'state'")
    ):
        check_frame_local(local, PythonEvaluator)
    monkeypatch.setattr(Evaluator, "execute_on_entry", lambda self, state: [])
    with pytest.raises(AssertionError, match="runs as code named '<lambda>'"):
        check_frame_local(local, PythonEvaluator)
