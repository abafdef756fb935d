"""The keeper: kills what a perfchart process started once that process is gone, however it ended.

Run as a script (``python -I -S keeper.py MARK``) in a session of its own by
:mod:`.process` when it starts its first child. It reads its stdin, whose
other end only perfchart holds: end of file means perfchart has exited,
cleanly or by any signal, SIGKILL included. Then it SIGKILLs every process
whose environment carries ``PERFCHART_CHILD=MARK.<n>``: the commands and all
their descendants, also those that left their process group or session.
It imports nothing of perfchart, so it starts in a few milliseconds.
"""

from __future__ import annotations

import os
import signal
import sys
import time

#: Rounds of looking and killing, for a process that forks while the first round runs.
ROUNDS = 5


def marked(prefix: bytes) -> list[int]:
    """Pids of the processes whose environment carries a mark starting with *prefix*."""
    wanted = b"PERFCHART_CHILD=" + prefix + b"."
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit() or int(entry) == os.getpid():
            continue
        try:
            with open(f"/proc/{entry}/environ", "rb") as environ:
                data = environ.read()
        except OSError:
            continue
        if any(item.startswith(wanted) for item in data.split(b"\0")):
            found.append(int(entry))
    return found


def main(argv: list[str]) -> int:
    """Wait for perfchart to be gone, then kill what carries its mark."""
    if len(argv) != 2:
        print("usage: keeper.py MARK", file=sys.stderr)
        return 2
    for sig in (signal.SIGINT, signal.SIGHUP, signal.SIGTERM, signal.SIGQUIT):
        signal.signal(sig, signal.SIG_IGN)
    prefix = argv[1].encode()
    while sys.stdin.buffer.read(4096):
        pass
    for _ in range(ROUNDS):
        pids = marked(prefix)
        if not pids:
            break
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        time.sleep(0.05)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
