"""The report's plots, as SVG, drawn with matplotlib; laid out to stay readable for any sweep.

Per metric:

- one *effect* plot per varied parameter: the mean per parameter set
  against it. Of the other varied parameters, the one with the fewest
  values colours the lines (at most :data:`MAX_HUES`, so a legend never
  has more than :data:`MAX_LEGEND` entries, kept outside the axes), the
  next one splits the plot into small multiples (at most :data:`MAX_FACETS`),
  and any further ones are averaged over, as the title says;
- a *heat map* of the two parameters with the most values, split by a third;
- the *distribution* of each parameter set's runs (a strip of points, or a
  box where there are many), with the runs' samples as boxes where records
  keep ``samples``;
- a *timeline* of every run's value against its start, coloured by
  repetition, so drift and warm-up show.

Failed runs are marked in every plot. Integer parameters get integer ticks;
values in geometric steps (×2, ×4, ×10) a log axis. matplotlib is imported
here only, on first use.
"""

from __future__ import annotations

import io
import json
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from numbers import Real
from typing import TYPE_CHECKING, Any

from ..metrics import Group, MetricSpec
from .data import RunPoint, set_key

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

#: A numeric axis spanning this ratio or more of positive values is drawn on a log scale.
LOG_RATIO = 100
#: Most entries of any legend; the lines' colours take all but one, kept for "failed runs".
MAX_LEGEND = 8
MAX_HUES = MAX_LEGEND - 1
#: Most small multiples in one figure; a parameter with more values is averaged over instead.
MAX_FACETS = 12
#: Most parameter sets drawn in one distribution plot (the first ones, in the order they ran).
MAX_SETS = 100
#: More points than this in one plot are drawn as an image inside the SVG, to keep it small.
RASTER_POINTS = 2000
#: More runs than this in one set are drawn as a box rather than a strip of points.
STRIP_RUNS = 30
#: More points than this on one line are drawn as a line in a band rather than as error bars.
BAND_POINTS = 20
FAILED: dict[str, Any] = {
    "marker": "x",
    "color": "#d62728",
    "s": 36,
    "linewidths": 1.5,
    "zorder": 5,
}


@dataclass(frozen=True)
class Plot:
    """One figure: its kind, metric, what it is drawn against, its SVG text and a title."""

    metric: str
    parameter: str
    svg: str
    kind: str = "effect"

    @property
    def title(self) -> str:
        """The figure's alternative text: what it shows, in words."""
        if self.kind == "effect":
            return f"{self.metric} by {self.parameter}"
        return {
            "heatmap": f"{self.metric}: heat map over {self.parameter}",
            "distribution": f"{self.metric}: distribution per parameter set",
            "timeline": f"{self.metric}: timeline of the runs",
        }[self.kind]

    @property
    def filename(self) -> str:
        if self.kind == "effect":
            return f"{_safe(self.metric)}-by-{_safe(self.parameter)}.svg"
        if self.kind == "heatmap":
            return f"{_safe(self.metric)}-heatmap-{_safe(self.parameter)}.svg"
        return f"{_safe(self.metric)}-{self.kind}.svg"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def _numeric(values: Iterable[Any]) -> bool:
    return all(isinstance(v, Real) and not isinstance(v, bool) for v in values)


def _levels(groups: Sequence[Group], name: str) -> list[Any]:
    """The distinct values of parameter *name*, sorted when they are numbers."""
    values = list({json.dumps(g.parameters.get(name), default=str): None for g in groups})
    decoded = [json.loads(v) for v in values]
    return sorted(decoded) if _numeric(decoded) else decoded


def _text(value: Any) -> str:
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, str) else json.dumps(value, default=str)


def plots(
    metrics: Iterable[MetricSpec],
    varied: list[str],
    groups: list[Group],
    points: Sequence[RunPoint] = (),
) -> list[Plot]:
    """Every plot of every metric that has a value: effects, heat map, distribution, timeline."""
    levels = {name: _levels(groups, name) for name in varied}
    found: list[Plot] = []
    for spec in metrics:
        if not any(group.accumulators[spec.name].count for group in groups):
            continue
        for parameter in varied:
            others = [p for p in varied if p != parameter]
            svg = _effect(spec, parameter, _layout(others, levels), levels, groups)
            found.append(Plot(spec.name, parameter, svg))
        if len(varied) >= 2:
            rows, columns, *rest = sorted(varied, key=lambda n: -len(levels[n]))
            svg = _heatmap(spec, (rows, columns), _layout(rest, levels, hues=0), levels, groups)
            found.append(Plot(spec.name, f"{rows} × {columns}", svg, "heatmap"))
        mine = [p for p in points if spec.name in p.values]
        if mine:
            found.append(
                Plot(spec.name, "", _distribution(spec, varied, groups, mine), "distribution")
            )
            found.append(Plot(spec.name, "", _timeline(spec, mine), "timeline"))
    return found


