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
import shutil
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..config import (
    MACRO,
    BadMacro,
    Located,
    MacroError,
    MissingMacro,
    macros_in,
    parse_macro,
    render_string,
)
from ..core import parse_duration
from ..errors import ConfigError, shorten


@dataclass(frozen=True)
class Command:
    """A command ready to launch: every macro already rendered."""

    #: An argv list, or with ``shell`` one string for the shell's ``-c``.
    args: Sequence[str] | str
    shell: bool = False
    #: The shell and its arguments before ``-c``: ``/bin/sh`` unless the block names one.
    shell_program: Sequence[str] = ("/bin/sh",)
    cwd: str | None = None
    #: Added to this process's environment.
    env: Mapping[str, str] = field(default_factory=dict)
    #: Written to the command's standard input, which is then closed; None gives it /dev/null.
    stdin: str | None = None
    #: Seconds the command may run before its process group is killed.
    timeout: float | None = None
    #: Why this command must not run (a value that is not an integer in shell arithmetic): the
    #: run fails with this message and nothing is started.
    refused: str | None = None

    def __post_init__(self) -> None:
        if self.shell and not isinstance(self.args, str):
            raise TypeError("a shell command is one string")
        if not self.shell and (isinstance(self.args, str) or not self.args):
            raise TypeError("a command without shell is a non-empty argv list")

    @property
    def argv(self) -> list[str]:
        """What is actually executed."""
        if self.shell:
            return [*self.shell_program, "-c", str(self.args)]
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


#: What ``shell: yes`` runs: the system's POSIX shell, as the original driver's did.
DEFAULT_SHELL = ("/bin/sh",)


def read_shell(config: Mapping[str, Any]) -> tuple[str, ...] | None:
    """``shell:`` as the program that runs the command line, or None without a shell.

    ``yes`` is ``/bin/sh``; a name (``bash``, ``busybox sh``, ``/usr/bin/dash``) is looked up on
    PATH when the configuration loads, so a missing shell is one error at its line rather than
    every run exiting 127.
    """
    value = config.get("shell", False)
    if isinstance(value, bool):
        return DEFAULT_SHELL if value else None
    if not isinstance(value, str) or not value.strip():
        raise config_error(
            config, "shell", f"expected yes, no or a shell such as bash, got {value!r}"
        )
    try:
        words = shlex.split(value)
    except ValueError as exc:
        raise config_error(config, "shell", f"cannot split {value!r}: {exc}") from None
    found = shutil.which(words[0]) if words else None
    if found is None:
        where = "is not an executable file" if os.sep in words[0] else "is not found on PATH"
        raise config_error(
            config,
            "shell",
            f"shell {words[0]!r} {where}; name an installed shell (bash, dash, /bin/sh) "
            "or set shell: yes for /bin/sh",
        )
    return (found, *words[1:])


def _optional_str(config: Mapping[str, Any], key: str) -> str | None:
    value = config.get(key)
    if value is not None and not isinstance(value, str):
        raise config_error(config, key, f"expected a string, got {value!r}")
    return value


#: The scanner's marks for arithmetic: ``$((`` and a parenthesis inside it.
_ARITHMETIC = ("$((", "a(")
#: An integer as shell arithmetic reads it in decimal (a leading 0 would make it octal).
_INTEGER = re.compile(r"[+-]?(?:0|[1-9][0-9]*)")

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
        raise config_error(
            config,
            "cmdline",
            f"cannot split into arguments: {exc}; fix the quoting or set shell: yes",
        ) from None
    return [_HIDDEN.sub(lambda m: macros[int(m.group(1))], word) for word in words]


def _verbatim(text: str) -> str:
    """Substitute as text: render_string's typed path would strip whitespace around a lone macro."""
    return text


@dataclass(frozen=True)
class ShellScript:
    """A ``shell: yes`` command line in which no value is ever pasted.

    Each macro became a reference to an environment variable that holds its
    value when the command runs, written for the quoting it stands in: a
    value is expanded by the shell as data, never read as shell code, so
    quotes, ``$(...)``, backticks and newlines in a value do nothing.

    Inside arithmetic, ``$(( ))``, a quoted reference is invalid in dash and
    busybox sh, and bash evaluates what a value holds there (``a[$(cmd)]``
    runs cmd): the reference is plain (``$PERFCHART_a``) and its value must
    be an integer, checked before anything starts.
    """

    #: The command line with every macro replaced by a variable reference.
    text: str
    #: Variable name -> the macro (``{{name|default}}``) whose value it holds.
    variables: Mapping[str, str]
    #: The variables referenced inside ``$(( ))``: their values must be integers.
    arithmetic: frozenset[str] = frozenset()


def _variable(macro: re.Match[str], taken: dict[str, str]) -> str:
    """The environment variable carrying *macro*'s value: readable, and one per distinct macro."""
    text = macro.group(0)
    for name, known in taken.items():
        if known == text:
            return name
    base = "PERFCHART_" + re.sub(r"\W", "_", parse_macro(text).label)
    name, n = base, 1
    while name in taken:
        n += 1
        name = f"{base}_{n}"
    taken[name] = text
    return name


