"""``perfchart compare --junit FILE``: a test case per compared row, a failure per regression.

Two real sessions of a command that prints ``x=VALUE``: the candidate is
30 % slower for one of three parameter sets and the same (within a small,
seeded jitter) for the others, so exactly that set's row is a regression.
"""

from __future__ import annotations

import sys
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest

from tests.conftest import Perfchart

VALUE = """
import pathlib
import sys
scale, slower = float(sys.argv[1]), float(sys.argv[2])
counter = pathlib.Path(f"count-{slower:g}-{scale:g}")  # the k-th run of this set in this session
k = int(counter.read_text()) if counter.exists() else 0
counter.write_text(str(k + 1))
print(f"x={scale * (1 + k % 7 / 1000) * (1.3 if scale == slower else 1.0):.6f}")
"""

CONFIG = """
config:
  builtinMetrics: false  # the test counts the rows of its own metric
  repeat: 8
  metrics:
    - {name: x, units: ms, summarize: [mean, p95]}
policies:
  - class: multivariable-explorer
    matrix:
      scale: {type: discrete, values: [10, 20, 30]}
    events:
      signal: {OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}
channels:
  - class: channel.CmdlineChannel
    cmdline: "{{python}} value.py {{scale}} {{slower}}"
trackers:
  - class: attribute
    event: LogLineEvent
    extract: [{metric: x, attrib: line, match: 'x=([0-9.]+)'}]
"""


@pytest.fixture(scope="module")
def sessions(perfchart: Perfchart, tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("junit")
    (tmp / "value.py").write_text(VALUE)
    (tmp / "c.yml").write_text(CONFIG)
    for name, slower in (("base", "0"), ("cand", "30")):
        done = perfchart(
            "run", "c.yml", "-q", "-D", f"python={sys.executable}", "-D", f"slower={slower}",
            "--results", name, cwd=tmp,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
    return tmp


@pytest.mark.slow
def test_each_row_is_a_test_case_and_each_regression_a_failure(
    perfchart: Perfchart, sessions: Path
) -> None:
    done = perfchart(
        "compare", "base", "cand", "--fail-if", "x:mean > +10%", "--stat", "mean",
        "--stat", "p95", "--junit", "junit.xml", cwd=sessions,
    )  # fmt: skip
    assert done.returncode == 1, done.stdout + done.stderr
    suite = ET.parse(sessions / "junit.xml").getroot()
    assert suite.tag == "testsuite"
    cases = suite.findall("testcase")
    # 3 sets × (x mean, x p95, duration mean)
    names = sorted((case.get("classname"), case.get("name")) for case in cases)
    assert len(names) == 9
    assert ("perfchart.compare.x", "mean scale=30") in names
    failed = [case for case in cases if case.find("failure") is not None]
    assert [(c.get("classname"), c.get("name")) for c in failed] == [
        ("perfchart.compare.x", "mean scale=30")
    ]
    failure = failed[0].find("failure")
    assert failure is not None
    assert failure.get("message", "").startswith("x:mean > +10%: ")
    assert "+30.0%" in failure.get("message", "")
    assert (suite.get("tests"), suite.get("failures")) == ("9", "1")
    assert "1 regressions: x:mean > +10%" in done.stdout


@pytest.mark.slow
def test_no_regression_is_a_suite_with_no_failure(perfchart: Perfchart, sessions: Path) -> None:
    done = perfchart("compare", "base", "base", "--fail-if", "x:mean > +10%", "--junit", "same.xml",
                     cwd=sessions)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    suite = ET.parse(sessions / "same.xml").getroot()
    assert suite.get("failures") == "0"
    assert len(suite.findall("testcase")) == 6
    assert suite.findall("testcase/failure") == []


@pytest.mark.slow
def test_on_an_80_column_terminal_the_comparison_fits_with_every_number_whole(
    sessions: Path,
) -> None:
    from tests.test_terminal import CUT_NUMBER, on_a_terminal, rows

    shown = rows(on_a_terminal(["compare", "base", "cand", "--fail-if", "x:mean > +10%"],
                               cwd=sessions, status=1))  # fmt: skip
    assert all(len(row) <= 80 for row in shown), "\n".join(shown)
    text = "\n".join(shown)
    assert not CUT_NUMBER.search(text), text
    assert "FAIL" in text
    assert "FA…" not in text
    table = [row.split() for row in shown if row.lstrip().startswith("scale=")]
    assert len(table) == 6
    slower = next(words for words in table if words[:2] == ["scale=30", "x"])
    assert slower[-1] == "FAIL"
    assert slower[-3] == "+30.0%"  # the percentage whole; the interval was left out to fit
