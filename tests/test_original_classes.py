"""The original driver's classes: one table in code and in the docs, each class perfchart lacks
refused by name, and ``perfchart check`` naming every problem of a file at once."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from interpreter.channels import channel_class, task_specs
from interpreter.charts import resolve
from interpreter.core import ORIGINAL_CLASSES, OriginalClass, event_catalogue, markdown_table
from interpreter.core.catalogue import check_class_names
from interpreter.errors import ConfigError, ConfigErrors
from interpreter.metrics import tracker_class
from interpreter.session import load_config
from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
REFUSED = "of the original driver that perfchart does not implement"
#: Where a config names the original's classes of each kind that only a section of its own holds.
SECTIONS = {"observer": "observers", "reporter": "reporters", "indicator": "config.indicators"}


def _find(kind: str, name: str) -> object:
    """What perfchart resolves the original's *kind* class *name* to."""
    if kind == "policy":
        return resolve(name)
    if kind == "channel":
        return channel_class(name)
    if kind == "tracker":
        return tracker_class(name)
    if kind == "event":
        check_class_names([name])
        return event_catalogue()[name]
    if kind == "task":
        keys = {
            "Run": {"cmdline": "true"},
            "Delay": {"delay": "1s"},
            "Request": {"url": "http://h/"},
        }
        return task_specs([{"class": name, "at": "setup", **keys.get(name.rsplit(".", 1)[1], {})}])[
            0
        ]
    raise AssertionError(kind)


def test_the_docs_show_the_table_in_the_code() -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    found = re.search(
        r"<!-- original-classes: begin -->\n(.*?)\n<!-- original-classes: end -->", text, re.S
    )
    assert found is not None
    assert found.group(1).splitlines() == markdown_table()


@pytest.mark.parametrize(
    "entry",
    [e for e in ORIGINAL_CLASSES if e.implemented],
    ids=lambda e: e.name,
)
def test_every_class_the_table_says_is_implemented_resolves(entry: OriginalClass) -> None:
    assert _find(entry.kind, entry.name) is not None


@pytest.mark.parametrize(
    "entry",
    [e for e in ORIGINAL_CLASSES if not e.implemented and e.kind not in SECTIONS],
    ids=lambda e: e.name,
)
def test_every_class_perfchart_lacks_is_refused_by_name(entry: OriginalClass) -> None:
    with pytest.raises(ConfigError) as caught:
        _find(entry.kind, entry.name)
    message = caught.value.message
    assert message.startswith(f"{entry.name} is a")
    assert REFUSED in message
    assert "did you mean" not in message


def test_a_refusal_names_the_replacement_and_the_publisher() -> None:
    with pytest.raises(ConfigError) as caught:
        tracker_class("tracker.LogStaxTracker")
    assert caught.value.message == (
        f"tracker.LogStaxTracker is a tracker {REFUSED}; instead use "
        "`tracker.EventAttributeTracker` on `LogLineEvent` with `match:`"
    )
    with pytest.raises(ConfigError) as caught:
        check_class_names(["MarathonDeploymentSuccessEvent"])
    assert "(only observer.MarathonEventsObserver" in caught.value.message
    with pytest.raises(ConfigError) as caught:
        resolve("policy.ChainedDeploymentPolicy")
    assert "instead use a statechart of your own" in caught.value.message


def test_a_typo_of_a_perfchart_class_still_gets_a_hint() -> None:
    with pytest.raises(ConfigError, match="did you mean tracker.CountTracker"):
        tracker_class("tracker.CountTraker")


MINIMAL = "policies:\n  - class: simple\n    parameters: {}\n    timeout: 1s\n"


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "test.yml"
    path.write_text(text)
    return path


