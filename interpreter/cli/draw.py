"""``perfchart draw``: a policy, a configuration's policies or a finished run, as a diagram.

Text formats need nothing but perfchart; SVG, PNG and HTML go through a
renderer (:mod:`interpreter.diagrams.render`). ``--gallery`` regenerates
the diagrams of every bundled policy that the documentation shows.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from ..errors import ConfigError, UsageError

# typing.TYPE_CHECKING without importing typing, which every command's start would pay for.
TYPE_CHECKING = False

if TYPE_CHECKING:
    from typing import Any

    from ..charts import PolicyChart
    from ..diagrams import Diagram, Drawing, Visits
    from ..results import SessionReader

# Charts, sismic and the exporters are imported where they are used, so
# `perfchart --version` and `perfchart run` start no slower for this command.

#: File extensions that choose a format when ``--format`` is not given.
SUFFIXES = {
    ".svg": "svg",
    ".png": "png",
    ".html": "html",
    ".htm": "html",
    ".dot": "dot",
    ".gv": "dot",
    ".mmd": "mermaid",
    ".mermaid": "mermaid",
    ".puml": "plantuml",
    ".plantuml": "plantuml",
}
EXTENSIONS = {
    "svg": ".svg",
    "png": ".png",
    "html": ".html",
    "dot": ".dot",
    "mermaid": ".mmd",
    "plantuml": ".puml",
}
FORMATS = tuple(EXTENSIONS)
TEXT_FORMATS = ("dot", "mermaid", "plantuml")


def add_parser(commands: Any) -> None:
    """Register ``draw`` on the command's subparsers."""
    draw = commands.add_parser(
        "draw",
        help="draw a policy or a run as a diagram",
        description=(
            "Draw a bundled policy, a chart file, every policy of a test configuration, or a "
            "finished run."
        ),
    )
    draw.add_argument(
        "target",
        nargs="?",
        metavar="TARGET",
        help=(
            "a bundled policy's name, a chart file or a test configuration (default with --run: "
            "the run's policies)"
        ),
    )
    draw.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        metavar="FORMAT",
        help=f"{', '.join(FORMATS)} (default: from -o's extension, else svg)",
    )
    draw.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help=(
            "output file, '-' for stdout (default: stdout for text formats, else <policy>.<format>)"
        ),
    )
    draw.add_argument(
        "-D",
        "--define",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a definition a configuration TARGET needs (as for run)",
    )
    draw.add_argument(
        "--run",
        type=Path,
        metavar="RESULTS_DIR",
        help="colour what this run visited, with counts; grey what it never did",
    )
    draw.add_argument(
        "--gallery",
        type=Path,
        metavar="DIR",
        help="write the diagram of every bundled policy, and a page showing them, into DIR",
    )
    draw.add_argument("-v", "--verbose", action="store_true", help="tracebacks on errors")


def draw(args: argparse.Namespace) -> int:
    if args.gallery is not None:
        return _draw_gallery(args)
    if args.target is None and args.run is None:
        raise UsageError(
            "draw needs a TARGET (a policy name, chart file or test configuration) or --run "
            "RESULTS_DIR"
        )
    fmt = choose_format(args.format, args.output)
    drawings, results = _drawings(args)
    if fmt == "html":
        name = drawings[0].label if len(drawings) == 1 else Path(args.target or args.run).stem
        _write(html_page(drawings, results).encode(), args.output, name, fmt)
        return 0
    to_stdout = args.output == "-" or (args.output is None and fmt in TEXT_FORMATS)
    if to_stdout and len(drawings) > 1 and fmt not in TEXT_FORMATS:
        raise UsageError(
            f"{len(drawings)} policies to draw as {fmt}: give -o FILE (one file per policy) or "
            "--format html (one page)"
        )
    outputs = [(d, export(d.diagram, fmt, d.visits)) for d in drawings]
    if to_stdout:
        sys.stdout.buffer.write(b"\n".join(data for _, data in outputs))
        sys.stdout.flush()
    else:
        _write_each(outputs, args.output, fmt)
    return 0


def _draw_gallery(args: argparse.Namespace) -> int:
    """``draw --gallery DIR``: every bundled policy's diagram and their page, into DIR."""
    if args.target or args.run or args.output or args.format:
        raise UsageError("--gallery takes only the directory")
    for path in write_gallery(args.gallery):
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _drawings(args: argparse.Namespace) -> tuple[list[Drawing], SessionReader | None]:
    """What to draw (the TARGET's policies, else the run's) and the run, visits overlaid."""
    from ..diagrams import overlay, run_targets

    results = None
    if args.run is not None:
        from ..results import SessionReader

        results = SessionReader(args.run)
    if args.target:
        drawings = targets(args.target, args.define)
    else:
        assert results is not None  # without a TARGET, --run (checked by the caller)
        drawings = run_targets(results)
    if results is not None:
        overlay(drawings, results, by_index=args.target is None or _is_config(args.target))
    return drawings, results


def _write_each(outputs: Sequence[tuple[Drawing, bytes]], output: str | None, fmt: str) -> None:
    """Write each drawing's data: to *output* (one file per policy when several), else its own."""
    for d, data in outputs:
        target = None
        if output is not None:
            target = Path(output)
            if len(outputs) > 1:
                target = target.with_name(f"{target.stem}-{d.label}{target.suffix}")
        _write(data, None if target is None else str(target), d.label, fmt)


