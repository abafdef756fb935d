"""Cost of one child process: perfchart's ChildProcess against subprocess.run, in the same process.

    python benchmarks/child_process.py [N]      (default: 500 children each)

Each line runs ``true i`` N times and prints, per child, the wall time, the
CPU of the launching process (its threads included), which is what the
session pays for a command beyond the command itself, and the voluntary
context switches of this process's threads (from /proc/self/task/*/status).
A ChildProcess started on the bus's owner thread is waited for by that
thread (pidfd and pipes in its own poll); started elsewhere, by the watcher
thread, which hands the exit over.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable

from interpreter.channels.commands import Command
from interpreter.channels.process import ChildProcess
from interpreter.core import EventBus


def switches() -> int:
    """Voluntary context switches of every thread of this process so far."""
    total = 0
    for task in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{task}/status") as status:
                total += next(
                    int(line.split()[1])
                    for line in status
                    if line.startswith("voluntary_ctxt_switches")
                )
        except (OSError, StopIteration):
            continue  # a thread that ended on the way
    return total


def measure(label: str, one: Callable[[int], object], children: int) -> None:
    one(0)
    wall, cpu, switched = time.perf_counter(), time.process_time(), switches()
    for i in range(children):
        one(i)
    wall, cpu, switched = (
        time.perf_counter() - wall,
        time.process_time() - cpu,
        switches() - switched,
    )
    print(
        f"{label:<44} wall {wall / children * 1e3:6.3f} ms"
        f"   CPU of the launcher {cpu / children * 1e3:6.3f} ms"
        f"   voluntary context switches {switched / children:5.2f}"
    )


def main() -> None:
    children = int(sys.argv[1]) if len(sys.argv) > 1 else 500
    owned, other = EventBus(), EventBus()
    owned.owner = threading.get_ident()

    def child(bus: EventBus, i: int) -> None:
        process = ChildProcess(Command(["true", str(i)]), bus, source="bench")
        process.start()
        process.join()
        bus.dispatch(0.0)

    measure("subprocess.run", lambda i: subprocess.run(["true", str(i)]), children)
    measure(
        "subprocess.run, ChildProcess's options",
        lambda i: subprocess.run(
            ["true", str(i)], stdin=subprocess.DEVNULL, capture_output=True, start_new_session=True
        ),
        children,
    )
    measure("ChildProcess, waited for by its own thread", lambda i: child(owned, i), children)
    measure("ChildProcess, waited for by the watcher", lambda i: child(other, i), children)


if __name__ == "__main__":
    main()
