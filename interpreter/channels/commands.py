"""The command keys that channels and tasks share, read from configuration.

A block is checked once when the configuration loads (keys, types, macros
that can never get a value) and rendered into a :class:`Command` per run.
Nothing here starts a process: loading a configuration stays free of the
process machinery in :mod:`.process`.
"""

from __future__ import annotations

import os
import re
import shlex
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config.durations import parse_duration
from ..config.macros import MACRO, MissingMacro, render_string
from ..config.yamlsource import Located
from ..errors import ConfigError


@dataclass(frozen=True)
class Command:
    """A command ready to launch: every macro already rendered."""

    #: An argv list, or with ``shell`` one string for ``/bin/sh -c``.
    args: Sequence[str] | str
    shell: bool = False
    cwd: str | None = None
    #: Added to this process's environment.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Written to the command's standard input, which is then closed; None gives it /dev/null.
    stdin: str | None = None
    #: Seconds the command may run before its process group is killed.
    timeout: float | None = None

    def __post_init__(self) -> None:
        if self.shell and not isinstance(self.args, str):
            raise TypeError("a shell command is one string")
        if not self.shell and (isinstance(self.args, str) or not self.args):
            raise TypeError("a command without shell is a non-empty argv list")

    @property
    def argv(self) -> list[str]:
        """What is actually executed."""
        if self.shell:
            return ["/bin/sh", "-c", str(self.args)]
        return list(self.args)


def config_error(config: Any, key: Any, message: str) -> ConfigError:
    """A ConfigError naming *key*, with file and line when *config* was loaded from YAML."""
    if isinstance(config, Located):
        return config.error(key, message)
    return ConfigError(message, key=f"[{key}]" if isinstance(key, int) else str(key))


def read_bool(config: Mapping[str, Any], key: str, default: bool = False) -> bool:
    value = config.get(key, default)
    if not isinstance(value, bool):
        raise config_error(config, key, f"expected yes or no, got {value!r}")
    return value


def _optional_str(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is not None and not isinstance(value, str):
        raise config_error(config, key, f"expected a string, got {value!r}")
    return value


_HIDDEN = re.compile(r"\x00(\d+)\x00")


def _split_template(config: Mapping[str, Any], cmdline: str) -> list[str]:
    """shlex-split a command line without splitting its macros, which may hold spaces."""
    macros: list[str] = []

    def hide(match: re.Match[str]) -> str:
        macros.append(match.group(0))
        return f"\x00{len(macros) - 1}\x00"

    try:
        words = shlex.split(MACRO.sub(hide, cmdline))
    except ValueError as exc:
        raise config_error(config, "cmdline", f"cannot split into arguments: {exc}; fix the quoting or set shell: yes") from None
    return [_HIDDEN.sub(lambda m: macros[int(m.group(1))], word) for word in words]


def _verbatim(text: str) -> str:
    """Substitute as text: render_string's typed path would strip whitespace around a lone macro."""
    return text


class CommandTemplate:
    """The command keys channels and tasks share: checked when loaded, rendered per run.

    Without shell the command line is split into arguments first and macros
    are filled inside each argument, so a value with spaces stays one
    argument. With ``shell: yes`` every value is shell-quoted instead, which
    means a macro must not be put inside quotes in the command line.

    A block loaded from a file runs in that file's directory, and a relative
    ``cwd`` is taken from there, so ``./workload.py`` next to the config
    works whatever directory perfchart was started in.
    """

    KEYS = frozenset({"cmdline", "shell", "cwd", "env", "stdin", "timeout"})

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        file = getattr(config, "file", None)
        self.base_dir: str | None = os.path.dirname(os.path.abspath(file)) if file else None
        if "cmdline" not in config:
            raise config_error(config, "cmdline", "missing: the command to run, such as cmdline: ./load --rate {{rate}}")
        cmdline = config["cmdline"]
        if not isinstance(cmdline, str) or not cmdline.strip():
            raise config_error(config, "cmdline", f"expected the command to run as a non-empty string, got {cmdline!r}")
        self.cmdline: str = cmdline
        self.shell = read_bool(config, "shell")
        self.cwd = _optional_str(config, "cwd")
        self.stdin = _optional_str(config, "stdin")
        self.env = self._read_env()
        self.timeout = self._read_timeout()
        self.words = None if self.shell else _split_template(config, cmdline)
        #: Every macro the command uses, with or without a default.
        self.macros: frozenset[str] = frozenset(m.group(1) for _, _, text in self._texts() for m in MACRO.finditer(text))

    def _read_env(self) -> dict[str, str]:
        env = self.config.get("env")
        if env is None:
            return {}
        if not isinstance(env, Mapping):
            raise config_error(self.config, "env", f"expected a mapping of variable names to values, got {env!r}")
        result = {}
        for name, value in env.items():
            if not isinstance(name, str) or not name or "=" in name:
                raise config_error(env, name, f"expected an environment variable name, got {name!r}")
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise config_error(env, name, f"expected a string or a number, got {value!r}; quote it to pass it as text")
            result[name] = str(value)
        return result

    def _read_timeout(self) -> float | None:
        value = self.config.get("timeout")
        if value is None:
            return None
        try:
            seconds = parse_duration(value)
        except ValueError as exc:
            raise config_error(self.config, "timeout", str(exc)) from None
        if seconds <= 0:
            raise config_error(self.config, "timeout", f"expected a positive duration such as 30s, got {value!r}")
        return seconds

    def _texts(self) -> list[tuple[Any, str, str]]:
        """Each templated text with the container and key to blame when it goes wrong."""
        texts: list[tuple[Any, str, str]] = [(self.config, "cmdline", self.cmdline)]
        texts += [(self.config, key, text) for key, text in (("cwd", self.cwd), ("stdin", self.stdin)) if text is not None]
        texts += [(self.config.get("env"), name, text) for name, text in self.env.items()]
        return texts

    def render(self, values: Mapping[str, Any]) -> Command:
        """The command with *values* filled in; a macro without a value is a ConfigError."""
        if self.words is not None:
            args: list[str] | str = [self._render(self.config, "cmdline", word, values) for word in self.words]
        else:
            args = self._render(self.config, "cmdline", self.cmdline, values, quote=shlex.quote)
        return Command(
            args,
            shell=self.shell,
            cwd=self._cwd(values),
            env={name: self._render(self.config.get("env"), name, text, values) for name, text in self.env.items()},
            stdin=None if self.stdin is None else self._render(self.config, "stdin", self.stdin, values),
            timeout=self.timeout,
        )

    def _cwd(self, values: Mapping[str, Any]) -> str | None:
        if self.cwd is None:
            return self.base_dir
        cwd = os.path.expanduser(self._render(self.config, "cwd", self.cwd, values))
        return os.path.join(self.base_dir, cwd) if self.base_dir else cwd

    @staticmethod
    def _render(container: Any, key: str, text: str, values: Mapping[str, Any], quote: Callable[[str], str] = _verbatim) -> str:
        try:
            return str(render_string(text, values, quote=quote))
        except MissingMacro as exc:
            raise config_error(
                container,
                key,
                f"macro {{{{{exc.name}}}}} has no value: define it (define:, config.definitions or -D {exc.name}=...), "
                f"make it a parameter, or give a default {{{{{exc.name}|...}}}}",
            ) from None
