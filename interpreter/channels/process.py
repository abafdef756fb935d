"""Child processes that behave.

Channels and tasks both launch commands through :class:`ChildProcess`: each
runs in its own process group, so a kill or a timeout takes its grandchildren
with it; its output becomes :class:`LogLineEvent` events; and its exit is
reported only after its output, so a policy never sees a line of a run after
that run's exit.

Every process group started here is remembered until it is seen empty, so
:func:`stop_all` and :func:`kill_all` can end whatever a run left behind,
also descendants that ignore SIGTERM and closed their output: what ends a
run is the process group, not its pipes. :func:`kill_all` also runs when
perfchart exits, because a SIGKILL timer on a daemon thread dies with it.
"""

from __future__ import annotations

import atexit
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterable
from typing import IO, Any

from ..engine.bus import EventBus
from ..engine.events import LogLineEvent
from .commands import Command

#: Seconds between SIGTERM and SIGKILL when a run is stopped.
KILL_GRACE = 2.0
#: Seconds to wait, after the command exits, for descendants that still hold its output.
DRAIN_GRACE = 1.0
#: Bytes of output one LogLineEvent carries at most: a longer line arrives in pieces, so memory stays bounded.
MAX_LINE = 64 * 1024
#: Seconds between two looks at a process group that is being stopped.
POLL = 0.02

#: Process groups started by this perfchart and not yet seen empty. Only
#: atomic set operations touch it, so a signal handler may read it.
_groups: set[int] = set()


def group_alive(pgid: int) -> bool:
    """Whether process group *pgid* still has a member that is not a zombie.

    A zombie cannot do anything, and in a container whose first process
    does not reap orphans it would never go away.
    """
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        entries = os.listdir("/proc")
    except OSError:
        return True
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if len(fields) > 2 and int(fields[2]) == pgid and fields[0] not in (b"Z", b"X"):
            return True
    return False


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> None:
    """SIGKILL every process group perfchart started that may still have members.

    Safe in a signal handler: no lock, one atomic copy of the set.
    """
    for pgid in tuple(_groups):
        _killpg(pgid, signal.SIGKILL)


atexit.register(kill_all)


def stop_all(processes: Iterable[ChildProcess], grace: float = KILL_GRACE) -> None:
    """End *processes* and everything left in their process groups, then wait for their exit reports.

    SIGTERM to every group still alive, SIGKILL after *grace* to any that
    is not empty by then. Returns once every group is empty (or, for a
    process stuck in the kernel, a second after SIGKILL) and every exit is
    reported, so nothing a run started outlives it.
    """
    processes = list(processes)
    for process in processes:
        process.mark_killed()
    alive = [p.pid for p in processes if p.pid is not None and group_alive(p.pid)]
    for pgid in alive:
        _killpg(pgid, signal.SIGTERM)
    for sig, wait in ((signal.SIGKILL, grace), (None, 1.0)):
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            time.sleep(POLL)
            alive = [pgid for pgid in alive if group_alive(pgid)]
        if sig is not None:
            for pgid in alive:
                _killpg(pgid, sig)
    for process in processes:
        if process.pid is not None and process.pid not in alive:
            _groups.discard(process.pid)
        process.join()


