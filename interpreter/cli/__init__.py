"""The ``perfchart`` command."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from .. import __version__
from ..errors import MAX_MESSAGE, PerfchartError, UsageError, shorten
from . import check, draw, new, report, schema

# typing.TYPE_CHECKING without importing typing, which every command's start would pay for.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from rich.console import Console

    from ..session import Session, SessionUI

# Only the parsers are built at start: each command imports what it needs
# (logging, rich, jsonschema, sismic ...) when it runs, so ``--help`` starts fast.

EXIT_INTERNAL = 70
#: Seconds between two progress lines in a log (no terminal), at the most.
PROGRESS_INTERVAL = 5.0

__all__ = ["EXIT_INTERNAL", "build_parser", "main"]

#: The original driver's options that perfchart has no use for, and why: given one, ``run`` says
#: so by name rather than "unrecognized arguments".
ORIGINAL_OPTIONS = {
    ("-w", "--workers"): "perfchart sizes no thread pool: each channel runs its own work",
    ("--clock-fps",): "perfchart's clock has no frame rate: each timer fires at its deadline",
    ("--clock-ms",): "perfchart's clock has no frame rate: each timer fires at its deadline",
}


class _OriginalOption(argparse.Action):
    """An option of the original driver that perfchart does not implement: a usage error naming
    it, with why it is not needed."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: Any,
        option_string: str | None = None,
    ) -> None:
        options = tuple(self.option_strings)
        parser.error(
            f"{'/'.join(options)} is an option of the original driver that perfchart does not "
            f"implement: {ORIGINAL_OPTIONS[options]}"
        )


def _columns() -> int:
    """The terminal's width as argparse's help reads it (``shutil.get_terminal_size``), without
    importing shutil, and the compression modules it imports, for every ``--help``."""
    try:
        columns = int(os.environ["COLUMNS"])
    except (KeyError, ValueError):
        columns = 0
    if columns <= 0:
        try:
            columns = os.get_terminal_size(sys.__stdout__.fileno()).columns  # type: ignore[union-attr]
        except (AttributeError, ValueError, OSError):
            columns = 0
    return columns or 80


class _HelpFormatter(argparse.HelpFormatter):
    """argparse's help layout, to the width :func:`_columns` reads."""

    def __init__(self, prog: str, **options: Any) -> None:
        options.setdefault("width", _columns() - 2)
        super().__init__(prog, **options)


class _Parser(argparse.ArgumentParser):
    """An argument parser whose help is laid out by :class:`_HelpFormatter`; the commands'
    parsers are of this class too."""

    def __init__(self, *args: Any, **options: Any) -> None:
        options.setdefault("formatter_class", _HelpFormatter)
        super().__init__(*args, **options)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="perfchart", description="Run performance tests whose policies are statecharts."
    )
    parser.add_argument("--version", action="version", version=f"perfchart {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    run = commands.add_parser(
        "run",
        help="run a test configuration",
        description="Run every policy of a test configuration.",
    )
    run.add_argument(
        "config",
        type=Path,
        nargs="+",
        metavar="CONFIG",
        help="the test configuration (YAML); several are merged as include: merges them",
    )
    run.add_argument(
        "-D",
        "--define",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set or override a definition (repeatable)",
    )
    run.add_argument(
        "-M",
        "--meta",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set or override a meta: value, which {{meta:NAME}} reads (repeatable)",
    )
    where = run.add_mutually_exclusive_group()
    where.add_argument(
        "-r",
        "--results",
        type=Path,
        metavar="DIR",
        help="results directory (default: perfchart-results/<config>-<UTC time>/)",
    )
    where.add_argument(
        "--resume",
        type=Path,
        metavar="DIR",
        help="continue the session that wrote DIR: skip its finished runs, append the rest",
    )
    run.add_argument(
        "--force",
        action="store_true",
        help="with --resume: continue although the configuration, definitions or seed changed",
    )
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="simulate: print the plan and write results, execute nothing",
    )
    run.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed for sampled parameters (default: config's seed, else random)",
    )
    run.add_argument(
        "--export-markdown",
        type=Path,
        metavar="FILE",
        help="also write the summary as Markdown to FILE (GITHUB_STEP_SUMMARY, when set, gets it "
        "appended too)",
    )
    run.add_argument(
        "--progress-interval",
        type=float,
        default=PROGRESS_INTERVAL,
        metavar="SECONDS",
        help="without a terminal: a progress line per run, at most one every SECONDS "
        f"(default: {PROGRESS_INTERVAL:g})",
    )
    noise = run.add_mutually_exclusive_group()
    noise.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="debug logging, tracebacks on errors, the chart's whole wait under the progress line",
    )
    noise.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="errors only: no progress, plan or summary; the results directory at the end",
    )

    for options in ORIGINAL_OPTIONS:  # left out of --help: they exist to be refused by name
        run.add_argument(*options, action=_OriginalOption, help=argparse.SUPPRESS)

    commands.add_parser(
        "policies", help="list the bundled policies", description="List the bundled policies."
    )
    draw.add_parser(commands)
    check.add_parser(commands)
    schema.add_parser(commands)
    new.add_parser(commands)
    report.add_commands(commands)
    return parser


