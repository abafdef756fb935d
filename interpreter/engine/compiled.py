"""A chart compiled once into a transition table, run without sismic's per-step machinery.

Even tuned (``tuned.py``), sismic spends most of a policy's step on
bookkeeping a loaded chart fixes for good: which transitions an event may
fire, which states a transition leaves and enters, what stabilisation does,
and building the objects that say so. For the charts policies are written
as (compound and final states, eventless and internal transitions,
priorities, ``send()``, time guards, preamble, on entry and exit) the
active configuration is one chain of states, so all of that is a function
of the deepest active state: ``CompiledChart`` computes it once per chart,
with sismic's own rules, and ``CompiledInterpreter`` looks it up.

Chart code still runs through the interpreter's evaluator and its context,
in the very scope sismic's ``PythonEvaluator`` gives it, so guards, actions
and errors are sismic's. A chart using anything else (orthogonal or history
states, contracts) is not compiled: ``subset_problem`` says why, and the
runner gives it to sismic. ``tests/test_compiled_charts.py`` runs every
bundled chart and the tests' charts on both and compares the traces.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Mapping
from types import CodeType
from typing import Any

from sismic.clock import SimulatedClock
from sismic.code import PythonEvaluator
from sismic.exceptions import CodeEvaluationError, NonDeterminismError
from sismic.model import (
    CompoundState,
    DeepHistoryState,
    Event,
    FinalState,
    InternalEvent,
    MacroStep,
    MetaEvent,
    MicroStep,
    OrthogonalState,
    ShallowHistoryState,
    Statechart,
    Transition,
)
from sismic.utilities import sorted_groupby

#: Bumped whenever the table's layout changes, so a table cached on disk by another version is
#: compiled again.
FORMAT = 1

#: One source state's offer: its name, the states it shadows (ancestors), its transitions (by index
#: in the chart) grouped by priority, highest first.
SourcePlan = tuple[str, frozenset[str], tuple[tuple[int, ...], ...]]
#: Whether a group holds event transitions (False: eventless), and its sources, innermost first.
Plan = tuple[tuple[bool, tuple[SourcePlan, ...]], ...]
#: The states one micro step leaves and enters, in order.
Move = tuple[tuple[str, ...], tuple[str, ...]]


def escaped(exc: BaseException, code: str | None) -> CodeEvaluationError:
    """Chart code that raised what is not an Exception (GeneratorExit, SystemExit, a bare
    BaseException): a chart error like any other, so it can neither end perfchart without its files
    nor show a traceback. Only KeyboardInterrupt, the user's Ctrl-C, goes on up.
    """
    return CodeEvaluationError(f"'{type(exc).__name__}' occurred while running '{code}'")


def subset_problem(statechart: Statechart) -> tuple[str, str | None] | None:
    """Why *statechart* cannot be compiled (what it uses, and the state or transition's source
    name that uses it), or None when it can."""
    for name in statechart.states:
        state = statechart.state_for(name)
        if isinstance(state, (ShallowHistoryState, DeepHistoryState)):
            return "uses a history state", name
        if isinstance(state, OrthogonalState):
            return "uses an orthogonal state", name
        if _has_contract(state):
            return "uses a contract", name
    for transition in statechart.transitions:
        if _has_contract(transition):
            return "uses a contract", transition.source
    return None


def _has_contract(obj: Any) -> bool:
    return any(getattr(obj, kind, None) for kind in _CONTRACTS)


_CONTRACTS = ("preconditions", "postconditions", "invariants")


class CompiledChart:
    """Everything a chart's shape decides, computed once: the plans, the moves, stabilisation and
    the compiled code.

    Plain data (names, indices, code objects), so it can be kept on disk (``cache.py``) and
    bound to the loaded chart again without computing anything.
    """

    def __init__(
        self,
        plans: dict[tuple[str, str | None], Plan],
        moves: dict[tuple[str, int], Move],
        settle: dict[str, Move | None],
        code: dict[str, CodeType],
        guards: dict[str, CodeType],
    ) -> None:
        #: Keyed by (deepest active state, event name); None: the eventless transitions only.
        self.plans = plans
        #: Keyed by (deepest active state, transition index): what the transition leaves and enters.
        self.moves = moves
        #: Keyed by deepest active state: the stabilisation step from there, None when stable.
        self.settle = settle
        #: Actions, entries and exits, compiled as sismic compiles them (``exec``, ``<string>``).
        self.code = code
        #: Guards, compiled as sismic compiles them (``eval``, ``<string>``).
        self.guards = guards

    def as_data(self) -> tuple[Any, ...]:
        """The table as marshal-able values."""
        return (FORMAT, self.plans, self.moves, self.settle, self.code, self.guards)

    @classmethod
    def from_data(cls, data: Any) -> CompiledChart | None:
        """The table from :meth:`as_data`; None for one of another format."""
        if not isinstance(data, tuple) or len(data) != 6 or data[0] != FORMAT:
            return None
        return cls(*data[1:])


def compile_chart(statechart: Statechart) -> CompiledChart:
    """The table of a chart within the subset (``subset_problem`` is None), by sismic's rules."""
    chains = {name: _chain(statechart, name) for name in statechart.states}
    names = sorted({t.event for t in statechart.transitions if t.event is not None})
    plans: dict[tuple[str, str | None], Plan] = {}
    moves: dict[tuple[str, int], Move] = {}
    settle: dict[str, Move | None] = {}
    for leaf, chain in chains.items():
        active = set(chain)
        for event in (None, *names):
            plans[(leaf, event)] = _plan(statechart, active, event)
        for index, transition in enumerate(statechart.transitions):
            if transition.source in active and transition.target is not None:
                moves[(leaf, index)] = _move(statechart, active, transition)
        settle[leaf] = _settle(statechart, leaf)
    code, guards = _compiled_code(statechart)
    return CompiledChart(plans, moves, settle, code, guards)


