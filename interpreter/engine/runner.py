"""A policy in motion: one sismic interpreter and the runtime around it.

The runner owns the statechart's view of the world. It turns bus events into
statechart events through the bindings the chart made (an event no binding
wants never reaches sismic), forwards the lifecycle events the chart is owed,
and reports when the chart next needs the clock.
"""

from __future__ import annotations

import collections
import functools
import logging
import math
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sismic.code import PythonEvaluator
from sismic.exceptions import CodeEvaluationError, NonDeterminismError, SismicError
from sismic.interpreter import Interpreter
from sismic.model import Event as ChartEvent
from sismic.model import InternalEvent, MacroStep, Statechart, Transition

from ..charts import PolicyChart, block_of, code_offset, config_origin, describe_transition, helpers
from ..config import error_at
from ..core import (
    Clock,
    Event,
    EventBus,
    RunTaskCompletedEvent,
    SimulatedEvent,
    StalledEvent,
    Timers,
    check_class_names,
    traces,
)
from ..errors import ConfigError, PerfchartError
from ..filters import EventFilter, FilterSyntaxError
from .compiled import CompiledInterpreter, escaped
from .ledger import Cursor
from .parameters import ParameterBatch
from .policy import PolicyAPI
from .tables import engine_for
from .tuned import TunedInterpreter

log = logging.getLogger("perfchart.policy")

#: Macro steps a chart may take without an external event (eventless transitions, or internal
#: events it sends itself) before it is ended as a loop: a real policy takes a handful.
MAX_EVENTLESS_STEPS = 10_000
#: The longest wait ``after()`` and ``idle()`` accept, in seconds (about 115 days).
MAX_WAIT = 1e7
#: Transitions kept, at the end of a loop, to name it.
_RECENT = 64
#: Run charts within the compiled subset on their compiled table; False runs every chart on
#: sismic (the equivalence tests compare the two).
COMPILED = True
#: Events a binding delivered between two times the bus held a channel back, from which on it is
#: named as matching too much.
CROWDING = 100


class DeadlineEvaluator(PythonEvaluator):
    """sismic's Python evaluator, plus a note of when a failed time guard would pass.

    ``after(10)`` that answers no also knows it will answer yes at entry+10,
    so the session sleeps exactly until then instead of polling.
    """

    def __init__(
        self, interpreter: Any = None, *, initial_context: Mapping[str, Any] | None = None
    ) -> None:
        super().__init__(interpreter, initial_context=initial_context)
        self.deadline: float | None = None
        #: The source state of the guard being evaluated: what ``after`` and ``idle`` count from.
        self._source = ""

    def _note(self, due: float) -> bool:
        if due <= self._interpreter.time:
            return True
        if self.deadline is None or due < self.deadline:
            self.deadline = due
        return False

    def _after(self, seconds: float) -> bool:
        return self._note(self._interpreter._entry_time[self._source] + _wait(seconds, "after"))

    def _idle(self, seconds: float) -> bool:
        return self._note(self._interpreter._idle_time[self._source] + _wait(seconds, "idle"))

    def _active(self, name: str) -> bool:
        return name in self._interpreter._configuration

    def evaluate_guard(self, transition: Any, event: ChartEvent | None = None) -> bool:
        """sismic's guard evaluation with the same names in scope,
        built without a closure per call.
        """
        code = transition.guard
        if code is None:
            return True
        compiled = self._evaluable_code.get(code)
        if compiled is None:
            compiled = self._evaluable_code.setdefault(code, compile(code, "<string>", "eval"))
        self._source = transition.source
        exposed = {
            "active": self._active,
            "time": self._interpreter.time,
            "after": self._after,
            "idle": self._idle,
            "event": event,
        }
        try:
            return bool(eval(compiled, exposed, self._context))
        except Exception as exc:
            raise CodeEvaluationError(f"'{exc}' occurred while evaluating '{code}'") from exc
        except KeyboardInterrupt:
            raise
        except BaseException as exc:
            raise escaped(exc, code) from exc

    def _execute_code(
        self, code: str | None, *, additional_context: Mapping[str, Any] | None = None
    ) -> list[Any]:
        try:
            return super()._execute_code(code, additional_context=additional_context)
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise escaped(exc, code) from exc

    def _evaluate_code(
        self, code: str | None, *, additional_context: Mapping[str, Any] | None = None
    ) -> bool:
        try:
            return super()._evaluate_code(code, additional_context=additional_context)
        except (Exception, KeyboardInterrupt):
            raise
        except BaseException as exc:
            raise escaped(exc, code) from exc


