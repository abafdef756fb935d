"""``perfchart report``: one self-contained HTML page about a finished session.

The page holds the session's meta, the summary table, one plot per metric
and varied parameter (SVG, inlined as data URIs and also written to
``plots/`` for pasting elsewhere), each policy's diagram coloured by what
the session visited, and every run. It loads nothing: no
script, stylesheet, font or image from anywhere.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from ..errors import PerfchartError
from .data import Results
from .plots import plots

STYLE = """
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em auto; max-width: 80em; \
padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; white-space: nowrap; }
th { background: #f4f4f4; } td.text, th.text { text-align: left; }
tr.failed td { background: #fdecea; }
.plots { display: flex; flex-wrap: wrap; gap: 1em; } .plots figure { margin: 0; } \
.plots img { width: 32em; max-width: 100%; }
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


def _summary_section(summary: dict[str, Any]) -> str:
    parameters = summary["parameters"]
    columns = [
        (m["name"], stat, m.get("units")) for m in summary["metrics"] for stat in m["summarize"]
    ]
    header = [
        *parameters,
        "runs",
        "ok",
        *(f"{name} {stat}" + (f" ({units})" if units else "") for name, stat, units in columns),
    ]
    rows = (
        [
            *(_e(group["parameters"].get(name)) for name in parameters),
            _e(group["runs"]),
            _e(group["ok"]),
            *(_number(group["metrics"].get(name, {}).get(stat)) for name, stat, _ in columns),
        ]
        for group in summary["groups"]
    )
    return _table(header, rows)


def _runs_section(results: Results) -> str:
    summary = results.summary
    parameters = summary["parameters"]
    metrics = [m["name"] for m in summary["metrics"] if m["name"] != "duration"]
    header = ["run", "repetition", "status", *parameters, "duration (s)", *metrics, "exit codes"]
    rows: list[list[str]] = []
    classes: list[str] = []
    for record in results.runs():
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
    return _table(header, rows, classes=classes)


def _image(svg: str, alt: str) -> str:
    data = base64.b64encode(svg.encode("utf-8")).decode("ascii")
    return f'<figure><img alt="{_e(alt)}" src="data:image/svg+xml;base64,{data}"></figure>'


def _diagrams_section(results: Results) -> str:
    """Each policy's diagram with the session's visits, as ``perfchart draw --run`` draws it; or
    why there is none."""
    from ..diagrams import overlay, render, run_targets, to_dot

    try:
        drawings = run_targets(results.reader)
        overlay(drawings, results.reader, by_index=True)
        images = [
            _image(
                render(to_dot(d.diagram, d.visits), "svg").decode("utf-8"),
                f"policy diagram: {d.label}",
            )
            for d in drawings
        ]
    except PerfchartError as exc:
        return f"<p>No diagram: {_e(exc)}</p>"
    return f'<div class="plots">{"".join(images)}</div>'


def write_report(directory: Path, output: Path | None = None) -> tuple[Path, list[Path]]:
    """Write the report page (``report.html`` in *directory* by default) and its plots; return
    their paths."""
    results = Results.read(directory)
    output = output if output is not None else directory / "report.html"
    figures = plots(*results.spreads())
    plot_dir = output.parent / "plots"
    written: list[Path] = []
    if figures:
        plot_dir.mkdir(parents=True, exist_ok=True)
    for figure in figures:
        path = plot_dir / figure.filename
        path.write_text(figure.svg, encoding="utf-8")
        written.append(path)
    images = "".join(_image(f.svg, f"{f.metric} by {f.parameter}") for f in figures)
    no_plots = "<p>No parameter took more than one value, so there is nothing to plot against.</p>"
    title = _e(results.meta.get("title") or directory.name)
    page = (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{title}: perfchart report</title>'
        f"<style>{STYLE}</style></head><body>"
        f"<h1>{title}</h1>"
        f"<h2>Session</h2>{_meta_section(results)}"
        f"<h2>Summary per parameter set</h2>{_summary_section(results.summary)}"
        f'<h2>Plots</h2><div class="plots">{images}</div>{"" if figures else no_plots}'
        f"<h2>Policies</h2>{_diagrams_section(results)}"
        f"<h2>Runs</h2>{_runs_section(results)}"
        "</body></html>\n"
    )
    tmp = output.with_name(output.name + ".tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(output)
    return output, written
