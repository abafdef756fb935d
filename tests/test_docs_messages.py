"""The error lines docs/configuration.md shows for a misspelt key and a shell that is not
installed are what perfchart prints for examples/sweep.yml changed that way."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
DOC = (ROOT / "docs" / "configuration.md").read_text()


def _sweep(tmp_path: Path, old: str, new: str) -> Path:
    """examples/sweep.yml (with its workload) where *old*, found once, is *new*."""
    for name in ("sweep.yml", "workload.py"):
        shutil.copy(ROOT / "examples" / name, tmp_path / name)
    path = tmp_path / "sweep.yml"
    text = path.read_text()
    assert text.count(old) == 1
    path.write_text(text.replace(old, new))
    return path


@pytest.mark.parametrize(
    ("old", "new", "command"),
    [
        ("    timeout: 30s\n", "    timout: 30s\n", ["run", "--dry-run"]),
        ("    timeout: 30s\n", "    shell: bashh\n    timeout: 30s\n", ["check"]),
    ],
)
def test_the_docs_error_line_is_the_real_one(
    perfchart: Perfchart, tmp_path: Path, old: str, new: str, command: list[str]
) -> None:
    _sweep(tmp_path, old, new)
    done = perfchart(*command, "sweep.yml", cwd=tmp_path)
    assert done.returncode == 2
    first = done.stderr.splitlines()[0]
    assert first.startswith(("perfchart: error: sweep.yml:46: ", "error: sweep.yml:46: "))
    assert f"\n{first}\n" in DOC, first
