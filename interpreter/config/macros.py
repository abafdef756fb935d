"""``{{…}}`` macros in configuration values: names, defaults, meta values and a few functions.

Values come from definitions (the ``define:`` section, ``config.definitions``
defaults and ``-D``), the config's meta values (``{{meta:name}}``) and, in
channels and tasks, from the current parameters. The functions are the
original driver's: ``uuid()``, ``date(format)``, ``safepath(macro)`` and
``eval(expression)``, which goes through the safe expression evaluator,
never Python's ``eval``. Any other ``{{…}}`` is an error: nothing that looks
like a macro is passed on as text unnoticed.
"""

from __future__ import annotations

import re
import time
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, NamedTuple

from ..errors import ConfigError, shorten
from .expressions import check as check_expression
from .expressions import evaluate
from .yamlsource import Located, LocatedDict, LocatedList

#: Any ``{{…}}``: what is inside is parsed by :func:`parse_macro`, and refused when unknown.
MACRO = re.compile(r"\{\{((?:(?!\}\}).)*)\}\}", re.DOTALL)
_NAME = re.compile(r"(?:meta:)?[A-Za-z_][\w.-]*")
_CALL = re.compile(r"([A-Za-z_]\w*)\s*\((.*)\)", re.DOTALL)
#: What safepath() replaces with ``_``: separators and parent references, as the original did.
_PATH_PARTS = re.compile(r"[\\/]|\.\.")
#: The functions, as their messages show them.
FUNCTIONS = {
    "uuid": "uuid()",
    "date": "date(format)",
    "safepath": "safepath(macro)",
    "eval": "eval(expression)",
}
_SHOWN = 80


class MissingMacro(KeyError):
    """A macro without a value and without a default."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


class MacroError(ValueError):
    """A macro that cannot give a value (an eval() that fails); the message says why."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadMacro(MacroError):
    """A ``{{…}}`` that is neither a known name form nor a known function."""


class Macro(NamedTuple):
    """One parsed macro: what it reads and how it gets its value."""

    #: The whole ``{{…}}`` (for a function's argument, the argument).
    text: str
    #: ``name``, ``literal`` or a function of FUNCTIONS.
    kind: str
    #: The name read (``rate``, ``meta:version``), the literal text, or the function's argument.
    argument: str
    #: The default after ``|``, unquoted; None when there is none.
    default: str | None = None
    #: Whether the default was quoted: then it stays text (``'5'`` is the string 5).
    quoted_default: bool = False
    #: safepath()'s argument, itself a macro.
    inner: Macro | None = None
    #: Every name whose value the macro reads.
    reads: frozenset[str] = frozenset()
    #: The names that must have a value, because no default covers them.
    required: frozenset[str] = frozenset()

    @property
    def fresh(self) -> bool:
        """Whether each rendering gives a new value (a new UUID, the time now)."""
        return self.kind in ("uuid", "date") or (self.inner is not None and self.inner.fresh)

    @property
    def label(self) -> str:
        """A word for variable names: the name read, or the function's name."""
        return self.argument if self.kind == "name" else self.kind


def parse_macro(text: str) -> Macro:
    """The macro *text* (``{{…}}``) stands for; BadMacro saying why when it is not one."""
    match = MACRO.fullmatch(text)
    if match is None:
        raise BadMacro(f"macro {shorten(text, _SHOWN)}: not one macro")
    return _parse(match.group(1), text)


@lru_cache(maxsize=4096)
def _parse(body: str, text: str) -> Macro:
    primary, default, quoted = _split_default(body.strip())
    macro = _primary(primary, text)
    if default is None:
        return macro
    return Macro(
        macro.text,
        macro.kind,
        macro.argument,
        default,
        quoted,
        macro.inner,
        macro.reads,
        frozenset(),
    )


def _split_default(body: str) -> tuple[str, str | None, bool]:
    """The macro before its first ``|`` outside parentheses and quotes, and the default after."""
    depth, quote = 0, ""
    for index, char in enumerate(body):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            default = body[index + 1 :].strip()
            text, quoted = _unquoted(default)
            return body[:index].strip(), text, quoted
    return body, None, False


