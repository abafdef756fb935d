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
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from ..channels import Channel, TaskSpec, channel_class, task_specs
from ..charts import PolicyChart, chart_file, resolve
from ..config import (
    BadMacro,
    Located,
    LocatedDict,
    LocatedList,
    MacroError,
    MissingMacro,
    bad_macros,
    describe,
    load_merged,
    load_schema,
    macros_in,
    parse_scalar,
    render,
    render_entry,
    validate,
    validate_block,
    validation_errors,
)
from ..core import parse_duration, unimplemented
from ..errors import ConfigError, ConfigErrors, UsageError
from ..metrics import (
    AGGREGATES,
    DURATION,
    MetricSpec,
    Tracker,
    check_summarize,
    summarizer,
    tracker_class,
)
from .waits import Waits, unanswered

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
SECTIONS = ("config", "define", "meta", "policies", "channels", "tasks", "trackers")
NAME = re.compile(r"[A-Za-z_][\w.-]*")


class ParameterSpec(NamedTuple):
    name: str
    default: Any = None
    desc: str | None = None
    units: str | None = None


class PolicySpec:
    """One ``policies:`` block: its place, its chart and its configuration."""

    __slots__ = ("index", "chart", "config")

    def __init__(self, index: int, chart: PolicyChart, config: LocatedDict) -> None:
        self.index, self.chart, self.config = index, chart, config


class ChannelSpec:
    """One ``channels:`` block: its place, its registered class and its configuration."""

    __slots__ = ("index", "cls", "config")

    def __init__(self, index: int, cls: type[Channel], config: LocatedDict) -> None:
        self.index, self.cls, self.config = index, cls, config

    @property
    def name(self) -> str:
        """The channel instance's name in messages and events."""
        return f"channels[{self.index}]"


class TrackerSpec:
    """One tracker: its place, its registered class and its configuration."""

    __slots__ = ("index", "cls", "config")

    def __init__(self, index: int, cls: type[Tracker], config: LocatedDict) -> None:
        self.index, self.cls, self.config = index, cls, config


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
    return name, parse_scalar(value, f"-D {name}")


def load_config(
    path: str | Path | Sequence[str | Path],
    defines: Mapping[str, Any] = {},
    meta: Mapping[str, Any] = {},
) -> TestConfig:
    """Load, check and render a test configuration; any problem is a ConfigError (ConfigErrors
    when there are several).

    *path* may be several files, merged as ``include:`` merges (``config.include``);
    *meta* (``-M``) overrides the ``meta:`` values of the files.
    """
    paths = [Path(path)] if isinstance(path, (str, Path)) else [Path(p) for p in path]
    raw, text, refused = load_merged(paths)
    path = paths[0]
    if not isinstance(raw, LocatedDict):
        raise ConfigError(
            "expected a mapping with config:, define:, policies:, channels: ... sections, got "
            f"{describe(raw)}",
            file=str(path),
            line=getattr(raw, "line", None) or 1,
        )

    problems = _Problems()
    problems.errors += refused
    schema = load_schema("config")
    validate(
        raw, {"$schema": schema["$schema"], "$defs": schema["$defs"], "$ref": "#/$defs/sources"}
    )
    problems.errors += bad_macros(raw) + _section_errors(raw)
    values = problems.attempt(_definition_values, raw, defines)
    if values is None:  # nothing renders without them
        problems.stop()
    assert values is not None
    values.update(_meta_values(raw, values, meta))
    problems.attempt(_render_definitions, raw, values)  # one that fails keeps its text
    values.update(_meta_values(raw, values, meta))  # a meta: value may read a definition
    problems.warnings += _section_warnings(raw)
    doc = _rendered(raw, values, problems)
    for error in validation_errors(doc, schema):
        problems.errors.append(error)
        # What follows reads sections as the schema says they are: one that is not is left out.
        section = re.split(r"[.\[]", error.key or "")[0]
        problems.invalid.add(section)
        doc.pop(section, None)
    settings = doc.get("config") or LocatedDict(file=raw.file, line=raw.line, path="config")
    problems.warnings += _config_warnings(settings)
    config = _resolved(path, text, doc, settings, values, problems)
    problems.stop()
    config.warnings = [str(note) for note in problems.sorted(problems.warnings)]
    return config


