"""``perfchart check`` names every error of a block, not one per block: each unknown key and each
wrong value of a policy, channel or tracker at its own line; ``run`` still stops at the first."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Perfchart

CONFIG = """\
config:
  parameters: [{name: n}]
  metrics: [{name: m}]
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix: {n: {type: discrete, values: [1]}}
    events:
      signal: {OK: NoSuchEvent}
    repeets: 2
    colour: red
channels:
  - class: channel.CmdlineChannel
    cmdline: "echo {{n}}"
    timout: 3s
    cwd: 3
    restart: sometimes
trackers:
  - class: tracker.CountTracker
    metric: m
    events: LogLineEvent
    stepp: 1
    size: 2
"""


def test_every_error_of_every_block_is_named_at_its_line(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CONFIG)
    done = perfchart("check", str(config))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[-1] == "1 file checked: 8 errors, 0 warnings", done.stderr
    prefix = f"error: {config}:"
    assert all(line.startswith(prefix) for line in lines[:-1]), done.stderr
    found = {
        int(line[len(prefix) :].split(":")[0]): line[len(prefix) :].split(": ", 1)[1]
        for line in lines[:-1]
    }
    text = CONFIG.splitlines()
    for number, word in [
        (8, "NoSuchEvent"),
        (9, "repeets"),
        (10, "colour"),
        (14, "timout"),
        (15, "cwd"),
        (16, "restart"),
        (21, "stepp"),
        (22, "size"),
    ]:
        assert word in text[number - 1]
        assert number in found, (number, done.stderr)
    assert found[9].startswith("policies[0].repeets: unknown key 'repeets'")
    assert found[10].startswith("policies[0].colour: unknown key 'colour'")
    assert found[15].startswith("channels[0].cwd: expected a string")
    assert "'NoSuchEvent'" in found[8]


def test_run_stops_at_the_first(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CONFIG)
    done = perfchart("run", str(config), "--results", str(tmp_path / "out"))
    assert done.returncode == 2
    assert len(done.stderr.splitlines()) == 1, done.stderr
    assert done.stderr.startswith(f"perfchart: error: {config}:")
    assert not (tmp_path / "out").exists()


FAILING_POLICY = """\
policies:
  - class: {policy}
    matrix: {{rate: {{type: discrete, values: [1]}}}}
    events:
      signal: {{OK: NoSuchEvent}}
channels:
  - class: channel.CmdlineChannel
    cmdline: "echo {{{{rate}}}} {{{{nobody}}}}"
"""


def test_a_policy_that_fails_still_says_what_it_sets_so_macros_are_checked(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    """``rate`` is set by the failing policy's matrix: only ``nobody`` is unknown."""
    config = tmp_path / "c.yml"
    config.write_text(FAILING_POLICY.format(policy="policy.MultivariableExplorerPolicy"))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {config}:5: policies[0].events.signal.OK: no event class is called "
        "'NoSuchEvent' (did you mean Event?)",
        f"error: {config}:8: channels[0].cmdline: macro {{{{nobody}}}} is not a definition, a "
        "declared parameter (config.parameters) or a parameter a policy sets; declare it or give "
        "it a default {{nobody|...}}",
        "1 file checked: 2 errors, 0 warnings",
    ]


def test_a_policy_whose_chart_is_unknown_leaves_the_macros_unchecked(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    """What an unknown policy would set is not known: no macro is called unknown for it."""
    config = tmp_path / "c.yml"
    config.write_text(FAILING_POLICY.format(policy="policy.NoSuchPolicy"))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert "nobody" not in done.stderr
    assert "rate" not in done.stderr
    assert "policies[0].class: " in done.stderr