def _without_command(parser: argparse.ArgumentParser, argv: Sequence[str]) -> bool:
    """Whether *argv* is the original driver's command line: configuration files and options
    but no command."""
    commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return not any(arg in commands.choices for arg in argv) and any(
        arg.endswith((".yml", ".yaml")) for arg in argv
    )


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line read; the original driver's (no command) says what perfchart's is."""
    parser = build_parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    if _without_command(parser, argv):
        parser.exit(
            2,
            "perfchart: error: a configuration is run with `perfchart run FILE...` (the original "
            "driver took its files and options without a command)\n",
        )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parse(argv)
    from .streams import Guarded

    stdout = sys.stdout
    sys.stdout = Guarded(stdout)
    try:
        return _main(args)
    finally:
        sys.stdout = stdout


def _main(args: argparse.Namespace) -> int:
    """*args*' command, each failure one line and its exit status."""
    from .streams import StdoutLost

    verbose = getattr(args, "verbose", False)
    try:
        status = _dispatch(args)
        # What is still buffered fails here, while its failure can still be told, not at exit.
        sys.stdout.flush()
        return status
    except PerfchartError as exc:
        if verbose:
            import logging

            logging.getLogger("perfchart").exception("error")
        print(f"perfchart: error: {shorten(str(exc), MAX_MESSAGE + 400)}", file=sys.stderr)
        return exc.exit_status
    except KeyboardInterrupt:
        return 130
    except BrokenPipeError:
        # The reader of our output left (``perfchart policies | head -1``): that is not a failure.
        from .ui import silence_stdout

        silence_stdout()
        return 0
    except OSError as exc:
        if isinstance(exc, StdoutLost) or _stdout_failed():
            return _stdout_error(exc)
        if verbose:
            raise
        return _internal(exc)
    except Exception as exc:
        if verbose:
            raise
        return _internal(exc)


def _stdout_error(exc: OSError) -> int:
    """Standard output cannot be written (``> /dev/full``, a full disk): one line, exit 2."""
    from .ui import silence_stdout

    silence_stdout()
    reason = exc.strerror or str(exc)
    print(f"perfchart: error: cannot write to standard output: {reason}", file=sys.stderr)
    return 2


def _internal(exc: Exception) -> int:
    """A bug: one line asking for its traceback (-v)."""
    print(
        f"perfchart: internal error: {type(exc).__name__}: {exc} (run with -v for the traceback)",
        file=sys.stderr,
    )
    return EXIT_INTERNAL


def _stdout_failed() -> bool:
    """Whether standard output is what failed (``/dev/full``, a device or pipe in error): writing
    what is still buffered, or nothing at all, fails again."""
    try:
        sys.stdout.flush()
        os.write(sys.stdout.fileno(), b"")
    except (OSError, ValueError):
        return True
    return False


def _dispatch(args: argparse.Namespace) -> int:
    """Run the subcommand *args* names; its exit status."""
    if args.command == "policies":
        return list_policies()
    if args.command == "draw":
        return draw.draw(args)
    if args.command == "check":
        return check.check(args)
    if args.command == "schema":
        return schema.print_schema(args)
    if args.command == "new":
        return new.new(args)
    if hasattr(args, "handler"):
        return args.handler(args)
    return run(args)


