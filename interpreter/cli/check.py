"""``perfchart check FILE...``: validate policy charts and test configurations without running
anything.

A file with a top-level ``statechart:`` is a chart; anything else is a test
configuration, checked with every chart it uses, exactly as ``run`` loads it.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from ..errors import ConfigError, ConfigErrors

# typing.TYPE_CHECKING without importing typing, which every command's start would pay for.
TYPE_CHECKING = False

if TYPE_CHECKING:  # imported when checking: `perfchart --help` must not load sismic
    from ..charts import Finding, PolicyChart

EXIT_CLEAN, EXIT_WARNINGS, EXIT_ERRORS = 0, 1, 2


def add_parser(commands: argparse._SubParsersAction) -> None:
    check = commands.add_parser(
        "check",
        help="check policy charts and test configurations",
        description="Check policy charts and test configurations (with the charts they use) "
        "without running anything. "
        "Exit status: 0 clean, 1 warnings with --strict, 2 errors.",
    )
    check.add_argument(
        "files",
        nargs="+",
        type=Path,
        metavar="FILE",
        help="a policy chart or a test configuration (YAML)",
    )
    check.add_argument(
        "-M",
        "--meta",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a meta: value, which {{meta:NAME}} reads",
    )
    check.add_argument("--strict", action="store_true", help="exit 1 when there are warnings")
    check.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="say which engine runs each chart (compiled, or sismic and why); tracebacks on errors",
    )
    check.add_argument(
        "-D",
        "--define",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a definition a configuration requires",
    )


def check(args: argparse.Namespace) -> int:
    """Print every finding, one line each, and a count; the exit status says the worst."""
    charts: list[PolicyChart] = []
    findings = check_files(args.files, args.define, args.meta, charts)
    # A chart given by itself and used by a given configuration is reported once.
    findings = list({str(finding): finding for finding in findings}.values())
    for finding in findings:
        print(finding, file=sys.stderr)
    if args.verbose:
        _print_engines(charts)
    failed = sum(not finding.warning for finding in findings)
    warned = len(findings) - failed
    files = f"{len(args.files)} file{'s' if len(args.files) != 1 else ''}"
    print(
        f"{files} checked: {failed} error{'s' if failed != 1 else ''}, {warned} "
        f"warning{'s' if warned != 1 else ''}",
        file=sys.stderr,
    )
    if failed:
        return EXIT_ERRORS
    return EXIT_WARNINGS if warned and args.strict else EXIT_CLEAN


def _print_engines(charts: list[PolicyChart]) -> None:
    """One line per chart: the engine that runs it, and why when it is not the compiled one."""
    from ..engine import engine_for

    for path, chart in {chart.path: chart for chart in charts}.items():
        print(f"{path}: engine: {engine_for(chart)[1]}", file=sys.stderr)


def check_files(
    paths: Sequence[Path],
    define: list[str],
    meta: Sequence[str] = (),
    charts: list[PolicyChart] | None = None,
) -> list[Finding]:
    """What checking *paths* finds: each chart's findings, then those of the configurations
    among them as one configuration, merged in the order given as ``run`` merges them. The
    charts found without errors are added to *charts*.
    """
    found_charts = [] if charts is None else charts
    from ..charts import Finding, inspect_chart
    from ..config import load_yaml_file

    findings: list[Finding] = []
    configs: list[Path] = []
    unread = False
    for path in paths:
        try:
            data = load_yaml_file(path)
        except ConfigError as exc:
            findings.append(Finding(exc))
            unread = True
            continue
        if isinstance(data, dict) and "statechart" in data:
            chart, found = inspect_chart(path)
            if chart is not None:
                found_charts.append(chart)
            findings.extend(found)
        else:
            configs.append(path)
    # A file that is not YAML leaves no configuration to merge: its error is all there is to say.
    if configs and not unread:
        findings.extend(check_config(configs, define, meta, found_charts))
    return findings


def check_config(
    paths: Sequence[Path], define: list[str], meta: Sequence[str], charts: list[PolicyChart]
) -> list[Finding]:
    """Every error of a configuration (one or several files merged), then the warnings found
    with them, then its charts' findings; its charts are added to *charts*.
    """
    from ..charts import Finding
    from ..session import load_config, parse_define

    try:
        config = load_config(
            paths,
            dict(parse_define(text) for text in define),
            dict(parse_define(text) for text in meta),
        )
    except ConfigErrors as exc:
        return [Finding(error) for error in _in_line_order(exc.errors)] + [
            Finding(warning, warning=True) for warning in exc.warnings
        ]
    except ConfigError as exc:
        return [Finding(exc)]
    found = [Finding(ConfigError(warning), warning=True) for warning in config.warnings]
    seen: set[Path] = set()
    for spec in config.policies:
        if spec.chart.path not in seen:
            seen.add(spec.chart.path)
            found.extend(spec.chart.findings)
            charts.append(spec.chart)
    return found


def _in_line_order(errors: list[ConfigError]) -> list[ConfigError]:
    """*errors* file by file (in the order the files come up), each file's by line."""
    files: dict[str | None, int] = {}
    for error in errors:
        files.setdefault(error.file, len(files))
    return sorted(errors, key=lambda error: (files[error.file], error.line or 0))
