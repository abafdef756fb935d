"""Loading a test configuration written in the original driver's format.

The file is checked in two passes against ``schemas/config.schema.json``: the
sections macros take their values from (``define:``, ``config.definitions``)
before rendering, everything else after, because a macro can stand for a
typed value (``repeat: "{{runs|2}}"``). Channels and tasks stay raw: their
macros may be parameters, known only at run time. Each channel block is
checked against its channel's schema and each task against the task schema
here, so a dry run rejects exactly what a real run rejects.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from ..channels import Channel, TaskSpec, channel_class, task_specs
from ..charts import PolicyChart, chart_file, resolve
from ..config import (
    Located,
    LocatedDict,
    LocatedList,
    bad_macros,
    describe,
    load_schema,
    load_yaml,
    macros_in,
    read_text,
    render_entry,
    validate,
)
from ..core import parse_duration
from ..errors import ConfigError, UsageError
from ..metrics import (
    AGGREGATES,
    DURATION,
    MetricSpec,
    Tracker,
    check_summarize,
    summarizer,
    tracker_class,
)

#: Ten minutes: longer than a typical load step, short enough that a run nothing answers is noticed.
DEFAULT_STALE_TIMEOUT = 600.0

CONFIG_KEYS = (
    "title",
    "repeat",
    "runs",
    "warmup",
    "builtinMetrics",
    "staleTimeout",
    "seed",
    "parameters",
    "definitions",
    "meta",
    "metrics",
)
#: Keys and sections of the original format that perfchart reads past with a warning.
UNSUPPORTED_CONFIG_KEYS = ("indicators",)
SECTIONS = ("config", "define", "policies", "channels", "tasks", "trackers")
UNSUPPORTED_SECTIONS = ("observers", "reporters")
NAME = re.compile(r"[A-Za-z_][\w.-]*")


@dataclass
class ParameterSpec:
    name: str
    default: Any = None
    desc: str | None = None
    units: str | None = None


@dataclass
class PolicySpec:
    index: int
    chart: PolicyChart
    config: LocatedDict


@dataclass
class ChannelSpec:
    index: int
    cls: type[Channel]
    config: LocatedDict

    @property
    def name(self) -> str:
        """The channel instance's name in messages and events."""
        return f"channels[{self.index}]"


@dataclass
class TrackerSpec:
    index: int
    cls: type[Tracker]
    config: LocatedDict


@dataclass
class TestConfig:
    __test__ = False  # not a pytest test class, despite the name

    path: Path
    sha256: str
    title: str
    repeat: int
    stale_timeout: float
    seed: int | None
    #: Warm-up runs of each parameter set, before its ``repeat`` measured ones.
    warmup: int = 0
    parameters: list[ParameterSpec] = field(default_factory=list)
    definitions: dict[str, Any] = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    policies: list[PolicySpec] = field(default_factory=list)
    channels: list[ChannelSpec] = field(default_factory=list)
    tasks: list[TaskSpec] = field(default_factory=list)
    metrics: list[MetricSpec] = field(default_factory=list)
    trackers: list[TrackerSpec] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    @property
    def macro_values(self) -> dict[str, Any]:
        """What macros of channels and tasks read besides parameters: definitions and
        ``meta:name``.
        """
        return {**self.definitions, **{f"meta:{name}": v for name, v in self.meta.items()}}

    def parameter_defaults(self) -> dict[str, Any]:
        """Starting values of the declared parameters that have one."""
        return {p.name: p.default for p in self.parameters if p.default is not None}


def parse_define(text: str) -> tuple[str, Any]:
    """``NAME=VALUE`` from ``-D``; the value is read as a YAML scalar so ``n=5`` is an int."""
    name, sep, value = text.partition("=")
    name = name.strip()
    if not sep or not NAME.fullmatch(name):
        raise UsageError(
            f"-D {text!r}: expected NAME=VALUE, where NAME is letters, digits, '_', '.' or '-'"
        )
    return name, scalar(value)


def scalar(text: str) -> Any:
    """A command-line string as YAML would read it; anything but a plain scalar stays text."""
    if not text.strip():
        return text
    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (bool, int, float, str)) else text


