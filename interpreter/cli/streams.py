"""Standard streams that outlive their reader: ``perfchart run … 2>&1 | head`` must not end the
session when ``head`` leaves; and a standard output whose writes fail is told apart from a bug.

A write to a pipe whose reader is gone fails with EPIPE, one to a full
device with ENOSPC; wrapped in :class:`Outliving`, the stream then points
its descriptor at /dev/null
(so the interpreter's last flush cannot fail either) and drops what is
written to it, while the runs go on and the results files are completed.
"""

from __future__ import annotations

import errno
import logging
import os
from typing import Any, TextIO

#: Write errors that mean the output is gone for good, not that perfchart is wrong.
_LOST = frozenset({errno.EPIPE, errno.ENOSPC})


class StdoutLost(OSError):
    """A write to standard output failed (a full disk, a device in error): the output's fault,
    not perfchart's, whatever the file is.
    """


class Guarded:
    """*stream* (text, or the bytes under it), its failed writes and flushes raised as
    :class:`StdoutLost`.

    A regular file on a full disk takes an empty write, so looking at the
    descriptor afterwards cannot tell that it was standard output that
    failed; the stream that raised can.
    """

    def __init__(self, stream: Any) -> None:
        self.stream = stream

    @property
    def buffer(self) -> Guarded:
        """The binary stream under a text one (``draw`` writes PNG there), guarded too."""
        return Guarded(self.stream.buffer)

    def write(self, data: Any) -> int:
        try:
            return int(self.stream.write(data))
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutLost(exc.errno, exc.strerror or str(exc)) from exc

    def flush(self) -> None:
        try:
            self.stream.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            raise StdoutLost(exc.errno, exc.strerror or str(exc)) from exc

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


class Outliving:
    """*stream*, but a write or flush after its reader left is dropped instead of raised."""

    def __init__(self, stream: TextIO, name: str) -> None:
        self.stream = stream
        self.name = name
        self.gone = False

    def write(self, text: str) -> int:
        if not self.gone:
            try:
                return self.stream.write(text)
            except OSError as exc:
                self._lost(exc)
        return len(text)

    def flush(self) -> None:
        if not self.gone:
            try:
                self.stream.flush()
            except OSError as exc:
                self._lost(exc)

    def _lost(self, exc: OSError) -> None:
        if not isinstance(exc, BrokenPipeError) and exc.errno not in _LOST:
            raise exc
        self.gone = True
        if exc.errno != errno.EPIPE:
            # A reader that left is what `| head` means; a full device is worth a word.
            logging.getLogger("perfchart").warning(
                "cannot write to %s: %s; its output is dropped, the runs go on",
                self.name,
                exc.strerror or exc,
            )
        try:
            descriptor = self.stream.fileno()
        except (OSError, ValueError, AttributeError):
            return  # not a file (a test's buffer): nothing to point elsewhere
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, descriptor)
        finally:
            os.close(devnull)

    def isatty(self) -> bool:
        return not self.gone and self.stream.isatty()

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)
