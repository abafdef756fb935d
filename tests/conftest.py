"""What many test files share: the ``perfchart`` command, in this process or a fresh one, and small
sweep configs.

A test that only checks what the command prints, its exit status and the
files it writes asks for the ``perfchart`` fixture and runs the command in
this process: ``interpreter.cli.main`` with its own stdout, stderr, working
directory and environment, and everything ``main`` changes in the process
(signal handlers, the root logger, warning filters) put back afterwards.
A test about signals, process groups, start-up imports, pipes or anything
else that needs a fresh interpreter passes ``subprocess=True``, or starts
``PERFCHART`` itself with ``subprocess.Popen``.

The configs are built by :func:`sweep_config`: one multivariable-explorer policy
over a matrix with a cmdline channel, the shape most command tests need.
"""

from __future__ import annotations

import contextlib
import io
import logging
import os
import signal
import subprocess as _subprocess
import sys
import traceback
import warnings
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any, Protocol, TextIO

import pytest

#: The command line of ``perfchart`` in a fresh interpreter: the module, as the console script runs
#: it.
PERFCHART = (sys.executable, "-m", "interpreter")

#: The signals ``main`` (and the session it runs) may take over; put back after every in-process
#: command.
SIGNALS = (
    signal.SIGINT,
    signal.SIGTERM,
    signal.SIGHUP,
    signal.SIGPIPE,
    signal.SIGCHLD,
    signal.SIGALRM,
)


@dataclass(frozen=True)
class Done:
    """What one ``perfchart`` command gave: its exit status and its output, as written and as UTF-8
    text.

    The text is decoded strictly and its line ends are left as written.
    """

    returncode: int
    stdout_bytes: bytes
    stderr_bytes: bytes

    @property
    def stdout(self) -> str:
        return self.stdout_bytes.decode()

    @property
    def stderr(self) -> str:
        return self.stderr_bytes.decode()


class Perfchart(Protocol):
    """The ``perfchart`` fixture: run the command with *args* and return what it gave."""

    def __call__(
        self,
        *args: str,
        cwd: Path | None = None,
        env: Mapping[str, str] | None = None,
        timeout: float = 60,
        subprocess: bool = False,
    ) -> Done: ...


class CommandTimeout(BaseException):
    """An in-process command ran past its timeout.

    A BaseException, so that ``main``'s ``except Exception`` cannot turn it into exit status 70.
    """


def run_perfchart(
    *args: str,
    cwd: Path | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 60,
    subprocess: bool = False,
) -> Done:
    """``perfchart *args`` in *cwd* with *env* (the whole environment, as for ``subprocess.run``;
    None: this one).

    In this process unless *subprocess*; either way a command still running
    after *timeout* seconds fails the test.
    """
    if subprocess:
        done = _subprocess.run(
            [*PERFCHART, *args], capture_output=True, cwd=cwd, env=env, timeout=timeout
        )
        return Done(done.returncode, done.stdout, done.stderr)
    return _in_process(list(args), cwd=cwd, env=env, timeout=timeout)


def environ(**variables: str) -> dict[str, str]:
    """This process's environment with *variables* set, for a command's ``env=``."""
    return {**os.environ, **variables}


@pytest.fixture(scope="session")
def perfchart() -> Perfchart:
    """Run the ``perfchart`` command: ``perfchart("run", str(config), cwd=tmp_path)``, or ``...,
    subprocess=True``."""
    return run_perfchart


def _in_process(
    argv: list[str], *, cwd: Path | None, env: Mapping[str, str] | None, timeout: float
) -> Done:
    from interpreter.cli import main

    out, err = io.BytesIO(), io.BytesIO()
    # The error handlers a fresh interpreter would give its standard streams here.
    stdout = io.TextIOWrapper(
        out, encoding="utf-8", errors=_errors(sys.__stdout__, "strict"), write_through=True
    )
    stderr = io.TextIOWrapper(
        err,
        encoding="utf-8",
        errors=_errors(sys.__stderr__, "backslashreplace"),
        write_through=True,
    )
    with _restored_process_state(), _fresh_warnings(), _deadline(timeout, argv):
        sys.stdout, sys.stderr = stdout, stderr
        if env is not None:
            os.environ.clear()
            os.environ.update(env)
        if cwd is not None:
            os.chdir(cwd)
        try:
            status = main(argv)
        except SystemExit as exc:
            status = _exit_status(exc.code, stderr)
        except Exception:
            # What the interpreter does with an exception nothing caught (``main`` lets them through
            # with -v).
            traceback.print_exc(file=stderr)
            status = 1
        stdout.flush()
        stderr.flush()
    return Done(status, out.getvalue(), err.getvalue())


