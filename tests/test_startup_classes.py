"""How many dataclasses a dry run builds: each costs about a third of a millisecond at start-up.

A dataclass compiles its generated methods when its module is imported: a
10-permutation dry run built 70 of them, about 20 ms of a start of 120 ms.
The classes a dry run needs are NamedTuples or plain slotted classes where
nothing used what a dataclass adds; this test fails when one becomes a
dataclass again, or when the count creeps back up.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

#: Built on every dry run, and plain since the start-up work of round 3.
PLAIN = (
    "interpreter.metrics.stats.Summarizer",
    "interpreter.metrics.stats.Accumulator",
    "interpreter.metrics.summary.Group",
    "interpreter.metrics.summary.Grouping",
    "interpreter.metrics.summary.SummaryView",
    "interpreter.config.evolution._Axis",
    "interpreter.config.macros.Macro",
    "interpreter.core.original.OriginalClass",
    "interpreter.core.installed.EntryPoint",
    "interpreter.cli.numbers.Scale",
    "interpreter.cli.digest.Cell",
    "interpreter.cli.digest.Line",
    "interpreter.cli.digest.Relative",
    "interpreter.channels.whatif.Outcome",
    "interpreter.channels.tasks.TaskSpec",
    "interpreter.charts.lint.Finding",
    "interpreter.charts.lint.Bound",
    "interpreter.session.loader.ParameterSpec",
    "interpreter.session.loader.PolicySpec",
    "interpreter.session.loader.ChannelSpec",
    "interpreter.session.loader.TrackerSpec",
    "interpreter.channels.tasks._Sequence",
)
#: The dataclasses a dry run built after that work (43), with a little room.
CEILING = 46

CODE = """\
import sys
from interpreter.cli import main
try:
    status = main({argv!r})
except SystemExit as exc:
    status = exc.code
assert status == 0, status
for name, module in sorted(sys.modules.items()):
    if name.startswith("interpreter"):
        for value in list(vars(module).values()):
            if isinstance(value, type) and value.__module__ == name:
                made = "__dataclass_params__" in vars(value)
                print(("dataclass " if made else "plain ") + name + "." + value.__qualname__)
"""


def test_a_dry_run_builds_few_dataclasses(tmp_path: Path) -> None:
    argv = ["run", "benchmarks/dry_run.yml", "--dry-run", "-q", "-D", "a=10", "-D", "b=1"]
    argv += ["--results", str(tmp_path / "r")]
    done = subprocess.run(
        [sys.executable, "-c", CODE.format(argv=argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=Path(__file__).parent.parent,
    )
    assert done.returncode == 0, done.stderr
    kinds = dict(line.split(" ")[::-1] for line in done.stdout.splitlines()[1:])
    assert {name: kinds.get(name) for name in PLAIN} == dict.fromkeys(PLAIN, "plain")
    made = sorted(name for name, kind in kinds.items() if kind == "dataclass")
    # The list is seen: the events are still dataclasses, and a dry run imports them.
    assert "interpreter.core.events.ParameterUpdateEvent" in made
    assert len(made) <= CEILING, made
