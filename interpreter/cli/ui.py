"""The terminal side of a session: a progress line with ETA, a dry run's plan, a summary.

Progress and logs go to stderr through one rich console; the summary is the
command's output and goes to stdout, except in a dry run, whose output is
the plan: a line per run as it closes, with its start (from the first run)
and duration on the simulated clock, and its parameters. The progress line
is one row of the terminal's width whatever it holds: what does not fit of
the parameters and of the chart's wait is cut with "…" (``-v`` shows the
wait whole on a line of its own). The summary is laid out to the width too,
with each number whole. Without a terminal (CI), :class:`LogUI` writes a
plain line per run instead, at most one every few seconds.

A run costs the display next to nothing: closing one bumps a counter and
keeps its plan line in a batch. The bar reads the counters when rich
redraws it, a few times a second and once more when it stops, so the
last drawing shows the true totals.
"""

from __future__ import annotations

import io
import logging
import os
import sys
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any, TextIO

from rich import box
from rich.cells import cell_len
from rich.console import Console, ConsoleOptions, RenderResult
from rich.progress import (
    Progress,
    ProgressColumn,
    RenderableType,
    Task,
    TaskID,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.progress_bar import ProgressBar
from rich.table import Table
from rich.text import Text

from ..engine import PolicyRunner, Summary
from ..errors import shorten
from ..metrics import SummaryView
from .digest import export, format_parameters, lines, markdown, relative, title
from .numbers import Scale

#: Not-OK runs listed under the summary; the rest are in the results files.
SHOW_NOT_OK = 5
#: Characters of a run's last stderr line shown in the summary; output.log has it whole.
SHOWN_STDERR = 200
#: Redraws of the progress bar per second: often enough for a live count and ETA.
REFRESHES_PER_SECOND = 4
#: Plan lines kept before they are written: one write per batch, not one per run.
PLAN_BATCH = 256


class ConsoleUI:
    """What a run that is not quiet shows on a terminal; a quiet run has :class:`QuietUI` (-q).

    *out* gets the summary (default: *console*); *verbose* adds the chart's
    whole wait on a line under the progress line; *markdown_file* gets the
    summary as Markdown (``--export-markdown``).
    """

    def __init__(
        self,
        console: Console,
        *,
        plan: TextIO | None = None,
        out: Console | None = None,
        verbose: bool = False,
        markdown_file: Path | None = None,
    ) -> None:
        self.console = console
        self.out = out if out is not None else console
        self.plan = plan
        self.verbose = verbose
        self.markdown_file = markdown_file
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        #: What the bar shows, kept as plain values: the bar copies them when it redraws.
        self.closed = 0
        self.total: int | None = None
        self._description = "runs"
        self._parameters: dict[str, Any] | None = None
        self._plan_lines: list[str] = []
        self._not_ok: list[dict[str, Any]] = []
        #: Session-clock time the first run started: the plan's time zero.
        self._origin: float | None = None
        #: The policy running now, whose wait the progress line shows.
        self.runner: PolicyRunner | None = None
        self._policies: dict[str, PolicyRunner] = {}
        self._summary: SummaryView | None = None
        #: The plan's start offsets and durations as text: a dry run's runs mostly share them.
        self._at, self._took = _LastText(_clock), _LastText(_seconds)

    def session_started(self, total: int | None) -> None:
        self.total = total
        self._progress = CountingProgress(
            self,
            console=self.console,
            transient=True,
            refresh_per_second=REFRESHES_PER_SECOND,
        )
        self._task = self._progress.add_task(self._description, total=total, parameters="")
        self._progress.start()

    def sync(self) -> None:
        """Copy the counters into the bar; the bar calls this
        before each drawing, so runs need not.
        """
        if self._progress is None or self._task is None:
            return
        parameters = format_parameters(self._parameters) if self._parameters is not None else ""
        self._progress.update(
            self._task, completed=self.closed, description=self._description, parameters=parameters
        )

    def policy_started(self, runner: PolicyRunner) -> None:
        self.runner = runner
        self._policies[runner.name] = runner
        self._description = f"{runner.name} #{runner.repetition}"

    def _write_plan(self, flush: bool = False) -> None:
        """Write the kept plan lines; a reader that went away (``| head``) ends the plan, not the
        run.
        """
        if self.plan is None:
            return
        try:
            self.plan.write("".join(self._plan_lines))
            if flush:
                self.plan.flush()
        except OSError as exc:
            # Gone (``| head``) or failing (``> /dev/full``): the plan ends, the runs go on.
            self.plan = None
            silence_stdout()
            if not isinstance(exc, BrokenPipeError):
                logging.getLogger("perfchart").warning(
                    "cannot write the plan to standard output: %s; the runs go on",
                    exc.strerror or exc,
                )
        self._plan_lines.clear()

    def run_opened(self, record: dict[str, Any]) -> None:
        if self._origin is None:
            self._origin = record["start"]
        self._parameters = record["parameters"]

    def run_closed(self, record: dict[str, Any]) -> None:
        if self.plan is not None:
            # Made as each run closes, so the line carries its (simulated) start and duration.
            at = self._at(
                record["start"] - (self._origin if self._origin is not None else record["start"])
            )
            self._plan_lines.append(
                f"{record['index']:>6}  {record['policy']}  {at:>9}  "
                f"{self._took(record['duration']):>9}  {format_parameters(record['parameters'])}\n"
            )
            if len(self._plan_lines) >= PLAN_BATCH:
                self._write_plan()
        if not record["ok"] and len(self._not_ok) < SHOW_NOT_OK:
            self._not_ok.append(record)
        self.closed += 1

    def summarized(self, summary: SummaryView) -> None:
        self._summary = summary

    def session_finished(self, summary: Summary, results: Path, status: str) -> None:
        if self._progress is not None:
            self._progress.stop()  # its last drawing shows the final counts
            self._progress = None
        self._write_plan(flush=True)
        out = self.out
        if summary.runs:
            out.print(status_table(summary, status))
        for record in self._not_ok:
            why = (
                f": {shorten(record['last_stderr'], SHOWN_STDERR)}"
                if record.get("last_stderr")
                else ""
            )
            out.print(
                f"  not OK: run {record['index']} ({record['status']}) "
                f"{format_parameters(record['parameters'])}{why}",
                markup=False,
            )
        if summary.failed > len(self._not_ok):
            out.print(f"  ... and {summary.failed - len(self._not_ok)} more in runs.jsonl")
        for name, runner in self._policies.items():
            for key, value in runner.results.items():
                out.print(f"{name}: {key} = {value!r}", markup=False)
        if self._summary is not None and self._summary.count:
            self._print_metrics(self._summary, results)
        if self.markdown_file is not None or os.environ.get("GITHUB_STEP_SUMMARY"):
            export(
                markdown(summary, self._summary, status, results, self._policies),
                self.markdown_file,
            )
        self.console.print(f"results: {results}", markup=False, highlight=False)

    def _print_metrics(self, summary: SummaryView, results: Path) -> None:
        """The table per parameter set, its noise warnings and the relative summary."""
        out = self.out
        out.print(metrics_table(summary, results, out.width))
        percentiles = percentiles_table(summary)
        if percentiles is not None:
            out.print(percentiles)
        for line in noise_lines(summary, results):
            out.print(line, markup=False, style="yellow")
        found = relative(summary)
        if found is not None:
            first, second = found.sentences()
            out.print(f"[bold]Summary[/] ({found.metric})\n  {first}\n    {second}")


class LogUI(ConsoleUI):
    """Progress for a log (CI, a pipe): a plain line per closed run, at most one every *interval*
    seconds, with the run, its status, its duration and the counts so far.

    Nothing redraws; the summary and the results directory come at the end as on a terminal. A
    dry run's plan is its line per run, so it has no other.
    """

    def __init__(self, console: Console, *, interval: float = 5.0, **options: Any) -> None:
        super().__init__(console, **options)
        self.interval = interval
        self._last_line: float | None = None
        self._started = time.monotonic()

    def session_started(self, total: int | None) -> None:
        self.total = total
        self._started = time.monotonic()

    def run_closed(self, record: dict[str, Any]) -> None:
        super().run_closed(record)
        now = time.monotonic()
        if self.plan is not None:
            return  # a dry run's plan on stdout is its line per run
        if self._last_line is not None and now - self._last_line < self.interval:
            return
        self._last_line = now
        of = f"/{self.total}" if self.total is not None else ""
        self.console.print(
            f"[{self.closed}{of}] {self._description}: run {record['index']} "
            f"{record.get('status') or ('OK' if record['ok'] else 'not OK')} in "
            f"{_seconds(record['duration'])}, {format_parameters(record['parameters'])} "
            f"({_clock(now - self._started)[1:].split('.')[0]} elapsed)",
            markup=False,
            highlight=False,
            soft_wrap=True,
        )


class CountingProgress(Progress):
    """A rich progress display that brings its task up to date from the UI's counters before it
    draws, and draws it as one :class:`ProgressLine` of the terminal's width.
    """

    def __init__(self, ui: ConsoleUI, **options: Any) -> None:
        self.ui = ui  # first: rich may draw while it sets itself up
        super().__init__(**options)

    def get_renderables(self) -> Iterable[RenderableType]:
        self.ui.sync()
        for task in self.tasks:
            yield ProgressLine(self.ui, task)
        if self.ui.verbose:
            waiting = WaitingColumn(self.ui).render(None)
            if waiting.plain:
                yield waiting


class ProgressLine:
    """``name #1 ━━━━╺──── 16/18 0:00:03 ETA 0:00:01 size=65536 in Wait, waiting for …``: one row.

    The counts and times are always whole; the bar takes what is left up to
    a third of the row, and the parameters and the chart's wait the rest, cut
    with "…".
    """

    def __init__(self, ui: ConsoleUI, task: Task) -> None:
        self.ui, self.task = ui, task

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        task, width = self.task, options.max_width
        counts = f"{int(task.completed)}/{int(task.total)}" if task.total else f"{task.completed:g}"
        elapsed = TimeElapsedColumn().render(task)
        remaining = TimeRemainingColumn().render(task)
        fixed = [Text(counts), elapsed, Text("ETA"), remaining]
        used = sum(part.cell_len for part in fixed) + len(fixed)
        name = Text(str(task.description), style="bold")
        name.truncate(max(8, width // 3), overflow="ellipsis")
        used += name.cell_len
        bar = max(5, min(40, (width - used) // 3))
        rest = width - used - bar - 2
        grid = Table.grid(padding=(0, 1))
        grid.add_column(width=name.cell_len, no_wrap=True)
        grid.add_column(width=bar, no_wrap=True)
        for part in fixed:
            grid.add_column(width=part.cell_len, no_wrap=True)
        tail = Text(str(task.fields.get("parameters", "")), style="dim")
        waiting = WaitingColumn(self.ui).render(task)
        if waiting.plain:
            tail.append(" ")
            tail.append_text(waiting)
        cells: list[RenderableType] = [name, ProgressBar(task.total, task.completed, width=bar)]
        cells += fixed
        if rest >= 2 and tail.plain:
            tail.truncate(rest, overflow="ellipsis")
            grid.add_column(width=rest, no_wrap=True, overflow="ellipsis")
            cells.append(tail)
        grid.add_row(*cells)
        yield grid


class WaitingColumn(ProgressColumn):
    """The active state, the roles the chart waits for with their filters, and how long it has
    waited.
    """

    def __init__(self, ui: ConsoleUI) -> None:
        super().__init__()
        self.ui = ui

    def render(self, task: Task | None) -> Text:
        runner = self.ui.runner
        if runner is None or runner.final:
            return Text("")
        try:
            return Text(runner.waiting(), style="cyan")
        except (
            RuntimeError,
            KeyError,
        ):  # the chart moved while this thread read it; the next refresh shows it
            return Text("")


def status_table(summary: Summary, status: str) -> Table:
    """The runs per status with their durations, under the session's counts."""
    table = Table(title=title(summary, status), title_justify="left", box=box.SIMPLE_HEAD)
    table.add_column("status", no_wrap=True)
    for name in ("runs", "min", "mean", "max"):
        table.add_column(name, justify="right", no_wrap=True)
    for name, stats in sorted(summary.by_status.items()):
        style = "green" if name.upper() == "OK" else "red"
        scale = Scale.of(stats.mean, "s")  # one unit and precision per row
        table.add_row(
            f"[{style}]{name}[/]",
            str(stats.count),
            scale.quantity(stats.low),
            scale.quantity(stats.mean),
            scale.quantity(stats.high),
        )
    return table


def metrics_table(summary: SummaryView, results: Path, width: int = 80) -> Table:
    """One row per parameter set and metric: mean ± σ and min … max, like hyperfine, laid out to
    *width*.

    The widest layout that fits is used: ``mean ± σ`` and ``min … max`` side
    by side, else ``min … max`` on a second line, else the parameters on a
    row of their own above their metrics. Numbers are never cut. Past the
    first and last few sets, the middle ones are left to summary.csv.
    """
    for layout in ("wide", "stacked", "parameters apart"):
        table = _metrics_table(summary, results, layout)
        if drawn_width(table) <= width:
            return table
    return table


def drawn_width(table: Table) -> int:
    """The widest row *table* draws with all the room it wants: what a terminal must hold."""
    drawn = io.StringIO()
    Console(width=10_000, file=drawn, color_system=None).print(table)
    return max((cell_len(row.rstrip()) for row in drawn.getvalue().splitlines()), default=0)


def _metrics_table(summary: SummaryView, results: Path, layout: str) -> Table:
    table = Table(
        title="metrics per parameter set: mean ± σ, min … max",
        title_justify="left",
        box=box.SIMPLE_HEAD,
    )
    apart = layout == "parameters apart"
    if not apart:
        table.add_column("parameters", no_wrap=True)
        table.add_column("runs", justify="right", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("mean ± σ" if layout == "wide" else "mean ± σ\nmin … max", justify="right")
    if layout == "wide":
        table.add_column("min … max", justify="right", no_wrap=True)
    units = {spec.name: spec.units for spec in summary.metrics}
    for line in lines(summary):
        if isinstance(line, int):
            table.add_row(
                *([""] * (0 if apart else 2)),
                f"… {line} more in {results / 'summary.csv'}",
                style="dim",
            )
            continue
        if apart:
            table.add_row(f"[bold]{line.parameters}[/] ({line.runs} runs)", end_section=False)
        for position, (name, cell) in enumerate(line.cells.items()):
            label = f"{name} ({units[name]})" if units[name] and cell.mean == "-" else name
            lead = [] if apart else [line.parameters, str(line.runs)] if not position else ["", ""]
            if layout == "wide":
                table.add_row(*lead, label, cell.mean, cell.range)
            else:
                table.add_row(
                    *lead, label, f"{cell.mean}\n{cell.range}" if cell.range else cell.mean
                )
        table.rows[-1].end_section = True
    return table


def percentiles_table(summary: SummaryView) -> Table | None:
    """One row per parameter set and metric that summarizes percentiles (a latency): those
    percentiles and the max, or None when no metric does.
    """
    wanted = {
        spec.name: [s for s in spec.summarize if s.kind == "percentile" or s.name == "max"]
        for spec in summary.metrics
        if any(s.kind == "percentile" for s in spec.summarize)
    }
    if not wanted:
        return None
    columns = list(dict.fromkeys(s.name for stats in wanted.values() for s in stats))
    shown = summary.varied or summary.parameter_names
    table = Table(title="percentiles per parameter set", title_justify="left")
    table.add_column("parameters", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    for column in columns:
        table.add_column(column, justify="right")
    units = {spec.name: spec.units for spec in summary.metrics}
    for group in summary.head + summary.tail:
        where = format_parameters({name: group.parameters.get(name) for name in shown})
        for name, stats in wanted.items():
            got = group.accumulators[name].result(stats)
            cells = ["-" if got.get(column) is None else _number(got[column]) for column in columns]
            label = f"{name} ({units[name]})" if units[name] else name
            table.add_row(where, label, *cells)
    return table


def noise_lines(summary: SummaryView, results: Path) -> list[str]:
    """The noise warnings of the first parameter sets that have any, and how many more there are."""
    shown = summary.varied or summary.parameter_names
    lines = []
    for group in summary.noisy:
        where = format_parameters({name: group.parameters.get(name) for name in shown})
        lines += [f"warning: {where}: {warning}" for warning in group.warnings]
    more = summary.noisy_count - len(summary.noisy)
    if more:
        lines.append(
            f"warning: … {more} more parameter sets with warnings in {results / 'summary.json'}"
        )
    return lines


class _LastText:
    """A number's text by *function*, the last one kept: a run's plan line costs a comparison where
    it repeats the line before's time (a dry run's simulated clock often stands still)."""

    def __init__(self, function: Callable[[float], str]) -> None:
        self.function = function
        self.value: float | None = None
        self.text = ""

    def __call__(self, value: float) -> str:
        last = self.value
        # 0.0 and -0.0 are equal but written apart; any other two equal floats are one value.
        if last is None or value != last or (not value and str(value) != str(last)):
            self.value, self.text = value, self.function(value)
        return self.text


def _number(value: float) -> str:
    return f"{value:.4g}" if abs(value) < 1e6 else f"{value:.3e}"


def _seconds(value: float) -> str:
    if value in (float("inf"), float("-inf")):
        return "-"
    return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"


def _clock(seconds: float) -> str:
    """An offset from the first run as ``+H:MM:SS`` (with milliseconds when it has any)."""
    whole, fraction = divmod(round(seconds, 3), 1)
    minutes, secs = divmod(int(whole), 60)
    hours, minutes = divmod(minutes, 60)
    text = f"+{hours}:{minutes:02}:{secs:02}"
    return text + f".{round(fraction * 1000):03}" if fraction else text


def silence_stdout() -> None:
    """Point standard output at /dev/null once its reader is gone, so the final flush at exit cannot
    fail.
    """
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, sys.stdout.fileno())
    finally:
        os.close(devnull)
