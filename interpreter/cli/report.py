"""The ``report`` and ``compare`` commands: looking at finished sessions.

Everything heavy (matplotlib) is imported inside the handlers, so these
parsers cost ``perfchart run`` nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

EXIT_OK, EXIT_REGRESSION = 0, 1


def add_commands(commands: Any) -> None:
    """Add ``report`` and ``compare`` to the ``perfchart`` subcommands; each sets its
    ``handler``.
    """
    report = commands.add_parser(
        "report",
        help="write an HTML report of a finished session",
        description="Write one self-contained HTML page about a finished session (meta, summary, "
        "plots, runs); plots also go to plots/*.svg beside it.",
    )
    report.add_argument(
        "results", type=Path, metavar="RESULTS_DIR", help="a session's results directory"
    )
    report.add_argument(
        "-o",
        "--output",
        type=Path,
        metavar="FILE",
        help="the page to write (default: RESULTS_DIR/report.html)",
    )
    report.set_defaults(handler=run_report)

    compare = commands.add_parser(
        "compare",
        help="compare two sessions' metrics per parameter set",
        description="Print each metric's change from BASELINE_DIR to CANDIDATE_DIR for every "
        "parameter set both ran. "
        "Exit status 1 when a --fail-if threshold is met (a regression), 0 otherwise.",
    )
    compare.add_argument("baseline", type=Path, metavar="BASELINE_DIR")
    compare.add_argument("candidate", type=Path, metavar="CANDIDATE_DIR")
    compare.add_argument(
        "--fail-if",
        action="append",
        default=[],
        metavar="COND",
        help="[METRIC:]STAT OP CHANGE, e.g. 'p95 > +10%%' or 'rps:mean < -5%%'; a percentage is "
        "relative to the baseline (repeatable)",
    )
    compare.add_argument(
        "--stat",
        action="append",
        metavar="STAT",
        help="statistics to show (repeatable; default: mean)",
    )
    compare.add_argument(
        "--json", type=Path, metavar="FILE", help="also write the comparison as JSON"
    )
    compare.set_defaults(handler=run_compare)


def run_report(args: argparse.Namespace) -> int:
    from ..reports import write_report

    page, plots = write_report(args.results, args.output)
    print(
        f"report: {page} ({len(plots)} plots in {page.parent / 'plots'})"
        if plots
        else f"report: {page}"
    )
    return EXIT_OK


def run_compare(args: argparse.Namespace) -> int:
    from rich import box
    from rich.console import Console
    from rich.table import Table

    from ..reports import Results, compare, parse_threshold

    thresholds = [parse_threshold(text) for text in args.fail_if]
    baseline, candidate = Results.read(args.baseline), Results.read(args.candidate)
    result = compare(baseline, candidate, thresholds, tuple(args.stat or ("mean",)))
    varied = list(
        dict.fromkeys([*baseline.summary.get("varied", []), *candidate.summary.get("varied", [])])
    )

    table = Table(
        title=f"{args.candidate} against {args.baseline}", title_justify="left", box=box.SIMPLE_HEAD
    )
    table.add_column("parameters", no_wrap=True)
    table.add_column("metric", no_wrap=True)
    table.add_column("stat", no_wrap=True)
    for name in ("baseline", "candidate", "change", "%"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for row in result.rows:
        percent = row.percent
        table.add_row(
            " ".join(f"{name}={row.parameters.get(name)}" for name in varied) or "(all)",
            row.metric,
            row.stat,
            _number(row.baseline),
            _number(row.candidate),
            "-" if row.change is None else f"{row.change:+.4g}",
            "-" if percent is None else f"{percent:+.1f}%",
            "[red]FAIL[/]" if row.failed else "",
        )
    # Piped or redirected, the comparison is data: never cut to a terminal's width.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 1000)
    console.print(table)
    for label, sets in (
        ("only in the baseline", result.only_baseline),
        ("only in the candidate", result.only_candidate),
    ):
        if sets:
            console.print(f"{len(sets)} parameter sets {label}, not compared", markup=False)
    if args.json is not None:
        import json

        args.json.write_text(
            json.dumps(result.document(), indent=2, default=str) + "\n", encoding="utf-8"
        )
    regressions = result.regressions
    if regressions:
        met = sorted({text for row in regressions for text in row.failed})
        console.print(f"{len(regressions)} regressions: {'; '.join(met)}", markup=False)
        return EXIT_REGRESSION
    if thresholds:
        console.print(f"no regression ({'; '.join(args.fail_if)})", markup=False)
    return EXIT_OK


def _number(value: float | None) -> str:
    return "-" if value is None else f"{value:.4g}"
