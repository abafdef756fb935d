"""A run's log handler, which imports rich only when the first record comes.

A quiet run logs errors only and usually none: it then starts and ends
without loading rich at all, which is most of its start-up. An
informational line is shown once: a chart that logs the same line on each
repetition (``exploring 6 permutations``) says it the first time only;
``-v`` shows every one.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console


def stderr_console() -> Console:
    from rich.console import Console

    return Console(file=sys.stderr)


class RichWhenNeeded(logging.Handler):
    """Hands each record to a rich handler on *console*, both made at the first record."""

    def __init__(
        self, console: Callable[[], Console] = stderr_console, *, repeats: bool = False
    ) -> None:
        super().__init__()
        self._console = console
        self._rich: logging.Handler | None = None
        if not repeats:
            self.addFilter(Once())

    def emit(self, record: logging.LogRecord) -> None:
        if self._rich is None:
            from rich.logging import RichHandler

            self._rich = RichHandler(
                console=self._console(), show_path=False, show_time=False, markup=False
            )
        self._rich.emit(record)


#: Distinct informational messages remembered; past that, new ones are shown, and not remembered.
REMEMBERED = 10_000


class Once(logging.Filter):
    """Lets an informational message through the first time only; warnings and errors always."""

    def __init__(self) -> None:
        super().__init__()
        self._seen: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.WARNING:
            return True
        message = record.getMessage()
        if message in self._seen:
            return False
        if len(self._seen) < REMEMBERED:
            self._seen.add(message)
        return True
