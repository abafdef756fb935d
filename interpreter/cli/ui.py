"""The terminal side of a session: a progress bar with ETA, a dry run's plan, a summary.

Everything goes to stderr through one rich console, except the dry-run
plan, which is the command's output and goes to stdout: a line per run as
it closes, with its start (from the first run) and duration on the
simulated clock, and its parameters.

A run costs the display next to nothing: closing one bumps a counter and
keeps its plan line in a batch. The bar reads the counters when rich
redraws it, a few times a second and once more when it stops, so the
last drawing shows the true totals.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    RenderableType,
    Task,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table
from rich.text import Text

from ..engine import PolicyRunner, Summary
from ..errors import shorten
from ..metrics import SummaryView

#: Not-OK runs listed under the summary; the rest are in the results files.
SHOW_NOT_OK = 5
#: Characters of a run's last stderr line shown in the summary; output.log has it whole.
SHOWN_STDERR = 200
#: Redraws of the progress bar per second: often enough for a live count and ETA.
REFRESHES_PER_SECOND = 4
#: Plan lines kept before they are written: one write per batch, not one per run.
PLAN_BATCH = 256


def format_parameters(parameters: dict[str, Any]) -> str:
    return shorten(" ".join(f"{name}={value}" for name, value in parameters.items()), SHOWN_STDERR)


class ConsoleUI:
    """What a run that is not quiet shows; a quiet run has none (-q)."""

    def __init__(self, console: Console, *, plan: TextIO | None = None) -> None:
        self.console = console
        self.plan = plan
        self._progress: Progress | None = None
        self._task: TaskID | None = None
        #: What the bar shows, kept as plain values: the bar copies them when it redraws.
        self.closed = 0
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

    def session_started(self, total: int | None) -> None:
        self._progress = CountingProgress(
            self,
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            TextColumn("{task.fields[parameters]}", style="dim"),
            WaitingColumn(self),
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
        except BrokenPipeError:
            self.plan = None
            silence_stdout()
        self._plan_lines.clear()

    def run_opened(self, record: dict[str, Any]) -> None:
        if self._origin is None:
            self._origin = record["start"]
        self._parameters = record["parameters"]

    def run_closed(self, record: dict[str, Any]) -> None:
        if self.plan is not None:
            # Made as each run closes, so the line carries its (simulated) start and duration.
            at = _clock(
                record["start"] - (self._origin if self._origin is not None else record["start"])
            )
            self._plan_lines.append(
                f"{record['index']:>6}  {record['policy']}  {at:>9}  "
                f"{_seconds(record['duration']):>9}  {format_parameters(record['parameters'])}\n"
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
        table = Table(
            title=f"{summary.runs} runs, {summary.ok} OK, {summary.failed} not OK ({status})",
            title_justify="left",
        )
        table.add_column("status")
        table.add_column("runs", justify="right")
        table.add_column("min", justify="right")
        table.add_column("mean", justify="right")
        table.add_column("max", justify="right")
        for name, stats in sorted(summary.by_status.items()):
            style = "green" if name.upper() == "OK" else "red"
            table.add_row(
                f"[{style}]{name}[/]",
                str(stats.count),
                _seconds(stats.low),
                _seconds(stats.mean),
                _seconds(stats.high),
            )
        if summary.runs:
            self.console.print(table)
        for record in self._not_ok:
            why = (
                f": {shorten(record['last_stderr'], SHOWN_STDERR)}"
                if record.get("last_stderr")
                else ""
            )
            self.console.print(
                f"  not OK: run {record['index']} ({record['status']}) "
                f"{format_parameters(record['parameters'])}{why}",
                markup=False,
            )
        if summary.failed > len(self._not_ok):
            self.console.print(f"  ... and {summary.failed - len(self._not_ok)} more in runs.jsonl")
        for name, runner in self._policies.items():
            for key, value in runner.results.items():
                self.console.print(f"{name}: {key} = {value!r}", markup=False)
        if self._summary is not None and self._summary.count:
            self._print_summary(self._summary, results)
        self.console.print(f"results: {results}")

    def _print_summary(self, summary: SummaryView, results: Path) -> None:
        """The metrics per parameter set, their percentiles when any metric has some, the noise."""
        self.console.print(metrics_table(summary, results))
        percentiles = percentiles_table(summary)
        if percentiles is not None:
            self.console.print(percentiles)
        for line in noise_lines(summary, results):
            self.console.print(line, markup=False, style="yellow")


class CountingProgress(Progress):
    """A rich progress display that brings its task up to date from the UI's counters before it
    draws.
    """

    def __init__(self, ui: ConsoleUI, *columns: str | ProgressColumn, **options: Any) -> None:
        self.ui = ui  # first: rich may draw while it sets itself up
        super().__init__(*columns, **options)

    def get_renderables(self) -> Iterable[RenderableType]:
        self.ui.sync()
        yield from super().get_renderables()


class WaitingColumn(ProgressColumn):
    """The active state, the roles the chart waits for with their filters, and how long it has
    waited.
    """

    def __init__(self, ui: ConsoleUI) -> None:
        super().__init__()
        self.ui = ui

    def render(self, task: Task) -> Text:
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


def metrics_table(summary: SummaryView, results: Path) -> Table:
    """One row per parameter set: mean ± σ and min … max of each metric, like hyperfine.

    Past the first and last few sets, the middle ones are left to summary.csv.
    """
    shown = summary.varied or summary.parameter_names
    table = Table(title="metrics per parameter set: mean ± σ, min … max", title_justify="left")
    table.add_column("parameters", no_wrap=True)
    table.add_column("runs", justify="right")
    for spec in summary.metrics:
        units = f" ({spec.units})" if spec.units else ""
        table.add_column(f"{spec.name}{units}", justify="right")
    groups = summary.head + summary.tail
    skipped = summary.count - len(groups)
    for position, group in enumerate(groups):
        if skipped and position == len(summary.head):
            table.add_row(
                f"… {skipped} more in {results / 'summary.csv'}",
                "",
                *([""] * len(summary.metrics)),
                style="dim",
            )
        cells = [
            format_parameters({name: group.parameters.get(name) for name in shown}),
            str(group.runs),
        ]
        for spec in summary.metrics:
            acc = group.accumulators[spec.name]
            show = _seconds if spec.units == "s" else _number
            if not acc.count:
                cells.append("-")
                continue
            spread = f" ± {show(acc.stddev)}" if acc.stddev is not None else ""
            cells.append(f"{show(acc.mean)}{spread}\n{show(acc.low)} … {show(acc.high)}")
        table.add_row(*cells)
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
