"""Child processes that behave.

Channels and tasks both launch commands through :class:`ChildProcess`: each
runs in its own process group, so a kill or a timeout takes its grandchildren
with it; its output becomes :class:`LogLineEvent` events; and its exit is
reported only after its output, so a policy never sees a line of a run after
that run's exit.

Output is read no faster than the session takes it: when the bus is full
(:meth:`EventBus.hold`), a stream's reader stops watching its pipe until the
session has caught up, so the command blocks on its full pipe instead of
perfchart's memory growing; nothing is dropped. A command that is being
stopped or waited for is no longer held back, so stopping it never waits for
the session. A child the session thread waits for itself (below) needs no
hold: that thread delivers the events waiting for it before it reads more.

A child started on the session thread (the bus's :attr:`~EventBus.owner`)
is waited for by that thread itself, where the system has pidfds (Linux):
its pidfd and pipes join the ``poll`` in which the session waits for its
next event, so one wake-up reads the output, reaps the exit and hands it to
the chart, as a bare ``subprocess.run`` loop would; handing each exit over
from another thread cost a run two more context switches and up to a
millisecond of timing bias. perfchart keeps its own copy of the write end of
each output pipe until the exit is seen, so the end of the output wakes
nobody: the pipes are read to their end once the exit is seen (one wake-up
per run for a quiet command, not one per pipe and one for the exit). One
watcher thread serves every other child: it reads their
output, feeds their stdin, reaps their exits (through a pidfd, so no thread
waits per child; only where the system has no pidfd does a thread per child
wait for its exit) and keeps every child's timeouts.

Every process group started here is remembered until it is seen empty, so
:func:`stop_all` and :func:`kill_all` can end whatever a run left behind,
also descendants that ignore SIGTERM and closed their output: what ends a
run is the process group, not its pipes. :func:`kill_all` also runs when
perfchart exits, because a SIGKILL timer on the watcher thread, a daemon, dies with it.

A descendant can leave its group (``setsid``, ``setpgid``, coreutils
``timeout``), so every child also carries a mark in its environment,
``PERFCHART_CHILD``, which its descendants inherit. During a session
perfchart is the child subreaper (Linux): orphaned descendants become its
children instead of init's, so the marked ones are found among its own
descendants and ended with their run. And a keeper process
(:mod:`.keeper`), started with the first child, waits for perfchart to be
gone, however it ended, even by SIGKILL, and kills every process with its mark.
"""

from __future__ import annotations

import atexit
import ctypes
import functools
import heapq
import itertools
import logging
import math
import os
import secrets
import select
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ..core import EventBus, LogLineEvent, Timer
from .commands import Command

if TYPE_CHECKING:
    import resource

#: Seconds between SIGTERM and SIGKILL when a run is stopped.
KILL_GRACE = 2.0
#: Seconds to wait, after the command exits, for descendants that still hold its output.
DRAIN_GRACE = 1.0
#: Times the drain grace starts over because the bus holds the output back, before the exit is
#: reported anyway (a descendant that floods its run's pipe for ever).
DRAIN_HOLDS = 30
#: Bytes of output one LogLineEvent carries at most: a longer line arrives in pieces, so memory
#: stays bounded.
MAX_LINE = 64 * 1024
#: Seconds between two looks at a process group that is being stopped.
POLL = 0.02
#: Reads of 64 KiB an output stream gets at the exit before it waits for more.
DRAIN_READS = 16

log = logging.getLogger("perfchart")

#: Process groups started by this perfchart and not yet seen empty. Only
#: atomic set operations touch it, so a signal handler may read it.
_groups: set[int] = set()

#: The environment variable every child and its descendants carry: ``<perfchart mark>.<child>``.
MARK = "PERFCHART_CHILD"
#: This perfchart's part of every mark: its pid and a random part, so a reused pid cannot match.
_prefix = f"{os.getpid()}-{secrets.token_hex(4)}"
_numbers = itertools.count(1)
#: Pids of the commands themselves (Popen's to wait for), never reaped here.
_leaders: set[int] = set()
#: Marked descendants seen outside their command's group: reaped here once they are zombies.
_strays: set[int] = set()
#: Linux prctl options.
_PR_SET_CHILD_SUBREAPER = 36


