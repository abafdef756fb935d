"""Cost of one child process: perfchart's ChildProcess against subprocess.run, in the same process.

    python benchmarks/child_process.py [N]      (default: 500 children each)

Each line runs ``true i`` N times and prints, per child, the wall time and
the CPU of the launching process (its threads included), which is what the
session pays for a command beyond the command itself.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable

from interpreter.channels.commands import Command
from interpreter.channels.process import ChildProcess
from interpreter.core import EventBus


def measure(label: str, one: Callable[[int], object], children: int) -> None:
    one(0)
    wall, cpu = time.perf_counter(), time.process_time()
    for i in range(children):
        one(i)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    print(f"{label:<40} wall {wall / children * 1e3:6.3f} ms   CPU of the launcher {cpu / children * 1e3:6.3f} ms")


def main() -> None:
    children = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    bus = EventBus()

    def child(i: int) -> None:
        process = ChildProcess(Command(["true", str(i)]), bus, source="bench")
        process.start()
        process.join()
        bus.dispatch(0.0)

    measure("subprocess.run", lambda i: subprocess.run(["true", str(i)]), children)
    measure(
        "subprocess.run, ChildProcess's options",
        lambda i: subprocess.run(["true", str(i)], stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True),
        children,
    )
    measure("ChildProcess start + join", child, children)


if __name__ == "__main__":
    main()