# --- layout ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    """How the parameters besides the plotted ones are shown: by colour, by facet, or averaged."""

    hue: str | None
    facet: str | None
    pooled: tuple[str, ...]


def _layout(others: list[str], levels: dict[str, list[Any]], hues: int = MAX_HUES) -> Layout:
    """The fewest-valued parameter colours the lines (when it fits), the next one facets, the rest
    are averaged over."""
    ordered = sorted(others, key=lambda n: len(levels[n]))
    hue = ordered[0] if ordered and len(levels[ordered[0]]) <= hues else None
    rest = [n for n in ordered if n != hue]
    facet = rest[0] if rest and len(levels[rest[0]]) <= MAX_FACETS else None
    return Layout(hue, facet, tuple(n for n in rest if n != facet))


def _pooled_note(layout: Layout) -> str:
    return f"; mean over {', '.join(layout.pooled)}" if layout.pooled else ""


def _grid(count: int, width: float, height: float, extra: float = 1.6) -> tuple[Figure, list[Axes]]:
    """A figure of *count* small multiples, at most four a row, room on the right for a legend."""
    from matplotlib.figure import Figure

    columns = min(count, 4)
    rows = math.ceil(count / columns)
    figure = Figure(figsize=(width * columns + extra, height * rows + 0.8), layout="constrained")
    grid = figure.subplots(rows, columns, squeeze=False, sharex=True, sharey=True)
    axes = [ax for row in grid for ax in row]
    for ax in axes[count:]:
        ax.set_visible(False)
    return figure, axes[:count]


#: Attributes holding coordinates, written by matplotlib with six decimals where two will do.
_COORDINATES = re.compile(r'\b(d|x|y|x1|x2|y1|y2|width|height|transform|points)="([^"]*)"')
_DECIMALS = re.compile(r"(\d\.\d\d)\d+")
_TWO = r"\1"
#: One font for every text, rather than matplotlib's list of fifteen fallbacks on each.
_FONT = re.compile(r"font-family: [^;\"]*")


def _svg(figure: Figure) -> str:
    from matplotlib import rc_context

    out = io.StringIO()
    # Text stays text (small, searchable); no date or tool metadata, so the same results give the
    # same file.
    with rc_context({"svg.fonttype": "none", "svg.hashsalt": "perfchart"}):
        figure.savefig(out, format="svg", metadata={"Date": None, "Creator": None})
    return _minified(out.getvalue())


def _minified(svg: str) -> str:
    """The same drawing in about half the bytes: no indentation, coordinates to 1/100 pixel,
    each style used again and again named once as a class."""
    svg = re.sub(r"\n[ \t]+", "\n", svg)
    svg = _FONT.sub("font-family: sans-serif", svg)
    return _classed(_COORDINATES.sub(_rounded, svg))


_STYLED = re.compile(r'<[^<>]* style="([^"]*)"[^<>]*>')


def _classed(svg: str) -> str:
    """*svg* with every style that four or more elements share moved into one ``<style>``."""
    counts: dict[str, int] = {}
    for match in _STYLED.finditer(svg):
        if ' class="' not in match.group(0):
            counts[match.group(1)] = counts.get(match.group(1), 0) + 1
    names = {style: f"s{i}" for i, style in enumerate(s for s, n in counts.items() if n >= 4)}
    if not names:
        return svg

    def swap(match: re.Match[str]) -> str:
        tag, style = match.group(0), match.group(1)
        if style not in names or ' class="' in tag:
            return tag
        return tag.replace(f' style="{style}"', f' class="{names[style]}"', 1)

    rules = "".join(f".{name}{{{style}}}" for style, name in names.items())
    svg = _STYLED.sub(swap, svg)
    head = re.search(r"<svg[^>]*>", svg)
    assert head is not None
    return f"{svg[: head.end()]}\n<style>{rules}</style>{svg[head.end() :]}"