def _wait(seconds: Any, name: str) -> float:
    """*seconds* if it is a wait the session can keep: a finite number no larger than MAX_WAIT.

    ``after(inf)``, ``after(nan)`` or ``after(1e10)`` would make the session wait forever.
    """
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)):
        raise ConfigError(f"{name}() expects a number of seconds, got {seconds!r}")
    if not math.isfinite(seconds) or seconds > MAX_WAIT:
        raise ConfigError(
            f"{name}({seconds!r}): expected a finite number of seconds up to {MAX_WAIT:g}"
        )
    return float(seconds)


class EventlessLoop(SismicError):
    """The chart took MAX_EVENTLESS_STEPS macro steps without an external event."""

    def __init__(self, transitions: list[Transition]) -> None:
        super().__init__("eventless loop")
        self.transitions = transitions


class NonDeterminism(SismicError):
    """Two or more transitions were enabled at once: sismic refuses to choose, and so do we."""

    def __init__(self, transitions: list[Transition]) -> None:
        super().__init__("non-deterministic choice")
        self.transitions = transitions


class ChartInterpreter(TunedInterpreter):
    """The tuned sismic interpreter, keeping the transitions of a non-deterministic choice to name
    them.
    """

    def _sort_transitions(self, transitions: list[Transition]) -> list[Transition]:
        try:
            return super()._sort_transitions(transitions)
        except NonDeterminismError:
            raise NonDeterminism(transitions) from None


class CompiledChartInterpreter(CompiledInterpreter):
    """The compiled executor, naming the transitions of a non-deterministic choice as
    ChartInterpreter does.
    """

    def refuse(self, transitions: list[Transition]) -> None:
        raise NonDeterminism(transitions)


_STRUCTURE = ("ancestors_for", "descendants_for", "depth_for", "least_common_ancestor")


def memoize_structure(statechart: Statechart) -> Statechart:
    """Cache the structural queries sismic repeats on every step.

    A loaded chart never changes and sismic never mutates what these return,
    so each answer is computed once per chart instead of once per step.
    """
    if not getattr(statechart, "_perfchart_memoized", False):
        for name in _STRUCTURE:
            setattr(statechart, name, functools.cache(getattr(statechart, name)))
        statechart._perfchart_memoized = True
    return statechart


class Binding:
    """A filter session feeding one statechart event name (its *role*)."""

    def __init__(
        self,
        role: str,
        expression: str,
        attrs: Mapping[str, Any],
        deliver: Callable[..., None],
        timers: Timers,
        *,
        simulate: bool = True,
    ) -> None:
        self.role = role
        self.expression = expression
        self.attrs = dict(attrs)
        #: False for an event that cuts the policy short: a dry run makes it up only as a last
        #: resort.
        self.simulate = simulate
        #: Events this binding has delivered to the chart.
        self.delivered = 0
        #: ``delivered`` when the bus last held a channel back.
        self.counted = 0
        #: The class of the last event it delivered.
        self.last_class: type[Event] | None = None
        self.filter = EventFilter(expression)
        self.session = self.filter.start(None, self._matched, timers=timers)
        self._deliver = deliver

    def _matched(self, event: Event, notrace: bool) -> None:
        if type(event) is SimulatedEvent and event.role != self.role:
            return  # a dry run's answer to another role bound to the same filter
        self.delivered += 1
        self.last_class = type(event)
        self._deliver(self, event, notrace)


