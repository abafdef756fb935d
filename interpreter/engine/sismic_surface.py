"""What perfchart relies on in sismic beyond its documented API, in one list.

perfchart subclasses sismic's ``Interpreter`` (engine/tuned.py, and
engine/runner.py on top of it) and ``PythonEvaluator`` (engine/runner.py),
reads and writes the interpreter's private state, and, to say which state or
transition raised, reads names local to the frames of sismic's evaluator
methods (``_running`` in engine/runner.py) and the file name sismic compiles
chart code under (charts/source.py). None of that is sismic's public API: a
release may rename or reshape it, and perfchart would then report errors at
the wrong place or time guards at the wrong time rather than fail.

So pyproject.toml pins sismic to the minor version tested (``TESTED``), and
``tests/test_sismic_surface.py`` checks every entry here against the installed
sismic, each failure naming the entry and what perfchart uses it for. The same
test fails when a module of the package uses a private name of sismic's
interpreter or evaluator that is not listed here, and when an entry is no
longer used, so the list and the code stay together.
"""

from __future__ import annotations

from dataclasses import dataclass

from sismic.code import Evaluator, PythonEvaluator
from sismic.interpreter import Interpreter
from sismic.model import Statechart

#: The sismic minor version this list was checked against;
#: pyproject.toml pins ``>=TESTED,<next minor``.
TESTED = "1.6"


@dataclass(frozen=True)
class Attribute:
    """An attribute of every instance of *owner* that perfchart reads or writes, and its type."""

    owner: type
    name: str
    shape: type | tuple[type, ...]
    purpose: str


@dataclass(frozen=True)
class Method:
    """A method of *owner* perfchart calls, overrides or replaces; its parameters after ``self``.

    *signature* is written as ``inspect.signature`` shows it, without
    annotations or defaults: ``event, states, *, eventless_first, inner_first``.
    """

    owner: type
    name: str
    signature: str
    purpose: str


@dataclass(frozen=True)
class FrameLocal:
    """An evaluator method whose frame, in a traceback, tells what kind of chart code raised.

    *local* is the name of the frame's local holding the state or transition
    whose code ran (None: the preamble has neither).
    """

    method: str
    local: str | None
    kind: str
    purpose: str


ATTRIBUTES: tuple[Attribute, ...] = (
    Attribute(
        Interpreter,
        "_entry_time",
        dict,
        "when each active state was entered: `after(s)` guards count from it "
        "(DeadlineEvaluator._after); TunedInterpreter._apply_step records it",
    ),
    Attribute(
        Interpreter,
        "_idle_time",
        dict,
        "when each active state was entered or last took a transition: `idle(s)` guards count "
        "from it (DeadlineEvaluator._idle); TunedInterpreter._apply_step records it",
    ),
    Attribute(
        Interpreter,
        "_configuration",
        set,
        "the active states: `active(name)` in guards (DeadlineEvaluator._active), whether an "
        "eventless transition may fire (PolicyRunner._may_move); TunedInterpreter._apply_step "
        "adds and removes states",
    ),
    Attribute(
        Interpreter,
        "_internal_queue",
        list,
        "the events the chart sent itself: PolicyRunner._may_move steps again while it holds one",
    ),
    Attribute(
        Interpreter,
        "_external_queue",
        list,
        "queued events as (due time, event) pairs in due order: PolicyRunner._may_move reads it, "
        "TunedInterpreter._queue_event appends to it",
    ),
    Attribute(
        Interpreter,
        "_evaluator",
        Evaluator,
        "TunedInterpreter runs guards, actions, entries and exits through it, and checks it for "
        "the deprecated on_step_starts hook",
    ),
    Attribute(
        Interpreter,
        "_ignore_contract",
        bool,
        "TunedInterpreter skips contract checks only when they are off",
    ),
    Attribute(
        Interpreter,
        "_listeners",
        list,
        "TunedInterpreter takes sismic's own step whenever anything listens for meta-events",
    ),
    Attribute(
        Interpreter,
        "_time",
        (int, float),
        "the current macro step's time: TunedInterpreter.execute_once sets it as sismic's does, "
        "_apply_step and _queue_event read it",
    ),
    Attribute(
        Interpreter,
        "_sent_events",
        list,
        "the events sent in the current macro step: TunedInterpreter clears and fills it as "
        "sismic's step does",
    ),
    Attribute(
        Interpreter,
        "_statechart",
        Statechart,
        "TunedInterpreter reads the chart's states and transitions from it",
    ),
    Attribute(
        PythonEvaluator,
        "_interpreter",
        Interpreter,
        "DeadlineEvaluator reads the time, _entry_time, _idle_time and _configuration of its "
        "interpreter through it",
    ),
    Attribute(
        PythonEvaluator,
        "_context",
        dict,
        "the chart's variables: DeadlineEvaluator.evaluate_guard evaluates guards in it, as "
        "sismic does",
    ),
    Attribute(
        PythonEvaluator,
        "_evaluable_code",
        dict,
        "sismic's cache of compiled guards, which DeadlineEvaluator.evaluate_guard fills and "
        "reuses",
    ),
)