def _compiled_code(statechart: Statechart) -> tuple[dict[str, CodeType], dict[str, CodeType]]:
    """The chart's actions, entries and exits, and its guards, each compiled once."""
    code: dict[str, CodeType] = {}
    guards: dict[str, CodeType] = {}
    for name in statechart.states:
        state = statechart.state_for(name)
        for text in (getattr(state, "on_entry", None), getattr(state, "on_exit", None)):
            if text:
                code[text] = compile(text, "<string>", "exec")
    for transition in statechart.transitions:
        if transition.action:
            code[transition.action] = compile(transition.action, "<string>", "exec")
        if transition.guard:
            guards[transition.guard] = compile(transition.guard, "<string>", "eval")
    return code, guards


def _chain(statechart: Statechart, name: str) -> tuple[str, ...]:
    """The configuration whose deepest state is *name*: its ancestors, root first, and itself."""
    return (*reversed(statechart.ancestors_for(name)), name)


def _plan(statechart: Statechart, states: set[str], name: str | None) -> Plan:
    """sismic's selection order (eventless first, inner first, by source, by priority)."""
    considered = [
        (i, t)
        for i, t in enumerate(statechart.transitions)
        if t.source in states and (t.event is None or t.event == name)
    ]
    plan = []
    for has_event, group in sorted_groupby(considered, key=lambda it: it[1].event is not None):
        sources: list[SourcePlan] = []
        for _, by_depth in sorted_groupby(
            group, key=lambda it: statechart.depth_for(it[1].source), reverse=True
        ):
            for source, by_source in sorted_groupby(by_depth, key=lambda it: it[1].source):
                priorities = tuple(
                    tuple(i for i, _ in same)
                    for _, same in sorted_groupby(
                        by_source, key=lambda it: it[1].priority, reverse=True
                    )
                )
                sources.append((source, frozenset(statechart.ancestors_for(source)), priorities))
        plan.append((has_event, tuple(sources)))
    return tuple(plan)


def _move(statechart: Statechart, active: set[str], transition: Transition) -> Move:
    """The states *transition* leaves and enters from *active*: sismic's ``_create_steps``."""
    target = transition.target
    assert target is not None
    lca = statechart.least_common_ancestor(transition.source, target)
    last_before_lca = transition.source
    for state in statechart.ancestors_for(transition.source):
        if state == lca:
            break
        last_before_lca = state
    exited = [d for d in statechart.descendants_for(last_before_lca)[::-1] if d in active]
    if last_before_lca in active:
        exited.append(last_before_lca)
    entered = [target]
    for state in statechart.ancestors_for(target):
        if state == lca:
            break
        entered.insert(0, state)
    return tuple(exited), tuple(entered)


