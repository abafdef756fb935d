"""What `perfchart --help` and a dry run import: nothing the command does not use.

Each command runs in a fresh interpreter, which then lists every module in
``sys.modules``; a module on a command's forbidden list fails the test with
its name. The lists name what a past version imported without using it (and
what costs most to import), so a change that brings one back is seen here,
not as a slower start weeks later.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

#: Never needed to parse arguments and print help.
HELP_FORBIDDEN = (
    "typing",
    "shutil",
    "copy",
    "shlex",
    "json",
    "logging",
    "dataclasses",
    "sqlite3",
    "importlib.metadata",
    "importlib.resources",
    "yaml",
    "sismic",
    "rich",
    "jsonschema",
    "subprocess",
    "interpreter.core",
    "interpreter.config",
)

#: Never needed by a valid, quiet dry run.
DRY_RUN_FORBIDDEN = (
    "importlib.metadata",  # entry points and versions are read from the metadata folders
    "importlib.resources",
    "email",
    "zipfile",
    "ruamel",  # sismic.io imports it; a chart is built by sismic.io.datadict alone
    "sismic.io.yaml",
    "sismic.io.plantuml",
    "rich",
    "jsonschema",  # only an error needs its words
    "subprocess",  # a dry run starts no process
    "ctypes",
    "interpreter.channels.process",
    "http.client",
    "socket",
    "ssl",
    "uuid",
    "platform",
    "difflib",
    "sqlite3",  # a streamed summary of fewer runs than a batch never files them
    "matplotlib",
    "interpreter.reports",
    "interpreter.diagrams",
    "interpreter.results.shapes",  # only a file read back is checked against its shape
    "interpreter.channels.httptask",  # only an original HTTP task needs it
)

CONFIG = """\
policies:
  - class: multivariable-explorer
    matrix:
      a: {type: range, min: 1, max: 10}
    events:
      signal:
        OK: CmdlineExitZeroEvent
        FAILED: CmdlineExitNonzeroEvent
channels:
  - class: cmdline
    cmdline: "true {{a}}"
"""


def imported(argv: list[str]) -> set[str]:
    """Every module in sys.modules after ``perfchart argv`` ran in a fresh interpreter."""
    code = (
        "import sys\n"
        "from interpreter.cli import main\n"
        "try:\n"
        f"    status = main({argv!r})\n"
        "except SystemExit as exc:\n"
        "    status = exc.code\n"
        "assert status == 0, status\n"
        "print(' '.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return set(done.stdout.splitlines()[-1].split())


def found(modules: set[str], forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in modules if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("argv", [["--help"], ["run", "--help"]])
def test_help_imports_nothing_it_does_not_use(argv: list[str]) -> None:
    modules = imported(argv)
    assert "argparse" in modules  # the list is seen: what the command does use is in it
    assert found(modules, HELP_FORBIDDEN) == []


def test_a_dry_run_imports_nothing_it_does_not_use(tmp_path: Path) -> None:
    config = tmp_path / "sweep.yml"
    config.write_text(CONFIG)
    results = tmp_path / "r"
    modules = imported(["run", str(config), "--dry-run", "-q", "--results", str(results)])
    # What it needs is there, so an empty finding is not a list that sees nothing.
    assert {"sismic.io.datadict", "yaml", "json", "interpreter.channels.cmdline"} <= modules
    assert found(modules, DRY_RUN_FORBIDDEN) == []
    assert "sismic.io" not in modules  # the package: its __init__ imports the two above
    assert len((results / "runs.jsonl").read_text().splitlines()) == 10


def test_the_forbidden_lists_see_an_import(tmp_path: Path) -> None:
    """``perfchart draw`` uses what a dry run must not: the check reports it."""
    modules = imported(["draw", "simple", "--format", "dot", "-o", str(tmp_path / "simple.dot")])
    assert found(modules, DRY_RUN_FORBIDDEN)