def _stats() -> list[tuple[int, int, int, bool]] | None:
    """(pid, parent pid, process group, zombie) of every process /proc shows; None without /proc."""
    try:
        entries = os.listdir("/proc")
    except OSError:
        return None
    found = []
    for entry in entries:
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            found.append((int(entry), int(fields[1]), int(fields[2]), fields[0] in (b"Z", b"X")))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _mark_of(pid: int) -> str | None:
    """The PERFCHART_CHILD mark in *pid*'s environment, if it has one."""
    try:
        with open(f"/proc/{pid}/environ", "rb") as environ:
            data = environ.read()
    except OSError:
        return None
    for entry in data.split(b"\0"):
        if entry.startswith(MARK.encode() + b"="):
            return entry[len(MARK) + 1 :].decode(errors="replace")
    return None


def marked(mark: str | None = None, max_age: float = 0.0) -> list[int]:
    """Live descendants of this process that carry *mark* (by default: any of this perfchart's).

    Orphans are among them while perfchart is the subreaper. A look at most
    *max_age* seconds old is used again: each look reads all of /proc, and
    every run asks several times.
    """
    global _look
    now = time.monotonic()
    if now - _look[0] > max_age:
        found = []
        for pid in _descendants():
            value = _mark_of(pid)
            if value is not None and value.startswith(_prefix + "."):
                found.append((pid, value))
        _look = (now, found)
        # A stray is remembered to be reaped once it is a zombie: one that is gone is forgotten.
        _strays.intersection_update([pid for pid, _ in found])
    return [pid for pid, value in _look[1] if mark is None or value == mark]


#: Seconds a look at the marked descendants stays good for the checks each run makes; what
#: kills, and what waits for a kill to work, looks again.
LOOK_AGE = 0.1
#: The last look: when, and each marked descendant with its mark.
_look: tuple[float, list[tuple[int, str]]] = (-math.inf, [])


def _descendants() -> list[int]:
    """This process's live descendants, from the whole of /proc; zombie strays among its
    children are reaped on the way.
    """
    me = os.getpid()
    children: dict[int, list[int]] = {}
    for pid, ppid, _, zombie in _stats() or ():
        if zombie and ppid == me and pid in _strays and pid not in _leaders:
            _reap_zombie(pid)
        elif not zombie:
            children.setdefault(ppid, []).append(pid)
    found: list[int] = []
    todo = list(children.get(me, ()))
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo.extend(children.get(pid, ()))
    return found


def _unknown_children() -> bool:
    """Whether this process may have a child that is neither a command's leader nor the keeper.

    While this process is the subreaper, a descendant that left an empty process group is
    such a child (or the child's descendant), so when there is none no look through the whole
    of /proc is needed: that look cost every run of a command longer than :data:`LOOK_AGE`
    more than a millisecond. True where the kernel does not list children.
    """
    known = set(_leaders)
    if _keeper is not None:
        known.add(_keeper.pid)
    try:
        for task in os.listdir("/proc/self/task"):
            # os.read, not a buffered file: half the system calls.
            fd = os.open(f"/proc/self/task/{task}/children", os.O_RDONLY)
            try:
                listed = b"".join(iter(functools.partial(os.read, fd, 65536), b""))
            finally:
                os.close(fd)
            if not known.issuperset(map(int, listed.split())):
                return True
    except OSError:
        return True
    return False


