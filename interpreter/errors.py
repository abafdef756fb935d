"""Errors the user can fix: each renders as one line naming where and what."""

from __future__ import annotations

#: Characters of a message shown at most: a hostile value must not turn one line into megabytes.
MAX_MESSAGE = 1000


def shorten(text: str, limit: int) -> str:
    """*text*, cut to about *limit* characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text) - limit} more characters)"


class PerfchartError(Exception):
    """Base of errors that end the command with a message instead of a traceback."""

    exit_status = 2


class ConfigError(PerfchartError):
    """Bad input: a configuration, statechart or expression the user wrote.

    Rendered as ``file:line: key: message`` with the parts that are known.
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.file = file
        self.line = line
        self.key = key

    def __str__(self) -> str:
        where = ""
        if self.file:
            where = f"{self.file}:{self.line}: " if self.line else f"{self.file}: "
        key = f"{self.key}: " if self.key else ""
        return f"{where}{shorten(key, 200)}{shorten(self.message, MAX_MESSAGE)}"


class ConfigErrors(ConfigError):
    """Every problem one file has: shown as its first (``run`` stops there); ``perfchart check``
    shows them all, and the warnings found before them.
    """

    def __init__(
        self, errors: list[ConfigError], warnings: list[ConfigError] | None = None
    ) -> None:
        first = errors[0]
        super().__init__(first.message, file=first.file, line=first.line, key=first.key)
        self.errors = errors
        self.warnings = warnings or []


class UsageError(PerfchartError):
    """A command line that cannot be carried out."""
