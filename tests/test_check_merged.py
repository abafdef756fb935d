"""``perfchart check a.yml b.yml`` checks the files as the one configuration ``run a.yml b.yml``
makes of them: the problems of the merged file, each at its own file and line, and the problems
only the merge has."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

from tests.conftest import Perfchart

#: The first half of a configuration: a wrong key, an ignored reporter.
FIRST = """\
config:
  parameters: [{name: n}]
  metrics: [{name: lines}]
policies:
  - class: multivariable-explorer
    matrix: {n: {type: discrete, values: [1, 2]}}
    events: {signal: {OK: CmdlineExitEvent}}
    repeets: 2
reporters:
  - class: reporter.CSVReporter
"""

#: The second half: a wrong key in each of two blocks.
SECOND = """\
channels:
  - class: cmdline
    cmdline: "echo {{n}}"
    timout: 3s
trackers:
  - class: count
    metric: lines
    events: LogLineEvent
    colour: red
"""

LOCATED = re.compile(r"^(error|warning): (?P<file>[^:]+):(?P<line>\d+): (?P<rest>.*)$")


def _findings(stderr: str) -> list[tuple[str, str, int, str]]:
    """Each finding line as (kind, file name, line, key and message); the count line left out."""
    found = []
    for text in stderr.splitlines()[:-1]:
        match = LOCATED.match(text)
        assert match, text
        kind, file, line = match.group(1), Path(match["file"]).name, int(match["line"])
        found.append((kind, file, line, match["rest"]))
    return found


def _line(path: Path, number: int) -> str:
    return path.read_text().splitlines()[number - 1]


def test_two_files_give_the_problems_of_the_merged_file_each_at_its_own_line(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    first, second, merged = (tmp_path / name for name in ("first.yml", "second.yml", "all.yml"))
    first.write_text(FIRST)
    second.write_text(SECOND)
    merged.write_text(FIRST + SECOND)
    split = perfchart("check", str(first), str(second))
    whole = perfchart("check", str(merged))
    assert split.returncode == whole.returncode == 2, split.stderr
    assert split.stderr.splitlines()[-1] == "2 files checked: 3 errors, 1 warning"
    assert whole.stderr.splitlines()[-1] == "1 file checked: 3 errors, 1 warning"
    split_found, whole_found = _findings(split.stderr), _findings(whole.stderr)
    assert Counter((k, rest) for k, _, _, rest in split_found) == Counter(
        (k, rest) for k, _, _, rest in whole_found
    )
    words = ("repeets", "timout", "colour", "CSVReporter")
    for _, file, line, rest in split_found:
        word = next(w for w in words if w in rest)
        assert word in _line(tmp_path / file, line), (file, line, rest)
    for _, file, line, rest in whole_found:
        assert file == "all.yml"
        assert next(w for w in words if w in rest) in _line(merged, line)


def test_a_problem_only_the_merge_has_is_found(perfchart: Perfchart, tmp_path: Path) -> None:
    """Each file alone is a clean configuration; merged, its parameter is declared twice."""
    whole = FIRST.replace("    repeets: 2\n", "")
    whole = (
        whole.split("reporters:")[0] + 'channels:\n  - class: cmdline\n    cmdline: "echo {{n}}"\n'
    )
    one, two = tmp_path / "one.yml", tmp_path / "two.yml"
    one.write_text(whole)
    two.write_text(whole)
    assert perfchart("check", str(one)).stderr == "1 file checked: 0 errors, 0 warnings\n"
    done = perfchart("check", str(one), str(two))
    assert done.returncode == 2
    assert _findings(done.stderr) == [
        ("error", "two.yml", 2, "config.parameters[0]: parameter 'n' is declared twice"),
        ("error", "two.yml", 3, "config.metrics[0]: metric 'lines' is declared twice"),
    ]
    run = perfchart("run", "--dry-run", "-q", str(one), str(two), "--results", str(tmp_path / "o"))
    assert run.returncode == 2
    assert f"{two}:2: config.parameters[0]: parameter 'n' is declared twice" in run.stderr


def test_a_chart_given_beside_the_files_is_checked_by_itself(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    chart = tmp_path / "chart.yaml"
    chart.write_text("statechart:\n  name: c\n  root state:\n    name: r\n    initial: nowhere\n")
    first, second = tmp_path / "first.yml", tmp_path / "second.yml"
    first.write_text(FIRST)
    second.write_text(SECOND)
    done = perfchart("check", str(first), str(chart), str(second))
    assert done.returncode == 2
    files = Counter(file for _, file, _, _ in _findings(done.stderr))
    assert files["chart.yaml"] >= 1
    assert files["first.yml"] == 2, done.stderr
    assert files["second.yml"] == 2, done.stderr


def test_a_file_that_is_not_yaml_is_the_one_error(perfchart: Perfchart, tmp_path: Path) -> None:
    first, second = tmp_path / "first.yml", tmp_path / "second.yml"
    first.write_text(FIRST)
    second.write_text("channels: [\n")
    done = perfchart("check", str(first), str(second))
    assert done.returncode == 2
    assert [file for _, file, _, _ in _findings(done.stderr)] == ["second.yml"]