def shell_script(config: Mapping[str, Any], cmdline: str) -> ShellScript:
    """Replace each macro of a shell command line by a quoted variable reference.

    A small scanner follows the shell's quoting (single and double quotes,
    backslashes, ``$(...)``, ``$((...))`` and backticks) to write the
    reference each place needs: ``"${V}"`` outside quotes, ``${V}`` inside
    double quotes, ``'"${V}"'`` inside single quotes, which closes and
    reopens them, and ``$V`` inside arithmetic (whose value must be an
    integer, see :class:`ShellScript`). Were
    the scanner ever wrong about the context, the worst outcome is a value
    split into words or shown literally; it is still never executed. A
    macro in a here-document is refused: its quoting cannot be read safely.
    """
    taken: dict[str, str] = {}
    scan = _ShellScanner(cmdline)
    while scan.i < len(cmdline):
        macro = MACRO.match(cmdline, scan.i)
        if macro is None:
            scan.copy()
            continue
        if scan.heredoc:
            raise config_error(
                config,
                "cmdline",
                f"macro {macro.group(0)} is in a here-document, where its quoting cannot be "
                "made safe; "
                "pass the value with stdin: or env: instead",
            )
        following = cmdline[macro.end() : macro.end() + 1]
        scan.out.append(scan.reference(_variable(macro, taken), following))
        scan.i = macro.end()
    return ShellScript("".join(scan.out), taken, frozenset(scan.arithmetic))


class _ShellScanner:
    """:func:`shell_script`'s reading of a command line: what it copied, where it is, and the
    quotes and substitutions open there (``"`` ``'`` ``(`` or a backtick; ``""`` at the top;
    ``$((`` for arithmetic and ``a(`` for a parenthesis inside it).
    """

    def __init__(self, cmdline: str) -> None:
        self.cmdline = cmdline
        self.i = 0
        self.out: list[str] = []
        self.stack = [""]
        #: Whether a ``<<`` was seen: what follows may be a here-document.
        self.heredoc = False
        #: The variables referenced inside arithmetic.
        self.arithmetic: set[str] = set()

    def reference(self, variable: str, following: str = "") -> str:
        """The reference to *variable* that reads as one word where the scanner stands.

        In arithmetic it is plain: braces only when a name character follows.
        """
        ref = "${" + variable + "}"
        if self.stack[-1] in _ARITHMETIC:
            self.arithmetic.add(variable)
            return ref if re.match(r"\w", following) else "$" + variable
        return {"'": f"'\"{ref}\"'", '"': ref, "`": ref}.get(self.stack[-1], f'"{ref}"')

    def copy(self) -> None:
        """Copy the next character (two for an escape or ``$(``), following its quoting."""
        c = self.cmdline[self.i]
        self.out.append(c)
        self.i += 1
        top = self.stack[-1]
        if top in _ARITHMETIC and c in "()":
            self._arithmetic(c, top)
        elif top == "'":
            if c == "'":
                self.stack.pop()
        elif c == "\\":
            self._escaped()
        elif c == top and c in '"`':
            self.stack.pop()
        elif c == "`" or (c == "$" and self.cmdline.startswith("(", self.i)):
            self._substitution(c)
        elif top != '"':
            self._unquoted(c, top)

    def _escaped(self) -> None:
        """Copy the character a backslash escapes, whatever it is."""
        if self.i < len(self.cmdline):
            self.out.append(self.cmdline[self.i])
            self.i += 1

    def _arithmetic(self, c: str, top: str) -> None:
        """Parentheses inside ``$(( ))``: nested ones, and the ``))`` that ends it."""
        if c == "(":
            self.stack.append("a(")
        elif top == "a(":
            self.stack.pop()
        elif self.cmdline.startswith(")", self.i):
            self.out.append(")")
            self.i += 1
            self.stack.pop()

    def _substitution(self, c: str) -> None:
        """A backtick or ``$(`` opens a command substitution, ``$((`` arithmetic."""
        if c == "`":
            self.stack.append("`")
        elif self.cmdline.startswith("((", self.i):
            self.out.append("((")
            self.i += 2
            self.stack.append("$((")
        else:
            self.out.append("(")
            self.i += 1
            self.stack.append("(")

    def _unquoted(self, c: str, top: str) -> None:
        """Outside double quotes: parentheses, opening quotes and ``<<``."""
        if c == ")" and top == "(":
            self.stack.pop()
        elif c == "(":
            self.stack.append("(")
        elif c in "'\"":
            self.stack.append(c)
        elif c == "<" and self.cmdline.startswith("<", self.i):
            self.heredoc = True


