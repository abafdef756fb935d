"""A finished session in a few lines, for every way of looking at it: the terminal's tables, a
Markdown file (``--export-markdown``, GitHub's job summary) and a quiet run's last line.

Nothing here imports rich, so a quiet run (``-q``) still starts without it.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from ..errors import shorten
from .numbers import Scale, mean_sd, span

if TYPE_CHECKING:
    from ..engine import PolicyRunner, Summary
    from ..metrics import SummaryView

#: Characters of a parameter set written in a summary line.
SHOWN_PARAMETERS = 200
#: The metric every run has; the relative summary compares parameter sets by it, as hyperfine does.
DURATION = "duration"


def format_parameters(parameters: dict[str, Any]) -> str:
    return shorten(
        " ".join(f"{name}={value}" for name, value in parameters.items()), SHOWN_PARAMETERS
    )


class Cell(NamedTuple):
    """One metric of one parameter set: ``mean ± σ`` and ``min … max``, or ``-`` without values."""

    mean: str
    range: str


class Line(NamedTuple):
    parameters: str
    runs: int
    cells: dict[str, Cell]


def lines(view: SummaryView) -> Iterator[Line | int]:
    """The shown parameter sets, with the count of those left out between the head and the tail
    (an int) where they would be.
    """
    shown = view.varied or view.parameter_names
    groups = view.head + view.tail
    skipped = view.count - len(groups)
    for position, group in enumerate(groups):
        if skipped and position == len(view.head):
            yield skipped
        cells = {}
        for spec in view.metrics:
            acc = group.accumulators[spec.name]
            if not acc.count:
                cells[spec.name] = Cell("-", "")
                continue
            cells[spec.name] = Cell(
                mean_sd(acc.mean, acc.stddev, spec.units),
                span(acc.mean, acc.low, acc.high, spec.units),
            )
        yield Line(
            format_parameters({name: group.parameters.get(name) for name in shown}),
            group.runs,
            cells,
        )


class Relative(NamedTuple):
    """hyperfine's summary: the fastest parameter set, and how many times faster than the slowest
    it ran.
    """

    fastest: str
    slowest: str
    ratio: float
    sd: float | None
    metric: str

    def sentences(self, quote: str = "") -> tuple[str, str]:
        """hyperfine's two lines, the parameter sets between *quote* marks."""
        spread = f" ± {self.sd:.2f}" if self.sd is not None else ""
        return (
            f"{quote}{self.fastest}{quote} ran",
            f"{self.ratio:.2f}{spread} times faster than {quote}{self.slowest}{quote}",
        )


def relative(view: SummaryView) -> Relative | None:
    """The fastest and slowest parameter sets by mean duration; None with fewer than two sets, or
    when the terminal was not shown all of them (summary.csv has the rest).
    """
    groups = view.head + view.tail
    if view.count != len(groups) or not any(m.name == DURATION for m in view.metrics):
        return None
    timed = [g for g in groups if g.accumulators[DURATION].count and g.accumulators[DURATION].mean]
    if len(timed) < 2:
        return None
    fast = min(timed, key=lambda g: g.accumulators[DURATION].mean)
    slow = max(timed, key=lambda g: g.accumulators[DURATION].mean)
    if fast is slow:
        return None
    f, s = fast.accumulators[DURATION], slow.accumulators[DURATION]
    ratio = s.mean / f.mean
    sd = None
    if f.stddev is not None and s.stddev is not None:
        # hyperfine's propagation of the two relative errors into the ratio's
        sd = ratio * math.sqrt((s.stddev / s.mean) ** 2 + (f.stddev / f.mean) ** 2)
    shown = view.varied or view.parameter_names
    return Relative(
        format_parameters({n: fast.parameters.get(n) for n in shown}),
        format_parameters({n: slow.parameters.get(n) for n in shown}),
        ratio,
        sd,
        DURATION,
    )


def title(summary: Summary, status: str) -> str:
    return f"{summary.runs} runs, {summary.ok} OK, {summary.failed} not OK ({status})"


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def markdown(
    summary: Summary,
    view: SummaryView | None,
    status: str,
    results: Path,
    policies: dict[str, PolicyRunner] | None = None,
) -> str:
    """The session's summary as GitHub-flavoured Markdown: runs per status, metrics per set, the
    relative summary.
    """
    out = [f"### perfchart: {title(summary, status)}", ""]
    if summary.by_status:
        out += ["| status | runs | min | mean | max |", "| --- | ---: | ---: | ---: | ---: |"]
        for name, stats in sorted(summary.by_status.items()):
            scale = Scale.of(stats.mean, "s")
            low, mean, high = (scale.quantity(v) for v in (stats.low, stats.mean, stats.high))
            out.append(f"| {_cell(name)} | {stats.count} | {low} | {mean} | {high} |")
        out.append("")
    for name, runner in (policies or {}).items():
        for key, value in runner.results.items():
            out.append(f"- {_cell(name)}: `{key}` = `{value!r}`")
    if view is not None and view.count:
        names = [spec.name for spec in view.metrics]
        out += [
            "| parameters | runs | " + " | ".join(_cell(n) for n in names) + " |",
            "| --- | ---: |" + " ---: |" * len(names),
        ]
        for line in lines(view):
            if isinstance(line, int):
                out.append(f"| … {line} more in summary.csv | |" + " |" * len(names))
                continue
            cells = [
                _cell(f"{c.mean}<br>{c.range}" if c.range else c.mean) for c in line.cells.values()
            ]
            out.append(f"| {_cell(line.parameters)} | {line.runs} | " + " | ".join(cells) + " |")
        out.append("")
        found = relative(view)
        if found is not None:
            first, second = found.sentences("`")
            out += [f"{first} {second}", ""]
    out += [f"results: `{results}`", ""]
    return "\n".join(out)


def export(text: str, path: Path | None) -> None:
    """Write the Markdown summary to *path* (``--export-markdown``) and append it to GitHub's job
    summary when ``GITHUB_STEP_SUMMARY`` names one.
    """
    if path is not None:
        path.write_text(text, encoding="utf-8")
    step = os.environ.get("GITHUB_STEP_SUMMARY")
    if step:
        with open(step, "a", encoding="utf-8") as summary_file:
            summary_file.write(text + "\n")


class QuietUI:
    """What a quiet run (``-q``) shows: only where its results are, at the end; and the Markdown
    summary where one is asked for.
    """

    def __init__(self, markdown_file: Path | None = None) -> None:
        self.markdown_file = markdown_file
        self._view: SummaryView | None = None
        self._policies: dict[str, PolicyRunner] = {}

    def session_started(self, total: int | None) -> None:
        pass

    def policy_started(self, runner: PolicyRunner) -> None:
        self._policies[runner.name] = runner

    def run_opened(self, record: dict[str, Any]) -> None:
        pass

    def run_closed(self, record: dict[str, Any]) -> None:
        pass

    def summarized(self, summary: SummaryView) -> None:
        self._view = summary

    def session_finished(self, summary: Summary, results: Path, status: str) -> None:
        if self.markdown_file is not None or os.environ.get("GITHUB_STEP_SUMMARY"):
            export(
                markdown(summary, self._view, status, results, self._policies), self.markdown_file
            )
        print(f"results: {results}")  # a quiet run's one line of output