T = TypeVar("T")


class _Problems:
    """What loading one file found so far: every block is checked even after one fails, so that
    ``perfchart check`` can name all of them.
    """

    def __init__(self) -> None:
        self.errors: list[ConfigError] = []
        self.warnings: list[ConfigError] = []
        #: The blocks whose class or content was refused: nothing else reads their events.
        self.failed: list[Any] = []
        #: The sections left out because the schema refused them.
        self.invalid: set[str] = set()

    def attempt(self, check: Callable[..., T], *args: Any) -> T | None:
        """*check*'s result, or None with its errors kept."""
        try:
            return check(*args)
        except ConfigErrors as exc:
            self.errors += exc.errors
        except ConfigError as exc:
            self.errors.append(exc)
        return None

    def each(self, check: Callable[..., T], blocks: Any, *args: Any) -> list[T]:
        """*check* of each ``(index, block)`` of *blocks*, leaving out those that failed."""
        found = []
        for index, block in enumerate(blocks):
            result = self.attempt(check, index, block, *args)
            if result is None:
                self.failed.append(block)
            else:
                found.append(result)
        return found

    @staticmethod
    def sorted(found: list[ConfigError]) -> list[ConfigError]:
        """*found* in the order of the file's lines, each problem once."""
        return sorted(_once(found), key=lambda error: error.line or 0)

    def stop(self) -> None:
        """Raise every error found so far, if any, in the order they were found: the first is the
        one ``run`` has always stopped at.
        """
        if self.errors:
            raise ConfigErrors(_once(self.errors), self.sorted(self.warnings))


def _once(found: list[ConfigError]) -> list[ConfigError]:
    return list({str(error): error for error in found}.values())


def _rendered(raw: LocatedDict, values: Mapping[str, Any], problems: _Problems) -> LocatedDict:
    """*raw* with the macros of its sections rendered; channels and tasks stay raw, and so does a
    section whose macros failed (its errors are kept).
    """
    doc = LocatedDict(file=raw.file, line=raw.line, path=raw.path)
    doc.lines, doc.origins = dict(raw.lines), dict(raw.origins)
    for key, value in raw.items():
        if key in ("define", "channels", "tasks"):
            doc[key] = value
        elif key == "config" and isinstance(value, Mapping):
            rendered = problems.attempt(_render_config, value, values)
            doc[key] = value if rendered is None else rendered
        elif key in SECTIONS:
            rendered = problems.attempt(render_entry, raw, key, value, values)
            doc[key] = value if rendered is None else rendered
        else:
            doc[key] = value
    return doc