def _rounded(match: re.Match[str]) -> str:
    return f'{match.group(1)}="{_DECIMALS.sub(_TWO, match.group(2))}"'


def _units(spec: MetricSpec) -> str:
    return f"{spec.label} ({spec.units})" if spec.units else spec.label


# --- axes --------------------------------------------------------------------------------------


def _geometric(values: Sequence[float]) -> bool:
    """Three or more positive values, each about the same multiple (×2 or more) of the last."""
    if len(values) < 3 or values[0] <= 0:
        return False
    ratios = [b / a for a, b in zip(values, values[1:], strict=False)]
    return min(ratios) >= 1.9 and max(ratios) / min(ratios) < 1.05


def scale_axis(axes: Axes, values: Sequence[Any], axis: str = "x") -> None:
    """Log for geometric steps or a wide span, integer ticks for integers, each value ticked when
    there are few."""
    numbers = sorted({float(v) for v in values if _numeric([v])})
    if not numbers:
        return
    log = numbers[0] > 0 and (_geometric(numbers) or numbers[-1] / numbers[0] >= LOG_RATIO)
    if log:
        ratio = numbers[1] / numbers[0] if len(numbers) > 1 else 10
        power_of_two = ratio <= 16 and abs(math.log2(ratio) - round(math.log2(ratio))) < 0.05
        base = 2 if power_of_two else 10
        (axes.set_xscale if axis == "x" else axes.set_yscale)("log", base=base)
    ticks = axes.xaxis if axis == "x" else axes.yaxis
    integers = all(n.is_integer() for n in numbers)
    if len(numbers) <= 12:
        ticks.set_ticks(numbers, [_text(n) for n in numbers])
        ticks.set_minor_locator(_null())
    elif integers and not log:
        from matplotlib.ticker import MaxNLocator

        ticks.set_major_locator(MaxNLocator(integer=True))


def _value_axis(ax: Axes, values: Sequence[float], axis: str = "x") -> None:
    """A metric's axis: log when its positive values span :data:`LOG_RATIO` or more."""
    if values and min(values) > 0 and max(values) / min(values) >= LOG_RATIO:
        (ax.set_xscale if axis == "x" else ax.set_yscale)("log")


def _short(value: float) -> str:
    """A number in at most about five characters, for a heat map's cell."""
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e4, "k")):
        if abs(value) >= scale:
            return f"{value / (scale if suffix != 'k' else 1e3):.3g}{suffix}"
    return f"{value:.3g}"


def _null() -> Any:
    from matplotlib.ticker import NullLocator

    return NullLocator()


def _positions(values: list[Any]) -> tuple[Callable[[Any], float], list[float] | None]:
    """Where each value sits on an axis: itself when numeric, else its index (and the labels)."""
    if _numeric(values):
        return float, None
    index = {json.dumps(v, default=str): i for i, v in enumerate(values)}
    return (lambda v: float(index[json.dumps(v, default=str)])), [float(i) for i in index.values()]


# --- effect plots ------------------------------------------------------------------------------


@dataclass
class Cell:
    """The groups behind one point: their means, σ (for one group) and whether any run failed."""

    means: list[float]
    stddev: float
    failed: bool

    def add(self, group: Group, name: str) -> None:
        acc = group.accumulators[name]
        self.means.append(acc.mean)
        self.stddev = acc.stddev or 0.0
        self.failed = self.failed or group.ok < group.runs


def _cells(
    groups: Iterable[Group], name: str, keys: Callable[[Group], tuple[str, ...]]
) -> dict[tuple[str, ...], Cell]:
    cells: dict[tuple[str, ...], Cell] = {}
    for group in groups:
        if group.accumulators[name].count:
            cells.setdefault(keys(group), Cell([], 0.0, False)).add(group, name)
    return cells


def _key(value: Any) -> str:
    return json.dumps(value, default=str)


