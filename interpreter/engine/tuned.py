"""sismic's interpreter with the work that depends only on the chart's shape done once.

Stock sismic recomputes, on every step, things a loaded chart fixes for
good: which transitions an event could fire from a configuration and in
what order their guards are tried, which state stabilisation enters next,
which states a transition leaves and enters. It also builds meta-events for
listeners and checks contracts that a policy run has neither of. A policy
takes a handful of steps per run, so that bookkeeping is most of a run's cost.

``TunedInterpreter`` keeps sismic's semantics and its code: it subclasses
the stock interpreter, caches those answers per (event name, configuration),
and skips the listener and contract work only while there is nothing to
notify or check. Anything it does not cover (history states, listeners,
contracts, non-default selection orders) goes to the stock methods.
``tests/test_tuned_interpreter.py`` runs every bundled chart on both and
compares the traces.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, cast

from sismic.interpreter import Interpreter
from sismic.model import (
    DeepHistoryState,
    Event,
    InternalEvent,
    MacroStep,
    MicroStep,
    ShallowHistoryState,
    Statechart,
    Transition,
)
from sismic.utilities import sorted_groupby

#: The transitions one source state offers an event, grouped by priority, highest first.
SourcePlan = tuple[str, frozenset[str], tuple[tuple[Transition, ...], ...]]
#: Whether the group has events (False: eventless), and its sources in the order guards are tried.
Plan = tuple[tuple[bool, tuple[SourcePlan, ...]], ...]

#: Distinct (event, configuration) pairs cached before the caches start over; a chart has far fewer.
CACHE_LIMIT = 4096


class TunedInterpreter(Interpreter):
    """sismic's ``Interpreter``, with structural answers cached and idle listener work skipped."""

    def __init__(self, statechart: Statechart, **kwargs: Any) -> None:
        self._plans: dict[tuple[str | None, frozenset[str]], Plan] = {}
        self._stabilisations: dict[frozenset[str], tuple[list[str], list[str]] | None] = {}
        self._moves: dict[tuple[int, frozenset[str]], tuple[list[str], list[str]]] = {}
        #: History states remember configurations, so their stabilisation is not a function of the
        #: shape.
        self._history = any(
            isinstance(statechart.state_for(name), (ShallowHistoryState, DeepHistoryState))
            for name in statechart.states
        )
        super().__init__(statechart, **kwargs)
        self._plain = (
            self._ignore_contract
            and not self._history
            and not hasattr(self._evaluator, "on_step_starts")
        )

    # -- the macro step --------------------------------------------------------

    def execute_once(self) -> MacroStep | None:
        """The stock macro step, minus meta-events nobody listens to and contracts nobody checks."""
        if self._listeners or not self._plain:
            return super().execute_once()
        self._time = self.clock.time
        self._sent_events.clear()
        computed = self._compute_steps()
        if not computed:
            return None
        if computed[0].event is not None:
            self._select_event(consume=True)
        executed: list[MicroStep] = []
        for step in computed:
            executed.append(self._apply_step(step))
            executed.extend(self._stabilize())
        return MacroStep(time=self._time, steps=executed)

    def _apply_step(self, step: MicroStep) -> MicroStep:
        """Exit, act, enter and send, as stock sismic does, without
        history, contracts or listeners.
        """
        if self._listeners or not self._plain:
            return super()._apply_step(step)
        state_for = self._statechart.state_for
        evaluator = self._evaluator
        configuration = self._configuration
        time = self._time
        sent: list[Event] = []
        for name in step.exited_states:
            sent.extend(evaluator.execute_on_exit(state_for(name)))
            configuration.remove(name)
        transition = step.transition
        if transition is not None:
            sent.extend(evaluator.execute_action(transition, step.event))
            self._idle_time[transition.source] = time
        for name in step.entered_states:
            sent.extend(evaluator.execute_on_entry(state_for(name)))
            configuration.add(name)
            self._entry_time[name] = time
            self._idle_time[name] = time
        for event in sent:
            self._raise_event(cast(Any, event))
            self._sent_events.append(event)
        return MicroStep(
            event=step.event,
            transition=transition,
            entered_states=step.entered_states,
            exited_states=step.exited_states,
            sent_events=sent,
        )

    def _queue_event(self, event: Event) -> None:
        """Append an external event that is due no earlier than the last queued one: where stock
        bisection puts it.
        """
        if not isinstance(event, InternalEvent):
            queue = self._external_queue
            due = self._time + getattr(event, "delay", 0)
            if not queue or queue[-1][0] <= due:
                queue.append((due, event))
                return
        super()._queue_event(event)

    # -- structural answers, cached ------------------------------------------

    def _select_transitions(  # noqa: C901 (the hot path of every step: one call, no helpers)
        self,
        event: Event | None,
        states: set[str],
        *,
        eventless_first: bool = True,
        inner_first: bool = True,
    ) -> list[Transition]:
        """Try guards in the stock order, which depends only on the event's name and the
        configuration.

        Per source, the first priority with an enabled transition wins and its
        ancestors are not tried; a later group is tried only when the earlier
        ones selected nothing. Written as one loop: it runs on every step.
        """
        if not (eventless_first and inner_first):
            return super()._select_transitions(
                event, states, eventless_first=eventless_first, inner_first=inner_first
            )
        key = (getattr(event, "name", None), frozenset(states))
        plan = self._plans.get(key)
        if plan is None:
            plan = self._plans[key] = self._plan(*key)
            _bound(self._plans)
        selected: list[Transition] = []
        ignored: set[str] = set()
        evaluate = self._evaluator.evaluate_guard
        for has_event, sources in plan:
            if selected:
                break
            exposed = event if has_event else None
            for source, ancestors, priorities in sources:
                if source in ignored:
                    continue
                for transitions in priorities:
                    found = False
                    for transition in transitions:
                        if transition.guard is None or evaluate(transition, exposed):
                            selected.append(transition)
                            found = True
                    if found:
                        ignored |= ancestors
                        ignored.add(source)
                        break
        return selected

    def _plan(self, name: str | None, states: frozenset[str]) -> Plan:
        """The stock selection's grouping (eventless first, inner first, by source, by priority),
        once.
        """
        statechart = self._statechart
        considered = [
            t
            for t in statechart.transitions
            if t.source in states and (t.event is None or t.event == name)
        ]
        plan = []
        for has_event, transitions in sorted_groupby(considered, key=lambda t: t.event is not None):
            sources: list[SourcePlan] = []
            for _, by_depth in sorted_groupby(
                transitions, key=lambda t: statechart.depth_for(t.source), reverse=True
            ):
                for source, by_source in sorted_groupby(by_depth, key=lambda t: t.source):
                    priorities = tuple(
                        tuple(group)
                        for _, group in sorted_groupby(
                            by_source, key=lambda t: t.priority, reverse=True
                        )
                    )
                    sources.append(
                        (source, frozenset(statechart.ancestors_for(source)), priorities)
                    )
            plan.append((has_event, tuple(sources)))
        return tuple(plan)

    def _create_steps(
        self, event: Event | None, transitions: Iterable[Transition]
    ) -> list[MicroStep]:
        """States left and entered by each transition, computed once per transition and
        configuration.
        """
        configuration = frozenset(self._configuration)
        steps = []
        for transition in transitions:
            if transition.target is None:
                steps.append(MicroStep(event=event, transition=transition))
                continue
            key = (id(transition), configuration)
            move = self._moves.get(key)
            if move is None:
                stock = super()._create_steps(event, [transition])[0]
                move = self._moves[key] = (stock.entered_states, stock.exited_states)
                _bound(self._moves)
            steps.append(
                MicroStep(
                    event=event,
                    transition=transition,
                    entered_states=list(move[0]),
                    exited_states=list(move[1]),
                )
            )
        return steps

    def _create_stabilization_step(self, names: Iterable[str]) -> MicroStep | None:
        """The next stabilisation, a function of the configuration alone when the chart has no
        history.
        """
        if self._history:
            return super()._create_stabilization_step(names)
        key = frozenset(names)
        if key in self._stabilisations:
            cached = self._stabilisations[key]
        else:
            stock = super()._create_stabilization_step(key)
            cached = self._stabilisations[key] = (
                None if stock is None else (stock.entered_states, stock.exited_states)
            )
            _bound(self._stabilisations)
        if cached is None:
            return None
        return MicroStep(entered_states=list(cached[0]), exited_states=list(cached[1]))


def _bound(cache: dict[Any, Any]) -> None:
    """Start a cache over past CACHE_LIMIT entries, so memory
    never grows with the number of runs.
    """
    if len(cache) > CACHE_LIMIT:
        cache.clear()
