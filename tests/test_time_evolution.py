"""The bundled TimeEvolution chart on the simulated clock, and once against a real command."""

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

TWO = """
evolve:
  - {parameter: a, interval: 10s, step: 1, min: 0, max: 3}
  - {parameter: b, interval: 15s, step: 2, min: 1, max: 5}
"""


def evolve(config: str, **kwargs: object) -> PolicyHarness:
    return PolicyHarness("time-evolution", config, **kwargs)  # type: ignore[arg-type]


def changes(h: PolicyHarness) -> list[tuple[float, dict]]:
    return [(update.ts, dict(update.changes)) for update in h.updates]


def test_entering_run_sets_every_parameter_to_its_min_in_one_update() -> None:
    h = evolve(TWO)
    assert h.states == ["TimeEvolutionPolicy", "Run", "Hold"]
    assert changes(h) == [(0, {"a": 0, "b": 1})]


def test_the_kth_change_is_k_intervals_after_run_and_coinciding_changes_share_one_update() -> None:
    h = evolve(TWO)
    h.advance(100)
    assert changes(h) == [
        (0, {"a": 0, "b": 1}),
        (10, {"a": 1}),
        (15, {"b": 3}),
        (20, {"a": 2}),
        (30, {"a": 3, "b": 5}),
    ]


def test_a_value_never_passes_max_and_the_policy_ends_after_the_last_full_interval() -> None:
    h = evolve(TWO)
    h.advance(44.9)
    assert not h.final
    h.advance(0.1)
    assert h.final
    assert h.runner.batch.current == {"a": 3, "b": 5}  # b's next value, 7, would pass max 5
    assert [run["end"] for run in h.runs][-1] == 45


def test_every_run_closes_ok_and_lasts_until_the_next_change() -> None:
    h = evolve(TWO)
    h.advance(100)
    assert [(run["parameters"], run["duration"], run["status"]) for run in h.runs] == [
        ({"a": 0, "b": 1}, 10, "OK"),
        ({"a": 1, "b": 1}, 5, "OK"),
        ({"a": 1, "b": 3}, 5, "OK"),
        ({"a": 2, "b": 3}, 10, "OK"),
        ({"a": 3, "b": 5}, 15, "OK"),
    ]


def test_defaults_are_one_second_step_one_from_zero() -> None:
    h = evolve("evolve: [{parameter: n, max: 2}]")
    h.advance(10)
    assert changes(h) == [(0, {"n": 0}), (1, {"n": 1}), (2, {"n": 2})]
    assert h.runs[-1]["end"] == 3


def test_fractional_intervals_do_not_drift() -> None:
    h = evolve("evolve: [{parameter: x, interval: 100ms, step: 0.1, min: 0.1, max: 100}]")
    h.advance(60)
    times = [update.ts for update in h.updates]
    assert len(times) == 601
    assert all(t == pytest.approx(k * 0.1, abs=1e-9) for k, t in enumerate(times))
    assert h.parameters()[-1] == {"x": 60.1}


def test_one_simulated_hour_runs_through_at_once() -> None:
    h = evolve("evolve: [{parameter: users, interval: 1m, step: 10, min: 10, max: 600}]")
    h.advance(3600)
    assert h.final
    assert len(h.runs) == 60
    assert h.runs[-1]["parameters"] == {"users": 600}
    assert h.runs[-1]["end"] == 3600


def test_without_max_it_evolves_until_the_end_event_which_is_not_traced() -> None:
    h = evolve(
        "evolve: [{parameter: n, interval: 5}]\nevents: {end: \"LogLineEvent[line='enough']\"}"
    )
    h.advance(1000)
    assert not h.final
    assert h.parameters()[-1] == {"n": 200}
    h.publish(LogLineEvent(line="not yet"))
    assert not h.final
    h.publish(LogLineEvent(line="enough"))
    assert h.final
    assert h.runs[-1]["status"] == "OK"
    assert len(h.runs) == 201


def test_the_end_event_counts_only_after_the_start() -> None:
    h = evolve(
        TWO + "events: {start: \"LogLineEvent[line='ready']\", end: \"LogLineEvent[line='stop']\"}"
    )
    h.publish(LogLineEvent(line="stop"))
    h.advance(30)
    assert not h.final
    assert h.updates == []
    h.publish(LogLineEvent(line="ready"))
    assert changes(h) == [(30, {"a": 0, "b": 1})]
    h.advance(12)
    h.publish(LogLineEvent(line="stop"))
    assert h.final
    assert [(run["duration"], run["status"]) for run in h.runs] == [(10, "OK"), (2, "OK")]


def test_restart_skips_the_start_event() -> None:
    h = evolve(TWO + "events: {start: \"LogLineEvent[line='ready']\"}")
    h.runner.send("restart")
    h.settle()
    assert changes(h) == [(0, {"a": 0, "b": 1})]


def test_an_interrupted_run_closes_as_interrupted() -> None:
    h = evolve(TWO)
    h.advance(12)
    h.interrupt()
    assert h.final
    assert [run["status"] for run in h.runs] == ["OK", "interrupted"]
    assert h.runs[-1]["duration"] == 2