def _effect(
    spec: MetricSpec, x: str, layout: Layout, levels: dict[str, list[Any]], groups: list[Group]
) -> str:
    facets = levels[layout.facet] if layout.facet else [None]
    hues = levels[layout.hue] if layout.hue else [None]
    cells = _cells(
        groups,
        spec.name,
        lambda g: tuple(
            _key(g.parameters.get(n)) if n else "" for n in (layout.facet, layout.hue, x)
        ),
    )
    position, ticks = _positions(levels[x])
    figure, axes = _grid(len(facets), 3.6 if layout.facet else 6.0, 2.8 if layout.facet else 4.0)
    failed_drawn = False
    for ax, facet in zip(axes, facets, strict=True):
        for index, hue in enumerate(hues):
            points = [
                (position(value), cells[key])
                for value in levels[x]
                if (
                    key := (
                        _key(facet) if layout.facet else "",
                        _key(hue) if layout.hue else "",
                        _key(value),
                    )
                )
                in cells
            ]
            failed_drawn |= _line(
                ax, points, f"C{index}", f"{layout.hue}={_text(hue)}" if layout.hue else None
            )
        if layout.facet:
            ax.set_title(f"{layout.facet}={_text(facet)}", fontsize="small")
        ax.grid(True, alpha=0.3)
    _effect_axes(figure, axes, spec, x, levels[x], ticks)
    pooled = any(len(c.means) > 1 for c in cells.values())
    bars = "bars: range of the means" if pooled else "bars: ±1 σ over repeats"
    figure.suptitle(f"{spec.label} by {x} ({bars}{_pooled_note(layout)})", fontsize="medium")
    _legend(figure, axes, failed_drawn)
    return _svg(figure)


def _line(ax: Axes, points: list[tuple[float, Cell]], color: str, label: str | None) -> bool:
    """One line of means with error bars; red crosses on points whose groups had failed runs."""
    if not points:
        return False
    xs = [p for p, _ in points]
    ys = [sum(c.means) / len(c.means) for _, c in points]
    # Rounding can put a mean a hair outside its range; a bar is never negative.
    low = [
        max(0.0, y - min(c.means)) if len(c.means) > 1 else c.stddev
        for y, (_, c) in zip(ys, points, strict=True)
    ]
    high = [
        max(0.0, max(c.means) - y) if len(c.means) > 1 else c.stddev
        for y, (_, c) in zip(ys, points, strict=True)
    ]
    if len(points) > BAND_POINTS:  # a line and a band: two paths, however many points
        ax.plot(xs, ys, color=color, label=label, linewidth=1)
        below = [y - d for y, d in zip(ys, low, strict=True)]
        above = [y + d for y, d in zip(ys, high, strict=True)]
        ax.fill_between(xs, below, above, color=color, alpha=0.2, linewidth=0)
    else:
        bars = [low, high] if any(low) or any(high) else None  # no caps around nothing
        ax.errorbar(
            xs, ys, yerr=bars, marker="o", markersize=4, capsize=2, color=color, label=label
        )
    failed = [(x, y) for x, y, (_, c) in zip(xs, ys, points, strict=True) if c.failed]
    if failed:
        ax.scatter([f[0] for f in failed], [f[1] for f in failed], label="failed runs", **FAILED)
    return bool(failed)


def _effect_axes(
    figure: Figure,
    axes: list[Axes],
    spec: MetricSpec,
    x: str,
    values: list[Any],
    ticks: list[float] | None,
) -> None:
    for ax in axes:
        if ticks is None:
            scale_axis(ax, values)
        else:
            ax.set_xticks(ticks, [_text(v) for v in values])
    figure.supxlabel(x, fontsize="small")
    figure.supylabel(_units(spec), fontsize="small")


def _legend(figure: Figure, axes: Sequence[Axes], failed: bool) -> None:
    """One legend for the figure, outside the axes, at most :data:`MAX_LEGEND` entries."""
    handles: list[Any] = []
    labels: list[str] = []
    for ax in axes:
        more = ax.get_legend_handles_labels()
        handles += more[0]
        labels += more[1]
    if failed and "failed runs" not in labels:
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], marker="x", color=FAILED["color"], linestyle=""))
        labels.append("failed runs")
    unique: dict[str, Any] = {}
    for label, handle in zip(labels, handles, strict=True):
        unique.setdefault(label, handle)
    if "failed runs" in unique:  # last, whatever line drew it first
        unique["failed runs"] = unique.pop("failed runs")
    if len(unique) > 1 or failed:
        items = list(unique.items())[:MAX_LEGEND]
        figure.legend(
            [h for _, h in items],
            [label for label, _ in items],
            loc="outside right upper",
            fontsize="small",
        )


# --- heat map ----------------------------------------------------------------------------------


