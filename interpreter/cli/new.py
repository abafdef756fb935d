"""``perfchart new NAME``: a minimal working policy to start from, with its config and its test.

Three files in ``DIR/NAME/``: the chart with commented guidance, a test
configuration that runs it through the cmdline channel (with a
``simulate:`` block for ``--dry-run``), and a pytest test that uses
:mod:`interpreter.testing` and passes as it is.
"""

from __future__ import annotations

import argparse
import importlib.util
import re
import sys
from pathlib import Path

from ..errors import UsageError

NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
#: Template file -> the file it becomes (NAME replaced).
TEMPLATES = {
    "policy.yaml.tmpl": "NAME.yaml",
    "config.yml.tmpl": "NAME.yml",
    "test_policy.py.tmpl": "test_NAME.py",
}


def add_parser(commands: argparse._SubParsersAction) -> None:
    new = commands.add_parser(
        "new",
        help="scaffold a policy chart, a config that runs it and its test",
        description="Create DIR/NAME/ with NAME.yaml (a minimal working chart with guidance), "
        "NAME.yml (a test "
        "configuration running it through the cmdline channel) and test_NAME.py (its pytest test).",
    )
    new.add_argument(
        "name",
        metavar="NAME",
        help="the policy's name: letters, digits and '_', starting with a letter",
    )
    new.add_argument(
        "--dir",
        type=Path,
        default=Path("."),
        metavar="DIR",
        help="where to create NAME/ (default: here)",
    )


def new(args: argparse.Namespace) -> int:
    name: str = args.name
    if not NAME.fullmatch(name):
        raise UsageError(
            f"policy name {name!r}: expected letters, digits and '_', starting with a letter (it "
            "names files and a Python test)"
        )
    target = args.dir / name
    if target.exists() and any(target.iterdir()):
        raise UsageError(f"{target} already exists and is not empty; choose another NAME or --dir")
    target.mkdir(parents=True, exist_ok=True)
    cls = "".join(part.capitalize() for part in name.split("_"))
    from importlib.resources import files

    templates = files("interpreter.cli").joinpath("templates")
    for template, output in TEMPLATES.items():
        text = templates.joinpath(template).read_text(encoding="utf-8")
        (target / output.replace("NAME", name)).write_text(
            text.replace("CLASS", cls).replace("NAME", name), encoding="utf-8"
        )
    print(
        f"created {target}/: {name}.yaml (the policy), {name}.yml (runs it), test_{name}.py (tests "
        "it)",
        file=sys.stderr,
    )
    print(next_step(target, name), file=sys.stderr)
    return 0


def next_step(target: Path, name: str) -> str:
    """The command to try the new files with, and what to install first when pytest is missing
    (``pip install perfchart`` and ``pip install -e .`` do not bring it; the ``test`` extra does).
    """
    check = f"perfchart check {target / (name + '.yaml')}"
    test = f"{_python()} -m pytest {target}"
    if importlib.util.find_spec("pytest") is None:
        return (
            f"next: {check}; to run its test, install pytest first (pip install pytest, or "
            f"pip install -e '.[test]' in a perfchart checkout), then: {test}"
        )
    return f"next: {check} && {test}"


def _python() -> str:
    """``python`` when that is the interpreter perfchart runs in, else that interpreter's path."""
    import shlex  # here: the parser is built for every command, this runs for one
    import shutil

    found = shutil.which("python")
    if found is not None and Path(found).resolve() == Path(sys.executable).resolve():
        return "python"
    return shlex.quote(sys.executable)