@pytest.mark.parametrize(
    ("entries", "where", "words"),
    [
        ("{parameter: a, min: 5, max: 1}", "2: evolve[0].max", "less than min"),
        ("{parameter: a, interval: soon}", "2: evolve[0].interval", "duration"),
        ("{parameter: a, step: 0}", "2: evolve[0].step", "0"),
        ("{parameter: a, steps: 2}", "2: evolve[0]", "steps"),
        ("{parameter: a}\n  - {parameter: a, interval: 2}", "3: evolve[1].parameter", "twice"),
    ],
)
def test_bad_entries_name_file_line_and_key(entries: str, where: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        evolve(f"evolve:\n  - {entries}\n")
    assert str(caught.value).startswith(f"policy.yml:{where}")
    assert words in str(caught.value)


def test_the_chart_reads_as_the_policy() -> None:
    statechart = resolve("policy.TimeEvolutionPolicy").statechart()
    assert {"Start", "Run", "Hold", "End"} <= set(statechart.states)
    guards = [t.guard for t in statechart.transitions_from("Hold")]
    assert all("after(wait)" in (guard or "") for guard in guards)


CONFIG = """
config:
  title: evolution against a real command
policies:
  - class: policy.TimeEvolutionPolicy
    evolve:
      - {parameter: level, interval: 0.3, step: 2, min: 1, max: 5}
channels:
  - class: cmdline
    cmdline: "{{python}} -c \\"import sys; open(sys.argv[2], 'a').write(sys.argv[1] + \
'\\\\n')\\" {{level}} {{log}}"
"""


@pytest.mark.slow
def test_a_real_command_runs_once_per_value_and_the_runs_last_an_interval(tmp_path: Path) -> None:
    config = tmp_path / "evolve.yml"
    config.write_text(CONFIG)
    log = tmp_path / "levels.txt"
    loaded = load_config(config, {"python": sys.executable, "log": str(log)})
    assert Session(loaded, results_dir=tmp_path / "results").run() == 0
    assert log.read_text().split() == ["1", "3", "5"]
    runs = [
        json.loads(line) for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines()
    ]
    assert [(run["parameters"], run["status"]) for run in runs] == [
        ({"level": 1}, "OK"),
        ({"level": 3}, "OK"),
        ({"level": 5}, "OK"),
    ]
    assert all(run["duration"] == pytest.approx(0.3, abs=0.15) for run in runs)
    assert all(run["exitcodes"] == [0] for run in runs)


def test_a_dry_run_shows_the_simulated_intervals(tmp_path: Path) -> None:
    config = tmp_path / "evolve.yml"
    policy = "interval: 10m, step: 2, min: 1, max: 5}\n    events: {end: CmdlineExitNonzeroEvent}"
    config.write_text(CONFIG.replace("interval: 0.3, step: 2, min: 1, max: 5}", policy))
    loaded = load_config(config, {"python": sys.executable, "log": str(tmp_path / "never.txt")})
    assert Session(loaded, results_dir=tmp_path / "results", dry_run=True).run() == 0
    runs = [
        json.loads(line) for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines()
    ]
    assert [(run["parameters"]["level"], run["duration"]) for run in runs] == [
        (1, 600),
        (3, 600),
        (5, 600),
    ]
    assert not (tmp_path / "never.txt").exists()


def test_a_dry_run_of_an_unbounded_evolution_ends_on_its_simulated_end_event(
    tmp_path: Path,
) -> None:
    config = tmp_path / "evolve.yml"
    config.write_text(
        CONFIG.replace("min: 1, max: 5}", "min: 1}\n    events: {end: CmdlineExitZeroEvent}")
    )
    loaded = load_config(config, {"python": sys.executable, "log": str(tmp_path / "never.txt")})
    assert Session(loaded, results_dir=tmp_path / "results", dry_run=True).run() == 0
    runs = [
        json.loads(line) for line in (tmp_path / "results" / "runs.jsonl").read_text().splitlines()
    ]
    assert [(run["parameters"], run["status"]) for run in runs] == [({"level": 1}, "OK")]


def test_an_unbounded_evolution_without_an_end_event_is_a_load_time_warning(tmp_path: Path) -> None:
    config = tmp_path / "evolve.yml"
    config.write_text(
        "policies:\n  - class: time-evolution\n    evolve: [{parameter: a, max: 3}, {parameter: "
        "b}]\n"
    )
    [warning] = load_config(config).warnings
    assert (
        warning
        == f"{config}:2: policies[0]: a parameter without max and no events.end make a time "
        "evolution that ends only on interrupt"
    )
    config.write_text(
        "policies:\n  - class: time-evolution\n    evolve: [{parameter: a, max: 3}, {parameter: "
        "b}]\n    events: {end: TickEvent}\n"
    )
    assert load_config(config).warnings == []
    config.write_text(
        "policies:\n  - class: time-evolution\n    evolve: [{parameter: a, max: 3}]\n"
    )
    assert load_config(config).warnings == []