def html_page(drawings: Sequence[Drawing], results: SessionReader | None) -> str:
    """One page with every drawing's SVG and, for a run, the run table of the policies drawn."""
    from ..diagrams import Section, check_renderable, render, to_dot, to_html

    for d in drawings:
        check_renderable(d.diagram, "html")
    runs = None
    if results is not None:
        policies = {d.chart.name for d in drawings}
        runs = [run for run in results.runs(missing_ok=True) if run.get("policy") in policies]
    title = drawings[0].diagram.name if len(drawings) == 1 else ", ".join(d.label for d in drawings)
    sections = [
        Section(d.diagram, render(to_dot(d.diagram, d.visits), "svg").decode(), d.visits, d.label)
        for d in drawings
    ]
    return to_html(title, sections, runs)


def choose_format(given: str | None, output: str | None) -> str:
    """``--format`` if given, else the output file's extension, else SVG."""
    if given:
        return given
    if output and output != "-":
        suffix = Path(output).suffix.lower()
        if suffix not in SUFFIXES:
            raise UsageError(
                f"cannot tell the format from {output!r}: give --format ({', '.join(FORMATS)})"
            )
        return SUFFIXES[suffix]
    return "svg"


def export(diagram: Diagram, fmt: str, visits: Visits | None = None) -> bytes:
    """*diagram* in *fmt* (any format but html) as bytes."""
    from ..diagrams import TEXT_FORMATS as EXPORTERS
    from ..diagrams import check_renderable, render, to_dot

    if fmt in EXPORTERS:
        return EXPORTERS[fmt](diagram, visits).encode()
    check_renderable(diagram, fmt)
    return render(to_dot(diagram, visits), fmt)


def targets(target: str, defines: Sequence[str] = ()) -> list[Drawing]:
    """The policies TARGET names: a config's policies, a chart file, or a bundled policy.

    A configuration is loaded and checked whole, as ``run`` would, so its
    macros need their definitions (*defines*, ``NAME=VALUE``).
    """
    from ..charts import load_chart, resolve
    from ..diagrams import Drawing, extract

    if _is_config(target):
        from ..session import load_config, parse_define

        config = load_config(target, dict(parse_define(text) for text in defines))
        labels: dict[str, int] = {}
        drawings = []
        for spec in config.policies:
            name = spec.chart.name
            labels[name] = labels.get(name, 0) + 1
            label = name if labels[name] == 1 else f"{name}-{labels[name]}"
            drawings.append(Drawing(label, spec.chart, extract(spec.chart.statechart())))
        return drawings
    chart = load_chart(Path(target)) if Path(target).is_file() else resolve(target)
    return [Drawing(chart.name, chart, extract(chart.statechart()))]


def _is_config(target: str) -> bool:
    """A file whose top level has no ``statechart:`` is a test configuration."""
    from ..config import load_yaml_file

    path = Path(target)
    if not path.is_file():
        return False
    try:
        data = load_yaml_file(path)
    except ConfigError:
        return False
    return isinstance(data, Mapping) and "statechart" not in data


def _write(data: bytes, output: str | None, label: str, fmt: str) -> None:
    if output == "-":
        sys.stdout.buffer.write(data)
        sys.stdout.flush()
        return
    path = Path(output) if output else Path(f"{label}{EXTENSIONS[fmt]}")
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise UsageError(f"cannot write {path}: {exc.strerror or exc}") from None
    print(f"wrote {path}", file=sys.stderr)


# -- the documentation's gallery ----------------------------------------------------


def gallery_text(charts: Sequence[PolicyChart]) -> dict[str, str]:
    """The gallery's text files: each chart's DOT (what the up-to-date test compares) and the
    page."""
    from ..diagrams import extract, to_dot

    files = {f"{chart.name}.dot": to_dot(extract(chart.statechart())) for chart in charts}
    lines = [
        "# Gallery of the bundled policies",
        "",
        "Generated by `perfchart draw --gallery docs/gallery`; do not edit. Each",
        "diagram is drawn from the policy's statechart: states with their entry",
        "code, internal transitions in the state's body, arrows labelled",
        "`event [guard] / action`. In the SVG, hover a state or an arrow for its",
        "full code. See [../drawing.md](../drawing.md) for how to draw your own.",
    ]
    for chart in charts:
        diagram = extract(chart.statechart())
        aliases = f" (also: {', '.join(f'`{a}`' for a in chart.aliases)})" if chart.aliases else ""
        lines += ["", f"## {chart.name}", "", f"`perfchart draw {chart.name}`{aliases}", ""]
        if diagram.description:
            lines += [diagram.description, ""]
        lines.append(f"![{chart.name}]({chart.name}.svg)")
    files["README.md"] = "\n".join(lines) + "\n"
    return files


def write_gallery(directory: Path) -> list[Path]:
    """Write every bundled chart's DOT and SVG, and the page, into *directory*."""
    from ..charts import bundled
    from ..diagrams import extract, render, to_dot

    charts = bundled()
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, text in gallery_text(charts).items():
        (directory / name).write_text(text, encoding="utf-8")
        written.append(directory / name)
    for chart in charts:
        path = directory / f"{chart.name}.svg"
        path.write_bytes(render(to_dot(extract(chart.statechart())), "svg"))
        written.append(path)
    return sorted(written)