def _unquoted(text: str) -> tuple[str, bool]:
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1], True
    return text, False


def _primary(primary: str, text: str) -> Macro:
    if _NAME.fullmatch(primary):
        names = frozenset({primary})
        return Macro(text, "name", primary, reads=names, required=names)
    literal, quoted = _unquoted(primary)
    if quoted:
        return Macro(text, "literal", literal)
    call = _CALL.fullmatch(primary)
    if call is None:
        raise BadMacro(
            f"macro {shorten(text, _SHOWN)}: expected {{{{name}}}}, "
            f"{{{{name|default}}}}, {{{{meta:name}}}} or a function: "
            f"{', '.join(FUNCTIONS.values())}"
        )
    function, argument = call.group(1), call.group(2).strip()
    if function not in FUNCTIONS:
        raise BadMacro(
            f"macro {shorten(text, _SHOWN)}: unknown function {function}() "
            f"(functions: {', '.join(FUNCTIONS.values())})"
        )
    return _function(function, argument, text)


def _function(function: str, argument: str, text: str) -> Macro:
    if function == "uuid":
        if argument:
            raise BadMacro(f"macro {shorten(text, _SHOWN)}: uuid() takes no argument")
        return Macro(text, "uuid", "")
    if function == "date":
        if not argument:
            raise BadMacro(
                f"macro {shorten(text, _SHOWN)}: date() needs a strftime format, as date(%Y%m%d)"
            )
        return Macro(text, "date", _unquoted(argument)[0])
    if function == "safepath":
        if not argument:
            raise BadMacro(
                f"macro {shorten(text, _SHOWN)}: safepath() needs a macro, as safepath(name)"
            )
        inner = _parse(argument, text)
        return Macro(text, "safepath", argument, None, False, inner, inner.reads, inner.required)
    try:
        names = check_expression(argument)
    except ConfigError as exc:
        raise BadMacro(f"macro {shorten(text, _SHOWN)}: {exc.message}") from None
    return Macro(text, "eval", argument, reads=names, required=names)


def value_of(macro: Macro, values: Mapping[str, Any], typed: bool = True) -> Any:
    """*macro*'s value over *values*; its default when what it reads has no value.

    Raises MissingMacro when a name it needs has no value and there is no
    default, MacroError when an eval() fails.
    """
    try:
        return _value(macro, values)
    except MissingMacro:
        if macro.default is None:
            raise
        if typed and not macro.quoted_default:
            return _typed(macro.default)
        return macro.default


def _value(macro: Macro, values: Mapping[str, Any]) -> Any:
    if macro.kind == "name":
        if macro.argument not in values:
            raise MissingMacro(macro.argument)
        return values[macro.argument]
    if macro.kind == "literal":
        return macro.argument
    if macro.kind == "uuid":
        import uuid  # here: it imports platform, for a macro few configs use

        return uuid.uuid4().hex
    if macro.kind == "date":
        return time.strftime(macro.argument)
    if macro.kind == "safepath":
        assert macro.inner is not None
        return _PATH_PARTS.sub("_", str(value_of(macro.inner, values, typed=False)))
    for name in sorted(macro.reads):
        if name not in values:
            raise MissingMacro(name)
    try:
        return evaluate(macro.argument, values)
    except ConfigError as exc:
        raise MacroError(f"macro {shorten(macro.text, _SHOWN)}: {exc.message}") from None


def macros_in(text: str) -> list[Macro]:
    """Every macro of *text*, parsed; BadMacro at the first that is not one."""
    return [parse_macro(match.group(0)) for match in MACRO.finditer(text)]


