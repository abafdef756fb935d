"""Policy charts: the bundled ones and the user's, found by name, alias or path.

A policy file is a sismic YAML statechart with an optional top-level
``perfchart:`` header: name, aliases, summary, a JSON Schema of the
policy's block in a test configuration, where that block names the
parameters the policy sets, and load-time warnings about the block. Bundled
and user charts go through the same loader, so a user chart is held to
exactly the bundled rules.
"""

from __future__ import annotations

import functools
import importlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sismic.model import Statechart

from ..config import check_schema, load_schema, load_yaml_file, validate, validator_class
from ..core import unimplemented
from ..errors import ConfigError
from .checks import build
from .lint import Bound, Finding, bound_filters, lint
from .source import ChartSource

CHART_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True)
class PolicyChart:
    """A loaded, validated policy chart."""

    name: str
    path: Path
    aliases: tuple[str, ...] = ()
    summary: str = ""
    config_schema: Mapping[str, Any] | None = field(default=None, compare=False)
    #: Paths in the policy's block that hold the names of the parameters it sets (``matrix.*``).
    parameter_paths: tuple[str, ...] = ()
    #: ``(schema, message)``: warn with *message* when the block validates against *schema*.
    warnings: tuple[tuple[Any, str], ...] = field(default=(), compare=False)
    #: What ``perfchart check`` warns about in the chart; a run prints these before it starts.
    findings: tuple[Finding, ...] = field(default=(), compare=False)
    #: The filters its code binds literally (``policy.bind('end', 'CmdlineExitEvent')``).
    bound: tuple[Bound, ...] = field(default=(), compare=False)
    _cache: dict[str, Any] = field(default_factory=dict, init=False, repr=False, compare=False)

    def statechart(self) -> Statechart:
        """The sismic model, built once: interpreters only read it."""
        if "statechart" not in self._cache:
            self._cache["statechart"] = build(self.path, load_yaml_file(self.path))
        return self._cache["statechart"]

    def source(self) -> ChartSource:
        """The chart's located YAML, to point errors at the lines the author wrote."""
        if "source" not in self._cache:
            self._cache["source"] = ChartSource(self.path, load_yaml_file(self.path))
        return self._cache["source"]

    def names(self) -> tuple[str, ...]:
        """Every name that resolves to this chart."""
        return (self.name, *self.aliases)

    def parameter_names(self, config: Any) -> set[str]:
        """The parameters the policy block *config* says the policy sets, found along
        :attr:`parameter_paths`.
        """
        found: set[str] = set()
        for path in self.parameter_paths:
            found.update(
                str(name)
                for name in _follow(config, path.split("."))
                if isinstance(name, (str, int))
            )
        return found

    def warnings_for(self, config: Any) -> list[str]:
        """The header's warnings that apply to the policy block *config*."""
        return [
            message
            for schema, message in self.warnings
            if validator_class(schema)(schema).is_valid(config)
        ]


def _follow(node: Any, steps: list[str]) -> Iterator[Any]:
    """The values at the end of a header path: ``key``, ``key[]`` (each item) and a final ``*`` (the
    keys).
    """
    if not steps:
        yield node
        return
    step, rest = steps[0], steps[1:]
    if step == "*":
        if isinstance(node, Mapping):
            yield from node
        return
    key, each = (step[:-2], True) if step.endswith("[]") else (step, False)
    value = node.get(key) if isinstance(node, Mapping) else None
    if each:
        for item in value if isinstance(value, list) else ():
            yield from _follow(item, rest)
    elif value is not None:
        yield from _follow(value, rest)


def bundled() -> list[PolicyChart]:
    """The charts shipped in ``interpreter.statecharts``, sorted by name."""
    return list(_bundled())


@functools.cache
def _bundled() -> tuple[PolicyChart, ...]:
    # Loaded once per process: the package files do not change while it runs. Each is built when
    # used.
    charts = [_bundled_chart(path) for path in _bundled_files()]
    return tuple(sorted(charts, key=lambda chart: chart.name))


@functools.cache
def _bundled_files() -> tuple[Path, ...]:
    # The package's folder, as importlib.resources.files would give it, without importing that
    # (and zipfile with it) on every start: perfchart is installed as files, never zipped.
    (folder,) = importlib.import_module("interpreter.statecharts").__path__
    return tuple(sorted(p for p in Path(folder).iterdir() if p.name.endswith(CHART_SUFFIXES)))


