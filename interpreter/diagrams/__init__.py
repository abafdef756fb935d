"""Diagrams: policies and runs drawn from sismic's model, in text formats and, with a renderer,
SVG and PNG.

The pipeline is extract (:func:`extract`, sismic's model to a neutral
:class:`Diagram`) then one exporter per format: :func:`to_dot`,
:func:`to_mermaid`, :func:`to_plantuml`; :func:`render` lays DOT out as SVG
or PNG, and :func:`to_html` wraps the SVG in one self-contained page. A
run's recorded visits (:func:`visits_for`) overlay any format.
"""

from __future__ import annotations

from collections.abc import Callable

from .dot import to_dot
from .drawings import Drawing, overlay, run_targets
from .extract import extract
from .graph import Diagram, State, Transition, Visits
from .html import Section, inline_svg, to_html
from .mermaid import to_mermaid
from .overlay import visits_for
from .plantuml import to_plantuml
from .render import NoRenderer, check_renderable, find_renderer, render

#: The text formats, each an exporter from a diagram (and optional visits) to text.
TEXT_FORMATS: dict[str, Callable[[Diagram, Visits | None], str]] = {
    "dot": to_dot,
    "mermaid": to_mermaid,
    "plantuml": to_plantuml,
}
#: Every format ``perfchart draw`` writes.
FORMATS = ("svg", "png", "html", *TEXT_FORMATS)

__all__ = [
    "FORMATS",
    "TEXT_FORMATS",
    "Diagram",
    "Drawing",
    "NoRenderer",
    "Section",
    "State",
    "Transition",
    "Visits",
    "check_renderable",
    "extract",
    "find_renderer",
    "inline_svg",
    "overlay",
    "render",
    "run_targets",
    "to_dot",
    "to_html",
    "to_mermaid",
    "to_plantuml",
    "visits_for",
]