def macro_names(value: Any) -> set[str]:
    """Every name a macro reads anywhere inside *value* (strings, lists, mappings)."""
    if isinstance(value, str):
        return set().union(*(macro.reads for macro in macros_in(value)))
    if isinstance(value, Mapping):
        return set().union(*(macro_names(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(macro_names(v) for v in value)) if value else set()
    return set()


def has_fresh(value: Any) -> bool:
    """Whether a macro inside *value* gives a new value each rendering (uuid(), date())."""
    if isinstance(value, str):
        return any(macro.fresh for macro in macros_in(value))
    if isinstance(value, Mapping):
        return any(has_fresh(v) for v in value.values())
    if isinstance(value, list):
        return any(has_fresh(v) for v in value)
    return False


def bad_macros(value: Any) -> list[ConfigError]:
    """A ConfigError at its entry for every ``{{…}}`` inside *value* that is not a macro."""
    found: list[ConfigError] = []
    items = (
        value.items()
        if isinstance(value, Mapping)
        else enumerate(value)
        if isinstance(value, list)
        else ()
    )
    for key, item in items:
        if isinstance(item, str):
            for match in MACRO.finditer(item):
                try:
                    parse_macro(match.group(0))
                except BadMacro as exc:
                    found.append(_error_at(value, key, exc.message))
        else:
            found.extend(bad_macros(item))
    return found


def _error_at(container: Any, key: Any, message: str) -> ConfigError:
    if isinstance(container, Located):
        return container.error(key, message)
    return ConfigError(message, key=str(key))


def render_string(text: str, values: Mapping[str, Any], quote: Any = str) -> Any:
    """Substitute the macros in *text*.

    A string that is exactly one macro takes the value's own type, so
    ``repeat: "{{runs|2}}"`` gives an int. *quote* turns each substituted
    value into text; a shell command line never gets values pasted in
    (see ``channels.commands.shell_script``).
    """
    whole = MACRO.fullmatch(text.strip())
    if whole and quote is str:
        return value_of(parse_macro(whole.group(0)), values)
    return MACRO.sub(
        lambda m: quote(str(value_of(parse_macro(m.group(0)), values, typed=False))), text
    )


def _typed(text: str) -> Any:
    """A default written inside a macro, read as a YAML scalar (``2`` is an int)."""
    import yaml

    try:
        value = yaml.safe_load(text)
    except yaml.YAMLError:
        return text
    return value if isinstance(value, (int, float, bool, str)) else text


def render(value: Any, values: Mapping[str, Any]) -> Any:
    """Render every string inside *value*, keeping Located positions.

    Raises ConfigError naming the entry when a macro has no value.
    """
    if isinstance(value, str):
        return render_string(value, values)
    if isinstance(value, Mapping):
        out = LocatedDict(
            file=getattr(value, "file", None),
            line=getattr(value, "line", None),
            path=getattr(value, "path", ""),
        )
        for key, item in value.items():
            out[key] = _render_entry(value, key, item, values)
        if isinstance(value, Located):
            out.lines, out.origins = dict(value.lines), dict(value.origins)
        return out
    if isinstance(value, list):
        out_list = LocatedList(
            file=getattr(value, "file", None),
            line=getattr(value, "line", None),
            path=getattr(value, "path", ""),
        )
        for index, item in enumerate(value):
            out_list.append(_render_entry(value, index, item, values))
        if isinstance(value, Located):
            out_list.lines, out_list.origins = dict(value.lines), dict(value.origins)
        return out_list
    return value


def render_entry(container: Any, key: Any, item: Any, values: Mapping[str, Any]) -> Any:
    """Render entry *key* of *container*; a macro without a value is a ConfigError naming that
    entry.
    """
    return _render_entry(container, key, item, values)


def _render_entry(container: Any, key: Any, item: Any, values: Mapping[str, Any]) -> Any:
    try:
        return render(item, values)
    except MissingMacro as exc:
        if isinstance(item, str) and isinstance(container, Located):
            raise container.error(
                key,
                f"macro {{{{{exc.name}}}}} has no value: define it (define:, config.definitions or "
                f"-D {exc.name}=...) or give a default {{{{{exc.name}|...}}}}",
            ) from None
        raise
    except MacroError as exc:
        if isinstance(item, str):
            raise _error_at(container, key, exc.message) from None
        raise