def load_config(path: str | Path, defines: Mapping[str, Any] = {}) -> TestConfig:
    """Load, check and render a test configuration; any problem is one ConfigError."""
    path = Path(path)
    text = read_text(path)
    raw = load_yaml(text, str(path))
    if not isinstance(raw, LocatedDict):
        raise ConfigError(
            "expected a mapping with config:, define:, policies:, channels: ... sections, got "
            f"{describe(raw)}",
            file=str(path),
            line=getattr(raw, "line", None) or 1,
        )

    schema = load_schema("config")
    validate(
        raw, {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/sources"}
    )
    bad = bad_macros(raw)
    if bad:
        raise bad[0]
    values = _definition_values(raw, defines)
    values.update(_meta_values(raw, values))
    notes = _section_warnings(raw)

    doc = LocatedDict(file=raw.file, line=raw.line, path=raw.path)
    doc.lines = dict(raw.lines)
    for key, value in raw.items():
        if key in ("define", "channels", "tasks"):
            doc[key] = value
        elif key == "config" and isinstance(value, Mapping):
            doc[key] = _render_config(value, values)
        elif key in SECTIONS:
            doc[key] = render_entry(raw, key, value, values)
        else:
            doc[key] = value
    validate(doc, schema)

    settings = doc.get("config") or LocatedDict(file=raw.file, line=raw.line, path="config")
    policies = [_policy(index, block, path.parent) for index, block in enumerate(doc["policies"])]
    parameters = _parameters(settings)
    channels = [channel_spec(index, block) for index, block in enumerate(doc.get("channels") or ())]
    tasks = doc.get("tasks") or LocatedList()
    specs = task_specs(tasks)
    metrics = _metrics(settings)
    trackers = [
        tracker_spec(index, block, metrics) for index, block in enumerate(doc.get("trackers") or ())
    ]
    if settings.get("builtinMetrics", True):
        trackers += _builtin_metrics(channels, metrics, len(trackers))
    known = set(values) | {p.name for p in parameters} | _policy_parameters(policies)
    for container, key, name in _unknown_macros([*(c.config for c in channels), *tasks], known):
        raise container.error(key, _unknown_message(name))
    for channel in channels:
        channel.cls.check_definitions(channel.config, values)
    notes += [note for spec in policies for note in _policy_warnings(spec)]

    return TestConfig(
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        title=str(settings.get("title", path.stem)),
        repeat=_repeat(settings),
        stale_timeout=_stale_timeout(settings),
        seed=settings.get("seed"),
        warmup=settings.get("warmup", 0),
        parameters=parameters,
        definitions={name: value for name, value in values.items() if not name.startswith("meta:")},
        meta=settings.get("meta") or {},
        policies=policies,
        channels=channels,
        tasks=specs,
        metrics=list(metrics.values()),
        trackers=trackers,
        warnings=[
            str(note)
            for note in sorted(notes + _config_warnings(settings), key=lambda note: note.line or 0)
        ],
    )


def _definition_values(raw: Mapping[str, Any], defines: Mapping[str, Any]) -> dict[str, Any]:
    """Macro values: definition defaults, overridden by ``define:``, overridden by ``-D``."""
    declared = (raw.get("config") or {}).get("definitions") or LocatedList()
    seen: set[str] = set()
    values: dict[str, Any] = {}
    for index, entry in enumerate(declared):
        if entry["name"] in seen:
            raise declared.error(index, f"definition {entry['name']!r} is declared twice")
        seen.add(entry["name"])
        if "default" in entry:
            values[entry["name"]] = entry["default"]
    values.update(raw.get("define") or {})
    values.update(
        {
            name: scalar(value) if isinstance(value, str) else value
            for name, value in defines.items()
        }
    )
    for index, entry in enumerate(declared):
        if entry.get("required") and entry["name"] not in values:
            desc = f" ({entry['desc']})" if entry.get("desc") else ""
            raise declared.error(
                index,
                f"required definition {entry['name']!r}{desc} has no value: give it with -D "
                f"{entry['name']}=... or in define:",
            )
    return values


def _meta_values(raw: Mapping[str, Any], values: Mapping[str, Any]) -> dict[str, Any]:
    """``meta:name`` for each value of ``config.meta``, its own macros rendered from *values*."""
    settings = raw.get("config")
    meta = settings.get("meta") if isinstance(settings, Mapping) else None
    if not isinstance(meta, Mapping):
        return {}
    return {f"meta:{name}": render_entry(meta, name, value, values) for name, value in meta.items()}


def _render_config(settings: Mapping[str, Any], values: Mapping[str, Any]) -> LocatedDict:
    """Render the known keys of ``config:``; ``definitions`` are the macro sources, and ignored keys
    must not fail.
    """
    out = LocatedDict(
        file=getattr(settings, "file", None),
        line=getattr(settings, "line", None),
        path=getattr(settings, "path", "config"),
    )
    out.lines = dict(getattr(settings, "lines", {}))
    for key, value in settings.items():
        out[key] = (
            render_entry(settings, key, value, values)
            if key in CONFIG_KEYS and key != "definitions"
            else value
        )
    return out


def _section_warnings(raw: LocatedDict) -> list[ConfigError]:
    """Warnings share ConfigError's ``file:line: key: message`` form, so they read like errors.

    Unknown sections are errors, reported by the schema with a did-you-mean hint.
    """
    return [
        raw.error(key, f"the {key} section is not supported yet; ignored")
        for key in raw
        if key in UNSUPPORTED_SECTIONS
    ]


def _config_warnings(settings: LocatedDict) -> list[ConfigError]:
    return [
        settings.error(key, f"{key} is not supported yet; ignored")
        for key in settings
        if key in UNSUPPORTED_CONFIG_KEYS
    ]


def _repeat(settings: LocatedDict) -> int:
    if "repeat" in settings and "runs" in settings:
        raise settings.error("runs", "give either repeat or runs (its original name), not both")
    return settings.get("repeat", settings.get("runs", 1))


def _stale_timeout(settings: LocatedDict) -> float:
    if "staleTimeout" not in settings:
        return DEFAULT_STALE_TIMEOUT
    try:
        seconds = parse_duration(settings["staleTimeout"])
    except ValueError as exc:
        raise settings.error("staleTimeout", str(exc)) from None
    if seconds <= 0:
        raise settings.error(
            "staleTimeout", f"expected a positive duration, got {settings['staleTimeout']!r}"
        )
    return seconds


def _parameters(settings: LocatedDict) -> list[ParameterSpec]:
    declared = settings.get("parameters") or LocatedList()
    specs: dict[str, ParameterSpec] = {}
    for index, entry in enumerate(declared):
        if entry["name"] in specs:
            raise declared.error(index, f"parameter {entry['name']!r} is declared twice")
        specs[entry["name"]] = ParameterSpec(
            entry["name"], entry.get("default"), entry.get("desc"), entry.get("units")
        )
    return list(specs.values())


def _without(block: LocatedDict, *keys: str) -> LocatedDict:
    out = LocatedDict(
        {k: v for k, v in block.items() if k not in keys},
        file=block.file,
        line=block.line,
        path=block.path,
    )
    out.lines = {k: v for k, v in block.lines.items() if k not in keys}
    return out


def _policy(index: int, block: LocatedDict, base_dir: Path) -> PolicySpec:
    if "class" in block and "statechart" in block:
        raise block.error(
            "statechart",
            "give either class (a bundled policy) or statechart (a chart file), not both",
        )
    key = "statechart" if "statechart" in block else "class" if "class" in block else None
    if key is None:
        raise ConfigError(
            "missing key 'class' (a bundled policy) or 'statechart' (the path of a chart file)",
            file=block.file,
            line=block.line,
            key=block.path,
        )
    find = chart_file if key == "statechart" else resolve
    try:
        chart = find(block[key], base_dir)
    except ConfigError as exc:
        if exc.file:
            raise
        raise block.error(key, exc.message) from None
    config = _without(block, "class", "statechart")
    if chart.config_schema is not None:
        validate(config, chart.config_schema)
    return PolicySpec(index, chart, config)


def channel_spec(index: int, block: LocatedDict) -> ChannelSpec:
    """The registered channel *block* names, its block checked against the channel's own schema and
    rules.
    """
    try:
        cls = channel_class(block["class"])
    except ConfigError as exc:
        raise block.error("class", exc.message) from None
    validate(_without(block, "class"), cls.schema, default_file=block.file, default_key=block.path)
    cls.check(block)
    return ChannelSpec(index, cls, block)


def _metrics(settings: LocatedDict) -> dict[str, MetricSpec]:
    """``config.metrics``: names unique, summarizers known; ``duration`` is every run's own."""
    declared = settings.get("metrics") or LocatedList()
    specs: dict[str, MetricSpec] = {}
    for index, entry in enumerate(declared):
        name = entry["name"]
        if name in specs:
            raise declared.error(index, f"metric {name!r} is declared twice")
        if name == DURATION.name:
            raise entry.error(
                "name",
                "'duration' is recorded for every run already; give this metric another name",
            )
        summarize = check_summarize(entry.get("summarize"), entry, "summarize")
        specs[name] = MetricSpec(
            name,
            summarize,
            entry.get("units"),
            entry.get("desc"),
            _aggregate(entry),
            entry.get("summarize_over", "samples"),
        )
    return specs


def _builtin_metrics(
    channels: list[ChannelSpec], metrics: dict[str, MetricSpec], first: int
) -> list[TrackerSpec]:
    """Each channel class's built-in metrics, added to *metrics* after the declared ones, and the
    trackers that give them their values.

    A declared metric of the same name keeps its declaration (its summarizers,
    its aggregate) and gets the built-in values.
    """
    trackers: list[TrackerSpec] = []
    cls = tracker_class("tracker.EventAttributeTracker")
    for channel in dict.fromkeys(spec.cls for spec in channels):
        for entry in channel.metrics:
            name = entry["name"]
            if name not in metrics:
                metrics[name] = MetricSpec(
                    name,
                    check_summarize(entry.get("summarize"), entry, "summarize"),
                    entry.get("units"),
                    entry.get("desc"),
                    entry.get("aggregate", "mean"),
                    entry.get("summarize_over", "samples"),
                )
            source = {key: entry[key] for key in ("attrib", "eval") if key in entry}
            block = LocatedDict(
                {
                    "class": cls.names[0],
                    "event": entry["event"],
                    "extract": [{"metric": name, **source}],
                },
                path=f"{channel.names[0]}.metrics.{name}",
            )
            trackers.append(TrackerSpec(first + len(trackers), cls, block))
    return trackers


def _aggregate(entry: LocatedDict) -> str:
    """A metric's ``aggregate``: first, last or any summarizer's name."""
    how = entry.get("aggregate", "mean")
    if how in ("first", "last"):
        return str(how)
    try:
        summarizer(how)
    except ValueError:
        raise entry.error(
            "aggregate",
            f"unknown aggregate {how!r} (expected one of: {', '.join(AGGREGATES)}, or any "
            "summarizer such as p95 or stddev)",
        ) from None
    return str(how)


def tracker_spec(index: int, block: LocatedDict, metrics: Mapping[str, MetricSpec]) -> TrackerSpec:
    """The registered tracker *block* names, its block checked, every metric it writes declared."""
    try:
        cls = tracker_class(block["class"])
    except ConfigError as exc:
        raise block.error("class", exc.message) from None
    validate(_without(block, "class"), cls.schema, default_file=block.file, default_key=block.path)
    cls.check(block)
    for container, key, name in cls.metric_keys(block):
        if name not in metrics:
            declared = ", ".join(metrics) or "none"
            raise container.error(
                key, f"metric {name!r} is not declared in config.metrics (declared: {declared})"
            )
    return TrackerSpec(index, cls, block)


def _policy_parameters(policies: list[PolicySpec]) -> set[str]:
    """The parameters the policies set, where each chart's header says its block names them."""
    names: set[str] = set()
    for policy in policies:
        names |= policy.chart.parameter_names(policy.config)
    return names


def _policy_warnings(spec: PolicySpec) -> list[ConfigError]:
    block = spec.config
    return [
        ConfigError(message, file=block.file, line=block.line, key=block.path)
        for message in spec.chart.warnings_for(block)
    ]


def _unknown_message(name: str) -> str:
    if name.startswith("meta:"):
        return (
            f"macro {{{{{name}}}}}: config.meta has no value {name[5:]!r}; add it there or give "
            f"a default {{{{{name}|...}}}}"
        )
    return (
        f"macro {{{{{name}}}}} is not a definition, a declared parameter (config.parameters) "
        "or a parameter a policy sets; "
        f"declare it or give it a default {{{{{name}|...}}}}"
    )


def _unknown_macros(blocks: list[Any], known: set[str]) -> Iterator[tuple[Located, Any, str]]:
    """Macros without a default that nothing known at load time can fill, with their entry."""
    for block in blocks:
        items = (
            block.items()
            if isinstance(block, Mapping)
            else enumerate(block)
            if isinstance(block, list)
            else ()
        )
        for key, value in items:
            if isinstance(value, str):
                for macro in macros_in(value):
                    for name in sorted(macro.required - known):
                        yield block, key, name
            else:
                yield from _unknown_macros([value], known)