def _errors(stream: TextIO | None, default: str) -> str:
    return getattr(stream, "errors", None) or default


def _exit_status(code: Any, stderr: TextIO) -> int:
    """The exit status of ``sys.exit(code)``, as the interpreter computes it."""
    if code is None:
        return 0
    if isinstance(code, int):
        return code
    print(code, file=stderr)
    return 1


@contextlib.contextmanager
def _restored_process_state() -> Iterator[None]:
    """Put back what ``main`` changes in the process: streams, cwd, environment, signal handlers,
    the root logger."""
    streams = sys.stdout, sys.stderr
    cwd = os.getcwd()
    environment = dict(os.environ)
    from interpreter.session import ENDING_SIGNALS

    handlers = {sig: signal.getsignal(sig) for sig in {*SIGNALS, *ENDING_SIGNALS}}
    root = logging.getLogger()
    root_handlers, root_level = list(root.handlers), root.level
    # ``logging.basicConfig(force=True)`` closes the root's handlers: keep pytest's out of its
    # reach.
    root.handlers.clear()
    try:
        yield
    finally:
        for added in root.handlers:
            added.close()
        root.handlers[:] = root_handlers
        root.setLevel(root_level)
        for sig, previous in handlers.items():
            if previous is not None:
                signal.signal(sig, previous)
        if dict(os.environ) != environment:
            os.environ.clear()
            os.environ.update(environment)
        os.chdir(cwd)
        sys.stdout, sys.stderr = streams


@contextlib.contextmanager
def _fresh_warnings() -> Iterator[None]:
    """A fresh interpreter's warning filters, its warnings printed to ``sys.stderr`` (the command's)
    rather than recorded by pytest."""

    def show(
        message: Warning | str,
        category: type[Warning],
        filename: str,
        lineno: int,
        file: TextIO | None = None,
        line: str | None = None,
    ) -> None:
        (file or sys.stderr).write(
            warnings.formatwarning(message, category, filename, lineno, line)
        )

    with warnings.catch_warnings():
        warnings.resetwarnings()
        warnings.filterwarnings("default", category=DeprecationWarning, module="__main__")
        for category in (
            DeprecationWarning,
            PendingDeprecationWarning,
            ImportWarning,
            ResourceWarning,
        ):
            warnings.filterwarnings("ignore", category=category, append=True)
        warnings.showwarning = show
        yield


@contextlib.contextmanager
def _deadline(seconds: float, argv: list[str]) -> Iterator[None]:
    """Raise CommandTimeout in the main thread once *seconds* have passed, as
    ``subprocess.run(timeout=...)`` would fail the test."""

    def expire(signum: int, frame: FrameType | None) -> None:
        raise CommandTimeout(f"perfchart {' '.join(argv)} still running after {seconds}s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# -- small sweep configs -------------------------------------------------------------

#: The matrix most command tests sweep: three runs.
THREE_RUNS = {"a": "{type: discrete, values: [1, 2, 3]}"}


def sweep_config(
    cmdline: str,
    *,
    matrix: Mapping[str, str] = THREE_RUNS,
    head: str = "\n",
    policy: str = "multivariable-explorer",
    channel: str = "cmdline",
    options: Mapping[str, str] | None = None,
) -> str:
    """A test configuration: one multivariable-explorer policy over *matrix*, each run one *cmdline*
    of a cmdline channel.

    *matrix* maps each parameter to its flow-style spec; a run whose command
    exits 0 is OK, any other exit FAILED. *head* comes before ``policies:``
    (a blank line by default, as in a triple-quoted string; a ``config:``
    block, or text to ``str.format``); *options* are the channel's keys
    before ``cmdline:``, such as ``shell`` or ``timeout``. Every key is on a
    line of its own, so error messages name the same lines in every test.
    """
    return (
        f"{head}policies:\n"
        f"  - class: {policy}\n"
        "    matrix:\n"
        + "".join(f"      {name}: {spec}\n" for name, spec in matrix.items())
        + "    events:\n"
        "      signal:\n"
        "        OK: CmdlineExitZeroEvent\n"
        "        FAILED: CmdlineExitNonzeroEvent\n"
        "channels:\n"
        f"  - class: {channel}\n"
        + "".join(f"    {key}: {value}\n" for key, value in (options or {}).items())
        + f"    cmdline: {cmdline}\n"
    )
