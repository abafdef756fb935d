"""``perfchart new`` and ``perfchart schema``: what a new author starts from and what their editor
checks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_new_scaffolds_a_policy_whose_test_passes_as_it_is(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    done = perfchart("new", "foo", "--dir", str(tmp_path))
    assert done.returncode == 0, done.stderr
    assert sorted(path.name for path in (tmp_path / "foo").iterdir()) == [
        "foo.yaml",
        "foo.yml",
        "test_foo.py",
    ]
    tests = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "foo"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert tests.returncode == 0, tests.stdout
    assert "3 passed" in tests.stdout


def test_the_scaffold_is_clean_and_runs_for_real_and_dry(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    perfchart("new", "load_step", "--dir", str(tmp_path))
    folder = tmp_path / "load_step"
    check = perfchart("check", "--strict", "load_step.yaml", "load_step.yml", cwd=folder)
    assert check.returncode == 0, check.stderr
    for extra in ([], ["--dry-run"]):
        done = perfchart(
            "run",
            "load_step.yml",
            "-D",
            f"python={sys.executable}",
            "--results",
            f"r{len(extra)}",
            "-q",
            *extra,
            cwd=folder,
        )
        assert done.returncode == 0, done.stderr
        runs = [
            json.loads(line)
            for line in (folder / f"r{len(extra)}" / "runs.jsonl").read_text().splitlines()
        ]
        assert [(run["parameters"], run["status"]) for run in runs] == [
            ({"value": v}, "OK") for v in (1, 2, 3)
        ]


@pytest.mark.parametrize(
    ("name", "why"), [("2fast", "expected letters"), ("my-policy", "expected letters")]
)
def test_new_refuses_a_name_that_cannot_name_a_test(
    perfchart: Perfchart, tmp_path: Path, name: str, why: str
) -> None:
    done = perfchart("new", name, "--dir", str(tmp_path))
    assert done.returncode == 2
    assert why in done.stderr
    assert list(tmp_path.iterdir()) == []


def test_new_never_overwrites(perfchart: Perfchart, tmp_path: Path) -> None:
    (tmp_path / "foo").mkdir()
    (tmp_path / "foo" / "mine.txt").write_text("keep")
    done = perfchart("new", "foo", "--dir", str(tmp_path))
    assert done.returncode == 2
    assert (
        done.stderr
        == f"perfchart: error: {tmp_path / 'foo'} already exists and is not empty; choose another "
        "NAME or --dir\n"
    )


def schema(perfchart: Perfchart, kind: str) -> Any:
    done = perfchart("schema", kind)
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document)


def problems(validator: Any, data: Any) -> list[str]:
    return sorted(error.message for error in validator.iter_errors(data))


def test_the_config_schema_knows_every_bundled_policy_and_channel_block(
    perfchart: Perfchart,
) -> None:
    validator = schema(perfchart, "config")
    for name in ("sweep.yml", "ramp.yml"):
        assert problems(validator, yaml.safe_load((ROOT / "examples" / name).read_text())) == []
    sweep = yaml.safe_load((ROOT / "examples" / "sweep.yml").read_text())
    sweep["policies"][0]["matrx"] = sweep["policies"][0].pop("matrix")
    sweep["channels"][0]["timeot"] = sweep["channels"][0].pop("timeout")
    sweep["channels"][0]["simulate"] = {"outcom": 1}
    found = problems(validator, sweep)
    assert any("'matrx' was unexpected" in message for message in found)
    assert any("'timeot' was unexpected" in message for message in found)
    assert any("'outcom' was unexpected" in message for message in found)


def test_the_statechart_schema_checks_the_header_too(perfchart: Perfchart) -> None:
    validator = schema(perfchart, "statechart")
    charts = [*(ROOT / "statecharts").glob("*.yaml"), ROOT / "examples" / "ramp_bisect.yaml"]
    for path in charts:
        assert problems(validator, yaml.safe_load(path.read_text())) == [], path
    chart = yaml.safe_load(charts[0].read_text())
    chart["perfchart"]["summry"] = chart["perfchart"].pop("summary")
    assert problems(validator, chart) == [
        "Additional properties are not allowed ('summry' was unexpected)"
    ]


def test_the_readme_names_the_authoring_commands(perfchart: Perfchart) -> None:
    readme = (ROOT / "README.md").read_text()
    for line in (
        "perfchart check FILE... [--strict]",
        "perfchart new NAME [--dir DIR]",
        "perfchart schema config|statechart",
        "perfchart new foo && pytest foo/",
    ):
        assert line in readme
    usage = perfchart("--help").stdout
    assert all(command in usage for command in ("check", "new", "schema"))