class CommandTemplate:
    """The command keys channels and tasks share: checked when loaded, rendered per run.

    Without shell the command line is split into arguments first and macros
    are filled inside each argument, so a value with spaces stays one
    argument. With ``shell: yes`` no value enters the script: each macro is
    a quoted reference to an environment variable holding the value (see
    :func:`shell_script`), so a value is data wherever the macro stands.

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
            raise config_error(
                config,
                "cmdline",
                "missing: the command to run, such as cmdline: ./load --rate {{rate}}",
            )
        cmdline = config["cmdline"]
        if not isinstance(cmdline, str) or not cmdline.strip():
            raise config_error(
                config,
                "cmdline",
                f"expected the command to run as a non-empty string, got {cmdline!r}",
            )
        self.cmdline: str = cmdline
        self.shell_program = read_shell(config)
        self.shell = self.shell_program is not None
        self.cwd = _optional_str(config, "cwd")
        self.stdin = _optional_str(config, "stdin")
        self.env = self._read_env()
        self.timeout = self._read_timeout()
        #: Every name the command's macros read, with or without a default.
        self.macros: frozenset[str] = frozenset().union(
            *(self._reads(container, key, text) for container, key, text in self._texts())
        )
        self.words = None if self.shell else _split_template(config, cmdline)
        self.script = shell_script(config, cmdline) if self.shell else None

    @staticmethod
    def _reads(container: Any, key: str, text: str) -> frozenset[str]:
        """The names the macros of *text* read; a ConfigError at *key* for one that is no macro."""
        try:
            return frozenset().union(*(macro.reads for macro in macros_in(text)))
        except BadMacro as exc:
            raise config_error(container, key, exc.message) from None

    def _read_env(self) -> dict[str, str]:
        env = self.config.get("env")
        if env is None:
            return {}
        if not isinstance(env, Mapping):
            raise config_error(
                self.config, "env", f"expected a mapping of variable names to values, got {env!r}"
            )
        result = {}
        for name, value in env.items():
            if not isinstance(name, str) or not name or "=" in name:
                raise config_error(
                    env, name, f"expected an environment variable name, got {name!r}"
                )
            if isinstance(value, bool) or not isinstance(value, (str, int, float)):
                raise config_error(
                    env,
                    name,
                    f"expected a string or a number, got {value!r}; quote it to pass it as text",
                )
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
            raise config_error(
                self.config, "timeout", f"expected a positive duration such as 30s, got {value!r}"
            )
        return seconds

    def _texts(self) -> list[tuple[Any, str, str]]:
        """Each templated text with the container and key to blame when it goes wrong."""
        texts: list[tuple[Any, str, str]] = [(self.config, "cmdline", self.cmdline)]
        texts += [
            (self.config, key, text)
            for key, text in (("cwd", self.cwd), ("stdin", self.stdin))
            if text is not None
        ]
        texts += [(self.config.get("env"), name, text) for name, text in self.env.items()]
        return texts

    def render(self, values: Mapping[str, Any]) -> Command:
        """The command with *values* filled in; a macro without a value is a ConfigError."""
        env = {
            name: self._render(self.config.get("env"), name, text, values)
            for name, text in self.env.items()
        }
        refused = None
        if self.script is not None:
            args: list[str] | str = self.script.text
            env.update(
                (name, self._render(self.config, "cmdline", macro, values))
                for name, macro in self.script.variables.items()
            )
            refused = self._not_integer(self.script, env)
        else:
            assert self.words is not None
            args = [self._render(self.config, "cmdline", word, values) for word in self.words]
        return Command(
            args,
            shell=self.shell,
            shell_program=self.shell_program or DEFAULT_SHELL,
            cwd=self._cwd(values),
            env=env,
            stdin=None
            if self.stdin is None
            else self._render(self.config, "stdin", self.stdin, values),
            timeout=self.timeout,
            refused=refused,
        )

    @staticmethod
    def _not_integer(script: ShellScript, env: Mapping[str, str]) -> str | None:
        """Why a value in ``$(( ))`` cannot be used there, or None when every one is an integer."""
        for name in sorted(script.arithmetic):
            if not _INTEGER.fullmatch(env[name]):
                return (
                    f"{script.variables[name]} stands in shell arithmetic $(( )), where its "
                    "value must be an integer (without leading zeros), got "
                    f"{shorten(repr(env[name]), 80)}: nothing was run"
                )
        return None

    def _cwd(self, values: Mapping[str, Any]) -> str | None:
        if self.cwd is None:
            return self.base_dir
        cwd = os.path.expanduser(self._render(self.config, "cwd", self.cwd, values))
        return os.path.join(self.base_dir, cwd) if self.base_dir else cwd

    @staticmethod
    def _render(container: Any, key: str, text: str, values: Mapping[str, Any]) -> str:
        try:
            return str(render_string(text, values, quote=_verbatim))
        except MissingMacro as exc:
            raise config_error(
                container,
                key,
                f"macro {{{{{exc.name}}}}} has no value: define it (define:, config.definitions or "
                f"-D {exc.name}=...), "
                f"make it a parameter, or give a default {{{{{exc.name}|...}}}}",
            ) from None
        except MacroError as exc:
            raise config_error(container, key, exc.message) from None