def test_observers_are_errors_and_reporters_and_indicators_warnings(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "config:\n  indicators:\n    - class: indicator.NormalizedMeanMetricIndicator\n"
        + MINIMAL
        + "observers:\n  - class: observer.HTTPTimingObserver\n"
        "reporters:\n  - class: reporter.PlotReporter\n",
    )
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    assert [str(e) for e in caught.value.errors] == [
        f"{path}:9: observers[0].class: observer.HTTPTimingObserver is an observer {REFUSED}; "
        "instead use the HTTP channel's own events (`ttfb`, `elapsed` of `HTTPResponseEndEvent`) "
        "and `tracker.DurationTracker`"
    ]
    assert [str(w) for w in caught.value.warnings] == [
        f"{path}:3: config.indicators[0].class: indicator.NormalizedMeanMetricIndicator is an "
        f"indicator {REFUSED}; ignored",
        f"{path}:11: reporters[0].class: reporter.PlotReporter is a reporter {REFUSED}; instead "
        "use `perfchart report`, whose page has the plots; ignored",
    ]


@pytest.mark.parametrize(
    "name", ["tasks.marathon.RemoveGroup", "tasks.auth.AuthEE", "tasks.chronos.RemoveAllJobs"]
)
def test_a_task_class_of_the_original_is_refused_by_name(tmp_path: Path, name: str) -> None:
    path = _write(tmp_path, MINIMAL + f"tasks:\n  - class: {name}\n    at: setup\n")
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value) == f"{path}:6: tasks[0].class: {name} is a task {REFUSED}"


def test_check_names_every_problem_at_its_line_and_run_stops_at_the_first(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    path = _write(
        tmp_path,
        "config:\n  metrics: [{name: m}]\n"
        "policies:\n  - class: policy.ChainedDeploymentPolicy\n"
        "channels:\n  - class: channel.MarathonDeployChannel\n"
        "observers:\n  - class: observer.LogStaxObserver\n"
        "trackers:\n"
        "  - class: tracker.LogStaxTracker\n"
        "  - class: tracker.CountTracker\n    metric: m\n    events: LogStaxMessageEvent\n"
        "reporters:\n  - class: reporter.CSVReporter\n",
    )
    done = perfchart("check", str(path))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert [line.split(": ", 3)[:3] for line in lines[:-1]] == [
        ["error", f"{path}:4", "policies[0].class"],
        ["error", f"{path}:6", "channels[0].class"],
        ["error", f"{path}:8", "observers[0].class"],
        ["error", f"{path}:10", "trackers[0].class"],
        ["error", f"{path}:13", "trackers[1].events"],
        ["warning", f"{path}:15", "reporters[0].class"],
    ]
    assert all(REFUSED in line for line in lines[:-1])
    assert lines[-1] == "1 file checked: 5 errors, 1 warning"
    done = perfchart("run", "--dry-run", str(path), cwd=tmp_path)
    assert done.returncode == 2
    # run stops at the first it finds: the observer, checked before any block is resolved.
    assert done.stderr.strip().splitlines()[-1] == (
        f"perfchart: error: {lines[2].removeprefix('error: ')}"
    )


@pytest.mark.parametrize(
    "entry", [e for e in ORIGINAL_CLASSES if e.kind in SECTIONS], ids=lambda e: e.name
)
def test_every_observer_reporter_and_indicator_is_named_when_a_config_has_it(
    tmp_path: Path, entry: OriginalClass
) -> None:
    section = SECTIONS[entry.kind]
    block = f"  - class: {entry.name}\n"
    if section.startswith("config."):
        text = f"config:\n  indicators:\n  {block}" + MINIMAL
    else:
        text = MINIMAL + f"{section}:\n{block}"
    path = _write(tmp_path, text)
    if entry.kind == "observer":
        with pytest.raises(ConfigError) as caught:
            load_config(path)
        found = [str(caught.value)]
    else:
        found = load_config(path).warnings
    assert len(found) == 1
    assert f".class: {entry.name} is a" in found[0]
    assert REFUSED in found[0]


def test_every_missing_required_definition_is_named_with_the_other_errors(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "config:\n  definitions:\n    - {name: a, required: yes}\n    - {name: b, required: yes}\n"
        + MINIMAL
        + "observers:\n  - class: observer.JMXObserver\n",
    )
    with pytest.raises(ConfigErrors) as caught:
        load_config(path)
    assert [(e.line, e.key) for e in caught.value.errors] == [
        (10, "observers[0].class"),
        (3, "config.definitions[0]"),
        (4, "config.definitions[1]"),
    ]