def _reap_zombie(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass
    _strays.discard(pid)


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def adopt_orphans(on: bool = True) -> bool:
    """Make this process the child subreaper (Linux), or stop being it; False where it cannot.

    A descendant that leaves its group and whose parent exits then stays
    this process's descendant, where :func:`marked` finds it.
    """
    global _adopting
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        done = libc.prctl(_PR_SET_CHILD_SUBREAPER, int(on), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False
    _adopting = on and done
    return done


#: This process is the child subreaper: orphaned descendants are its own, and worth looking for.
_adopting = False


_keeper: subprocess.Popen[bytes] | None = None


def _start_keeper() -> None:
    """Start the process that kills every marked process once this one is gone.

    It reads its stdin, whose other end only this process holds, so it
    sees the end of it whenever and however this process ends.
    """
    global _keeper
    if _keeper is not None or not os.path.isdir("/proc"):
        return
    try:
        _keeper = subprocess.Popen(
            [sys.executable, "-I", "-S", str(Path(__file__).with_name("keeper.py")), _prefix],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
    except OSError as exc:
        log.warning("cannot start the keeper of child processes: %s", exc)


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
    stats = _stats()
    if stats is None:
        return True  # no /proc to tell zombies apart: the group is there
    return any(group == pgid and not zombie for _, _, group, zombie in stats)


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def kill_all() -> None:
    """SIGKILL every process group perfchart started that may still have members, and every
    descendant that carries this perfchart's mark.

    Safe in a signal handler: no lock, one atomic copy of the set.
    """
    for pgid in tuple(_groups):
        _killpg(pgid, signal.SIGKILL)
    for pid in marked():
        _kill(pid, signal.SIGKILL)


atexit.register(kill_all)


def stop_all(processes: Iterable[ChildProcess], grace: float = KILL_GRACE) -> None:
    """End *processes* and everything left in their process groups, then wait for their exit
    reports.

    SIGTERM to every group still alive, SIGKILL after *grace* to any that
    is not empty by then. Returns once every group is empty (or, for a
    process stuck in the kernel, a second after SIGKILL) and every exit is
    reported, so nothing a run started outlives it.
    """
    processes = list(processes)
    for process in processes:
        process.mark_killed()
    alive = [p for p in processes if p.pid is not None and p.group_alive(0.0)]
    for process in alive:
        process._signal(signal.SIGTERM)
    for sig, wait in ((signal.SIGKILL, grace), (None, 1.0)):
        deadline = time.monotonic() + wait
        while alive and time.monotonic() < deadline:
            time.sleep(POLL)
            alive = [p for p in alive if p.group_alive(0.0)]
        if sig is not None:
            for process in alive:
                process._signal(sig)
    for process in processes:
        if process.pid is not None and process not in alive:
            _groups.discard(process.pid)
        process.join()


class _Watcher:
    """The one thread that watches every child: its pipes, its exit and its timers.

    Only this thread runs callbacks and touches the timer heap; other
    threads hand it work with :meth:`call_soon`, which never blocks, so a
    child's exit callback may start the next child from this very thread.
    """

    def __init__(self, selector: selectors.BaseSelector | None = None) -> None:
        self._selector = selector if selector is not None else selectors.DefaultSelector()
        #: epoll takes a registration while another thread waits in it, so watching a child needs
        #: no wake-up.
        self._live = isinstance(self._selector, getattr(selectors, "EpollSelector", ()))
        self._wake_read, self._wake_write = os.pipe()
        os.set_blocking(self._wake_read, False)
        os.set_blocking(self._wake_write, False)
        self._selector.register(self._wake_read, selectors.EVENT_READ, None)
        self._lock = threading.Lock()
        self._soon: list[Callable[[], object]] = []
        self._timers: list[tuple[float, int, Timer]] = []
        self._order = itertools.count()
        threading.Thread(target=self._serve, name="perfchart:children", daemon=True).start()

    def call_soon(self, callback: Callable[[], object]) -> None:
        """Run *callback* on the watcher thread; safe from any thread, including that one."""
        with self._lock:
            self._soon.append(callback)
        try:
            os.write(self._wake_write, b"\0")
        except BlockingIOError:
            pass  # the pipe is full of wake-ups already: the thread is awake

    def call_later(self, delay: float, callback: Callable[[], object]) -> Timer:
        call = Timer(time.monotonic() + delay, callback)
        self.call_soon(lambda: heapq.heappush(self._timers, (call.when, next(self._order), call)))
        return call

    def watch(self, fd: int, events: int, callback: Callable[[int], object]) -> None:
        """Call *callback* on the watcher thread with the ready events whenever *fd* is ready; safe
        from any thread.

        With epoll the registration is immediate: waking the watcher for it
        cost each run a hand-off of the interpreter lock between threads.
        """
        if self._live:
            self._selector.register(fd, events, callback)
        else:
            self.call_soon(lambda: self._selector.register(fd, events, callback))

    def unwatch(self, fd: int) -> None:
        self._selector.unregister(fd)

    def _serve(self) -> None:
        while True:
            while self._timers and self._timers[0][2].cancelled:
                heapq.heappop(self._timers)  # a cancelled timer must not wake the thread
            timeout = None
            if self._timers:
                timeout = max(0.0, self._timers[0][0] - time.monotonic())
            for key, events in self._selector.select(timeout):
                if key.data is None:
                    self._drain_wake_ups()
                else:
                    self._run(functools.partial(key.data, events))
            with self._lock:
                soon, self._soon = self._soon, []
            for callback in soon:
                self._run(callback)
            now = time.monotonic()
            while self._timers and self._timers[0][0] <= now:
                _, _, call = heapq.heappop(self._timers)
                if not call.cancelled:
                    self._run(call.callback)

    def _drain_wake_ups(self) -> None:
        try:
            while os.read(self._wake_read, 4096):
                pass
        except BlockingIOError:
            pass

    @staticmethod
    def _run(callback: Callable[[], object]) -> None:
        """Run one callback; a failing one is logged, so the other children stay watched."""
        try:
            callback()
        except Exception:
            log.exception("watching a child process failed")


_watcher: _Watcher | None = None
_watcher_lock = threading.Lock()


def _the_watcher() -> _Watcher:
    """The watcher thread, started with the first child."""
    global _watcher
    with _watcher_lock:
        if _watcher is None:
            _start_keeper()
            _watcher = _Watcher()
        return _watcher


def _pidfd(pid: int) -> int | None:
    """A descriptor that becomes readable when *pid* exits, or None where the system has none (Linux
    before 5.3).
    """
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return None


class ChildProcess:
    """One run of a :class:`Command`, waited for by the session thread that started it, or by the
    shared watcher thread, so nobody has to poll.

    *on_start* runs on the launching thread before any output is read, so
    whatever it publishes comes before the first log line. *on_exit* runs on
    the thread that waits for the command once it has exited and its output is
    drained; it is also called when the command cannot be launched at all
    (exit code 127, or 126 when permission is denied, like a shell), so
    every started ChildProcess reports exactly one exit. A descendant that
    the command left running in the background (a daemon) is not waited for
    beyond *drain_grace*; its later output is read and dropped, so it
    neither blocks on a full pipe nor dies of SIGPIPE.
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
        streams: Mapping[str, str] | None = None,
    ) -> None:
        self.command = command
        #: The ``stream`` each output line is published with, by the stream it was read from.
        self.streams = dict(streams or {})
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
        #: Why the command could not be launched (an OSError, or ValueError for a NUL byte in a
        #: value or for the reason the command was refused).
        self.error: OSError | ValueError | None = None
        self.started_at: float | None = None
        self.ended_at: float | None = None
        #: When the exit was noticed, on the bus's clock: what a run's end is stamped with.
        self.exited_at: float | None = None
        #: The command's resource usage from ``os.wait4`` at its reaping (its waited-for descendants
        #: included); None when it was never launched or the system gives none.
        self.rusage: resource.struct_rusage | None = None
        self._on_start = on_start
        self._on_exit = on_exit
        self._lock = threading.Lock()
        self._popen: subprocess.Popen[bytes] | None = None
        self._watcher: _Watcher | None = None
        #: Waited for by the session thread through the bus, with these descriptors watched.
        self._direct = False
        self._fds: set[int] = set()
        #: This process's copies of the write ends of the output pipes, closed at the exit.
        self._write_ends: list[int] = []
        self._readers: list[_Reader] = []
        #: The command was reaped and nothing of its run was left: nothing can come back.
        self._over = False
        self._timer: Timer | None = None
        self._drain_timer: Timer | None = None
        self._terminating = False
        self._reaped = False
        self._muted = False
        #: Output streams not yet at end of file; only the watcher thread counts them.
        self._open_streams = 2
        #: Readers held back by the bus now; only the watcher thread counts them.
        self._held = 0
        #: Times the drain grace started over because output was held back.
        self._drain_holds = 0
        #: Stopped or waited for: its output is no longer held back.
        self._free = False
        self._reported = False
        self._done = threading.Event()
        #: What this child and its descendants carry in PERFCHART_CHILD.
        self.mark = f"{_prefix}.{next(_numbers)}"

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
        if self._watcher is not None:
            raise RuntimeError("a ChildProcess starts only once")
        watcher = self._watcher = _the_watcher()
        command = self.command
        (out, out_end), (err, err_end) = os.pipe(), os.pipe()
        self._write_ends = [out_end, err_end]
        self._readers = [_Reader(self, out, "stdout"), _Reader(self, err, "stderr")]
        self.started_at = time.monotonic()
        try:
            if command.refused is not None:
                raise ValueError(command.refused)
            popen = self._popen = subprocess.Popen(
                command.argv,
                cwd=command.cwd,
                env={**os.environ, **command.env, MARK: self.mark},
                stdin=subprocess.PIPE if command.stdin is not None else subprocess.DEVNULL,
                stdout=out_end,
                stderr=err_end,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            for fd in (out, out_end, err, err_end):
                os.close(fd)
            self._write_ends, self._readers = [], []
            self._open_streams = 0
            self.error = exc
            self.returncode = 126 if isinstance(exc, PermissionError) else 127
            self._publish_line(self._why_not(exc), "stderr")
            watcher.call_soon(self._report)
            return
        self.pid = popen.pid
        _leaders.add(self.pid)
        _groups.add(self.pid)
        if self._on_start is not None:
            self._on_start(self)
        pidfd = _pidfd(popen.pid)
        self._direct = pidfd is not None and self.bus.owner == threading.get_ident()
        self._watch(pidfd)
        if command.timeout is not None:
            self._timer = watcher.call_later(command.timeout, self._expire)
        if pidfd is None:
            threading.Thread(target=self._wait, name=f"{self.source}:exit", daemon=True).start()

    def _watch(self, pidfd: int | None) -> None:
        """Watch the child's pipes (and pidfd): on the session thread, or on the watcher's."""
        popen = self._popen
        assert popen is not None
        for reader in self._readers:
            os.set_blocking(reader.fd, False)
            self._watch_fd(reader.fd, reader)
        if popen.stdin is not None and self.command.stdin is not None:
            os.set_blocking(popen.stdin.fileno(), False)
            self._watch_fd(
                popen.stdin.fileno(), _Writer(self, popen.stdin, self.command.stdin), write=True
            )
        if pidfd is not None:

            def exited(events: int) -> None:
                self.exited_at = self.bus.clock.time
                self._unwatch(pidfd)
                os.close(pidfd)
                self._reap()

            self._watch_fd(pidfd, exited)

    def _watch_fd(self, fd: int, callback: Callable[[int], object], write: bool = False) -> None:
        if not self._direct:
            assert self._watcher is not None
            self._watcher.watch(
                fd, selectors.EVENT_WRITE if write else selectors.EVENT_READ, callback
            )
            return

        def guarded(events: int) -> None:
            _Watcher._run(functools.partial(callback, events))

        self._fds.add(fd)
        self.bus.watch(fd, guarded, select.POLLOUT if write else select.POLLIN)

    def _unwatch(self, fd: int) -> None:
        if self._direct:
            self._fds.discard(fd)
            self.bus.unwatch(fd)
        else:
            assert self._watcher is not None
            self._watcher.unwatch(fd)

    def _wait(self) -> None:
        """Where there is no pidfd: wait for the exit on a thread of its own, then reap on the
        watcher.
        """
        assert self._popen is not None
        assert self._watcher is not None
        self.rusage = _reap_with_usage(self._popen)
        self.exited_at = self.bus.clock.time
        self._watcher.call_soon(self._reap)

    def _why_not(self, exc: OSError | ValueError) -> str:
        """Why the command could not be launched, blaming the working directory when that is what is
        missing.
        """
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
            if self._popen is None or (self._reaped and not self.group_alive()):
                return
            if not self._reaped:
                self.killed = True
            self._terminate()

    def mark_killed(self) -> None:
        """Record that the command is being stopped, unless it already exited by itself."""
        self._release()
        with self._lock:
            if self._popen is not None and not self._reaped:
                self.killed = True

    def _release(self) -> None:
        """Hold the output back no more: the command is being stopped or waited for, and whoever
        does it may be the session thread, which is then not taking events.
        """
        if self._free:
            return
        self._free = True
        if self._watcher is not None:
            for reader in self._readers:
                self._watcher.call_soon(reader.resume)

    @property
    def holdable(self) -> bool:
        """Whether its output may still be held back by a full bus."""
        return not self._free and not self._muted

    def group_alive(self, max_age: float = LOOK_AGE) -> bool:
        """Whether anything of this run is still running: in its process group, or a descendant
        that left it (seen at most *max_age* seconds ago).

        Once the group is empty, whatever left it is this process's child (the subreaper's),
        so /proc is searched only when there is a child nobody accounts for.
        """
        if self.pid is None or self._over:
            return False
        if group_alive(self.pid) or (
            _adopting and _unknown_children() and bool(self._escaped(max_age))
        ):
            return True
        # Nothing of the run is left, so nothing can start again: no need to look next time.
        self._over = self._reaped
        return False

    def _escaped(self, max_age: float = 0.0) -> list[int]:
        """This run's descendants that left its process group, remembered to be reaped.

        Looked for only while this process is the subreaper: else an orphan is init's, not ours.
        """
        if not _adopting:
            return []
        found = [pid for pid in marked(self.mark, max_age) if pid != self.pid]
        _strays.update(found)
        return found

    def join(self, timeout: float | None = None) -> bool:
        """Wait until the exit has been reported; False when *timeout* ran out first.

        Bounded once the command is killed: output still held open by a
        descendant that left the process group is not waited for beyond
        the drain grace.
        """
        if self._watcher is None:
            raise RuntimeError("join() before start()")
        self._release()
        if not (self._direct and self.bus.owner == threading.get_ident()):
            return self._done.wait(timeout)
        deadline = None if timeout is None else time.monotonic() + timeout
        while not self._done.is_set():
            # Once reaped, only the drain timer on the watcher thread may still report.
            wait = POLL if self._reaped else None
            if deadline is not None:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                wait = remaining if wait is None else min(wait, remaining)
            self.bus.serve(wait, self._fds)
        return True

    def _publish_line(self, line: str, stream: str) -> None:
        with self._lock:
            if not self._muted:
                self.bus.publish(
                    LogLineEvent(
                        line=line,
                        stream=self.streams.get(stream, stream),
                        source=self.source,
                        traceids=self.traceids,
                    )
                )

    def _stream_closed(self) -> None:
        """One output stream reached end of file; once both have
        and the command was reaped, report.
        """
        self._open_streams -= 1
        if self._open_streams == 0 and self._reaped:
            self._report()

    def _reap(self) -> None:
        """The command exited: collect its status, then report once its output is drained or the
        grace ran out.
        """
        assert self._popen is not None
        assert self._watcher is not None
        if self.rusage is None:
            self.rusage = _reap_with_usage(self._popen)  # the exit was seen: this returns at once
        _leaders.discard(self._popen.pid)
        for fd in self._write_ends:
            os.close(fd)  # now the pipes end once nothing else of the run holds them
        self._write_ends = []
        for reader in self._readers:
            reader.drain()
        with self._lock:
            self._reaped = True
            if self._timer is not None:
                self._timer.cancel()
        if self._open_streams == 0:
            self._report()
        else:
            self._drain_timer = self._watcher.call_later(self.drain_grace, self._drained)

    def _drained(self) -> None:
        """The drain grace ran out: report, unless the bus holds output back (it starts over,
        ``DRAIN_HOLDS`` times at most), so a slow chart loses no line of a run.
        """
        assert self._watcher is not None
        if self._held and self._drain_holds < DRAIN_HOLDS and not self._reported:
            self._drain_holds += 1
            self._drain_timer = self._watcher.call_later(self.drain_grace, self._drained)
            return
        self._report()

    def _report(self) -> None:
        """Report the exit exactly once, then forget the process group if it is empty.

        The drain timer on the watcher thread and the end of the output on the session
        thread may both get here.
        """
        with self._lock:
            if self._reported:
                return
            self._reported = True
        if self._drain_timer is not None:
            self._drain_timer.cancel()
        self._finish()
        if self._popen is not None and not self.group_alive():
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
        self._release()
        self._signal(signal.SIGTERM)
        assert self._watcher is not None
        self._watcher.call_later(self.grace, self._force_kill)

    def _force_kill(self) -> None:
        """SIGKILL whatever is left in the group, whether or not the leader exited and the pipes
        closed.
        """
        assert self.pid is not None
        if self.group_alive(0.0):
            self._signal(signal.SIGKILL)
        else:
            _groups.discard(self.pid)

    def _signal(self, sig: int) -> None:
        """Signal the process group and the descendants that left it."""
        assert self.pid is not None
        _killpg(self.pid, sig)
        for pid in self._escaped():
            _kill(pid, sig)


def _reap_with_usage(popen: subprocess.Popen[bytes]) -> resource.struct_rusage | None:
    """Wait for *popen* as ``Popen.wait`` would, through ``os.wait4`` so its resource usage is kept;
    None when something else reaped it first.
    """
    if popen.returncode is None and hasattr(os, "wait4"):
        try:
            pid, status, usage = os.wait4(popen.pid, 0)
        except ChildProcessError:
            pass
        else:
            if pid == popen.pid:
                popen.returncode = os.waitstatus_to_exitcode(status)
                return usage
    popen.wait()
    return None


class _Reader:
    """Splits one output stream into lines as ``readline(MAX_LINE)`` would, without a thread blocked
    in it.
    """

    def __init__(self, process: ChildProcess, fd: int, stream: str) -> None:
        self.process = process
        self.fd = fd
        self.stream = stream
        self.pending = b""
        #: Not watching the pipe: the bus holds this stream back.
        self.held = False
        self.closed = False

    def __call__(self, events: int) -> None:
        self._read()

    def drain(self) -> None:
        """Read what is left, to the end of the stream or until nothing more is there yet.

        At most :data:`DRAIN_READS` reads: a daemon that keeps writing is read as it writes,
        not in one loop that would hold the thread.
        """
        for _ in range(DRAIN_READS):
            if self.closed or not self._read():
                return

    def _read(self) -> bool:
        """One read: True when it got output."""
        try:
            data = os.read(self.fd, 65536)
        except BlockingIOError:
            return False
        except OSError:
            data = b""
        if data:
            self.pending += data
            self._publish(final=False)
            process = self.process
            # The drain at the exit reads a held stream too: it is held once.
            if (
                not self.held
                and not process._direct
                and process.holdable
                and process.bus.hold(self._resume_soon)
            ):
                process._unwatch(self.fd)
                self.held = True
                process._held += 1
            return True
        self._publish(final=True)
        self.closed = True
        if self.held:
            self.held = False
            self.process._held -= 1
        else:
            self.process._unwatch(self.fd)
        os.close(self.fd)
        self.process._stream_closed()
        return False

    def _resume_soon(self) -> None:
        """The bus caught up (called on the session thread): read again, on the watcher thread."""
        assert self.process._watcher is not None
        self.process._watcher.call_soon(self.resume)

    def resume(self) -> None:
        """Watch the pipe again, if it was held back; on the watcher thread."""
        if not self.held:
            return
        self.held = False
        process = self.process
        process._held -= 1
        assert process._watcher is not None
        process._watch_fd(self.fd, self)

    def _publish(self, *, final: bool) -> None:
        pending = self.pending
        start = 0
        while True:
            newline = pending.find(b"\n", start, start + MAX_LINE)
            if newline >= 0:
                end = newline + 1
            elif len(pending) - start >= MAX_LINE:
                end = start + MAX_LINE
            elif final and start < len(pending):
                end = len(pending)
            else:
                break
            raw = pending[start:end]
            start = end
            if raw.endswith(b"\n"):
                raw = raw[:-2] if raw.endswith(b"\r\n") else raw[:-1]
            self.process._publish_line(raw.decode("utf-8", errors="replace"), self.stream)
        self.pending = pending[start:]


class _Writer:
    """Feeds stdin as the command reads it; a command that exits without reading it all is not an
    error.
    """

    def __init__(self, process: ChildProcess, pipe: IO[bytes], text: str) -> None:
        self.process = process
        self.pipe = pipe
        self.data = memoryview(text.encode("utf-8"))

    def __call__(self, events: int) -> None:
        try:
            written = os.write(self.pipe.fileno(), self.data[:65536])
        except BlockingIOError:
            return
        except OSError:
            written = len(self.data)
        self.data = self.data[written:]
        if not self.data:
            self.process._unwatch(self.pipe.fileno())
            self.pipe.close()