@functools.cache
def _bundled_chart(path: Path) -> PolicyChart:
    """One bundled chart, its header read once per process whether found by name or listed."""
    return load_chart(path, check=False)


def _bundled_named(wanted: str) -> PolicyChart | None:
    """The bundled chart whose file is named after *wanted* (``multi-step``: multi_step.yaml) and
    that answers to it: finding a chart by its name reads one header, not all of them."""
    stem = wanted.replace("-", "_")
    for path in _bundled_files():
        if path.stem.casefold() == stem:
            chart = _bundled_chart(path)
            if any(wanted == known.casefold() for known in chart.names()):
                return chart
    return None


def resolve(name: str, base_dir: Path | None = None) -> PolicyChart:
    """The chart a test configuration or the command line refers to.

    Anything that looks like a file (a ``.yaml``/``.yml`` suffix or a
    directory separator) is a path, relative to *base_dir*; anything else is
    a bundled name or alias, compared case-insensitively because the
    original driver's class names were written in many spellings.
    """
    if _is_path(name):
        return chart_file(name, base_dir)
    wanted = name.casefold()
    named = _bundled_named(wanted)
    if named is not None:
        return named
    charts = bundled()
    for chart in charts:
        if any(wanted == known.casefold() for known in chart.names()):
            return chart
    original = unimplemented("policy", name)
    if original is not None:
        raise ConfigError(original.refusal())
    known = ", ".join(chart.name for chart in charts) or "none bundled"
    raise ConfigError(
        f"unknown policy {name!r} (known policies: {known}; or give the path of a .yaml statechart)"
    )


def chart_file(name: str, base_dir: Path | None = None) -> PolicyChart:
    """The chart in file *name*, relative to *base_dir* (the config's directory)."""
    path = Path(name).expanduser()
    if base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise ConfigError(f"no statechart file {name!r} (looked for {path})")
    return load_chart(path)


def _is_path(name: str) -> bool:
    return name.lower().endswith(CHART_SUFFIXES) or "/" in name or "\\" in name


def load_chart(path: Path, *, check: bool = True) -> PolicyChart:
    """Load and fully check a chart file, so errors surface before any run.

    With *check* false only the header is read and validated; the model is
    built when first used, and the JSON Schemas in the header are taken as
    valid. That is for the bundled charts, which the test suite loads in
    full: finding one by name then costs one chart's build, not all of them.
    """
    chart, findings = inspect_chart(path, check=check)
    for finding in findings:
        if not finding.warning:
            raise finding.error
    assert chart is not None
    return chart


def inspect_chart(path: Path, *, check: bool = True) -> tuple[PolicyChart | None, list[Finding]]:
    """The chart in *path* (None when it has errors) and
    everything ``perfchart check`` finds in it.
    """
    path = Path(path)
    try:
        data = load_yaml_file(path)
        statechart = build(path, data) if check else None
        findings = lint(path, data["statechart"]) if check else []
        if any(not finding.warning for finding in findings):
            return None, findings
        bound = tuple(bound_filters(path, data["statechart"])) if check else ()
        chart = _chart(path, data, statechart, tuple(findings), check, bound)
    except ConfigError as exc:
        return None, [Finding(exc)]
    return chart, findings


def _chart(
    path: Path,
    data: Any,
    statechart: Statechart | None,
    findings: tuple[Finding, ...],
    check: bool,
    bound: tuple[Bound, ...] = (),
) -> PolicyChart:
    header = data.get("perfchart") or {}
    if "perfchart" in data:
        validate(data["perfchart"], load_schema("chart-header"))
    schema = header.get("config")
    warnings = tuple(
        (warning["if"], warning["message"]) for warning in header.get("warnings") or ()
    )
    if check:
        for condition in ([schema] if schema is not None else []) + [
            condition for condition, _ in warnings
        ]:
            check_schema(condition)
    summary = header.get("summary")
    if summary is None:
        description = (
            data.get("statechart", {}).get("description")
            if isinstance(data.get("statechart"), dict)
            else None
        )
        summary = str(description or "").strip().partition("\n")[0]
    chart = PolicyChart(
        name=header.get("name") or path.stem,
        path=path,
        aliases=tuple(header.get("aliases") or ()),
        summary=summary,
        config_schema=schema,
        parameter_paths=tuple(header.get("parameters") or ()),
        warnings=warnings,
        findings=findings,
        bound=bound,
    )
    if statechart is not None:
        chart._cache["statechart"] = statechart
        chart._cache["source"] = ChartSource(path, data)
    return chart