def _resolved(
    path: Path,
    text: str,
    doc: LocatedDict,
    settings: LocatedDict,
    values: dict[str, Any],
    problems: _Problems,
) -> TestConfig:
    """The checked configuration of the valid *doc*, every block's problems kept in *problems*."""
    policies = problems.each(_policy, doc.get("policies") or ())
    parameters = problems.attempt(_parameters, settings) or []
    channels = problems.each(channel_spec, doc.get("channels") or ())
    tasks = doc.get("tasks") or LocatedList()
    specs = problems.attempt(task_specs, tasks)
    metrics = None if "config" in problems.invalid else problems.attempt(_metrics, settings)
    trackers = problems.each(tracker_spec, doc.get("trackers") or (), metrics)
    if metrics is not None and settings.get("builtinMetrics", True):
        trackers += _builtin_metrics(channels, metrics, len(trackers))
    unloaded = _unloaded_parameters(doc.get("policies") or (), policies)
    known = set(values) | {p.name for p in parameters} | _policy_parameters(policies)
    # Without every policy's chart, the parameters they set are not known: their macros would
    # look unknown.
    checked = bool(doc.get("policies")) and unloaded is not None
    blocks = [*(c.config for c in channels), *tasks] if checked else []
    known |= unloaded or set()
    for container, key, name in _unknown_macros(blocks, known):
        problems.errors.append(container.error(key, _unknown_message(name)))
    for channel in channels:
        problems.attempt(channel.cls.check_definitions, channel.config, values)
    problems.warnings += [note for spec in policies for note in _policy_warnings(spec)]
    for block in problems.failed:
        problems.errors += _original_events(block)
    # A channel or task refused could have published what a policy waits for: judge only a whole.
    if specs is not None and len(channels) == len(doc.get("channels") or ()):
        problems.errors += unanswered(
            [
                Waits(
                    f"policies[{spec.index}]",
                    spec.config,
                    spec.chart.config_schema,
                    spec.chart.bound,
                )
                for spec in policies
            ],
            [(spec.name, spec.cls) for spec in channels],
            bool(specs),
        )
    return TestConfig(
        path=path,
        sha256=hashlib.sha256(text.encode("utf-8")).hexdigest(),
        title=str(settings.get("title", path.stem)),
        repeat=problems.attempt(_repeat, settings) or 1,
        stale_timeout=problems.attempt(_stale_timeout, settings) or DEFAULT_STALE_TIMEOUT,
        seed=settings.get("seed"),
        warmup=settings.get("warmup", 0),
        parameters=parameters,
        definitions={name: value for name, value in values.items() if not name.startswith("meta:")},
        meta={name[5:]: v for name, v in values.items() if name.startswith("meta:")},
        policies=policies,
        channels=channels,
        tasks=specs or [],
        metrics=list((metrics or {}).values()),
        trackers=trackers,
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
            name: parse_scalar(value, f"-D {name}") if isinstance(value, str) else value
            for name, value in defines.items()
        }
    )
    missing = [
        declared.error(
            index,
            f"required definition {entry['name']!r}"
            + (f" ({entry['desc']})" if entry.get("desc") else "")
            + f" has no value: give it with -D {entry['name']}=... or in define:",
        )
        for index, entry in enumerate(declared)
        if entry.get("required") and entry["name"] not in values
    ]
    if missing:  # every one at once: each is one more -D to give
        raise ConfigErrors(missing)
    return values