class PolicyRunner:
    """Runs one policy chart to its final state, one repetition at a time."""

    def __init__(
        self,
        chart: PolicyChart,
        config: Mapping[str, Any],
        *,
        cursor: Cursor,
        bus: EventBus,
        batch: ParameterBatch,
        clock: Clock,
        timers: Timers,
        definitions: Mapping[str, Any],
        seed: int,
        stale_timeout: float = 600.0,
        run_task: Callable[[str, Iterable[int]], None],
        check_classes: bool = True,
        done: Sequence[Mapping[str, Any]] = (),
        stop: Callable[[float], bool] | None = None,
    ) -> None:
        """*cursor* is where the policy's runs stand in the run ledger; a resumed session gives
        *done*,
        the parameters of this policy's runs in this repetition it already has."""
        self.chart = chart
        self.name = chart.name
        self.config = config
        self.cursor = cursor
        self.bus = bus
        self.batch = batch
        self.clock = clock
        self.timers = timers
        self.stale_timeout = stale_timeout
        self.bindings: list[Binding] = []
        #: Per event class, the bindings whose filter can select it: an event no binding can
        #: select (the runs' own bookkeeping, most of a dry run's events) reaches no filter.
        self._routes: dict[type[Event], tuple[Binding, ...]] = {}
        #: Reject bind() filters naming a class no event has (a test may bind its own event
        #: classes).
        self.check_classes = check_classes
        self.total: int | None = None
        #: Transitions taken so far (the dry-run simulator's progress mark).
        self.transitions = 0
        #: The policy's answers, by name (``policy.set_result``).
        self.results: dict[str, Any] = {}
        #: How many times the chart was sent ``stalled``.
        self.stalls = 0
        #: The transition count when ``stalled`` was last sent: unchanged a stale period later,
        #: the chart ignored it.
        self._stall_mark: int | None = None
        #: Asked between macro steps with the monotonic time the step began; True ends the step and
        #: the policy (a signal while the chart loops).
        self.stop = stop
        #: *stop* said so: the policy was ended between two macro steps.
        self.stopped = False
        self._run_task = run_task
        self._tasks: dict[str, int] = {}
        # The first step initialises the chart (its preamble and initial states).
        self._queued = True
        self.api = PolicyAPI(self)
        self._origins: dict[int, tuple[Any, Any]] = {}
        self.evaluator: DeadlineEvaluator
        #: Which engine runs the chart and why: ``compiled``, or ``sismic (…)``.
        self.engine = "sismic"
        self.interpreter = self._interpreter(
            {
                "config": config,
                "definitions": dict(definitions),
                "policy": self.api,
                **helpers(seed, config, definitions, self._origins, done),
            }
        )
        statechart = self.interpreter.statechart
        #: Where the chart went: entries per state and firings per transition (by position in the
        #: chart).
        self.entered: dict[str, int] = dict.fromkeys(statechart.states, 0)
        self.fired: list[int] = [0] * len(statechart.transitions)
        self._transition_index = {id(t): i for i, t in enumerate(statechart.transitions)}
        self._eventless = frozenset(t.source for t in statechart.transitions if t.event is None)
        #: When the chart last changed state; the stale timeout counts from here, and from its
        #: first step.
        self.last_change = clock.time
        self._started = False
        #: The bus event being shown to the bindings, so a match knows it was made as it arrived.
        self._handling: Event | None = None
        #: The transitions of the last macro steps of a step nearing the eventless bound, to name
        #: the loop; emptied at each step.
        self._recent: collections.deque[Transition] = collections.deque(maxlen=_RECENT)
        #: A binding was named as matching too much: said once per policy.
        self._crowded = False

    def _interpreter(
        self, context: Mapping[str, Any]
    ) -> ChartInterpreter | CompiledChartInterpreter:
        """The chart's interpreter on the session clock: its compiled table when the chart is in
        the compiled subset, else sismic; a failing preamble is reported at its line.
        """
        statechart = memoize_structure(self.chart.statechart())
        table, self.engine = engine_for(self.chart) if COMPILED else (None, "sismic")
        try:
            if table is not None:
                return CompiledChartInterpreter(
                    statechart,
                    table=table,
                    evaluator_klass=self._evaluator_for,
                    initial_context=context,
                    clock=self.clock,
                )
            return ChartInterpreter(
                statechart,
                evaluator_klass=self._evaluator_for,
                initial_context=context,
                clock=self.clock,
                ignore_contract=True,
            )
        except (CodeEvaluationError, SismicError) as exc:
            raise self._chart_error(exc) from None

    @property
    def repetition(self) -> int:
        return self.cursor.repetition

    @property
    def trace(self) -> int | None:
        """The trace of the latest run the chart started."""
        return self.cursor.trace

    @property
    def timed(self) -> bool:
        """A time guard failed at the last step: time passing alone may move the chart."""
        return self.evaluator.deadline is not None

    def _evaluator_for(
        self, interpreter: Interpreter | CompiledInterpreter, *, initial_context: Mapping[str, Any]
    ) -> DeadlineEvaluator:
        """Keep the evaluator before sismic runs the preamble, so a
        failing preamble can be located.
        """
        self.evaluator = DeadlineEvaluator(interpreter, initial_context=initial_context)
        return self.evaluator

    # -- what the chart asks of the runtime (through PolicyAPI) ---------------

    def bind(
        self,
        role: str,
        expression: str | Iterable[str],
        attrs: Mapping[str, Any],
        *,
        simulate: bool = True,
    ) -> None:
        expressions = [expression] if isinstance(expression, str) else list(expression)
        for text in expressions:
            if not isinstance(text, str) or not text.strip():
                raise self._config_error(
                    text, f"expected an event filter expression for {role!r}, got {text!r}"
                )
            if any(
                b.role == role and b.expression == text and b.attrs == attrs for b in self.bindings
            ):
                continue  # binding again in a state entered again changes nothing
            try:
                binding = Binding(role, text, attrs, self._matched, self.timers, simulate=simulate)
                if self.check_classes:
                    check_class_names(binding.filter.class_names)
            except (FilterSyntaxError, ConfigError) as exc:
                raise self._config_error(
                    text, exc.message if isinstance(exc, ConfigError) else str(exc)
                ) from None
            self.bindings.append(binding)
            self._routes.clear()

    def unbind(self, role: str) -> int:
        """Finalise and drop *role*'s bindings; return how many held matches (``:last``) that
        delivered.
        """
        flushed = 0
        for binding in [b for b in self.bindings if b.role == role]:
            before = binding.delivered
            binding.session.finalize()
            flushed += binding.delivered - before
            self.bindings.remove(binding)
            self._routes.clear()
        return flushed

    def start_task(self, task: str) -> None:
        self._tasks[task] = self._tasks.get(task, 0) + 1
        self._run_task(task, traces(self.trace))

    # -- events in -------------------------------------------------------------

    def handle(self, event: Event) -> None:
        """Every bus event passes here; only bound or owed ones reach sismic."""
        if type(event) is RunTaskCompletedEvent:
            pending = self._tasks.get(event.task, 0)
            if pending:
                self._tasks[event.task] = pending - 1
                self.send(
                    "task_completed",
                    task=event.task,
                    exitcodes=event.exitcodes,
                    traceids=event.traceids,
                )
            return
        route = self._routes.get(type(event))
        if route is None:
            route = self._routes[type(event)] = self._route(type(event))
        if not route:
            return
        self._handling = event
        for binding in route:
            binding.session.handle(event)
        self._handling = None

    def _route(self, cls: type[Event]) -> tuple[Binding, ...]:
        """The bindings an event of *cls* can concern: those whose filter selects the class, and
        every binding for a dry run's answer, which each filter session tells apart itself.
        """
        if cls is SimulatedEvent:
            return tuple(self.bindings)
        return tuple(binding for binding in self.bindings if binding.filter.selects(cls))

    def _matched(self, binding: Binding, event: Event, notrace: bool) -> None:
        # A match made as its event arrived happened when the event did; one a filter decided
        # later (``:after``, ``:last``) happens now.
        at = event.ts if event is self._handling and not notrace else None
        self.send(
            binding.role,
            source=event,
            traceids=event.traceids,
            notrace=notrace,
            _at=at,
            **binding.attrs,
        )

    def send(self, name: str, **data: Any) -> None:
        """Queue a statechart event; it is processed at the next ``step``."""
        data.setdefault("traceids", frozenset())
        data.setdefault("notrace", False)
        # sismic probes every queued event for a delay; a missing one costs an exception with a
        # repr.
        data.setdefault("delay", 0)
        self.interpreter.queue(ChartEvent(name, **data))
        self._queued = True

    # -- time and stepping -----------------------------------------------------

    @property
    def final(self) -> bool:
        return self.interpreter.final

    @property
    def has_work(self) -> bool:
        """An event is queued, or the chart has not been initialised yet."""
        return self._queued

    def due(self) -> bool:
        """A time guard that failed at the last step would pass now."""
        deadline = self.evaluator.deadline
        return deadline is not None and self.clock.time >= deadline

    def step(self) -> bool:
        """Run the chart until it is stable; True when anything happened.

        Bounded: *stop* is asked between macro steps (a signal acts while the
        chart loops), and MAX_EVENTLESS_STEPS macro steps in a row without an
        external event end the policy as a loop.
        """
        self._queued = False
        if not self._started:
            # Setup tasks may have run since the runner was built: staleness counts from the start.
            self._started = True
            self.last_change = self.clock.time
        moved = False
        eventless = 0
        recent = self._recent
        recent.clear()
        began = time.monotonic()
        while not self._stopping(began):
            self.evaluator.deadline = None
            try:
                macro = self.interpreter.execute_once()
            except (CodeEvaluationError, SismicError) as exc:
                raise self._chart_error(exc) from None
            self.batch.flush(_caused_at(macro))
            if macro is None:
                break
            moved = True
            self._count(macro)
            if log.isEnabledFor(logging.DEBUG):
                self._trace(macro)
            if macro.entered_states or macro.exited_states:
                self.last_change = self.clock.time
            eventless = self._bound(macro, eventless, recent)
            if not self._may_move():
                self.evaluator.deadline = None
                break
        if self.final:
            for binding in self.bindings:
                binding.session.finalize()
            self.bindings.clear()
            self._routes.clear()
        return moved

    def _bound(
        self, macro: MacroStep, eventless: int, recent: collections.deque[Transition]
    ) -> int:
        """Count *macro* towards the eventless bound (an external event starts over); past it, the
        loop is named from the transitions kept in *recent*.
        """
        event = macro.event
        if event is not None and not isinstance(event, InternalEvent):
            return 0
        eventless += 1
        if eventless > MAX_EVENTLESS_STEPS - _RECENT:
            recent.extend(m.transition for m in macro.steps if m.transition is not None)
        if eventless >= MAX_EVENTLESS_STEPS:
            raise self._loop_error(list(recent))
        return eventless

    def _stopping(self, began: float) -> bool:
        """Whether the session asked the chart to stop now (a signal while it loops)."""
        if self.stop is not None and self.stop(began):
            self.stopped = True
        return self.stopped

    def _count(self, macro: Any) -> None:
        """Record a macro step's entered states and transitions: a few additions per step, nothing
        that grows.
        """
        entered, fired, index = self.entered, self.fired, self._transition_index
        for micro in macro.steps:
            if micro.transition is not None:
                fired[index[id(micro.transition)]] += 1
                self.transitions += 1
            for name in micro.entered_states:
                entered[name] += 1

    def _trace(self, macro: MacroStep) -> None:
        """``-v``: what the chart received, which transitions it took, which states it left and
        entered.
        """
        event = macro.event
        if event is not None:
            source = getattr(event, "source", None)
            origin = f" ({type(source).__name__})" if source is not None else ""
            log.debug("%s: event %s%s", self.name, event.name, origin)
        for step in macro.steps:
            for state in step.exited_states:
                log.debug("%s: exit %s", self.name, state)
            if step.transition is not None:
                log.debug("%s: transition %s", self.name, describe_transition(step.transition))
            for state in step.entered_states:
                log.debug("%s: enter %s", self.name, state)

    def _may_move(self) -> bool:
        """Whether another macro step could do anything: a queued event or an eventless transition.

        Asking sismic costs a full transition selection; most steps end in a
        state that only waits for events, where the answer is known.
        """
        interpreter = self.interpreter
        return bool(
            interpreter._internal_queue or interpreter._external_queue
        ) or not self._eventless.isdisjoint(interpreter._configuration)

    def waiting(self) -> str:
        """What the chart waits in now: its active states, the roles it listens for and for how
        long.

        Read by the progress line from its own thread, so it only reads, and copies first.
        """
        leaves = self._leaves()
        roles: dict[str, list[str]] = {}
        for binding in list(self.bindings):
            roles.setdefault(binding.role, []).append(binding.expression)
        listening = (
            "; ".join(f"{role}: {' | '.join(filters)}" for role, filters in roles.items())
            or "no bound events"
        )
        waited = max(0.0, self.clock.time - self.last_change)
        return (
            f"in {', '.join(leaves)}, waiting for {listening} "
            f"({waited:.0f}s of {self.stale_timeout:.0f}s before stalled)"
        )

    def _leaves(self) -> list[str]:
        """The active states that have no active child: where the chart sits."""
        configuration = list(self.interpreter.configuration)
        statechart = self.interpreter.statechart
        return [
            name
            for name in configuration
            if not any(child in configuration for child in statechart.children_for(name))
        ]

    def deadline(self) -> float | None:
        """The earliest time at which the chart could move without any event."""
        if self.final:
            return None
        stale = self.last_change + self.stale_timeout
        due = self.evaluator.deadline
        return stale if due is None else min(due, stale)

    def check_stale(self) -> None:
        """Send ``stalled`` when the chart has not changed state for the stale timeout.

        A chart that took no transition in the stale period after the last
        ``stalled`` ignores it and would wait forever: that ends the policy.
        """
        if (
            self._started
            and not self.final
            and self.clock.time >= self.last_change + self.stale_timeout
        ):
            if self._stall_mark == self.transitions:
                raise self._ignored_stall()
            log.warning(
                "%s: no state change for %gs, sending stalled", self.name, self.stale_timeout
            )
            self.last_change = self.clock.time
            self.stalls += 1
            self._stall_mark = self.transitions
            self.bus.publish(StalledEvent(traceids=traces(self.trace), policy=self.name))
            self.send("stalled")

    def check_crowded(self) -> None:
        """The bus held a channel back: name, once, the binding that fed the chart most since the
        last time, when it fed it more than ``CROWDING`` events.

        Each event a binding matches costs a chart step; a binding of a broad
        class (``Event``, every ``LogLineEvent``) paces the command's output to
        the chart's steps.
        """
        counts = [(b.delivered - b.counted, i) for i, b in enumerate(self.bindings)]
        for binding in self.bindings:
            binding.counted = binding.delivered
        if self._crowded or not counts:
            return
        count, index = max(counts)
        if count < CROWDING:
            return
        self._crowded = True
        binding = self.bindings[index]
        kind = binding.last_class.__name__ if binding.last_class is not None else "?"
        message = (
            f"the binding {binding.role!r} ({binding.expression}) matches too many events: "
            f"{count} {kind} events reached the chart faster than it steps, so the channel is held "
            "back (back-pressure) until the chart catches up; bind a narrower filter"
        )
        located = self._config_error(binding.expression, message)
        if located.file is None:
            located = ConfigError(message, file=str(self.chart.path))
        log.warning("%s", located)

    # -- errors ----------------------------------------------------------------

    def _config_error(self, value: Any, message: str) -> ConfigError:
        """Point at the policy config entry that holds *value*; a literal in the chart is located
        later.
        """
        return error_at(self.config, value, message) or ConfigError(message)

    def _chart_error(self, exc: Exception) -> PerfchartError:
        """The chart's file and line, state or transition, exception type and the line of code that
        failed.
        """
        if isinstance(exc, NonDeterminism):
            return self._nondeterminism(exc.transitions)
        cause: BaseException = exc
        while isinstance(cause, CodeEvaluationError) and cause.__cause__ is not None:
            cause = cause.__cause__
        if isinstance(cause, PerfchartError) and getattr(cause, "file", None):
            return cause
        if cause is exc and not isinstance(exc, CodeEvaluationError):
            return ConfigError(f"invalid statechart: {exc}", file=str(self.chart.path))
        kind, obj = _running(exc)
        block, key, place = block_of(self.chart.source(), self.chart.statechart(), kind, obj)
        line, code = (
            self.chart.source().code_line(block, key, code_offset(cause))
            if block is not None
            else (None, "")
        )
        what = (
            cause.message
            if isinstance(cause, ConfigError)
            else f"{type(cause).__name__}: {cause}"
            if str(cause)
            else type(cause).__name__
        )
        origin = self._config_origin(code)
        return ConfigError(
            f"{what} in `{code}`{origin}", file=str(self.chart.path), line=line, key=place
        )

    def _ignored_stall(self) -> ConfigError:
        """The policy sat in its states through two stale periods and did nothing with
        ``stalled``.
        """
        leaves = self._leaves()
        state = self.chart.source().state(leaves[0]) if leaves else None
        return ConfigError(
            f"the policy ignores stalled: in {', '.join(leaves)} with no transition for "
            f"{2 * self.stale_timeout:g}s, {self.stale_timeout:g}s of them after stalled was "
            "sent; give the state a transition on stalled",
            file=str(self.chart.path),
            line=state.line if state is not None else None,
        )

    def _loop_error(self, transitions: list[Transition]) -> ConfigError:
        """Name the loop: the transitions since the last one was taken before, at their lines."""
        loop = transitions
        if transitions:
            last = transitions[-1]
            earlier = [i for i, t in enumerate(transitions[:-1]) if t is last]
            if earlier:
                loop = transitions[earlier[-1] + 1 :]
        source = self.chart.source()
        entries = [source.transition(self.chart.statechart(), t) for t in loop]
        lines = sorted({e.line for e in entries if e is not None and e.line is not None})
        states = [t.source for t in loop] + [loop[-1].target or loop[-1].source] if loop else []
        return ConfigError(
            f"the chart loops without an event: {' -> '.join(states) or '?'} took "
            f"{MAX_EVENTLESS_STEPS} macro steps in a row with no external event "
            f"(transitions at line{'s' if len(lines) != 1 else ''} "
            f"{', '.join(map(str, lines)) or '?'}); give the loop a guard or an event",
            file=str(self.chart.path),
            line=lines[0] if lines else None,
        )

    def _config_origin(self, code: str) -> str:
        """Name the config entry behind a value the failing line uses, when one is behind it."""
        for name in _names(code):
            value = self.evaluator.context.get(name)
            origin = config_origin(self.config, value, self._origins)
            if origin is not None:
                return f"; {name} comes from {origin}"
        return ""

    def _nondeterminism(self, transitions: list[Transition]) -> ConfigError:
        source = self.chart.source()
        named = []
        for transition in transitions:
            entry = source.transition(self.chart.statechart(), transition)
            line = entry.line if entry is not None else None
            named.append(f"{describe_transition(transition)} (line {line})")
        first = source.transition(self.chart.statechart(), transitions[0])
        return ConfigError(
            f"non-deterministic choice: {' and '.join(named)} are enabled at once; make their "
            "guards exclusive",
            file=str(self.chart.path),
            line=first.line if first is not None else None,
        )


