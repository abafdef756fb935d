"""Policy charts: loading, checking and finding them by name, alias or path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from sismic.model import Statechart

from interpreter.charts import PolicyChart, bundled, catalog, load_chart, resolve
from interpreter.errors import ConfigError

CHART = """\
perfchart:
  name: tiny
  aliases: [policy.TinyPolicy, TinyPolicy]
  summary: Does nothing, then ends.
  config:
    type: object
    required: [events]
    properties:
      events: {type: object}
statechart:
  name: Tiny
  root state:
    name: Root
    initial: Idle
    states:
      - name: Idle
        transitions:
          - target: End
            guard: True
      - name: End
        type: final
"""


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def chart_error(path: Path) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        load_chart(path)
    return caught.value


@pytest.fixture
def tiny(tmp_path: Path) -> Path:
    return write(tmp_path / "charts" / "tiny.yaml", CHART)


@pytest.fixture
def only_tiny(monkeypatch: pytest.MonkeyPatch, tiny: Path) -> PolicyChart:
    """Pretend the tiny chart is the only bundled one, so name lookups do not depend on the shipped
    charts."""
    chart = load_chart(tiny)
    monkeypatch.setattr(catalog, "bundled", lambda: [chart])
    return chart


# --- loading ------------------------------------------------------------------


def test_load_chart_reads_the_header_and_builds_the_statechart(tiny: Path):
    chart = load_chart(tiny)
    assert chart.name == "tiny"
    assert chart.path == tiny
    assert chart.aliases == ("policy.TinyPolicy", "TinyPolicy")
    assert chart.summary == "Does nothing, then ends."
    assert chart.config_schema["required"] == ["events"]
    model = chart.statechart()
    assert isinstance(model, Statechart)
    assert model.name == "Tiny"
    assert set(model.states) == {"Root", "Idle", "End"}
    assert chart.statechart() is model


def test_a_chart_without_header_is_named_after_its_file(tmp_path: Path):
    text = CHART[CHART.index("statechart:") :]
    chart = load_chart(write(tmp_path / "plain_chart.yml", text))
    assert chart.name == "plain_chart"
    assert chart.aliases == ()
    assert chart.config_schema is None
    assert chart.statechart().name == "Tiny"


def test_summary_defaults_to_the_first_line_of_the_description(tmp_path: Path):
    text = CHART[CHART.index("statechart:") :].replace(
        "  name: Tiny\n", "  name: Tiny\n  description: |\n    First line.\n    Second line.\n"
    )
    assert load_chart(write(tmp_path / "described.yaml", text)).summary == "First line."


def test_statechart_is_rebuilt_from_the_file_for_a_hand_made_chart(tiny: Path):
    chart = PolicyChart(name="tiny", path=tiny)
    assert chart.statechart().name == "Tiny"


def test_charts_compare_and_hash_by_identity_fields(tiny: Path):
    assert load_chart(tiny) == load_chart(tiny)
    assert len({load_chart(tiny), load_chart(tiny)}) == 1


# --- broken charts ------------------------------------------------------------


def test_broken_sismic_structure_names_the_file_and_line(tmp_path: Path):
    path = write(
        tmp_path / "broken.yaml",
        CHART.replace("            guard: True\n", "            gaurd: True\n"),
    )
    error = chart_error(path)
    assert error.file == str(path)
    assert error.line == 19
    assert "unknown key 'gaurd'" in error.message
    assert str(error).startswith(
        f"{path}:19: statechart.root state.states[0].transitions[0].gaurd: "
    )


def test_missing_root_state_is_reported(tmp_path: Path):
    path = write(tmp_path / "rootless.yaml", "statechart:\n  name: X\n")
    error = chart_error(path)
    assert (error.file, error.line, error.key) == (str(path), 1, "statechart")
    assert error.message == "missing required key 'root state'"


def test_unknown_target_state_is_located(tmp_path: Path):
    path = write(tmp_path / "target.yaml", CHART.replace("- target: End", "- target: Ned"))
    error = chart_error(path)
    assert (error.file, error.line) == (str(path), 18)
    assert error.message == "unknown target state 'Ned'"


def test_duplicate_state_is_located(tmp_path: Path):
    path = write(tmp_path / "twice.yaml", CHART.replace("- name: End", "- name: Idle"))
    error = chart_error(path)
    assert error.line == 20
    assert "state 'Idle' is defined twice (first at line 16)" in error.message


def test_initial_must_be_a_child(tmp_path: Path):
    error = chart_error(
        write(tmp_path / "initial.yaml", CHART.replace("initial: Idle", "initial: Nowhere"))
    )
    assert error.line == 14
    assert error.key == "statechart.root state.initial"


def test_guard_syntax_error_is_found_at_load_time(tmp_path: Path):
    error = chart_error(
        write(tmp_path / "syntax.yaml", CHART.replace("guard: True", "guard: 'x =='"))
    )
    assert error.line == 19
    assert error.message.startswith("Python syntax error in guard")


def test_final_state_cannot_have_transitions(tmp_path: Path):
    text = CHART.replace(
        "        type: final\n",
        "        type: final\n        transitions:\n          - target: Idle\n",
    )
    error = chart_error(write(tmp_path / "final.yaml", text))
    assert (error.line, error.message) == (22, "a final state cannot have transitions")


def test_errors_sismic_finds_itself_still_name_the_file(tmp_path: Path):
    text = CHART.replace(
        "      - name: End\n",
        "      - name: Memory\n        type: shallow history\n        memory: Memory\n"
        "      - name: End\n",
    )
    path = write(tmp_path / "memory.yaml", text)
    error = chart_error(path)
    assert error.file == str(path)
    assert error.message.startswith("invalid statechart: ")
    assert "Memory" in error.message


def test_bad_header_is_located(tmp_path: Path):
    path = write(
        tmp_path / "header.yaml",
        CHART.replace("  summary: Does nothing, then ends.\n", "  sumary: Does nothing.\n"),
    )
    error = chart_error(path)
    assert (error.line, error.key) == (4, "perfchart.sumary")
    assert (
        error.message
        == "unknown key 'sumary' (did you mean summary? expected one of: name, aliases, summary, "
        "config, parameters, warnings)"
    )


@pytest.mark.parametrize("path", ["matrix.*.type", "steps[0].name", "*", "a..b"])
def test_a_bad_parameter_path_in_the_header_is_located(tmp_path: Path, path: str):
    chart = write(
        tmp_path / "header.yaml",
        CHART.replace(
            "  summary: Does nothing, then ends.\n", f"  summary: x\n  parameters: ['{path}']\n"
        ),
    )
    error = chart_error(chart)
    assert (error.line, error.key) == (5, "perfchart.parameters[0]")


def test_parameter_paths_follow_keys_items_and_mapping_keys(tmp_path: Path):
    chart = load_chart(
        write(
            tmp_path / "p.yaml",
            CHART.replace(
                "  summary: Does nothing, then ends.\n",
                "  parameters: ['matrix.*', 'evolve[].parameter', 'steps[].values[].parameter', "
                "'one']\n",
            ),
        )
    )
    block = {
        "matrix": {"a": {}, "b": {}},
        "evolve": [{"parameter": "c"}, {"other": "x"}],
        "steps": [{"values": [{"parameter": "d"}]}, {"values": "not a list"}, {}],
        "one": "e",
    }
    assert chart.parameter_names(block) == {"a", "b", "c", "d", "e"}
    assert chart.parameter_names({"matrix": ["not", "a", "mapping"]}) == set()


def test_invalid_config_schema_is_located(tmp_path: Path):
    path = write(
        tmp_path / "schema.yaml", CHART.replace("events: {type: object}", "events: {type: objekt}")
    )
    error = chart_error(path)
    assert error.line == 9
    assert error.message.startswith("invalid JSON Schema")


def test_unknown_top_level_key_is_an_error(tmp_path: Path):
    error = chart_error(write(tmp_path / "extra.yaml", CHART + "statecharts: {}\n"))
    assert (error.line, error.key) == (22, "statecharts")
    assert (
        error.message
        == "unknown key 'statecharts' (did you mean statechart? expected one of: perfchart, "
        "statechart)"
    )


def test_not_a_chart(tmp_path: Path):
    error = chart_error(write(tmp_path / "list.yaml", "- 1\n"))
    assert error.message == "expected a mapping, got a list"


def test_missing_statechart_section(tmp_path: Path):
    error = chart_error(write(tmp_path / "header_only.yaml", CHART[: CHART.index("statechart:")]))
    assert (error.line, error.message) == (1, "missing required key 'statechart'")


# --- resolution ---------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["tiny", "TINY", "policy.TinyPolicy", "policy.tinypolicy", "TinyPolicy", "tinypolicy"]
)
def test_resolve_by_name_or_alias_ignoring_case(only_tiny: PolicyChart, name: str):
    assert resolve(name) == only_tiny


def test_resolve_by_path_relative_to_base_dir(tiny: Path):
    chart = resolve("charts/tiny.yaml", base_dir=tiny.parent.parent)
    assert chart.path == tiny
    assert chart.name == "tiny"


def test_resolve_by_absolute_path(tiny: Path):
    assert resolve(str(tiny), base_dir=Path("/nonexistent")).path == tiny


def test_resolve_missing_file(tmp_path: Path):
    with pytest.raises(ConfigError, match="no statechart file"):
        resolve("missing.yaml", base_dir=tmp_path)


def test_unknown_policy_lists_the_known_names(only_tiny: PolicyChart):
    with pytest.raises(ConfigError) as caught:
        resolve("policy.NoSuchPolicy")
    assert "unknown policy 'policy.NoSuchPolicy'" in caught.value.message
    assert "known policies: tiny" in caught.value.message


# --- bundled charts -----------------------------------------------------------


def test_every_bundled_chart_loads_with_a_unique_name_and_aliases():
    charts = bundled()
    assert [chart.name for chart in charts] == sorted(chart.name for chart in charts)
    names = [name.casefold() for chart in charts for name in chart.names()]
    assert len(names) == len(set(names))
    for chart in charts:
        assert isinstance(chart.statechart(), Statechart)
        assert resolve(chart.name) == chart
        # Bundled charts are read lazily; in full, they pass every check a user chart must.
        assert load_chart(chart.path) == chart
