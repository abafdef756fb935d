"""One self-contained HTML page: the diagram's SVG inline, and with a run, its table of runs.

Opening the page loads nothing from the network: no scripts, fonts or
style sheets from elsewhere, and the SVG's DOCTYPE (which names a remote
DTD) is dropped. Full guard and action code is in the SVG's tooltips.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .graph import Diagram, Visits

#: Rows of the run table at most; the rest are counted, and runs.csv has them all.
MAX_ROWS = 5000

STYLE = """
body { font-family: Helvetica, Arial, sans-serif; margin: 2em; color: #222; }
h1 { font-size: 1.4em; } h2 { font-size: 1.15em; margin-top: 2em; }
.description { white-space: pre-wrap; max-width: 60em; }
.diagram svg { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: 0.85em; }
th, td { border: 1px solid #ccc; padding: 0.2em 0.6em; text-align: left; }
th { background: #f0f0f0; } td.num { text-align: right; }
.notok { background: #fde0dc; }
"""


@dataclass
class Section:
    """One policy of the page: its diagram, rendered SVG and (optionally) its visits."""

    diagram: Diagram
    svg: str
    visits: Visits | None = None
    title: str | None = None


def to_html(
    title: str, sections: Sequence[Section], runs: Iterable[Mapping[str, Any]] | None = None
) -> str:
    """The page; *runs* are ``runs.jsonl`` records, shown as a table after the diagrams."""
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style></head><body>",
        f"<h1>{_e(title)}</h1>",
    ]
    for section in sections:
        d = section.diagram
        if len(sections) > 1:
            parts.append(f"<h2>{_e(section.title or d.name)}</h2>")
        if d.description:
            parts.append(f'<p class="description">{_e(d.description)}</p>')
        if section.visits is not None:
            parts.append(
                f"<p>Visits recorded over {section.visits.repetitions} repetition(s); hover a "
                "state or arrow for its code.</p>"
            )
        else:
            parts.append("<p>Hover a state or arrow for its full code.</p>")
        parts.append(f'<div class="diagram">{inline_svg(section.svg)}</div>')
    if runs is not None:
        parts += _run_table(runs)
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


def inline_svg(svg: str) -> str:
    """Graphviz's SVG without its XML declaration, DOCTYPE and comments, ready to sit in HTML."""
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg, flags=re.S)
    svg = re.sub(r"<!--.*?-->", "", svg, flags=re.S)
    return svg.strip()


def _run_table(runs: Iterable[Mapping[str, Any]]) -> list[str]:
    rows = list(runs)
    names = list(dict.fromkeys(name for run in rows for name in run.get("parameters", {})))
    head = ["#", "policy", "rep.", *names, "status", "duration s"]
    parts = [
        f"<h2>Runs ({len(rows)})</h2>",
        "<table><thead><tr>",
        *(f"<th>{_e(h)}</th>" for h in head),
        "</tr></thead><tbody>",
    ]
    for run in rows[:MAX_ROWS]:
        css = "" if run.get("ok", True) else ' class="notok"'
        cells = [
            f'<td class="num">{_e(run.get("index", ""))}</td>',
            f"<td>{_e(run.get('policy', ''))}</td>",
            f'<td class="num">{_e(run.get("repetition", ""))}</td>',
            *(f"<td>{_e(run.get('parameters', {}).get(name, ''))}</td>" for name in names),
            f"<td>{_e(run.get('status', ''))}</td>",
            f'<td class="num">{_e(run.get("duration", ""))}</td>',
        ]
        parts.append(f"<tr{css}>{''.join(cells)}</tr>")
    parts.append("</tbody></table>")
    if len(rows) > MAX_ROWS:
        parts.append(f"<p>{len(rows) - MAX_ROWS} more runs are in runs.csv and runs.jsonl.</p>")
    return parts


def _e(value: Any) -> str:
    return html.escape(str(value), quote=True)
