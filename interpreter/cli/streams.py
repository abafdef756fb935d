"""Standard streams that outlive their reader: ``perfchart run … 2>&1 | head`` must not end the
session when ``head`` leaves.

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
