"""Chart code that fails at run time is reported at the chart's line, with state, transition and
exception type."""

from __future__ import annotations

import io
import logging
import textwrap
from pathlib import Path

import pytest

from interpreter.channels.cmdline import CmdlineExitZeroEvent
from interpreter.errors import ConfigError
from interpreter.testing import PolicyHarness

CHART = """\
statechart:
  name: Broken
  preamble: |
    n = config['from']
    count = config.get('count', 1)
  root state:
    name: Root
    initial: Next
    states:
      - name: Next
        on entry: |
          trace = policy.set_parameters({'n': n})
          policy.bind('done', BIND)
        transitions:
          - target: Done
            event: done
            guard: traced(event, trace) and count > 0
            action: |
              policy.set_status('OK')
              n = n + 1
              n = n / ZERO
      - name: Done
        type: final
"""


def chart(tmp_path: Path, text: str = CHART, **replace: str) -> Path:
    replace = {"BIND": "'CmdlineExitZeroEvent'", "ZERO": "1", **replace}
    for old, new in replace.items():
        text = text.replace(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def start(path: Path, config: str, signal: bool) -> None:
    """Start the policy of *path* with *config*, then (when *signal*) end its command with exit
    0."""
    harness = PolicyHarness(path, config)
    if signal:
        harness.signal(CmdlineExitZeroEvent, exitcode=0)


def failure(path: Path, config: str = "from: 3", signal: bool = True) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        start(path, config, signal)
    return caught.value


def test_the_harness_runs_the_intact_chart(tmp_path: Path) -> None:
    harness = PolicyHarness(chart(tmp_path), "from: 3")
    harness.signal(CmdlineExitZeroEvent, exitcode=0)
    assert harness.final
    assert harness.statuses() == ["OK"]


def test_bind_of_a_computed_filter_naming_no_class_fails_at_the_call_with_a_hint(
    tmp_path: Path,
) -> None:
    """A literal is caught when the chart loads (tests/test_check.py); a computed one when bind()
    runs."""
    path = chart(tmp_path, BIND="'CmdlineExitZeroEv' + 'nt'")
    error = failure(path, signal=False)
    assert str(error) == (
        f"{path}:13: state Next (on entry): no event class is called 'CmdlineExitZeroEvnt' (did "
        "you mean CmdlineExitZeroEvent?) "
        "in `policy.bind('done', 'CmdlineExitZeroEv' + 'nt')`"
    )


def test_binding_the_same_role_and_filter_again_does_not_deliver_twice(tmp_path: Path) -> None:
    again = {
        "        transitions:\n          - target: Done": (
            "        transitions:\n          - target: Next\n            event: done\n"
            "            guard: traced(event, trace) and n == 3\n            action: n = 2\n"
            "          - target: Done"
        ),
        "and count > 0": "and n < 3",
    }
    harness = PolicyHarness(chart(tmp_path, **again), "from: 3")
    harness.signal(CmdlineExitZeroEvent, exitcode=0)
    assert (harness.states, harness.parameters()) == (["Root", "Next"], [{"n": 3}, {"n": 2}])
    assert [b.expression for b in harness.runner.bindings] == ["CmdlineExitZeroEvent"]
    harness.signal(CmdlineExitZeroEvent, exitcode=0)
    assert harness.final
    assert harness.statuses() == ["OK"]


def test_waiting_names_the_state_the_roles_with_their_filters_and_the_time(tmp_path: Path) -> None:
    harness = PolicyHarness(chart(tmp_path), "from: 3")
    harness.advance(12)
    assert (
        harness.runner.waiting()
        == "in Next, waiting for done: CmdlineExitZeroEvent (12s of 60s before stalled)"
    )


def test_verbose_logs_events_transitions_and_states(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="perfchart.policy")
    harness = PolicyHarness(chart(tmp_path), "from: 3")
    harness.signal(CmdlineExitZeroEvent, exitcode=0)
    lines = [record.getMessage() for record in caplog.records if record.levelno == logging.DEBUG]
    assert lines == [
        "broken: enter Root",
        "broken: enter Next",
        "broken: event done (CmdlineExitZeroEvent)",
        "broken: exit Next",
        "broken: transition Next -> Done on done",
        "broken: enter Done",
        "broken: exit Done",  # sismic leaves every state once the root's final state is reached
        "broken: exit Root",
    ]


def test_bind_with_a_bad_filter_fails_at_the_call(tmp_path: Path) -> None:
    error = failure(chart(tmp_path, BIND="'CmdlineExitZeroEvent['"), signal=False)
    assert f"{tmp_path / 'broken.yaml'}:13: state Next (on entry): " in str(error)


def test_a_failing_action_names_its_line_transition_and_exception_type(tmp_path: Path) -> None:
    path = chart(tmp_path, ZERO="0")
    error = failure(path)
    assert (
        str(error)
        == f"{path}:21: transition Next -> Done on done (action): ZeroDivisionError: division by "
        "zero in `n = n / 0`"
    )


def test_a_failing_guard_names_the_config_key_behind_the_value(tmp_path: Path) -> None:
    path = chart(tmp_path)
    error = failure(path, "from: 3\ncount: 'two'\n")
    assert str(error).startswith(f"{path}:17: transition Next -> Done on done (guard): TypeError: ")
    assert "in `traced(event, trace) and count > 0`; count comes from count (policy.yml:2)" in str(
        error
    )


def test_a_failing_preamble_names_its_line(tmp_path: Path) -> None:
    path = chart(tmp_path)
    error = failure(path, "frm: 3", signal=False)
    assert str(error) == f"{path}:4: preamble: KeyError: 'from' in `n = config['from']`"


def test_a_failing_entry_names_its_state(tmp_path: Path) -> None:
    path = chart(tmp_path, **{"{'n': n}": "{'n': valu}"})
    error = failure(path, signal=False)
    assert (
        str(error)
        == f"{path}:12: state Next (on entry): NameError: name 'valu' is not defined in `trace = "
        f"policy.set_parameters({{'n': valu}})`"
    )


def test_a_non_deterministic_choice_names_both_transitions_with_their_lines(tmp_path: Path) -> None:
    text = CHART.replace(
        "      - name: Done\n",
        "          - target: Done\n            event: done\n      - name: Done\n",
    )
    path = chart(tmp_path, text)
    error = failure(path)
    assert str(error) == (
        f"{path}:15: non-deterministic choice: Next -> Done on done (line 15) and Next -> Done on "
        "done (line 22) "
        "are enabled at once; make their guards exclusive"
    )


def test_set_result_takes_json_data_only(tmp_path: Path) -> None:
    path = chart(tmp_path, **{"policy.set_status('OK')": "policy.set_result('answer', {1, 2})"})
    error = failure(path)
    assert str(error) == (
        f"{path}:19: transition Next -> Done on done (action): set_result('answer', ...): "
        "expected JSON data "
        "(numbers, text, lists, mappings), got {1, 2} in `policy.set_result('answer', {1, 2})`"
    )


def test_the_progress_line_shows_what_the_chart_waits_for(tmp_path: Path) -> None:
    from rich.console import Console

    from interpreter.cli.ui import ConsoleUI, WaitingColumn

    harness = PolicyHarness(chart(tmp_path), "from: 3")
    harness.advance(5)
    ui = ConsoleUI(Console(file=io.StringIO()))
    column = WaitingColumn(ui)
    assert column.render(None).plain == ""  # type: ignore[arg-type]
    ui.policy_started(harness.runner)
    assert (
        column.render(None).plain  # type: ignore[arg-type]
        == "in Next, waiting for done: CmdlineExitZeroEvent (5s of 60s before stalled)"
    )


def test_bind_of_a_config_filter_naming_no_class_points_at_the_config_entry(tmp_path: Path) -> None:
    """A chart whose schema has no `format: event-filter` still fails at once, at the config's
    line."""
    path = chart(tmp_path, BIND="config['ok']")
    with pytest.raises(ConfigError) as caught:
        PolicyHarness(path, "from: 3\nok: CmdlineExitNonZeroEvent\n")
    assert (
        str(caught.value)
        == "policy.yml:2: ok: no event class is called 'CmdlineExitNonZeroEvent' (did you mean "
        "CmdlineExitNonzeroEvent?)"
    )
