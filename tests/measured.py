"""A perfchart command in a child process, its peak memory measured by ``os.wait4``.

``RUSAGE_CHILDREN`` keeps only the largest of every child a test process
ever had, and Linux carries a process's peak across ``exec``: a child forked
from a large test process starts with the test's size. So a small launcher
starts perfchart, reaps it with ``wait4`` and writes its peak to a file.
"""

from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import PERFCHART

#: Runs argv[2:] and writes its exit status and peak RSS in bytes to argv[1]; killed with it after
#: its timeout.
LAUNCHER = """\
import os, signal, subprocess, sys
process = subprocess.Popen(sys.argv[3:])
signal.signal(signal.SIGALRM, lambda *_: process.kill())
signal.alarm(int(sys.argv[2]))
_, status, usage = os.wait4(process.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(f"{os.waitstatus_to_exitcode(status)} {usage.ru_maxrss * 1024}")
"""


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    #: Peak resident memory of the perfchart process, in bytes.
    peak: int


def run_measured(*args: str, cwd: Path, timeout: float = 600) -> Measured:
    """``perfchart *args`` in *cwd*; killed after *timeout* seconds, a guard against a hang (the
    test then fails on its exit status), never a speed target.
    """
    out, err, figures = cwd / ".stdout", cwd / ".stderr", cwd / ".measured"
    with open(out, "wb") as stdout, open(err, "wb") as stderr:
        subprocess.run(
            [sys.executable, "-c", LAUNCHER, str(figures), str(int(timeout)), *PERFCHART, *args],
            cwd=cwd,
            stdout=stdout,
            stderr=stderr,
            timeout=timeout + 30,
            check=True,
        )
    returncode, peak = map(int, figures.read_text().split())
    return Measured(
        returncode, out.read_text(errors="replace"), err.read_text(errors="replace"), peak
    )
