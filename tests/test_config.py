"""Loading test configurations in the original driver's format."""

from __future__ import annotations

import hashlib
import textwrap
from pathlib import Path

import pytest

from interpreter.channels.cmdline import CmdlineChannel
from interpreter.charts import PolicyChart, catalog, load_chart
from interpreter.errors import ConfigError, UsageError
from interpreter.session import ParameterSpec, load_config, parse_define

# A stand-in for the bundled MultivariableExplorer chart, so these tests do not
# depend on the shipped chart's exact schema.
EXPLORER = """\
perfchart:
  name: explorer
  aliases: [policy.MultivariableExplorerPolicy, MultivariableExplorerPolicy]
  summary: One run per permutation.
  parameters: ['matrix.*']
  config:
    type: object
    required: [matrix, events]
    additionalProperties: false
    properties:
      matrix:
        type: object
        additionalProperties:
          type: object
          properties:
            type: {enum: [discreet, discrete, range, sample]}
            values: {type: array}
      events:
        type: object
        required: [signal]
        additionalProperties: false
        properties:
          signal: {type: object}
          signalEventCount: {type: [integer, string]}
          start: {type: string}
statechart:
  name: Explorer
  root state:
    name: Root
    initial: End
    states:
      - name: End
        type: final
"""

FULL = """\
config:
  title: "Sweep on {{cluster}}"
  runs: 3
  staleTimeout: 15m
  seed: 42
  parameters:
    - name: apps
      default: 1
      desc: Number of apps
      units: count
      uuid: 4a003e85e8bb4a95a340eec1727cfd0d
    - name: size
  definitions:
    - name: secret
      required: yes
      desc: The API token
    - name: cluster
      default: local
  meta:
    owner: "{{cluster}}"
define:
  workdir: /tmp
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      apps:
        type: discreet
        values: [1, 2, 4]
    events:
      signal:
        OK: Done
      signalEventCount: "{{count|2}}"
channels:
  - class: channel.CmdlineChannel
    cmdline: "python work.py --apps {{apps}} --size {{size}} --dir {{workdir}} --token {{secret}}"
tasks:
  - at: intertest
    cmdline: "echo {{apps}} {{extra|none}}"
"""

