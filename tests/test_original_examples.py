"""The original driver's first two examples, ported as docs/configuration.md says (only their
LogStax observer and tracker replaced), measure every run right under every POSIX shell here:
``/bin/sh``, dash, bash and busybox sh."""

from __future__ import annotations

import csv
import itertools
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
PORTED = ROOT / "examples" / "original"
CORPUS = ROOT.parent / "shared" / "original-driver-configs" / "examples"
#: ``shell:`` values: ``yes`` is /bin/sh; dash and bash must be installed (.ci/run installs them),
#: busybox sh is tried where it is.
SHELLS = ["yes", "dash", "bash"] + ["busybox sh"] * bool(shutil.which("busybox"))
#: Each example: its parameters' values, and the metric a run with them must give.
EXAMPLES: dict[str, tuple[list[range], Callable[..., int]]] = {
    "config-1-simple.yml": ([range(1, 101)], lambda a: a),
    "config-2-two-dimentions.yml": ([range(1, 11), range(1, 11)], lambda a, b: a + b),
}
#: What the port puts in place of the original's observers and trackers.
TRACKERS = [
    {
        "class": "tracker.EventAttributeTracker",
        "event": "LogLineEvent",
        "extract": [{"metric": "metric1", "attrib": "line", "match": "you said ([0-9]+)"}],
    }
]


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_the_port_changes_only_the_logstax_observer_and_tracker(name: str) -> None:
    original = yaml.safe_load((CORPUS / name).read_text())
    ported = yaml.safe_load((PORTED / name).read_text())
    assert [o["class"] for o in original.pop("observers")] == ["observer.LogStaxObserver"]
    assert [t["class"] for t in original.pop("trackers")] == ["tracker.LogStaxTracker"]
    assert ported.pop("trackers") == TRACKERS
    assert ported == original


def _under(shell: str, name: str, tmp_path: Path) -> Path:
    """The ported example with its channel's ``shell: yes`` naming *shell*."""
    text = (PORTED / name).read_text()
    assert text.count("    shell: yes\n") == 1
    copy = tmp_path / name
    copy.write_text(text.replace("    shell: yes\n", f"    shell: {shell}\n"))
    return copy


@pytest.mark.parametrize("shell", SHELLS)
@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_every_run_of_a_ported_example_gets_its_metric(
    perfchart: Perfchart, tmp_path: Path, name: str, shell: str
) -> None:
    path = _under(shell, name, tmp_path)
    done = perfchart("check", str(path), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "0 errors" in done.stderr
    done = perfchart("run", "-q", str(path), "--results", str(tmp_path / "out"), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    with open(tmp_path / "out" / "runs.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    ranges, metric = EXAMPLES[name]
    keys = [f"param{n + 1}" for n in range(len(ranges))]
    seen: list[tuple[int, ...]] = []
    for row in rows:
        values = tuple(_integer(row[key]) for key in keys)
        seen.append(values)
        assert row["status"] == "OK", row
        assert float(row["metric:metric1"]) == metric(*values), row
    assert sorted(seen) == sorted(itertools.product(*ranges))


def _integer(text: Any) -> int:
    """A parameter's value as runs.csv writes it, which must be a whole number."""
    value = float(text)
    assert value.is_integer(), text
    return int(value)