def _heatmap(
    spec: MetricSpec,
    axes_names: tuple[str, str],
    layout: Layout,
    levels: dict[str, list[Any]],
    groups: list[Group],
) -> str:
    rows, columns = axes_names
    facets = levels[layout.facet] if layout.facet else [None]
    cells = _cells(
        groups,
        spec.name,
        lambda g: (
            _key(g.parameters.get(layout.facet)) if layout.facet else "",
            _key(g.parameters.get(rows)),
            _key(g.parameters.get(columns)),
        ),
    )
    means = [sum(c.means) / len(c.means) for c in cells.values()]
    low, high = min(means), max(means)
    width = 0.45 * len(levels[columns]) + 1.2
    height = 0.35 * len(levels[rows]) + 1.0
    figure, axes = _grid(len(facets), min(max(width, 3.0), 8.0), min(max(height, 2.4), 8.0), 1.0)
    image = None
    failed = False
    for ax, facet in zip(axes, facets, strict=True):
        image, found = _heat_facet(ax, cells, (facet, layout), levels, (rows, columns), (low, high))
        failed |= found
    if image is not None:
        figure.colorbar(image, ax=axes, label=_units(spec), shrink=0.8)
    note = "; red outline: failed runs" if failed else ""
    figure.suptitle(
        f"{spec.label}: mean per {rows} × {columns}{_pooled_note(layout)}{note}", fontsize="medium"
    )
    figure.supxlabel(columns, fontsize="small")
    figure.supylabel(rows, fontsize="small")
    return _svg(figure)


def _heat_facet(
    ax: Axes,
    cells: dict[tuple[str, ...], Cell],
    where: tuple[Any, Layout],
    levels: dict[str, list[Any]],
    names: tuple[str, str],
    span: tuple[float, float],
) -> tuple[Any, bool]:
    """One facet of the heat map; the image (for the colour bar) and whether a cell had failures."""
    from matplotlib.patches import Rectangle

    facet, layout = where
    rows, columns = names
    prefix = _key(facet) if layout.facet else ""
    grid: list[list[float]] = []
    failed = False
    annotate = len(levels[rows]) * len(levels[columns]) <= 150
    for i, r in enumerate(levels[rows]):
        grid.append([])
        for j, c in enumerate(levels[columns]):
            cell = cells.get((prefix, _key(r), _key(c)))
            value = sum(cell.means) / len(cell.means) if cell else math.nan
            grid[-1].append(value)
            if cell and annotate:
                light = span[1] > span[0] and (value - span[0]) / (span[1] - span[0]) > 0.6
                color = "black" if light else "white"
                ax.text(j, i, _short(value), ha="center", va="center", fontsize=6, color=color)
            if cell and cell.failed:
                failed = True
                ax.add_patch(
                    Rectangle(
                        (j - 0.5, i - 0.5),
                        1,
                        1,
                        fill=False,
                        edgecolor=FAILED["color"],
                        linewidth=1.5,
                    )
                )
    image = ax.imshow(
        grid, aspect="auto", origin="lower", vmin=span[0], vmax=span[1], cmap="viridis"
    )
    labels = [_text(v) for v in levels[columns]]
    ax.set_xticks(
        range(len(levels[columns])),
        labels,
        fontsize="small",
        rotation=45 if max(map(len, labels)) > 4 else 0,
    )
    ax.set_yticks(range(len(levels[rows])), [_text(v) for v in levels[rows]], fontsize="small")
    if layout.facet:
        ax.set_title(f"{layout.facet}={_text(facet)}", fontsize="small")
    return image, failed


# --- distribution and timeline -----------------------------------------------------------------


def _describe(parameters: dict[str, Any], varied: list[str]) -> str:
    return " ".join(f"{name}={_text(parameters.get(name))}" for name in varied) or "(all runs)"


