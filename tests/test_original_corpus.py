"""Every configuration of the original driver (``../shared/original-driver-configs/``): each one
loads and its dry run ends, or ``perfchart check`` names every feature of the original it uses
that perfchart does not implement, and never guesses a near name for one."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from interpreter.config import load_merged
from interpreter.core import original_class, unimplemented
from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
CORPUS = ROOT.parent / "shared" / "original-driver-configs"
REFUSED = "of the original driver that perfchart does not implement"
EVENT = re.compile(r"\b[A-Z][A-Za-z]*Event\b")
#: The sections of class blocks, and what kind of class each holds.
KINDS = {
    "policies": "policy",
    "channels": "channel",
    "observers": "observer",
    "trackers": "tracker",
    "reporters": "reporter",
    "tasks": "task",
    "indicators": "indicator",
}
#: The definitions a file requires (config.definitions with required: true) and has no value for.
DEFINES = {
    "cluster_url": "https://cluster.example",
    "datadog_api_key": "0123",
    "datadog_app_key": "4567",
}
#: The file whose YAML is invalid as written (an unquoted value starting with a macro).
UNQUOTED = "docs/Example.yml"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"no corpus at {CORPUS}")


def corpus() -> list[str]:
    return sorted(
        str(path.relative_to(CORPUS))
        for path in CORPUS.rglob("*")
        if path.suffix in (".yml", ".yaml")
    )


def _classes(doc: Any) -> Iterator[tuple[str, str]]:
    """Every ``(kind, class)`` a document's class blocks name."""
    sections = {**doc, **{"indicators": (doc.get("config") or {}).get("indicators")}}
    for section, kind in KINDS.items():
        for block in sections.get(section) or ():
            if isinstance(block, dict) and "class" in block:
                yield kind, str(block["class"])


def _events(value: Any) -> Iterator[str]:
    """Every event class a document's strings name."""
    if isinstance(value, str):
        yield from EVENT.findall(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _events(item)
    elif isinstance(value, list):
        for item in value:
            yield from _events(item)


def features(doc: Any) -> list[str]:
    """What of the original the document uses that perfchart does not implement, and the classes
    the original never had (its test suite's mocks).
    """
    found = [
        name
        for kind, name in _classes(doc)
        if unimplemented(kind, name) or original_class(kind, name) is None
    ]
    found += [name for name in _events(doc) if unimplemented("event", name)]
    return sorted(set(found))


def _quoted(path: Path, tmp_path: Path) -> Path:
    """A copy of *path* with its unquoted macro values quoted, as the error says to."""
    text = re.sub(r"^(\s*url: )(\{\{.*)$", r"\1'\2'", path.read_text(), flags=re.M)
    copy = tmp_path / path.name
    copy.write_text(text)
    return copy


RESULTS: dict[str, str] = {}


def test_the_corpus_is_all_there() -> None:
    assert len(corpus()) == 28


@pytest.mark.parametrize("name", corpus() if CORPUS.is_dir() else [])
def test_each_file_loads_or_is_refused_naming_every_missing_feature(
    perfchart: Perfchart, tmp_path: Path, name: str
) -> None:
    path = CORPUS / name
    defines = [arg for item in DEFINES.items() for arg in ("-D", "=".join(item))]
    if name == UNQUOTED:
        done = perfchart("check", str(path))
        assert done.returncode == 2
        assert "must be quoted ('{{marathon_url}}/v2/apps')" in done.stderr
        path = _quoted(path, tmp_path)
    done = perfchart("check", *defines, str(path), cwd=tmp_path)
    doc, _, _ = load_merged([path])
    missing = features(doc)
    lines = done.stderr.splitlines()[:-1]
    assert "did you mean" not in done.stderr
    for feature in missing:
        assert any(f"{feature} " in line or f"{feature}'" in line for line in lines), (
            feature,
            done.stderr,
        )
    errors = [line for line in lines if line.startswith("error: ")]
    if done.returncode == 0:
        assert not errors
        run = perfchart("run", "--dry-run", "-q", *defines, str(path), cwd=tmp_path)
        assert run.returncode == 0, run.stderr
        RESULTS[name] = "works"
    else:
        assert done.returncode == 2, done.stderr
        assert errors, done.stderr
        RESULTS[name] = _refused(missing, errors)


def _refused(missing: list[str], errors: list[str]) -> str:
    """``refused (features)``: those an error names, and how many errors name none."""
    named = [f for f in missing if any(f"{f} " in e or f"{f}'" in e for e in errors)]
    others = [e for e in errors if not any(f"{f} " in e or f"{f}'" in e for f in missing)]
    words = [*named, *([f"{len(others)} other error{'s' * (len(others) > 1)}"] if others else [])]
    warned = [f for f in missing if f not in named]
    return f"refused ({', '.join(words)})" + (f", warns ({', '.join(warned)})" if warned else "")


def test_print_the_table(capsys: pytest.CaptureFixture[str]) -> None:
    """The table file → works / refused (features), after the files' tests (run with -s)."""
    if len(RESULTS) < len(corpus()):
        pytest.skip("shown only when every file's test ran")
    with capsys.disabled():
        print()
        for name in corpus():
            print(f"{name:48} {RESULTS[name]}")


@pytest.mark.parametrize("text", ["a: 1\nurl: {{base}}/apps\n", "a: 1\nurl: {{base}}\n"])
def test_an_unquoted_macro_value_gets_a_hint_to_quote_it(
    perfchart: Perfchart, tmp_path: Path, text: str
) -> None:
    path = tmp_path / "c.yml"
    path.write_text(text)
    done = perfchart("check", str(path))
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: {path}:2: ")
    assert "a value that starts with {{ must be quoted" in done.stderr