def _render_definitions(raw: Mapping[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """Render, in *values*, each ``define:`` value that holds macros from the other definitions
    and ``meta:`` (the original rendered them too: ``marathon_url: "{{cluster_url}}/marathon"``).
    """
    define = raw.get("define")
    if isinstance(define, LocatedDict):
        _Definitions(define, values).render()
    return values


class _Definitions:
    """The ``define:`` values that hold macros, rendered in the order they read each other.

    A definition may read one that reads another. One that reads itself, through any chain, is an
    error at its line, and so is one reading a name with no value when the file loads (a
    parameter's changes with every run, a definition's is fixed for the session); every one at
    once.
    """

    def __init__(self, define: LocatedDict, values: dict[str, Any]) -> None:
        self.define, self.values = define, values
        #: Those not rendered yet: a -D value overrides the text, and is not rendered.
        self.pending = {
            name
            for name, text in define.items()
            if isinstance(text, str) and "{{" in text and values.get(name) is text
        }
        self.errors: dict[str, ConfigError] = {}

    def render(self) -> None:
        for name in sorted(self.pending):
            if name in self.pending:
                self._resolve(name)
        if self.errors:
            raise ConfigErrors(list(self.errors.values()))

    def _reads(self, name: str) -> Iterator[str]:
        """The pending definitions *name* reads, in name order."""
        try:
            reads = set().union(*(macro.reads for macro in macros_in(self.define[name])))
        except BadMacro:
            reads = set()  # reported with the file's other bad macros
        return iter(sorted(reads & self.pending))

    def _resolve(self, start: str) -> None:
        """Render *start* after the pending definitions it reads, depth first without recursion:
        a chain may be as long as the file."""
        chain, reading = [start], [self._reads(start)]
        while chain:
            other = next(reading[-1], None)
            if other is None:
                reading.pop()
                self._render(chain.pop())
            elif other in chain:
                loop = " -> ".join([*chain[chain.index(other) :], other])
                self.errors[other] = self.define.error(
                    other, f"definition {other!r} reads itself: {loop}"
                )
            elif other in self.pending and other not in self.errors:
                chain.append(other)
                reading.append(self._reads(other))

    def _render(self, name: str) -> None:
        if name not in self.pending or name in self.errors:
            return
        self.pending.discard(name)
        try:
            self.values[name] = render(self.define[name], self.values)
        except MissingMacro as exc:
            self.errors[name] = self.define.error(
                name,
                f"{{{{{exc.name}}}}} has no value when the file loads: a definition is fixed for "
                "the session, so it reads other definitions and meta: values (give "
                f"{exc.name} in define: or with -D {exc.name}=..., or write {{{{{exc.name}}}}} "
                "where it is used)",
            )
        except MacroError as exc:
            self.errors[name] = self.define.error(name, exc.message)


def _meta_values(
    raw: Mapping[str, Any], values: Mapping[str, Any], given: Mapping[str, Any]
) -> dict[str, Any]:
    """``meta:name`` for each value of ``config.meta`` and the top-level ``meta:`` (which wins, as
    the original read only it), its own macros rendered from *values*; *given* (``-M``) over all.
    """
    found: dict[str, Any] = {}
    settings = raw.get("config")
    for meta in (settings.get("meta") if isinstance(settings, Mapping) else None, raw.get("meta")):
        if isinstance(meta, Mapping):
            found.update(
                {f"meta:{name}": render_entry(meta, name, v, values) for name, v in meta.items()}
            )
    found.update({f"meta:{name}": value for name, value in given.items()})
    return found


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
    out.origins = dict(getattr(settings, "origins", {}))
    for key, value in settings.items():
        out[key] = (
            render_entry(settings, key, value, values)
            if key in CONFIG_KEYS and key != "definitions"
            else value
        )
    return out


def _section_warnings(raw: LocatedDict) -> list[ConfigError]:
    """Warnings share ConfigError's ``file:line: key: message`` form, so they read like errors.

    A reporter only writes results down, which perfchart's own results files
    do: it is ignored with a warning naming it. Unknown sections are errors,
    reported by the schema with a did-you-mean hint.
    """
    return [
        _refusal(entries, index, "reporter", "ignored")
        for entries, index in _entries(raw.get("reporters"), raw, "reporters")
    ]


def _section_errors(raw: LocatedDict) -> list[ConfigError]:
    """Each observer: perfchart implements none of the original's, and one that fed a tracker
    cannot be left out without losing its metric.
    """
    return [
        _refusal(entries, index, "observer")
        for entries, index in _entries(raw.get("observers"), raw, "observers")
    ]


def _entries(section: Any, parent: LocatedDict, key: str) -> list[tuple[Located, Any]]:
    """The entries of a section of class blocks, with where each is; the section itself when it is
    no list.
    """
    if isinstance(section, LocatedList):
        return [(section, index) for index in range(len(section))]
    return [] if section is None else [(parent, key)]


def _refusal(entries: Located, index: Any, kind: str, then: str = "") -> ConfigError:
    """The original's *kind* class at *entries*[*index*], refused by name (or warned, with
    *then*).
    """
    entry = entries[index]  # type: ignore[index]
    name = entry.get("class") if isinstance(entry, Mapping) else None
    original = unimplemented(kind, name)
    if original is not None:
        message = original.refusal()
    elif name is None:
        article = "an" if kind[0] in "aeiou" else "a"
        message = f"expected {article} {kind} block with a class:, got {describe(entry)}"
    else:
        message = f"unknown {kind} class {name!r}: the original driver had no {kind} so called"
    message += f"; {then}" if then else ""
    if isinstance(entry, LocatedDict) and "class" in entry:
        return entry.error("class", message)
    return entries.error(index, message)


def _config_warnings(settings: LocatedDict) -> list[ConfigError]:
    return [
        _refusal(entries, index, "indicator", "ignored")
        for entries, index in _entries(settings.get("indicators"), settings, "indicators")
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
    out.origins = {k: v for k, v in block.origins.items() if k not in keys}
    return out


def _policy(index: int, block: LocatedDict) -> PolicySpec:
    """The policy *block* names; a chart file is found beside the file the block is written in."""
    chart = _policy_chart(block)
    config = _without(block, "class", "statechart")
    if chart.config_schema is not None:
        validate_block(config, chart.config_schema)
    return PolicySpec(index, chart, config)


def _policy_chart(block: LocatedDict) -> PolicyChart:
    """The chart of the policy *block*, its block left unchecked."""
    base_dir = Path(block.file).parent if block.file else Path()
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
    return chart


def _unloaded_parameters(blocks: Sequence[Any], loaded: list[PolicySpec]) -> set[str] | None:
    """The parameters the policy *blocks* that did not load say they set, read by their charts'
    headers; None when one names no chart: what it sets is not known.
    """
    indices = {spec.index for spec in loaded}
    names: set[str] = set()
    for index, block in enumerate(blocks):
        if index in indices:
            continue
        if not isinstance(block, LocatedDict):
            return None
        try:
            chart = _policy_chart(block)
        except ConfigError:
            return None
        names |= chart.parameter_names(_without(block, "class", "statechart"))
    return names


def channel_spec(index: int, block: LocatedDict) -> ChannelSpec:
    """The registered channel *block* names, its block checked against the channel's own schema and
    rules.
    """
    try:
        cls = channel_class(block["class"])
    except ConfigError as exc:
        raise block.error("class", exc.message) from None
    validate_block(
        _without(block, "class"), cls.schema, default_file=block.file, default_key=block.path
    )
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
            entry.get("title"),
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


def tracker_spec(
    index: int, block: LocatedDict, metrics: Mapping[str, MetricSpec] | None
) -> TrackerSpec:
    """The registered tracker *block* names, its block checked, every metric it writes declared
    (unless *metrics* is None: ``config.metrics`` itself was wrong).
    """
    try:
        cls = tracker_class(block["class"])
    except ConfigError as exc:
        raise block.error("class", exc.message) from None
    validate_block(
        _without(block, "class"), cls.schema, default_file=block.file, default_key=block.path
    )
    cls.check(block)
    for container, key, name in cls.metric_keys(block):
        if metrics is not None and name not in metrics:
            declared = ", ".join(metrics) or "none"
            raise container.error(
                key, f"metric {name!r} is not declared in config.metrics (declared: {declared})"
            )
    return TrackerSpec(index, cls, block)


#: A word that names an event class.
EVENT_NAME = re.compile(r"\b[A-Z][A-Za-z]*Event\b")


def _original_events(block: Any) -> list[ConfigError]:
    """Events of the original that perfchart lacks, named in a block nothing else checked (its
    class was refused), so that one check names them too.
    """
    items = (
        block.items()
        if isinstance(block, Mapping)
        else enumerate(block)
        if isinstance(block, list)
        else ()
    )
    found: list[ConfigError] = []
    for key, value in items:
        if isinstance(value, str):
            for name in EVENT_NAME.findall(value):
                original = unimplemented("event", name)
                if original is not None and isinstance(block, Located):
                    found.append(block.error(key, original.refusal()))
        else:
            found += _original_events(value)
    return found


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
