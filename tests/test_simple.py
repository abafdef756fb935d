"""The bundled Simple chart on the simulated clock, and once against a real command."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from interpreter.charts import resolve
from interpreter.core import LogLineEvent
from interpreter.errors import ConfigError
from interpreter.session import Session, load_config
from interpreter.testing import PolicyHarness

READY = "\"LogLineEvent[line='ready']\""
DONE = "\"LogLineEvent[line='done']\""


def simple(config: str, **kwargs: object) -> PolicyHarness:
    return PolicyHarness("simple", config, **kwargs)  # type: ignore[arg-type]


def test_sets_the_parameters_once_as_one_run_and_ends_on_the_end_event() -> None:
    h = simple(f"parameters: {{apps: 3, mode: fast}}\nevents: {{end: {DONE}}}")
    assert h.parameters() == [{"apps": 3, "mode": "fast"}]
    h.advance(42)
    h.publish(LogLineEvent(line="other"))
    assert not h.final
    h.publish(LogLineEvent(line="done"))
    assert h.final
    assert [(run["parameters"], run["status"], run["duration"]) for run in h.runs] == [
        ({"apps": 3, "mode": "fast"}, "OK", 42)
    ]
    assert h.runner.total == 1


def test_the_end_event_is_not_traced() -> None:
    h = simple(f"parameters: {{apps: 1}}\nevents: {{end: {DONE}}}")
    h.signal(LogLineEvent, traced=False, line="done")
    assert h.final
    assert h.statuses() == ["OK"]


def test_the_timeout_counts_from_the_parameters_not_from_the_start_wait() -> None:
    h = simple(f"parameters: {{apps: 1}}\nevents: {{start: {READY}, end: {DONE}}}\ntimeout: 10s")
    h.advance(60)
    assert h.updates == []
    assert not h.final
    h.publish(LogLineEvent(line="ready"))
    h.advance(9.5)
    assert not h.final
    h.advance(0.5)
    assert h.final
    assert [(run["status"], run["start"], run["duration"]) for run in h.runs] == [
        ("TIMEOUT", 60, 10)
    ]


def test_the_end_event_before_the_timeout_wins() -> None:
    h = simple(f"parameters: {{apps: 1}}\nevents: {{end: {DONE}}}\ntimeout: 1m")
    h.advance(59)
    h.publish(LogLineEvent(line="done"))
    assert h.statuses() == ["OK"]
    h.advance(5)
    assert h.statuses() == ["OK"]


def test_after_in_the_end_filter_waits_for_a_quiet_spell() -> None:
    h = simple("parameters: {apps: 1}\nevents: {end: \"LogLineEvent[line='busy']:after(5s)\"}")
    for _ in range(3):
        h.publish(LogLineEvent(line="busy"))
        h.advance(4)
    assert not h.final
    h.advance(1)
    assert h.final
    assert h.runs[0]["duration"] == 13


def test_last_in_the_end_filter_decides_at_the_timeout() -> None:
    config = (
        "parameters: {apps: 1}\nevents: {end: \"LogLineEvent[line='healthy']:last\"}\ntimeout: 30s"
    )
    seen, unseen = simple(config), simple(config)
    for h in (seen, unseen):
        h.advance(10)
    seen.publish(LogLineEvent(line="healthy"))
    assert not seen.final
    for h in (seen, unseen):
        h.advance(20)
        assert h.final
    assert (seen.statuses(), unseen.statuses()) == (["OK"], ["TIMEOUT"])
    assert seen.runs[0]["duration"] == unseen.runs[0]["duration"] == 30


def test_restart_skips_the_start_event() -> None:
    h = simple(f"parameters: {{apps: 1}}\nevents: {{start: {READY}}}\ntimeout: 5")
    h.runner.send("restart")
    h.settle()
    assert h.parameters() == [{"apps": 1}]


def test_without_end_or_timeout_it_ends_when_it_stalls() -> None:
    h = simple("parameters: {apps: 1}", stale_timeout=30)
    h.advance(29)
    assert not h.final
    h.advance(1)
    assert h.final
    assert h.statuses() == ["stalled"]


def test_an_interrupt_ends_it_and_marks_the_run() -> None:
    h = simple("parameters: {apps: 1}\ntimeout: 1h")
    h.advance(3)
    h.interrupt()
    assert h.final
    assert [(run["status"], run["duration"]) for run in h.runs] == [("interrupted", 3)]


def test_the_chart_reads_as_the_policy() -> None:
    statechart = resolve("policy.SimplePolicy").statechart()
    assert {"Start", "Run", "End"} <= set(statechart.states)
    assert "timeout is not None and after(timeout)" in [
        t.guard for t in statechart.transitions_from("Run")
    ]


CONFIG = """
define:
  apps: 4
policies:
  - class: policy.SimplePolicy
    parameters:
      apps: "{{apps}}"
      ratio: 0.5
      label: "{{apps}} apps"
    events:
      end: "LogLineEvent[line='served']"
    timeout: 20s
channels:
  - class: cmdline
    cmdline: "{{python}} -c \\"import sys; print('served' if sys.argv[1] == '4' else \
'refused')\\" {{apps}}"
"""


def load(tmp_path: Path, text: str = CONFIG):
    path = tmp_path / "simple.yml"
    path.write_text(text)
    return load_config(path, {"python": sys.executable})


def test_a_real_command_ends_the_policy_and_parameters_keep_their_yaml_types(
    tmp_path: Path,
) -> None:
    config = load(tmp_path)
    assert config.policies[0].config["parameters"] == {"apps": 4, "ratio": 0.5, "label": "4 apps"}
    assert Session(config, results_dir=tmp_path / "results").run() == 0
    [run] = [
        json.loads(line) for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines()
    ]
    assert run["parameters"] == {"apps": 4, "ratio": 0.5, "label": "4 apps"}
    assert run["status"] == "OK"
    assert run["duration"] < 10


def test_no_end_and_no_timeout_is_a_load_time_warning(tmp_path: Path) -> None:
    assert load(tmp_path).warnings == []
    bare = load(tmp_path, "policies:\n  - class: simple\n    parameters: {apps: 1}\n")
    assert bare.warnings == [
        f"{tmp_path / 'simple.yml'}:2: policies[0]: a Simple policy with neither events.end nor "
        "timeout ends only on interrupt or when it stalls"
    ]
    only_start = load(tmp_path, "policies:\n  - class: simple\n    events: {start: TickEvent}\n")
    assert len(only_start.warnings) == 1


def test_parameter_names_are_known_to_channel_macros(tmp_path: Path) -> None:
    text = (
        "policies:\n  - class: simple\n    parameters: {apps: 1}\n    timeout: 1\nchannels:\n"
        "  - class: cmdline\n    cmdline: echo {{apps}} {{nope}}\n"
    )
    with pytest.raises(ConfigError, match=r"\{\{nope\}\}") as caught:
        load(tmp_path, text)
    assert "{{nope}}" in str(caught.value)
    assert "{{apps}}" not in str(caught.value)
