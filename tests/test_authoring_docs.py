"""docs/authoring.md's examples run as tests, so they cannot drift from the code."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

import pytest
import yaml

from interpreter.channels.cmdline import CmdlineExitZeroEvent
from interpreter.errors import ConfigError
from interpreter.session import load_config
from interpreter.testing import PolicyHarness
from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "authoring.md").read_text()


def blocks(language: str, text: str = DOC) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", text, re.S)


def section(title: str) -> str:
    return DOC.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]


@pytest.fixture
def countdown(tmp_path: Path) -> Path:
    (chart,) = [block for block in blocks("yaml") if "name: countdown" in block]
    path = tmp_path / "countdown.yaml"
    path.write_text(chart)
    return path


def test_the_countdown_example_runs_n_to_1(countdown: Path) -> None:
    harness = PolicyHarness(countdown, "from: 3")
    for _ in range(3):
        harness.signal(CmdlineExitZeroEvent, exitcode=0)
    assert harness.parameters() == [{"n": 3}, {"n": 2}, {"n": 1}]
    assert harness.final
    assert harness.statuses() == ["OK", "OK", "OK"]


def test_the_countdown_example_reports_a_typod_key_as_documented(countdown: Path) -> None:
    (usage,) = [block for block in blocks("yaml") if "statechart: countdown.yaml" in block]
    config = countdown.parent / "test.yml"
    config.write_text(
        usage.replace("from: 3", "frm: 3")
        + "channels:\n  - class: cmdline\n    cmdline: 'true {{n|0}}'\n"
    )
    with pytest.raises(ConfigError) as caught:
        load_config(config)
    assert str(caught.value).startswith(
        f"{config}:3: policies[0].frm: unknown key 'frm' (did you mean from?"
    )
    assert "`file:line: policies[0].frm: unknown\nkey 'frm' (did you mean from? ...)`" in DOC


def test_the_countdown_example_passes_check_strict(perfchart: Perfchart, countdown: Path) -> None:
    done = perfchart("check", "--strict", str(countdown))
    assert done.returncode == 0, done.stderr


def test_every_tutorial_fragment_is_in_the_shipped_example() -> None:
    shipped = (ROOT / "examples" / "ramp_bisect.yaml").read_text() + (
        ROOT / "examples" / "ramp.yml"
    ).read_text()
    fragments = blocks("yaml", section("Tutorial: the largest load that stays OK"))
    assert len(fragments) == 5
    for fragment in fragments:
        assert fragment in shipped, fragment


def test_the_documented_simulate_block_is_the_example_s() -> None:
    (documented,) = [block for block in blocks("yaml", section("Dry runs")) if "simulate:" in block]
    shipped = yaml.safe_load((ROOT / "examples" / "ramp.yml").read_text())["channels"][0][
        "simulate"
    ]
    assert yaml.safe_load(textwrap.dedent(documented))["simulate"] == shipped


def test_the_quick_start_commands_are_the_tested_ones() -> None:
    assert "perfchart new foo && pytest foo/" in DOC  # tests/test_scaffold.py runs it
