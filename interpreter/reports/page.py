"""``perfchart report``: one self-contained HTML page about a finished session.

The page holds the session's meta, the summary table, each metric's plots
(SVG, inlined as data URIs and also written to ``plots/`` for pasting
elsewhere), each policy's diagram coloured by what the session visited
(SVG inline, at full width, so its tooltips work), and the runs. A big
session's tables stop at :data:`MAX_ROWS` rows and link to the CSV file
that has them all, so the page stays small. It loads nothing: no script,
stylesheet, font or image from anywhere.
"""

from __future__ import annotations

import base64
import html
import json
import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import PerfchartError
from .data import Results
from .plots import Plot, plots

#: Rows of the summary and run tables at most; the rest are in summary.csv and runs.csv.
MAX_ROWS = 500

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 80em; \
padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
tr.failed td { background: #fdecea; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; } .plots figure { margin: 0; } \
.plots img { max-width: 100%; height: auto; }
h3 { margin: 1.5em 0 0.5em; }
figure.diagram { margin: 0; } .diagram svg { width: 100%; height: auto; }
.scroll { overflow-x: auto; }
"""


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value))


def _number(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.6g}"
    return _e(value)


def _table(
    header: Sequence[str],
    rows: Iterable[Sequence[Any]],
    *,
    text_columns: int = 0,
    classes: Iterable[str] | None = None,
) -> str:
    def cell(tag: str, index: int, value: str) -> str:
        css = ' class="text"' if index < text_columns else ""
        return f"<{tag}{css}>{value}</{tag}>"

    head = "".join(cell("th", i, _e(name)) for i, name in enumerate(header))
    body = []
    row_classes = iter(classes) if classes is not None else None
    for row in rows:
        css = next(row_classes, "") if row_classes is not None else ""
        attr = f' class="{css}"' if css else ""
        body.append(
            f"<tr{attr}>" + "".join(cell("td", i, value) for i, value in enumerate(row)) + "</tr>"
        )
    return (
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def _meta_section(results: Results) -> str:
    meta = results.meta
    rows = [
        ("title", meta.get("title")),
        ("config", meta.get("config")),
        ("config sha256", meta.get("config_sha256")),
        ("status", f"{meta.get('status')} (exit {meta.get('exit_status')})"),
        ("runs", f"{meta.get('runs')} ({meta.get('ok')} OK)"),
        ("dry run", "yes" if meta.get("dry_run") else "no"),
        ("seed", meta.get("seed")),
        ("repeat", meta.get("repeat")),
        ("policies", ", ".join(meta.get("policies") or [])),
        ("started", meta.get("started")),
        ("finished", meta.get("finished")),
        ("elapsed", f"{meta.get('elapsed')} s"),
        ("definitions", json.dumps(meta.get("definitions") or {}, default=str)),
        ("versions", ", ".join(f"{k} {v}" for k, v in (meta.get("versions") or {}).items())),
    ]
    return _table(["", ""], ([_e(k), _e(v)] for k, v in rows), text_columns=2)


def _more(shown: int, total: int, what: str, link: str) -> str:
    """The note under a capped table, linking to the file with every row."""
    if total <= shown:
        return ""
    return (
        f'<p>The first {shown} of {total} {what}; <a href="{_e(link)}">{_e(os.path.basename(link))}'
        "</a> has them all.</p>"
    )


def _summary_section(summary: dict[str, Any], link: str) -> str:
    parameters = summary["parameters"]
    columns = [
        (m["name"], stat, m.get("units"), m.get("title") or m["name"])
        for m in summary["metrics"]
        for stat in m["summarize"]
    ]
    header = [
        *parameters,
        "runs",
        "ok",
        *(
            f"{label} {stat}" + (f" ({units})" if units else "")
            for _, stat, units, label in columns
        ),
    ]
    rows = (
        [
            *(_e(group["parameters"].get(name)) for name in parameters),
            _e(group["runs"]),
            _e(group["ok"]),
            *(_number(group["metrics"].get(name, {}).get(stat)) for name, stat, _, _ in columns),
        ]
        for group in summary["groups"][:MAX_ROWS]
    )
    return _table(header, rows) + _more(MAX_ROWS, len(summary["groups"]), "parameter sets", link)


def _runs_section(results: Results, link: str) -> str:
    summary = results.summary
    parameters = summary["parameters"]
    metrics = [m["name"] for m in summary["metrics"] if m["name"] != "duration"]
    header = ["run", "repetition", "status", *parameters, "duration (s)", *metrics, "exit codes"]
    rows: list[list[str]] = []
    classes: list[str] = []
    total = 0
    for record in results.runs():
        total += 1
        if total > MAX_ROWS:
            continue
        values = record.get("metrics") or {}
        rows.append(
            [
                _e(record.get("index")),
                _e(record.get("repetition")),
                _e(record.get("status")),
                *(_e(record["parameters"].get(name)) for name in parameters),
                _number(record.get("duration")),
                *(_number(values.get(name)) for name in metrics),
                _e(" ".join(str(code) for code in record.get("exitcodes") or [])),
            ]
        )
        classes.append("" if record.get("ok") else "failed")
    return _table(header, rows, classes=classes) + _more(MAX_ROWS, total, "runs", link)


def _image(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<figure><img alt="{_e(alt)}" src="data:image/svg+xml;base64,{data}"></figure>'


def _diagrams_section(results: Results) -> str:
    """Each policy's diagram with the session's visits, as ``perfchart draw --run`` draws it; or
    why there is none."""
    from ..diagrams import check_renderable, overlay, render, run_targets, to_dot

    try:
        drawings = run_targets(results.reader)
        overlay(drawings, results.reader, by_index=True)
        for d in drawings:
            check_renderable(d.diagram, "svg")
        figures = [
            f'<figure class="diagram" aria-label="{_e(f"policy diagram: {d.label}")}">'
            f"<figcaption>{_e(d.label)}: hover a state or arrow for its code"
            f"</figcaption>{_in_html(render(to_dot(d.diagram, d.visits), 'svg'))}"
            "</figure>"
            for d in drawings
        ]
    except PerfchartError as exc:
        return f"<p>No diagram: {_e(exc)}</p>"
    return "".join(figures)


def _in_html(svg: bytes) -> str:
    """Graphviz's SVG as HTML holds it: HTML gives ``svg`` and ``xlink:`` their namespaces
    itself, so the page names no URL at all."""
    from ..diagrams import inline_svg

    text = inline_svg(svg.decode("utf-8"))
    root = re.search(r"<svg\b[^>]*>", text)
    if root is None:
        return text
    tag = re.sub(r'\s+xmlns(?::\w+)?="[^"]*"', "", root.group(0))
    return text[: root.start()] + tag + text[root.end() :]


def _plots_section(figures: list[Plot]) -> str:
    """Each metric's plots under its name: effects, heat map, distribution, timeline."""
    if not figures:
        return "<p>No metric has a value to plot.</p>"
    by_metric: dict[str, list[Plot]] = {}
    for figure in figures:
        by_metric.setdefault(figure.metric, []).append(figure)
    return "".join(
        f"<h3>{_e(metric)}</h3>"
        f'<div class="plots">{"".join(_image(f.svg, f.title) for f in mine)}</div>'
        for metric, mine in by_metric.items()
    )


def write_report(directory: Path, output: Path | None = None) -> tuple[Path, list[Path]]:
    """Write the report page (``report.html`` in *directory* by default) and its plots; return
    their paths."""
    results = Results.read(directory)
    output = output if output is not None else directory / "report.html"
    specs, varied, groups = results.spreads()
    figures = plots(specs, varied, groups, results.points(varied, [m.name for m in specs]))
    plot_dir = output.parent / "plots"
    written: list[Path] = []
    if figures:
        plot_dir.mkdir(parents=True, exist_ok=True)
    for figure in figures:
        path = plot_dir / figure.filename
        path.write_text(figure.svg, encoding="utf-8")
        written.append(path)

    def link(name: str) -> str:
        return os.path.relpath(directory / name, output.parent).replace(os.sep, "/")

    title = _e(results.meta.get("title") or directory.name)
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{title}: perfchart report</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{title}</h1>"
        f"<h2>Session</h2>{_meta_section(results)}"
        f"<h2>Plots</h2>{_plots_section(figures)}"
        f"<h2>Policies</h2>{_diagrams_section(results)}"
        f"<h2>Summary per parameter set</h2>"
        f"{_summary_section(results.summary, link('summary.csv'))}"
        f"<h2>Runs</h2>{_runs_section(results, link('runs.csv'))}"
        "</body></html>\n"
    )
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(output)
    return output, written