#: sismic's evaluator methods that run chart code, and the kind of code each runs.
_CODE_RUNNERS = {
    "execute_statechart": "preamble",
    "evaluate_guard": "guard",
    "execute_action": "action",
    "execute_on_entry": "on entry",
    "execute_on_exit": "on exit",
}


def _running(exc: BaseException) -> tuple[str, Any]:
    """The kind of chart code that raised *exc*, and its transition or state, read from sismic's
    frames.

    Found after the fact, so running chart code costs nothing extra.
    """
    found: tuple[str, Any] = ("preamble", None)
    tb = exc.__traceback__
    while tb is not None:
        kind = _CODE_RUNNERS.get(tb.tb_frame.f_code.co_name)
        if kind is not None:
            local = tb.tb_frame.f_locals
            found = (kind, local.get("transition", local.get("state")))
        tb = tb.tb_next
    return found


def _names(code: str) -> list[str]:
    """The plain names a line of code reads, in order."""
    import re

    return list(dict.fromkeys(re.findall(r"(?<![.\w])[A-Za-z_]\w*", code)))


def _caused_at(macro: MacroStep | None) -> float | None:
    """When the bus event this step answered happened, if its filter matched it as it arrived and
    it is one of the run's own (a ``:notrace`` match may come from before the run); None for a
    step no such event caused.
    """
    event = macro.event if macro is not None else None
    return None if event is None else event.data.get("_at")
