"""The ``report`` and ``compare`` commands: looking at finished sessions.

Everything heavy (matplotlib) is imported inside the handlers, so these
parsers cost ``perfchart run`` nothing.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..errors import UsageError

# typing.TYPE_CHECKING without importing typing, which every command's start would pay for.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console
    from rich.table import Table

    from ..reports import Comparison, Row

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
        "parameter set both ran, with a Mann-Whitney U test of the runs' (or samples') values "
        "and the Hodges-Lehmann shift's confidence interval. Exit status 1 when a --fail-if "
        "threshold is met by a significant change (a regression), 2 when no parameter set ran in "
        "both sessions or on bad usage, 0 otherwise.",
    )
    compare.add_argument("baseline", type=Path, metavar="BASELINE_DIR")
    compare.add_argument("candidate", type=Path, metavar="CANDIDATE_DIR")
    compare.add_argument(
        "--fail-if",
        action="append",
        default=[],
        metavar="COND",
        help="[METRIC:]STAT OP CHANGE, e.g. 'p95 > +10%%' or 'rps:mean < -5%%' (METRIC alone: "
        "its mean); a percentage is relative to the baseline; a regression only when the change "
        "is also significant at --alpha (repeatable)",
    )
    compare.add_argument(
        "--alpha",
        default="0.05",
        metavar="A",
        help="significance level of the test, above 0 and below 1 (default: 0.05)",
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
    compare.add_argument(
        "--junit",
        type=Path,
        metavar="FILE",
        help="also write the comparison as JUnit XML: a test case per row, a failure per "
        "regression",
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
    from rich.console import Console

    from ..reports import compare, describe, parse_threshold, read_for_compare

    thresholds = [parse_threshold(text) for text in args.fail_if]
    alpha = _alpha(args.alpha)
    baseline, candidate = read_for_compare(args.baseline), read_for_compare(args.candidate)
    result = compare(baseline, candidate, thresholds, tuple(args.stat or ("mean",)), alpha)
    varied = list(
        dict.fromkeys([*baseline.summary.get("varied", []), *candidate.summary.get("varied", [])])
    )
    # Piped or redirected, the comparison is data: never cut to a terminal's width.
    console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 1000)
    table, left_out = _fitted(console, args, result, varied)
    console.print(table, width=max(console.width, table.width or 0), crop=False)
    hidden = len(result.rows) - TABLE_ROWS
    if hidden > 0:
        console.print(
            f"({hidden:,} more rows not shown: the table holds every regression and the first "
            f"rows, {TABLE_ROWS:,} in all; --json FILE or --junit FILE has every row)",
            markup=False,
        )
    if left_out:
        notes = {
            "interval": "the shift's interval",
            "change": "the change",
            "words": "'not significant' written n.s.",
        }
        console.print(
            f"(to fit the terminal: {', '.join(notes[k] for k in left_out)}; --json has all)",
            markup=False,
        )
    for label, sets in (
        ("only in the baseline", result.only_baseline),
        ("only in the candidate", result.only_candidate),
    ):
        if sets:
            names = "; ".join(describe(parameters) for parameters in sets[:NAMED_SETS])
            if len(sets) > NAMED_SETS:
                names += f" and {len(sets) - NAMED_SETS:,} more"
            console.print(
                f"{len(sets)} parameter sets {label}, not compared: {names}", markup=False
            )
    if args.json is not None:
        import json

        args.json.write_text(
            json.dumps(result.document(), indent=2, default=str) + "\n", encoding="utf-8"
        )
    if args.junit is not None:
        args.junit.write_bytes(junit(result, varied))
    regressions = result.regressions
    if regressions:
        met = sorted({text for row in regressions for text in row.failed})
        console.print(f"{len(regressions)} regressions: {'; '.join(met)}", markup=False)
        return EXIT_REGRESSION
    if thresholds:
        console.print(f"no regression ({'; '.join(args.fail_if)})", markup=False)
    return EXIT_OK


def junit(result: Comparison, varied: list[str]) -> bytes:
    """The comparison as JUnit XML, which CI systems show as tests: one test case per row (metric,
    statistic and parameter set), failed when it is a regression.
    """
    from xml.etree import ElementTree as ET

    from ..reports import quantity

    suite = ET.Element(
        "testsuite",
        name="perfchart compare",
        tests=str(len(result.rows)),
        failures=str(len(result.regressions)),
        errors="0",
        skipped="0",
    )
    for row in result.rows:
        where = " ".join(f"{name}={row.parameters.get(name)}" for name in varied) or "(all)"
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"perfchart.compare.{row.metric}",
            name=f"{row.stat} {where}",
        )
        test, percent = row.test, row.percent
        told = (
            f"{quantity(row.baseline, row.units)} -> {quantity(row.candidate, row.units)} "
            f"({'-' if percent is None else f'{percent:+.1f}%'}, "
            f"p={'-' if test is None else f'{test.p:.3g}'})"
        )
        if row.failed:
            failure = ET.SubElement(
                case, "failure", message=f"{'; '.join(row.failed)}: {told}", type="regression"
            )
            failure.text = f"{row.metric} {row.stat} {where}: {told}"
        else:
            ET.SubElement(case, "system-out").text = told
    ET.indent(suite)
    return ET.tostring(suite, encoding="utf-8", xml_declaration=True) + b"\n"


def _alpha(text: str) -> float:
    """--alpha: a probability strictly between 0 and 1."""
    try:
        alpha = float(text)
    except ValueError:
        alpha = -1.0
    if not 0 < alpha < 1:
        raise UsageError(
            f"--alpha {text!r}: expected a significance level between 0 and 1, such as 0.05"
        )
    return alpha


#: Rows of a comparison the table shows at most: drawing is what costs, and nobody reads more.
TABLE_ROWS = 1_000
#: Parameter sets only one session ran that the line saying so names at most.
NAMED_SETS = 20


def _shown(rows: list[Row]) -> list[Row]:
    """The rows the table shows: every regression first (up to ``TABLE_ROWS``), then the others in
    order; all of them when they fit.
    """
    if len(rows) <= TABLE_ROWS:
        return rows
    failed = [row for row in rows if row.failed][:TABLE_ROWS]
    chosen = {id(row) for row in failed}
    rest = [row for row in rows if id(row) not in chosen][: TABLE_ROWS - len(failed)]
    chosen.update(id(row) for row in rest)
    return [row for row in rows if id(row) in chosen]


def _fitted(
    console: Console, args: argparse.Namespace, result: Comparison, varied: list[str]
) -> tuple[Table, tuple[str, ...]]:
    """The widest table that fits the terminal, and what it leaves out: the shift's interval, then
    the absolute change (``--json`` has them), then "not significant" becomes "n.s.", before any
    number would be cut; one that still does not fit is drawn whole, past the edge, rather than
    cut.
    """
    from .ui import drawn_width

    for left_out in ((), ("interval",), ("interval", "change"), ("interval", "change", "words")):
        table = _table(args, result, varied, left_out)
        width = drawn_width(table)
        if width <= console.width:
            return table, left_out
    table.width = width
    return table, left_out


def _table(
    args: argparse.Namespace,
    result: Comparison,
    varied: list[str],
    left_out: tuple[str, ...] = (),
) -> Table:
    """The rows as a table: values with units, the shift's interval, p, and the verdict."""
    from rich import box
    from rich.table import Table

    from ..reports import quantity

    compact = "words" in left_out  # the narrowest: columns two spaces apart, none at the edges
    table = Table(
        title=f"{args.candidate} against {args.baseline}",
        title_justify="left",
        box=box.SIMPLE_HEAD,
        pad_edge=not compact,
        collapse_padding=compact,
    )
    for name in ("parameters", "metric", "stat"):
        table.add_column(name, no_wrap=True)
    headers = {
        "baseline": "baseline",
        "candidate": "candidate",
        "change": "change",
        "percent": "%",
        "interval": f"shift {100 * (1 - result.alpha):g}% CI",
        "p": "p",
    }
    shown = [key for key in headers if key not in left_out]
    for key in shown:
        table.add_column(headers[key], justify="right", no_wrap=True)
    table.add_column("", no_wrap=True)
    for row in _shown(result.rows):
        percent, test = row.percent, row.test
        cells = {
            "baseline": quantity(row.baseline, row.units),
            "candidate": quantity(row.candidate, row.units),
            "change": quantity(row.change, row.units, signed=True),
            "percent": "-" if percent is None else f"{percent:+.1f}%",
            "interval": "-"
            if test is None or test.low is None
            else f"{quantity(test.low, row.units, signed=True)} … "
            f"{quantity(test.high, row.units, signed=True)}",
            "p": "-" if test is None else f"{test.p:.3g}",
        }
        verdict = (
            "[red]FAIL[/]"
            if row.failed
            else ""
            if row.significant
            else "n.s."
            if compact
            else "not significant"
        )
        table.add_row(
            " ".join(f"{name}={row.parameters.get(name)}" for name in varied) or "(all)",
            row.metric,
            row.stat,
            *(cells[key] for key in shown),
            verdict,
        )
    return table