def _settle(statechart: Statechart, leaf: str) -> Move | None:
    """sismic's stabilisation step from a configuration whose deepest state is *leaf*."""
    state = statechart.state_for(leaf)
    if isinstance(state, FinalState) and statechart.parent_for(leaf) == statechart.root:
        return (leaf, str(statechart.root)), ()
    if isinstance(state, CompoundState) and state.initial:
        return (), (state.initial,)
    return None


class CompiledInterpreter:
    """Runs a chart from its :class:`CompiledChart`, as sismic's ``Interpreter`` would.

    It offers what perfchart uses of sismic's interpreter (``execute_once``
    returning sismic's macro steps, ``queue``, ``configuration``, ``final``,
    ``time``, ``context``, the queues and entry times the evaluator reads),
    built as sismic builds it: the evaluator comes from *evaluator_klass*
    and runs the preamble. *ignore_contract* is taken for sismic's
    signature only: a compiled chart has no contract to check.
    """

    def __init__(
        self,
        statechart: Statechart,
        *,
        table: CompiledChart | None = None,
        evaluator_klass: Callable[..., PythonEvaluator] = PythonEvaluator,
        initial_context: Mapping[str, Any] | None = None,
        clock: Any = None,
        ignore_contract: bool = True,
    ) -> None:
        problem = subset_problem(statechart)
        if problem is not None:
            raise ValueError(f"this chart cannot be compiled: it {problem[0]} ({problem[1]})")
        self.table = table if table is not None else compile_chart(statechart)
        self.chart = statechart
        self.clock = SimulatedClock() if clock is None else clock
        self.now: float = self.clock.time
        self.begun = False
        #: The active states, root first: a chain, since the chart has no orthogonal state.
        self.chain: list[str] = []
        self._configuration: set[str] = set()
        self._entry_time: dict[str, float] = {}
        self._idle_time: dict[str, float] = {}
        self._internal_queue: list[tuple[float, Event]] = []
        self._external_queue: list[tuple[float, Event]] = []
        #: Who hears the meta-events sismic's listeners hear (``attach``).
        self.listeners: list[Callable[[MetaEvent], Any]] = []
        self.transitions = statechart.transitions
        self.states = {name: statechart.state_for(name) for name in statechart.states}
        #: The states with code on exit, and on entry: the others are left and entered without
        #: a call.
        self.exits = {n for n, state in self.states.items() if getattr(state, "on_exit", None)}
        self.entries = {n for n, state in self.states.items() if getattr(state, "on_entry", None)}
        self.evaluator = evaluator_klass(self, initial_context=initial_context)
        self.code_context = self.evaluator._context
        #: What chart code calls as ``active(name)`` (a list's ``in``, as sismic's) and
        #: ``setdefault(name, value)``.
        self.active = self.chain.__contains__
        self.setdefault = self.code_context.setdefault
        self.evaluator._evaluable_code.update(self.table.guards)
        self.evaluator.execute_statechart(statechart)

    # -- what perfchart reads of an interpreter ------------------------------

    @property
    def time(self) -> float:
        """The time of the current (or latest) macro step."""
        return self.now

    @property
    def statechart(self) -> Statechart:
        return self.chart

    @property
    def configuration(self) -> list[str]:
        """The active states by depth: sismic's order (a chain has one state per depth)."""
        return list(self.chain)

    @property
    def context(self) -> Mapping[str, Any]:
        return self.evaluator.context

    @property
    def final(self) -> bool:
        return self.begun and not self.chain

    def attach(self, listener: Callable[[MetaEvent], Any]) -> None:
        """Have *listener* hear the meta-events sismic's interpreter sends its listeners."""
        self.listeners.append(listener)

    def tell(self, name: str, **data: Any) -> None:
        """Send a meta-event to the listeners."""
        self.announce(MetaEvent(name, **data))

    def announce(self, meta: MetaEvent) -> None:
        for listener in self.listeners:
            listener(meta)

    def queue(
        self, event_or_name: str | Event, *more: str | Event, **parameters: Any
    ) -> CompiledInterpreter:
        """Queue external events, as sismic's ``queue`` does; *self*, so calls chain."""
        for item in (event_or_name, *more):
            event = Event(item, **parameters) if isinstance(item, str) else item
            self.enqueue(event)
        return self

    def enqueue(self, event: Event) -> None:
        """Put *event* where sismic's bisection puts it; one due last is appended at once."""
        internal = isinstance(event, InternalEvent)
        queue = self._internal_queue if internal else self._external_queue
        # An event's attributes are its data: read there at once, as getattr would find them.
        data = getattr(event, "data", None)
        delay = data.get("delay", 0) if type(data) is dict else getattr(event, "delay", 0)
        due = self.now + delay
        if not queue or queue[-1][0] <= due:
            queue.append((due, event))
            return
        keys = [(t, not isinstance(e, InternalEvent)) for t, e in queue]
        queue.insert(bisect.bisect_right(keys, (due, not internal)), (due, event))

    # -- the macro step --------------------------------------------------------

    def execute(self, max_steps: int = -1) -> list[MacroStep]:
        """Macro steps until nothing happens (or *max_steps* of them), as sismic's ``execute``."""
        steps: list[MacroStep] = []
        while max_steps < 0 or len(steps) < max_steps:
            macro = self.execute_once()
            if macro is None:
                break
            steps.append(macro)
        return steps

    def execute_once(self) -> MacroStep | None:
        """One macro step, as sismic's: initialise, or select, fire and stabilise."""
        self.now = self.clock.time
        if not self.listeners:
            return self.macro_step()
        self.tell("step started", time=self.now)
        macro = self.macro_step()
        self.tell("step ended")
        return macro

    def macro_step(self) -> MacroStep | None:
        """The macro step itself, between the listeners' step started and step ended."""
        if not self.begun:
            self.begun = True
            steps = [self.apply(None, None, ((), (str(self.chart.root),)))]
            self.stabilise(steps)
            return MacroStep(time=self.now, steps=steps)
        event = self.next_event()
        # A final configuration is empty: nothing fires, and an event is consumed all the same.
        leaf = self.chain[-1] if self.chain else ""
        plans = self.table.plans
        plan = plans.get((leaf, None if event is None else event.name)) or plans.get((leaf, None))
        selected = self.select(plan, event) if plan else []
        transitions = self.transitions
        if not selected:
            if event is None:
                return None
            self.consume(event)
            return MacroStep(self.now, [MicroStep(event)])
        if len(selected) > 1:
            self.refuse([transitions[i] for i in selected])
        index = selected[0]
        transition = transitions[index]
        if transition.event is None:
            event = None
        else:
            self.consume(event)
        move = self.table.moves.get((leaf, index), ((), ()))
        steps = [self.apply(event, transition, move)]
        self.stabilise(steps)
        return MacroStep(self.now, steps)

    def next_event(self) -> Event | None:
        """The next due event, internal first: sismic's ``_select_event``."""
        for queue in (self._internal_queue, self._external_queue):
            if queue:
                due, event = queue[0]
                if due <= self.now:
                    return event
        return None

    def consume(self, event: Event) -> None:
        """Take the event the step consumed off its queue, as sismic does (the head of the first
        queue with a due event)."""
        for queue in (self._internal_queue, self._external_queue):
            if queue and queue[0][0] <= self.now:
                consumed = queue.pop(0)[1]
                if self.listeners:
                    self.tell("event consumed", event=consumed)
                return

    def select(self, plan: Plan, event: Event | None) -> list[int]:
        """The indices of the transitions selected, guards tried in sismic's order: per source,
        the first priority with an enabled transition wins and shadows the source's ancestors."""
        transitions = self.transitions
        evaluate = self.evaluator.evaluate_guard
        selected: list[int] = []
        ignored: set[str] = set()
        for has_event, sources in plan:
            if selected:
                break
            exposed = event if has_event else None
            for source, ancestors, priorities in sources:
                if source in ignored:
                    continue
                for indices in priorities:
                    found = False
                    for index in indices:
                        transition = transitions[index]
                        if transition.guard is None or evaluate(transition, exposed):
                            selected.append(index)
                            found = True
                    if found:
                        ignored |= ancestors
                        ignored.add(source)
                        break
        return selected

    def refuse(self, transitions: list[Transition]) -> None:
        """Several transitions enabled at once, outside an orthogonal state: sismic refuses."""
        raise NonDeterminismError(
            f"Non-determinist choice between transitions {transitions[0]} and {transitions[1]}"
        )

    def stabilise(self, steps: list[MicroStep]) -> None:
        """Apply stabilisation steps until the configuration is stable."""
        settle = self.table.settle
        while self.chain:
            move = settle[self.chain[-1]]
            if move is None:
                return
            steps.append(self.apply(None, None, move))

    def apply(  # noqa: C901 (the hot path of every micro step: one call, no helpers)
        self, event: Event | None, transition: Transition | None, move: Move
    ) -> MicroStep:
        """Exit, act, enter and send, as sismic's ``_apply_step`` does without contracts or
        listeners."""
        exited, entered = move
        now = self.now
        states = self.states
        sent: list[Event] = []
        listeners = self.listeners
        for name in exited:
            if name in self.exits:
                sent.extend(self.execute_on_exit(states[name]))
            self._configuration.remove(name)
            self.chain.remove(name)
            if listeners:
                self.tell("state exited", state=name)
        if transition is not None:
            if transition.action:
                sent.extend(self.execute_action(transition, event))
            self._idle_time[transition.source] = now
            if listeners:
                self.tell(
                    "transition processed",
                    source=transition.source,
                    target=transition.target,
                    event=event,
                )
        for name in entered:
            if name in self.entries:
                sent.extend(self.execute_on_entry(states[name]))
            self._configuration.add(name)
            self.chain.append(name)
            self._entry_time[name] = now
            self._idle_time[name] = now
            if listeners:
                self.tell("state entered", state=name)
        for item in sent:
            self.raise_sent(item)
        return MicroStep(event, transition, list(entered), list(exited), sent)

    def raise_sent(self, item: Event) -> None:
        """An event chart code sent: queued when internal, told to the listeners, as sismic's
        ``_raise_event`` does."""
        if isinstance(item, InternalEvent):
            self.enqueue(item)
            if self.listeners:
                self.tell("event sent", event=item)
                if hasattr(item, "delay"):
                    self.tell("delayed event sent", event=item)
        elif isinstance(item, MetaEvent):
            self.announce(item)

    # -- chart code, named as sismic's evaluator names it (errors are located by these frames) --

    def execute_action(self, transition: Transition, event: Event | None) -> list[Event]:
        """A transition's action, with ``event`` in scope."""
        code = transition.action
        return self.run(code, event, True) if code else []

    def execute_on_entry(self, state: Any) -> list[Event]:
        """A state's on entry."""
        code = getattr(state, "on_entry", None)
        return self.run(code, None, False) if code else []

    def execute_on_exit(self, state: Any) -> list[Event]:
        """A state's on exit."""
        code = getattr(state, "on_exit", None)
        return self.run(code, None, False) if code else []

    def run(self, code: str, event: Event | None, with_event: bool) -> list[Event]:
        """Execute *code* in the scope sismic's ``PythonEvaluator._execute_code`` builds."""
        compiled = self.table.code.get(code)
        if compiled is None:
            compiled = self.table.code[code] = compile(code, "<string>", "exec")
        sent: list[Event] = []
        exposed: dict[str, Any] = {
            "active": self.active,
            "time": self.now,
            "send": lambda name, **kwargs: sent.append(InternalEvent(name, **kwargs)),
            "notify": lambda name, **kwargs: sent.append(MetaEvent(name, **kwargs)),
            "setdefault": self.setdefault,
        }
        if with_event:
            exposed["event"] = event
        try:
            exec(compiled, exposed, self.code_context)
        except Exception as exc:
            raise CodeEvaluationError(f"'{exc}' occurred while executing '{code}'") from exc
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            raise escaped(exc, code) from exc
        return sent
