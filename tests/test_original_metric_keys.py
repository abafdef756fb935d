"""The original's keys of parameters and metrics: ``uuid`` written as a number, as its docs write
it, and a metric's ``title``, the label perfchart's report shows for it."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest

from tests.conftest import Perfchart

#: The declarations of the original's docs (config/Global.rst), with a command that prints n * 3.
CONFIG = """\
config:
  parameters:
    - name: n
      desc: A short description of the parameter
      units: sec
      uuid: {uuid}
  metrics:
    - name: tripled
      desc: A short description of the metric
      summarize: [mean]
      title: Legend Title
      units: sec
      uuid: 1234567890
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      n: {{type: discrete, values: [1, 2]}}
    events:
      signal:
        OK: CmdlineExitEvent
channels:
  - class: channel.CmdlineChannel
    cmdline: "echo tripled $(({{{{n}}}} * 3))"
    shell: yes
trackers:
  - class: tracker.EventAttributeTracker
    event: LogLineEvent
    extract: [{{metric: tripled, attrib: line, match: 'tripled ([0-9]+)'}}]
"""

#: A plot of the report page: its SVG, base64-encoded.
IMAGE = re.compile(r'src="data:image/svg\+xml;base64,([A-Za-z0-9+/=]+)"')


def test_a_numeric_uuid_is_accepted_and_the_title_labels_the_report(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CONFIG.format(uuid="1234567890"))
    done = perfchart("check", "--strict", str(config))
    assert done.returncode == 0, done.stderr
    results = tmp_path / "out"
    done = perfchart("run", "-q", str(config), "--results", str(results))
    assert done.returncode == 0, done.stderr
    rows = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    assert [(r["parameters"]["n"], r["metrics"]["tripled"]) for r in rows] == [(1, 3), (2, 6)]
    for name in ("meta.json", "summary.json"):
        metrics = json.loads((results / name).read_text())["metrics"]
        declared = next(m for m in metrics if m["name"] == "tripled")
        assert declared["title"] == "Legend Title", name
    page = tmp_path / "report.html"
    done = perfchart("report", str(results), "-o", str(page))
    assert done.returncode == 0, done.stderr
    html = page.read_text()
    assert "<th>Legend Title mean (sec)</th>" in html
    assert "tripled mean" not in html
    plots = [base64.b64decode(data).decode() for data in IMAGE.findall(html)]
    mine = [svg for svg in plots if "Legend Title" in svg]
    assert len(mine) == 3, len(plots)  # its effect, its distribution and its timeline
    assert all("Legend Title (sec)" in svg for svg in mine)  # the value axis
    assert any("Legend Title by n" in svg for svg in mine)  # the effect's title


@pytest.mark.parametrize(
    ("uuid", "says"), [("1.5", "got a number"), ("[1]", "got a list"), ("yes", "got a boolean")]
)
def test_a_uuid_that_is_neither_text_nor_a_whole_number_is_refused_at_its_line(
    perfchart: Perfchart, tmp_path: Path, uuid: str, says: str
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CONFIG.format(uuid=uuid))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert f"error: {config}:6: config.parameters[0].uuid: " in done.stderr
    assert says in done.stderr