def _distribution(
    spec: MetricSpec, varied: list[str], groups: list[Group], points: list[RunPoint]
) -> str:
    from matplotlib.figure import Figure

    shown = groups[:MAX_SETS]
    row = {set_key(g.parameters, varied): i for i, g in enumerate(shown)}
    by_set: dict[int, list[RunPoint]] = {}
    for point in points:
        if point.key in row:
            by_set.setdefault(row[point.key], []).append(point)
    figure = Figure(figsize=(8.0, 0.18 * len(shown) + 1.6), layout="constrained")
    ax = figure.add_subplot()
    samples = _sample_boxes(ax, spec.name, by_set)
    _run_strips(ax, spec.name, by_set, len(points) > RASTER_POINTS)
    ax.set_yticks(range(len(shown)), [_describe(g.parameters, varied) for g in shown], fontsize=6)
    ax.set_ylim(len(shown) - 0.5, -0.5)
    _value_axis(ax, [p.values[spec.name] for p in points])
    ax.set_xlabel(_units(spec))
    ax.grid(True, axis="x", alpha=0.3)
    more = f"; the first {len(shown)} of {len(groups)} sets" if len(groups) > len(shown) else ""
    what = "runs (points) and their samples (boxes)" if samples else "runs"
    ax.set_title(f"{spec.label}: {what} per parameter set{more}", fontsize="medium")
    _legend(figure, [ax], any(not p.ok for p in points))
    return _svg(figure)


def _sample_boxes(ax: Axes, name: str, by_set: dict[int, list[RunPoint]]) -> bool:
    """A box of every sample of each set's runs, where records keep samples."""
    boxes = {i: [v for p in runs for v in p.samples.get(name, ())] for i, runs in by_set.items()}
    boxes = {i: values for i, values in boxes.items() if values}
    if not boxes:
        return False
    ax.boxplot(
        list(boxes.values()),
        positions=list(boxes),
        orientation="horizontal",
        widths=0.6,
        showfliers=False,
        patch_artist=True,
        boxprops={"facecolor": "#c6dbef", "edgecolor": "#6baed6"},
        label="samples",
    )
    return True


def _run_strips(ax: Axes, name: str, by_set: dict[int, list[RunPoint]], raster: bool) -> None:
    """Each set's runs as points (a box, where there are many), failed ones as red crosses."""
    many = {i: runs for i, runs in by_set.items() if len(runs) > STRIP_RUNS}
    if many:
        ax.boxplot(
            [[p.values[name] for p in runs] for runs in many.values()],
            positions=list(many),
            orientation="horizontal",
            widths=0.5,
            showfliers=True,
            label="runs",
        )
    xs: list[float] = []
    ys: list[float] = []
    bad_x: list[float] = []
    bad_y: list[float] = []
    for i, runs in by_set.items():
        if i in many:
            runs = [p for p in runs if not p.ok]
        for j, point in enumerate(runs):
            y = i + ((j * 0.618) % 1 - 0.5) * 0.5  # a fixed jitter: the same plot every time
            (xs if point.ok else bad_x).append(point.values[name])
            (ys if point.ok else bad_y).append(y)
    if xs:
        ax.scatter(xs, ys, s=10, color="C0", alpha=0.7, label="runs", rasterized=raster)
    if bad_x:
        ax.scatter(bad_x, bad_y, label="failed runs", rasterized=raster, **FAILED)


def _timeline(spec: MetricSpec, points: list[RunPoint]) -> str:
    from matplotlib.figure import Figure

    timed = [p for p in points if p.start is not None]
    origin = min((p.start for p in timed if p.start is not None), default=0.0)
    figure = Figure(figsize=(8.0, 3.6), layout="constrained")
    ax = figure.add_subplot()
    raster = len(timed) > RASTER_POINTS
    repetitions = sorted({p.repetition for p in timed})
    ok = [p for p in timed if p.ok]
    if len(repetitions) <= MAX_HUES:
        for index, repetition in enumerate(repetitions):
            mine = [p for p in ok if p.repetition == repetition]
            ax.scatter(
                [(p.start or 0) - origin for p in mine],
                [p.values[spec.name] for p in mine],
                s=10,
                color=f"C{index}",
                label=f"repetition {repetition}",
                rasterized=raster,
            )
    else:
        drawn = ax.scatter(
            [(p.start or 0) - origin for p in ok],
            [p.values[spec.name] for p in ok],
            s=10,
            c=[p.repetition for p in ok],
            cmap="viridis",
            rasterized=raster,
        )
        figure.colorbar(drawn, ax=ax, label="repetition")
    bad = [p for p in timed if not p.ok]
    if bad:
        ax.scatter(
            [(p.start or 0) - origin for p in bad],
            [p.values[spec.name] for p in bad],
            label="failed runs",
            rasterized=raster,
            **FAILED,
        )
    ax.set_xlabel("run start (s since the first run)")
    ax.set_ylabel(_units(spec))
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{spec.label} of each run over the session", fontsize="medium")
    _legend(figure, [ax], bool(bad))
    return _svg(figure)