MINIMAL = """\
policies:
  - class: explorer
    matrix: {apps: {values: [1]}}
    events: {signal: {OK: Done}}
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


@pytest.fixture(autouse=True)
def explorer(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> PolicyChart:
    """Make the stand-in chart the only bundled policy."""
    chart = load_chart(write(tmp_path / "bundled" / "explorer.yaml", EXPLORER))
    monkeypatch.setattr(catalog, "bundled", lambda: [chart])
    return chart


def load(tmp_path: Path, text: str, defines: dict | None = None, name: str = "test.yml"):
    return load_config(write(tmp_path / name, text), defines or {})


def error(tmp_path: Path, text: str, defines: dict | None = None) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load(tmp_path, text, defines)
    return caught.value


def warnings_about(config, word: str) -> list[str]:
    return [warning for warning in config.warnings if word in warning]


# --- a full configuration -----------------------------------------------------


def test_full_original_format_loads(tmp_path: Path, explorer: PolicyChart):
    path = write(tmp_path / "sweep.yml", FULL)
    config = load_config(path, {"secret": "s3cret"})
    assert config.path == path
    assert config.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert config.title == "Sweep on local"
    assert config.repeat == 3
    assert config.stale_timeout == 900.0
    assert config.seed == 42
    assert config.parameters == [
        ParameterSpec("apps", 1, "Number of apps", "count"),
        ParameterSpec("size"),
    ]
    assert config.parameter_defaults() == {"apps": 1}
    assert config.definitions == {"cluster": "local", "workdir": "/tmp", "secret": "s3cret"}
    assert config.meta == {"owner": "local"}
    assert config.warnings == []

    [policy] = config.policies
    assert policy.index == 0
    assert policy.chart == explorer
    assert policy.config == {
        "matrix": {"apps": {"type": "discreet", "values": [1, 2, 4]}},
        "events": {"signal": {"OK": "Done"}, "signalEventCount": 2},
    }
    assert policy.config.line_of("events") == 29

    [channel] = config.channels
    assert (channel.index, channel.cls) == (0, CmdlineChannel)
    assert channel.config == {
        "class": "channel.CmdlineChannel",
        "cmdline": (
            "python work.py --apps {{apps}} --size {{size}} --dir {{workdir}} --token {{secret}}"
        ),
    }
    assert channel.config.line_of("cmdline") == 35
    assert [(task.names, task.command.cmdline) for task in config.tasks] == [
        ({"intertest"}, "echo {{apps}} {{extra|none}}")
    ]


def test_defaults_of_a_minimal_config(tmp_path: Path):
    config = load(tmp_path, MINIMAL, name="my-sweep.yaml")
    assert config.title == "my-sweep"
    assert config.repeat == 1
    assert config.stale_timeout == 600.0
    assert config.seed is None
    assert config.parameters == config.channels == config.tasks == []
    assert config.meta == {}
    assert config.warnings == []


def test_repeat_and_its_original_name_runs(tmp_path: Path):
    assert load(tmp_path, "config: {repeat: 4}\n" + MINIMAL).repeat == 4
    assert load(tmp_path, "config: {runs: 5}\n" + MINIMAL).repeat == 5
    assert "not both" in error(tmp_path, "config: {runs: 5, repeat: 5}\n" + MINIMAL).message


def test_stale_timeout_in_seconds_or_as_a_duration(tmp_path: Path):
    assert load(tmp_path, "config: {staleTimeout: 90}\n" + MINIMAL).stale_timeout == 90.0
    assert load(tmp_path, "config: {staleTimeout: 1h30m}\n" + MINIMAL).stale_timeout == 5400.0
    bad = error(tmp_path, "config: {staleTimeout: soon}\n" + MINIMAL)
    assert (bad.line, bad.key) == (1, "config.staleTimeout")
    assert "expected a duration" in bad.message


def test_empty_sections_are_allowed(tmp_path: Path):
    config = load(tmp_path, "config:\ndefine:\nchannels:\ntasks:\n" + MINIMAL)
    assert config.channels == config.tasks == []


# --- definitions and macros ---------------------------------------------------


DEFINED = """\
config:
  repeat: "{{n|1}}"
  definitions:
    - name: n
      default: 2
    - name: label
define:
  label: from-define
policies:
  - class: explorer
    matrix: {apps: {values: ["{{label}}"]}}
    events: {signal: {OK: Done}}