class ChildProcess:
    """One run of a :class:`Command`, watched by threads so nobody has to poll.

    *on_start* runs on the launching thread before any output is read, so
    whatever it publishes comes before the first log line. *on_exit* runs on
    the waiter thread once the command has exited and its output is drained;
    it is also called when the command cannot be launched at all (exit code
    127, or 126 when permission is denied, like a shell), so every started
    ChildProcess reports exactly one exit. A descendant that the command
    left running in the background (a daemon) is not waited for beyond
    *drain_grace*; its later output is read and dropped, so it neither
    blocks on a full pipe nor dies of SIGPIPE.
    """

    def __init__(
        self,
        command: Command,
        bus: EventBus,
        *,
        source: str,
        traceids: Iterable[int] = (),
        on_start: Callable[[ChildProcess], object] | None = None,
        on_exit: Callable[[ChildProcess], object] | None = None,
        grace: float = KILL_GRACE,
        drain_grace: float = DRAIN_GRACE,
    ) -> None:
        self.command = command
        self.bus = bus
        self.source = source
        self.traceids = frozenset(traceids)
        self.grace = grace
        self.drain_grace = drain_grace
        self.pid: int | None = None
        self.returncode: int | None = None
        #: The timeout expired and the process group was killed.
        self.timedout = False
        #: :meth:`kill` stopped it.
        self.killed = False
        #: Why the command could not be launched (an OSError, or ValueError for a NUL byte in a value).
        self.error: OSError | ValueError | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        self._on_start = on_start
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[bytes] | None = None
        self._waiter: threading.Thread | None = None
        self._timer: threading.Timer | None = None
        self._terminating = False
        self._reaped = False
        self._muted = False
        self._open_streams = 2
        self._drained = threading.Event()
        self._done = threading.Event()

    @property
    def finished(self) -> bool:
        """The exit has been reported (*on_exit* has returned)."""
        return self._done.is_set()

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.ended_at is None:
            return None
        return self.ended_at - self.started_at

    def start(self) -> None:
        """Launch the command; returns at once, whatever the command does."""
        if self._waiter is not None:
            raise RuntimeError("a ChildProcess starts only once")
        command = self.command
        self.started_at = time.monotonic()
        try:
            self._popen = subprocess.Popen(
                command.argv,
                cwd=command.cwd,
                env={**os.environ, **command.env} if command.env else None,
                stdin=subprocess.PIPE if command.stdin is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            self.error = exc
            self.returncode = 126 if isinstance(exc, PermissionError) else 127
            self._publish_line(self._why_not(exc), "stderr")
            self._waiter = self._thread(self._finish, "exit")
            return
        self.pid = self._popen.pid
        _groups.add(self.pid)
        if self._on_start is not None:
            self._on_start(self)
        assert self._popen.stdout is not None and self._popen.stderr is not None
        self._thread(self._read, "stdout", self._popen.stdout, "stdout")
        self._thread(self._read, "stderr", self._popen.stderr, "stderr")
        if command.stdin is not None:
            assert self._popen.stdin is not None
            self._thread(self._write, "stdin", self._popen.stdin, command.stdin)
        if command.timeout is not None:
            self._timer = threading.Timer(command.timeout, self._expire)
            self._timer.daemon = True
            self._timer.start()
        self._waiter = self._thread(self._wait, "exit")

    def _why_not(self, exc: OSError | ValueError) -> str:
        """Why the command could not be launched, blaming the working directory when that is what is missing."""
        cwd = self.command.cwd
        if isinstance(exc, OSError) and cwd is not None and not os.path.isdir(cwd):
            state = "is not a directory" if os.path.exists(cwd) else "does not exist"
            return f"cannot run {self.command.argv[0]}: its working directory (cwd) {cwd} {state}"
        return f"cannot run {self.command.argv[0]}: {exc}"

    def kill(self) -> None:
        """Stop the whole process group: SIGTERM, then SIGKILL after the grace.

        Does not wait. After the command exited by itself, this ends what it
        left running in its process group, if anything.
        """
        with self._lock:
            if self._popen is None or (self._reaped and not group_alive(self._popen.pid)):
                return
            if not self._reaped:
                self.killed = True
            self._terminate()

    def mark_killed(self) -> None:
        """Record that the command is being stopped, unless it already exited by itself."""
        with self._lock:
            if self._popen is not None and not self._reaped:
                self.killed = True

    def group_alive(self) -> bool:
        """Whether anything of this run is still running in its process group."""
        return self.pid is not None and group_alive(self.pid)

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the exit has been reported; False when *timeout* ran out first.

        Bounded once the command is killed: a reader still blocked by a
        descendant that left the process group is a daemon thread and is not
        waited for.
        """
        if self._waiter is None:
            raise RuntimeError("join() before start()")
        return self._done.wait(timeout)

    def _thread(self, target: Callable[..., object], role: str, *args: Any) -> threading.Thread:
        thread = threading.Thread(target=target, args=args, name=f"{self.source}:{role}", daemon=True)
        thread.start()
        return thread

    def _publish_line(self, line: str, stream: str) -> None:
        with self._lock:
            if not self._muted:
                self.bus.publish(LogLineEvent(line=line, stream=stream, source=self.source, traceids=self.traceids))

    def _read(self, pipe: IO[bytes], stream: str) -> None:
        with pipe:
            for raw in iter(lambda: pipe.readline(MAX_LINE), b""):
                if raw.endswith(b"\n"):
                    raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
                self._publish_line(raw.decode("utf-8", errors="replace"), stream)
        with self._lock:
            self._open_streams -= 1
            if self._open_streams == 0:
                self._drained.set()

    @staticmethod
    def _write(pipe: IO[bytes], text: str) -> None:
        """Feed stdin; a command that exits without reading it all is not an error."""
        try:
            with pipe:
                pipe.write(text.encode("utf-8"))
        except OSError:
            pass

    def _wait(self) -> None:
        assert self._popen is not None
        self._popen.wait()
        with self._lock:
            self._reaped = True
            if self._timer is not None:
                self._timer.cancel()
        self._drained.wait(self.drain_grace)
        self._finish()
        if not group_alive(self._popen.pid):
            _groups.discard(self._popen.pid)

    def _finish(self) -> None:
        with self._lock:
            self._muted = True
            if self._popen is not None:
                self.returncode = self._popen.returncode
            self.ended_at = time.monotonic()
        try:
            if self._on_exit is not None:
                self._on_exit(self)
        finally:
            self._done.set()

    def _expire(self) -> None:
        with self._lock:
            if self._reaped:
                return
            self.timedout = True
            self._terminate()

    def _terminate(self) -> None:
        """SIGTERM the group now and SIGKILL it later; called with the lock held."""
        if self._terminating:
            return
        self._terminating = True
        self._signal(signal.SIGTERM)
        force = threading.Timer(self.grace, self._force_kill)
        force.daemon = True
        force.start()

    def _force_kill(self) -> None:
        """SIGKILL whatever is left in the group, whether or not the leader exited and the pipes closed."""
        assert self.pid is not None
        if group_alive(self.pid):
            _killpg(self.pid, signal.SIGKILL)
        else:
            _groups.discard(self.pid)

    def _signal(self, sig: int) -> None:
        assert self.pid is not None
        _killpg(self.pid, sig)
