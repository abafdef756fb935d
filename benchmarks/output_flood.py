"""What a command that floods its output costs: ``perfchart run`` of one run printing N lines, with
nothing bound to its lines and with a chart binding every event, against the bare command writing
to /dev/null, measured in the same run; and perfchart's peak memory, which must not grow with N.

    python benchmarks/output_flood.py [N]      (default: 1,000,000 lines)
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHART = """\
perfchart:
  name: flood
  summary: Counts the events its binding matches in one run.
  config: {type: object, properties: {events: {type: object}}}
statechart:
  name: flood
  preamble: |
    seen = 0
    policy.set_total(1)
    policy.bind('seen', config['events']['seen'])
    policy.bind('ok', config['events']['ok'])
  root state:
    name: flood
    initial: Run
    transitions: [{target: End, event: interrupt}]
    states:
      - name: Run
        on entry: "trace = policy.set_parameters({'value': 1})"
        transitions:
          - {event: seen, action: seen += 1}
          - {target: End, event: ok, guard: "traced(event, trace)"}
      - {name: End, type: final}
"""

CONFIG = """\
config:
  title: flood
  parameters: [{{name: value, default: 0}}]
policies:
  - statechart: flood.yaml
    events: {{seen: {seen}, ok: CmdlineExitZeroEvent}}
channels:
  - {{class: cmdline, cmdline: "{python} flood.py {lines} {{{{value}}}}"}}
"""

PRINTER = """\
import sys
sys.stdout.writelines("%d\\n" % i for i in range(int(sys.argv[1]) * int(sys.argv[2])))
"""


def measured(argv: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS in MiB of *argv*, its output to /dev/null."""
    started = time.perf_counter()
    with open(os.devnull, "wb") as null:
        process = subprocess.Popen(argv, cwd=cwd, stdout=null, stderr=null)
    _, status, usage = os.wait4(process.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"{argv} failed")
    return time.perf_counter() - started, usage.ru_maxrss / 1024


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    with tempfile.TemporaryDirectory() as scratch:
        where = Path(scratch)
        (where / "flood.yaml").write_text(CHART)
        (where / "flood.py").write_text(PRINTER)
        bare, _ = measured([sys.executable, "flood.py", str(lines), "1"], where)
        print(f"{lines:,} lines; bare command to /dev/null: {bare:.2f} s (the baseline)")
        for label, seen in (("nothing bound", "CmdlineStartedEvent"), ("Event bound", "Event")):
            config = CONFIG.format(seen=seen, python=sys.executable, lines=lines)
            (where / "flood.yml").write_text(config)
            run = [sys.executable, "-m", "interpreter", "run", "flood.yml", "-q"]
            wall, peak = measured([*run, "--results", f"r-{seen}"], where)
            print(f"perfchart run, {label}: {wall:.2f} s ({wall / bare:.1f}x), peak {peak:.0f} MiB")


if __name__ == "__main__":
    main()