def list_policies() -> int:
    from ..charts import bundled

    charts = bundled()
    width = max((len(chart.name) for chart in charts), default=0)
    for chart in charts:
        aliases = f" (also: {', '.join(chart.aliases)})" if chart.aliases else ""
        print(f"{chart.name:<{width}}  {chart.summary}{aliases}")
    return 0


def run(args: argparse.Namespace) -> int:
    """``perfchart run``, its standard streams made to outlive a reader that leaves (``| head``):
    the runs go on and the files are completed.
    """
    from .streams import Outliving

    streams = sys.stdout, sys.stderr
    sys.stdout = Outliving(sys.stdout, "standard output")
    sys.stderr = Outliving(sys.stderr, "standard error")
    try:
        return _run(args)
    finally:
        sys.stdout, sys.stderr = streams


def _run(args: argparse.Namespace) -> int:
    """Set the session up with the cyclic garbage collector paused, then run it.

    Start-up makes objects that live as long as the run (modules, classes, the charts and the
    config): collecting while they are made finds nothing and costs a tenth of a short run's start.
    Frozen, they stay out of every collection the run then makes; they are let go when it ends,
    for a caller of :func:`main` that goes on.
    """
    import gc
    import signal

    from ..session import ENDING_SIGNALS, unhandled

    collecting = gc.isenabled()
    gc.disable()
    try:
        try:
            session = _session(args)
        finally:
            gc.freeze()
            if collecting:
                gc.enable()
        # The session handles SIGINT, SIGTERM and the other ending signals while it runs and puts
        # these back when done: a signal after that must not kill a command that is only returning
        # the status it already has.
        for sig in ENDING_SIGNALS:
            if unhandled(sig):
                signal.signal(sig, signal.SIG_IGN)
        return session.run()
    finally:
        gc.unfreeze()


def _session(args: argparse.Namespace) -> Session:
    """The session *args* ask for: its config loaded and checked, its results directory chosen."""
    import logging

    from ..results import load_previous
    from ..session import Session, load_config, parse_define
    from .logs import RichWhenNeeded, stderr_console

    # A quiet run shows nothing but errors, so it needs no console until one is logged.
    console = None if args.quiet else stderr_console()
    level = logging.DEBUG if args.verbose else logging.ERROR if args.quiet else logging.INFO
    handler = (
        RichWhenNeeded(repeats=args.verbose)
        if console is None
        else RichWhenNeeded(lambda: console, repeats=args.verbose)
    )
    logging.basicConfig(level=level, format="%(message)s", handlers=[handler], force=True)
    log = logging.getLogger("perfchart")

    defines = dict(parse_define(text) for text in args.define)
    config = load_config(args.config, defines, dict(parse_define(text) for text in args.meta))
    for warning in [
        *config.warnings,
        *{str(w.error): None for spec in config.policies for w in spec.chart.findings},
    ]:
        log.warning(warning)
    previous = None
    if args.resume is not None:
        previous = load_previous(
            args.resume,
            config_sha256=config.sha256,
            definitions=config.definitions,
            seed=args.seed,
            dry_run=args.dry_run,
            force=args.force,
        )
    elif args.force:
        raise UsageError("--force only goes with --resume")
    results = args.resume or args.results or default_results_dir(args.config[0])
    ui = _ui(args, console)
    return Session(
        config, results_dir=results, dry_run=args.dry_run, seed=args.seed, ui=ui, previous=previous
    )


def _ui(args: argparse.Namespace, console: Console | None) -> SessionUI:
    """What the run shows: nothing but its results directory (-q), a progress line redrawn on a
    terminal, plain lines in a log; the summary on stdout, but for a dry run's (its stdout is the
    plan).
    """
    if console is None:
        from .digest import QuietUI

        return QuietUI(args.export_markdown)
    from rich.console import Console

    from .ui import ConsoleUI, LogUI

    options: dict[str, Any] = {
        "plan": sys.stdout if args.dry_run else None,
        "out": console if args.dry_run else Console(file=sys.stdout),
        "verbose": args.verbose,
        "markdown_file": args.export_markdown,
    }
    if console.is_terminal:
        return ConsoleUI(console, **options)
    return LogUI(console, interval=args.progress_interval, **options)


def default_results_dir(config: Path) -> Path:
    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    return Path("perfchart-results") / f"{config.stem}-{stamp}"