METHODS: tuple[Method, ...] = (
    Method(
        Interpreter,
        "__init__",
        "statechart, *, evaluator_klass, initial_context, clock, ignore_contract",
        "PolicyRunner builds its ChartInterpreter with an evaluator factory, the chart's context, "
        "the session clock and ignore_contract=True",
    ),
    Method(
        PythonEvaluator,
        "_execute_code",
        "code, *, additional_context",
        "DeadlineEvaluator overrides it to turn chart code raising a BaseException other than "
        "KeyboardInterrupt (GeneratorExit, SystemExit) into the CodeEvaluationError sismic raises "
        "for an Exception",
    ),
    Method(
        PythonEvaluator,
        "_evaluate_code",
        "code, *, additional_context",
        "DeadlineEvaluator overrides it as it does _execute_code",
    ),
    Method(
        Interpreter,
        "execute_once",
        "",
        "TunedInterpreter overrides it with sismic's macro step minus listener and contract work, "
        "and falls back to it",
    ),
    Method(
        Interpreter,
        "_compute_steps",
        "",
        "TunedInterpreter.execute_once calls it for the macro step's micro steps",
    ),
    Method(
        Interpreter,
        "_select_event",
        "*, consume",
        "TunedInterpreter.execute_once consumes the event that fired a transition with "
        "consume=True",
    ),
    Method(
        Interpreter,
        "_apply_step",
        "step",
        "TunedInterpreter overrides it (exit, act, enter, send) and falls back to it when "
        "listeners, contracts or history need sismic's",
    ),
    Method(
        Interpreter,
        "_stabilize",
        "",
        "TunedInterpreter.execute_once stabilises the configuration after each micro step",
    ),
    Method(
        Interpreter,
        "_raise_event",
        "event",
        "TunedInterpreter._apply_step sends the events chart code sent",
    ),
    Method(
        Interpreter,
        "_queue_event",
        "event",
        "TunedInterpreter overrides it to append an event due last at once, and falls back to it",
    ),
    Method(
        Interpreter,
        "_select_transitions",
        "event, states, *, eventless_first, inner_first",
        "TunedInterpreter overrides it with a cached plan of sismic's order (sismic passes "
        "states= by name) and falls back to it",
    ),
    Method(
        Interpreter,
        "_create_steps",
        "event, transitions",
        "TunedInterpreter overrides it to cache each transition's exited and entered states, "
        "computed by it",
    ),
    Method(
        Interpreter,
        "_create_stabilization_step",
        "names",
        "TunedInterpreter overrides it to cache stabilisation per configuration, computed by it",
    ),
    Method(
        Interpreter,
        "_sort_transitions",
        "transitions",
        "ChartInterpreter overrides it to catch its NonDeterminismError and name the transitions "
        "enabled at once, with their lines",
    ),
    Method(
        PythonEvaluator,
        "__init__",
        "interpreter, *, initial_context",
        "DeadlineEvaluator calls it as sismic calls an evaluator factory, (interpreter, "
        "initial_context=...)",
    ),
    Method(
        PythonEvaluator,
        "evaluate_guard",
        "transition, event",
        "DeadlineEvaluator overrides it to note when a failing time guard would pass, in sismic's "
        "guard scope (GUARD_SCOPE)",
    ),
    Method(
        Statechart,
        "ancestors_for",
        "name",
        "memoize_structure replaces it on each loaded chart by a cached copy: it must stay a "
        "function of its argument",
    ),
    Method(
        Statechart,
        "descendants_for",
        "name",
        "memoize_structure replaces it on each loaded chart by a cached copy: it must stay a "
        "function of its argument",
    ),
    Method(
        Statechart,
        "depth_for",
        "name",
        "memoize_structure replaces it on each loaded chart by a cached copy: it must stay a "
        "function of its argument",
    ),
    Method(
        Statechart,
        "least_common_ancestor",
        "name_first, name_second",
        "memoize_structure replaces it on each loaded chart by a cached copy: it must stay a "
        "function of its arguments",
    ),
)

#: The evaluator methods ``_running`` (engine/runner.py) looks for in an error's traceback,
#: with the local it reads.
FRAME_LOCALS: tuple[FrameLocal, ...] = (
    FrameLocal(
        "execute_statechart",
        None,
        "preamble",
        "an error raised in its frame is reported at the chart's preamble",
    ),
    FrameLocal(
        "evaluate_guard",
        "transition",
        "guard",
        "an error raised in its frame is reported at the guard of its local `transition`",
    ),
    FrameLocal(
        "execute_action",
        "transition",
        "action",
        "an error raised in its frame is reported at the action of its local `transition`",
    ),
    FrameLocal(
        "execute_on_entry",
        "state",
        "on entry",
        "an error raised in its frame is reported at the `on entry` of its local `state`",
    ),
    FrameLocal(
        "execute_on_exit",
        "state",
        "on exit",
        "an error raised in its frame is reported at the `on exit` of its local `state`",
    ),
)

#: The file name sismic compiles chart code under: ``code_offset`` (charts/source.py) takes
#: the failing line from frames with it.
CODE_FILENAME = "<string>"

#: The names sismic puts in a guard's scope; DeadlineEvaluator.evaluate_guard builds the
#: same scope itself.
GUARD_SCOPE = frozenset({"active", "time", "after", "idle", "event"})

#: Every name sismic puts in the scope of chart code; ``perfchart check`` (charts/lint.py)
#: must know them all.
CHART_SCOPE = GUARD_SCOPE | {"send", "notify", "setdefault"}
