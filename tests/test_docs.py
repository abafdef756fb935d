"""The documentation's Python examples run as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

DOCS = Path(__file__).resolve().parent.parent / "docs"
BLOCK = re.compile(r"```python\n(.*?)```", re.S)


def examples() -> list[tuple[str, int, str]]:
    found = []
    for page in sorted(DOCS.glob("*.md")):
        for index, match in enumerate(BLOCK.finditer(page.read_text())):
            found.append((page.name, index, match.group(1)))
    return found


@pytest.mark.parametrize(("page", "index", "code"), examples(), ids=lambda value: str(value)[:30])
def test_python_examples_run(page: str, index: int, code: str) -> None:
    scope: dict[str, object] = {}
    exec(compile(code, f"{page}[{index}]", "exec"), scope)
    tests = [
        function
        for name, function in scope.items()
        if name.startswith("test_") and callable(function)
    ]
    for test in tests:
        test()