"""


def test_define_and_definition_defaults_fill_macros(tmp_path: Path):
    config = load(tmp_path, DEFINED)
    assert config.repeat == 2
    assert config.policies[0].config["matrix"]["apps"]["values"] == ["from-define"]


def test_command_line_defines_override_and_are_typed(tmp_path: Path):
    config = load(tmp_path, DEFINED, {"n": "5", "label": "cli"})
    assert config.repeat == 5
    assert config.definitions["n"] == 5
    assert config.policies[0].config["matrix"]["apps"]["values"] == ["cli"]


def test_macro_default_is_used_and_typed(tmp_path: Path):
    config = load(tmp_path, DEFINED.replace("    - name: n\n      default: 2\n", ""))
    assert config.repeat == 1


def test_required_definition_without_value_is_named(tmp_path: Path):
    text = (
        "config:\n  definitions:\n    - name: secret\n      desc: The API token\n"
        "      required: yes\n" + MINIMAL
    )
    problem = error(tmp_path, text)
    assert (problem.line, problem.key) == (3, "config.definitions[0]")
    assert "'secret'" in problem.message
    assert "The API token" in problem.message
    assert load(tmp_path, text, {"secret": "x"}).definitions["secret"] == "x"


def test_unknown_macro_in_a_policy_names_file_line_and_key(tmp_path: Path):
    path = write(tmp_path / "test.yml", MINIMAL.replace("Done", "'{{doneEvent}}'"))
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(
        f"{path}:4: policies[0].events.signal.OK: macro {{{{doneEvent}}}} has no value"
    )


def test_channel_macros_are_checked_at_load_time(tmp_path: Path):
    text = (
        MINIMAL + "channels:\n  - class: cmdline\n    cmdline: run {{apps}} {{size|1}} {{nope}}\n"
    )
    problem = error(tmp_path, text)
    assert (problem.line, problem.key) == (7, "channels[0].cmdline")
    assert "{{nope}}" in problem.message


def test_channel_and_task_macros_may_be_parameters_or_matrix_keys(tmp_path: Path):
    text = "config:\n  parameters: [{name: size}]\n" + MINIMAL
    text += "channels:\n  - class: cmdline\n    cmdline: run {{apps}} {{size}}\n"
    text += "tasks:\n  - at: intertest\n    cmdline: echo '{{apps}}'\n"
    config = load(tmp_path, text)
    assert config.channels[0].config["cmdline"] == "run {{apps}} {{size}}"


def test_a_chart_header_says_where_its_block_names_the_parameters_it_sets(tmp_path: Path):
    chart = EXPLORER.replace("name: explorer", "name: mine").replace(
        "parameters: ['matrix.*']", "parameters: ['matrix.*', 'steps[].sets']"
    )
    chart = chart.replace("      matrix:\n", "      steps: {type: array}\n      matrix:\n", 1)
    write(tmp_path / "mine.yaml", chart)
    text = (
        MINIMAL.replace("class: explorer", "statechart: mine.yaml")
        + "    steps: [{sets: users}, {sets: rate}, {other: x}]\n"
    )
    config = load(
        tmp_path,
        text + "channels:\n  - class: cmdline\n    cmdline: run {{apps}} {{users}} {{rate}}\n",
    )
    assert config.policies[0].chart.parameter_names(config.policies[0].config) == {
        "apps",
        "users",
        "rate",
    }
    problem = error(tmp_path, text + "channels:\n  - class: cmdline\n    cmdline: run {{other}}\n")
    assert (
        "{{other}} is not a definition, a declared parameter (config.parameters) or a parameter "
        "a policy sets" in problem.message
    )


def test_a_chart_without_the_header_key_makes_no_names_known(tmp_path: Path):
    write(
        tmp_path / "mine.yaml",
        EXPLORER.replace("name: explorer", "name: mine").replace(
            "  parameters: ['matrix.*']\n", ""
        ),
    )
    text = (
        MINIMAL.replace("class: explorer", "statechart: mine.yaml")
        + "channels:\n  - class: cmdline\n    cmdline: run {{apps}}\n"
    )
    assert "{{apps}}" in error(tmp_path, text).message


def test_header_warnings_apply_to_the_blocks_they_match(tmp_path: Path):
    warning = (
        "  warnings:\n    - if: {not: {required: [events]}}\n      message: no events, no end\n"
    )
    write(
        tmp_path / "mine.yaml",
        EXPLORER.replace("name: explorer", "name: mine")
        .replace("  config:\n", warning + "  config:\n", 1)
        .replace("required: [matrix, events]", "required: [matrix]"),
    )
    quiet = load(tmp_path, MINIMAL.replace("class: explorer", "statechart: mine.yaml"))
    assert warnings_about(quiet, "no events") == []
    loud = load(
        tmp_path, "policies:\n  - statechart: mine.yaml\n    matrix: {apps: {values: [1]}}\n"
    )
    assert warnings_about(loud, "no events") == [
        f"{tmp_path / 'test.yml'}:2: policies[0]: no events, no end"
    ]


def test_task_macros_are_checked_at_load_time(tmp_path: Path):
    problem = error(tmp_path, MINIMAL + "tasks:\n  - at: intertest\n    cmdline: echo '{{nope}}'\n")
    assert (problem.line, problem.key) == (7, "tasks[0].cmdline")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("n=5", ("n", 5)),
        ("ratio=0.5", ("ratio", 0.5)),
        ("on=yes", ("on", True)),
        ("s=hello world", ("s", "hello world")),
        ("path=/a=b", ("path", "/a=b")),
        ("empty=", ("empty", "")),
        ("list=[1, 2]", ("list", "[1, 2]")),
        ("a.b-c=x", ("a.b-c", "x")),
    ],
)
def test_parse_define(text: str, expected: tuple):
    assert parse_define(text) == expected


@pytest.mark.parametrize("text", ["novalue", "=5", "1x=2", "a b=1", "a|b=1"])
def test_parse_define_rejects_bad_forms(text: str):
    with pytest.raises(UsageError):
        parse_define(text)


# --- unsupported and unknown things warn exactly once ---------------------------


@pytest.mark.parametrize("section", ["reporters"])
def test_unsupported_section_warns_once(tmp_path: Path, section: str):
    config = load(tmp_path, MINIMAL + f"{section}:\n  - class: whatever\n")
    assert len(config.warnings) == 1
    assert section in config.warnings[0]
    assert config.warnings[0].startswith(f"{tmp_path / 'test.yml'}:6: ")


@pytest.mark.parametrize("key", ["indicators"])
def test_unsupported_config_key_warns_once(tmp_path: Path, key: str):
    config = load(
        tmp_path, f"config:\n  {key}:\n    - name: x\n      desc: '{{{{undefined}}}}'\n" + MINIMAL
    )
    assert len(config.warnings) == 1
    assert key in config.warnings[0]


def test_unknown_config_key_is_an_error_with_a_hint(tmp_path: Path):
    problem = error(tmp_path, "config:\n  titel: '{{undefined}}'\n" + MINIMAL)
    assert (problem.line, problem.key) == (2, "config.titel")
    assert problem.message.startswith(
        "unknown key 'titel' (did you mean title? expected one of: title, repeat,"
    )


def test_unknown_section_is_an_error_with_a_hint(tmp_path: Path):
    problem = error(tmp_path, MINIMAL + "chanels:\n  - class: cmdline\n    cmdline: run\n")
    assert (problem.line, problem.key) == (5, "chanels")
    assert problem.message.startswith(
        "unknown key 'chanels' (did you mean channels? expected one of: config, define, "
        "policies, channels, tasks"
    )


def test_sections_and_keys_of_the_original_not_supported_yet_warn(tmp_path: Path):
    config = load(
        tmp_path,
        "config:\n  indicators: [{name: rps}]\n" + MINIMAL + "reporters: [{class: CSVReporter}]\n",
    )
    assert len(config.warnings) == 2
    assert len(warnings_about(config, "expected an indicator block with a class:")) == 1
    assert len(warnings_about(config, "reporter.CSVReporter is a reporter of the original")) == 1


def test_channel_class_of_the_original_not_implemented_is_an_error(tmp_path: Path):
    text = (
        MINIMAL
        + "channels:\n  - class: channel.MarathonUpdateChannel\n    url: 'http://{{host}}'\n"
        "  - class: CmdlineChannel\n    cmdline: run\n"
    )
    problem = error(tmp_path, text)
    assert (problem.line, problem.key) == (6, "channels[0].class")
    assert problem.message.startswith(
        "channel.MarathonUpdateChannel is a channel of the original driver that perfchart does "
        "not implement; instead use `channel.HTTPChannel`"
    )


def test_unknown_channel_class_is_an_error_naming_the_known_ones(tmp_path: Path):
    problem = error(
        tmp_path, MINIMAL + "channels:\n  - class: channel.CmdLineChanel\n    cmdline: run\n"
    )
    assert (problem.line, problem.key) == (6, "channels[0].class")
    assert problem.message == (
        "unknown channel class 'channel.CmdLineChanel' (did you mean channel.CmdlineChannel? "
        "known channels: CmdlineChannel, HTTPChannel, channel.CmdlineChannel, "
        "channel.HTTPChannel, cmdline, http)"
    )


def test_cmdline_channel_needs_a_cmdline(tmp_path: Path):
    problem = error(tmp_path, MINIMAL + "channels:\n  - class: cmdline\n    cwd: /tmp\n")
    assert (problem.line, problem.key) == (6, "channels[0].cmdline")
    assert problem.message.startswith("missing: the command to run")


# --- schema errors: one message, exact line and key -----------------------------


@pytest.mark.parametrize(
    ("text", "line", "key", "message"),
    [
        (
            MINIMAL.replace("{values: [1]}", "{values: 1}"),
            3,
            "policies[0].matrix.apps.values",
            "expected a list, got an integer",
        ),
        (
            MINIMAL.replace("    events: {signal: {OK: Done}}\n", ""),
            2,
            "policies[0]",
            "missing required key 'events'",
        ),
        (
            MINIMAL.replace("{signal: {OK: Done}}", "{sigal: {OK: Done}}"),
            4,
            "policies[0].events.sigal",
            "unknown key 'sigal' (did you mean signal? expected one of: signal, "
            "signalEventCount, start)",
        ),
        (
            MINIMAL.replace("{values: [1]}", "{type: discret}"),
            3,
            "policies[0].matrix.apps.type",
            "expected one of: discreet, discrete, range, sample; got 'discret'",
        ),
        ("config:\n  repeat: 0\n" + MINIMAL, 2, "config.repeat", "expected a number >= 1, got 0"),
        (
            "config:\n  runs: many\n" + MINIMAL,
            2,
            "config.runs",
            "expected an integer, got a string",
        ),
        (
            "config:\n  title: [a]\n" + MINIMAL,
            2,
            "config.title",
            "expected a string or a number, got a list",
        ),
        (
            "config:\n  parameters:\n    - name: apps\n      defualt: 1\n" + MINIMAL,
            4,
            "config.parameters[0].defualt",
            "unknown key 'defualt' (did you mean default? expected one of: name, default, desc, "
            "units, uuid)",
        ),
        (
            "config:\n  definitions:\n    - desc: no name\n" + MINIMAL,
            3,
            "config.definitions[0]",
            "missing required key 'name'",
        ),
        (
            "define:\n  bad name: 1\n" + MINIMAL,
            1,
            "define",
            "invalid key 'bad name': expected a name of letters, digits, '_', '.' or '-', not "
            "starting with a digit, got 'bad name'",
        ),
        ("policies: []\n", 1, "policies", "expected a non-empty list"),
        ("policies: {class: explorer}\n", 1, "policies", "expected a list, got a mapping"),
        ("config: {}\n", 1, None, "missing required key 'policies'"),
        (
            MINIMAL + "channels:\n  - cmdline: run\n",
            6,
            "channels[0]",
            "missing required key 'class'",
        ),
    ],
)
def test_schema_errors_are_one_clear_message(
    tmp_path: Path, text: str, line: int, key: str | None, message: str
):
    problem = error(tmp_path, text)
    assert (problem.file, problem.line, problem.key, problem.message) == (
        str(tmp_path / "test.yml"),
        line,
        key,
        message,
    )


def test_top_level_must_be_a_mapping(tmp_path: Path):
    problem = error(tmp_path, "- policies\n")
    assert problem.line == 1
    assert "got a list" in problem.message
    assert "got nothing" in error(tmp_path, "# empty\n").message


def test_yaml_syntax_error_is_located(tmp_path: Path):
    problem = error(tmp_path, MINIMAL + "channels: [\n")
    assert problem.file == str(tmp_path / "test.yml")
    assert problem.message.startswith("invalid YAML")


def test_duplicate_parameter_is_an_error(tmp_path: Path):
    problem = error(tmp_path, "config:\n  parameters: [{name: a}, {name: a}]\n" + MINIMAL)
    assert (problem.line, problem.key) == (2, "config.parameters[1]")


# --- policy resolution ---------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "explorer",
        "policy.MultivariableExplorerPolicy",
        "multivariableexplorerpolicy",
        "POLICY.multivariableExplorerPolicy",
    ],
)
def test_policy_by_short_name_original_class_or_alias(
    tmp_path: Path, explorer: PolicyChart, name: str
):
    config = load(tmp_path, MINIMAL.replace("class: explorer", f"class: {name}"))
    assert config.policies[0].chart == explorer


def test_policy_by_statechart_path_relative_to_the_config(tmp_path: Path):
    chart_path = write(
        tmp_path / "sub" / "charts" / "mine.yaml", EXPLORER.replace("name: explorer", "name: mine")
    )
    write(
        tmp_path / "sub" / "test.yml",
        MINIMAL.replace("class: explorer", "statechart: charts/mine.yaml"),
    )
    config = load_config(tmp_path / "sub" / "test.yml")
    assert config.policies[0].chart.name == "mine"
    assert config.policies[0].chart.path == chart_path
    assert "statechart" not in config.policies[0].config


def test_policy_class_may_be_a_relative_path_too(tmp_path: Path):
    write(tmp_path / "mine.yml", EXPLORER.replace("name: explorer", "name: mine"))
    assert (
        load(tmp_path, MINIMAL.replace("class: explorer", "class: ./mine.yml"))
        .policies[0]
        .chart.name
        == "mine"
    )


def test_unknown_policy_lists_the_known_names(tmp_path: Path):
    problem = error(tmp_path, MINIMAL.replace("class: explorer", "class: policy.NoSuchPolicy"))
    assert (problem.line, problem.key) == (2, "policies[0].class")
    assert "'policy.NoSuchPolicy'" in problem.message
    assert "known policies: explorer" in problem.message


def test_missing_statechart_file_points_at_the_config(tmp_path: Path):
    problem = error(tmp_path, MINIMAL.replace("class: explorer", "statechart: nowhere.yaml"))
    assert (problem.line, problem.key) == (2, "policies[0].statechart")


def test_broken_user_chart_names_the_chart_file(tmp_path: Path):
    chart_path = write(
        tmp_path / "broken.yaml",
        "statechart:\n  name: X\n  root state:\n    name: R\n    initial: Nope\n"
        "    states: [{name: A}]\n",
    )
    problem = error(tmp_path, MINIMAL.replace("class: explorer", "statechart: broken.yaml"))
    assert (problem.file, problem.line) == (str(chart_path), 5)


def test_policy_needs_class_or_statechart(tmp_path: Path):
    problem = error(tmp_path, MINIMAL.replace("class: explorer", "clas: explorer"))
    assert (problem.line, problem.key) == (2, "policies[0]")
    assert "'class'" in problem.message
    assert "'statechart'" in problem.message
    both = error(
        tmp_path, MINIMAL.replace("class: explorer", "class: explorer\n    statechart: x.yaml")
    )
    assert both.key == "policies[0].statechart"


def test_chart_without_schema_accepts_any_block(tmp_path: Path):
    write(tmp_path / "free.yaml", EXPLORER[EXPLORER.index("statechart:") :])
    config = load(tmp_path, "policies:\n  - statechart: free.yaml\n    anything: [1, 2]\n")
    assert config.policies[0].config == {"anything": [1, 2]}


def test_the_config_hash_is_the_file_bytes_even_with_crlf_line_ends(tmp_path: Path):
    path = tmp_path / "crlf.yml"
    path.write_bytes(MINIMAL.replace("\n", "\r\n").encode("utf-8"))
    config = load_config(path)
    assert config.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert config.policies[0].config["matrix"] == {"apps": {"values": [1]}}
