"""YAML loading that remembers where every value came from.

Mappings and sequences load as :class:`LocatedDict` and :class:`LocatedList`,
plain ``dict``/``list`` subclasses that also know their file and the line of
each key or item, so an error found long after loading can still point at
``file:line``.
"""

from __future__ import annotations

import os
import re
import stat
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

from ..errors import ConfigError


class Located:
    """Source position of a container and of each of its entries."""

    file: str | None = None
    line: int | None = None
    path: str = ""

    def _init_location(self, file: str | None, line: int | None, path: str) -> None:
        self.file, self.line, self.path = file, line, path
        self.lines: dict[Any, int] = {}
        #: The file and key path of entries merged in from another file (``include:``).
        self.origins: dict[Any, tuple[str | None, str]] = {}

    def key_path(self, key: Any) -> str:
        """The dotted path of an entry, for messages: ``policies[0].matrix.apps``."""
        if key in self.origins:
            return self.origins[key][1]
        if isinstance(key, int):
            return f"{self.path}[{key}]"
        return f"{self.path}.{key}" if self.path else str(key)

    def line_of(self, key: Any) -> int | None:
        return self.lines.get(key, self.line)

    def file_of(self, key: Any) -> str | None:
        """The file the entry *key* was written in."""
        return self.origins[key][0] if key in self.origins else self.file

    def origin(self, key: Any) -> tuple[str | None, str]:
        """The file and key path of the entry *key*, as written."""
        return self.file_of(key), self.key_path(key)

    def error(self, key: Any, message: str) -> ConfigError:
        """A ConfigError pointing at the entry *key* of this container."""
        return ConfigError(
            message, file=self.file_of(key), line=self.line_of(key), key=self.key_path(key)
        )


class LocatedDict(dict, Located):
    def __init__(
        self,
        *args: Any,
        file: str | None = None,
        line: int | None = None,
        path: str = "",
        **kwargs: Any,
    ) -> None:
        dict.__init__(self, *args, **kwargs)
        self._init_location(file, line, path)


class LocatedList(list, Located):
    def __init__(
        self, *args: Any, file: str | None = None, line: int | None = None, path: str = ""
    ) -> None:
        list.__init__(self, *args)
        self._init_location(file, line, path)


#: Nesting a configuration or chart may have; far deeper than any real one, and shallow enough
#: that no recursive walk over it (schema checks, rendering) can exhaust Python's stack.
MAX_DEPTH = 100
#: Values a document may hold once its aliases are expanded; an alias bomb of a few hundred
#: bytes would otherwise expand to billions.
MAX_VALUES = 100_000


class TooLarge(ConfigError):
    """A document beyond a limit (bytes, depth, values, digits): refused wherever it comes from,
    a file or a ``-D`` value."""


class _Loader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """A safe loader whose containers are Located, and which rejects duplicate keys (deep nesting
    and alias bombs: _check_expansion).

    libyaml's parser when PyYAML has it: parsing a chart or a config is most
    of what loading one costs, and libyaml does it several times faster.
    """


def _check_expansion(node: yaml.Node, file: str | None) -> None:
    """Refuse a document whose aliases expand it beyond MAX_VALUES values or MAX_DEPTH levels, or
    into itself.

    Each node's expanded size and depth is computed once, so the check
    costs the size of the document as written, not as expanded.
    """
    sizes: dict[int, tuple[int, int]] = {}
    active: set[int] = set()

    def measure(current: yaml.Node, level: int) -> tuple[int, int]:
        line = current.start_mark.line + 1
        if level > MAX_DEPTH:
            raise TooLarge(f"nested more than {MAX_DEPTH} levels deep", file=file, line=line)
        known = sizes.get(id(current))
        if known is not None:
            return known
        if id(current) in active:
            raise ConfigError("an alias refers to the value that contains it", file=file, line=line)
        active.add(id(current))
        size, depth = 1, 1
        children: list[yaml.Node] = []
        if isinstance(current, yaml.SequenceNode):
            children = list(current.value)
        elif isinstance(current, yaml.MappingNode):
            children = [part for pair in current.value for part in pair]
        for child in children:
            child_size, child_depth = measure(child, level + 1)
            size += child_size
            depth = max(depth, child_depth + 1)
            if size > MAX_VALUES:
                raise TooLarge(
                    f"anchors and aliases expand this to more than {MAX_VALUES} values",
                    file=file,
                    line=line,
                )
            if depth > MAX_DEPTH:
                raise TooLarge(
                    f"anchors and aliases nest this more than {MAX_DEPTH} levels deep",
                    file=file,
                    line=line,
                )
        active.discard(id(current))
        sizes[id(current)] = size, depth
        return size, depth

    measure(node, 1)


def _construct_mapping(loader: _Loader, node: yaml.MappingNode) -> LocatedDict:
    loader.flatten_mapping(node)
    result = LocatedDict(file=loader.name, line=node.start_mark.line + 1)
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        try:
            hash(key)
        except TypeError:
            kind = (
                "a mapping"
                if isinstance(key, Mapping)
                else "a list"
                if isinstance(key, list)
                else type(key).__name__
            )
            # ``url: {{base}}/x`` is the usual way to get one: an unquoted {{ starts mappings.
            hint = (
                ": a value that starts with {{ must be quoted ('{{name}}…'), or YAML reads it as "
                "a mapping"
                if isinstance(key, Mapping)
                else ""
            )
            raise ConfigError(
                f"a key must be a plain value such as a name or a number, not {kind}{hint}",
                file=loader.name,
                line=key_node.start_mark.line + 1,
            ) from None
        if key in result:
            raise ConfigError(
                f"duplicate key {key!r}", file=loader.name, line=key_node.start_mark.line + 1
            )
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[key] = key_node.start_mark.line + 1
    return result


def _construct_sequence(loader: _Loader, node: yaml.SequenceNode) -> LocatedList:
    result = LocatedList(file=loader.name, line=node.start_mark.line + 1)
    for index, item in enumerate(node.value):
        result.append(loader.construct_object(item, deep=True))
        result.lines[index] = item.start_mark.line + 1
    return result


def _construct_int(loader: _Loader, node: yaml.ScalarNode) -> int:
    """An integer; one with more digits than Python converts is a located error."""
    try:
        return int(yaml.constructor.SafeConstructor.construct_yaml_int(loader, node))
    except IndexError:  # an empty ``!!int`` value
        raise ConfigError(
            f"invalid YAML value: {node.value!r} is not an integer",
            file=loader.name,
            line=node.start_mark.line + 1,
        ) from None
    except ValueError:
        raise TooLarge(
            f"a number of more than {sys.get_int_max_str_digits()} digits",
            file=loader.name,
            line=node.start_mark.line + 1,
        ) from None


_Loader.add_constructor("tag:yaml.org,2002:int", _construct_int)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_mapping)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_sequence)


def _assign_paths(value: Any, path: str) -> None:
    if isinstance(value, Located):
        value.path = path
        items = (
            value.items()
            if isinstance(value, LocatedDict)
            else enumerate(value)
            if isinstance(value, LocatedList)
            else ()
        )
        for key, item in items:
            _assign_paths(item, value.key_path(key))


def load_yaml(text: str, file: str | None = None) -> Any:
    """Parse *text*; a syntax error becomes a ConfigError with file and line."""
    try:
        loader = _Loader(text)
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    loader.name = file
    try:
        node = loader.get_single_node()
        if node is not None:
            _check_expansion(node, file)
        data = None if node is None else loader.construct_document(node)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        message = f"invalid YAML: {exc.problem or exc.context}"
        if exc.context_mark is not None and "quoted scalar" in (exc.context or ""):
            # The end of the file is where the scanner noticed; the opening quote is what to fix.
            found = (
                f" ({exc.problem} at line {exc.problem_mark.line + 1})"
                if exc.problem_mark is not None
                else ""
            )
            mark, message = (
                exc.context_mark,
                f"invalid YAML: the quoted string that starts here is never closed{found}",
            )
        line = mark.line + 1 if mark else None
        unquoted = _unquoted_macro(text, line)
        if unquoted is not None:
            line, message = unquoted
        # libyaml's own bound on nesting is a limit like ours, not a syntax error.
        kind = TooLarge if "nesting depth" in str(exc.problem) else ConfigError
        raise kind(message, file=file, line=line) from None
    except yaml.reader.ReaderError as exc:
        raise _reader_error(exc, text, file) from None
    except yaml.YAMLError as exc:
        raise ConfigError(f"invalid YAML: {exc}", file=file) from None
    except RecursionError:
        raise TooLarge(f"nested more than {MAX_DEPTH} levels deep", file=file) from None
    except ValueError as exc:
        # A value its tag's constructor refuses, such as the date 2026-02-30.
        raise ConfigError(f"invalid YAML value: {exc}", file=file) from None
    finally:
        loader.dispose()
    _assign_paths(data, "")
    return data


#: A value that starts with a macro, unquoted: YAML reads ``{{`` as the start of a mapping.
UNQUOTED_MACRO = re.compile(r"^\s*(?:-\s+)?(?:[^\s#'\"][^:#]*:\s+)?(\{\{[^\n]*?)\s*$")


def _unquoted_macro(text: str, line: int | None) -> tuple[int, str] | None:
    """The last line up to *line* whose value starts with ``{{`` unquoted, and what to do."""
    found = None
    for number, content in enumerate(text.splitlines()[: line or None], start=1):
        match = UNQUOTED_MACRO.match(content)
        if match:
            found = number, match.group(1)
    if found is None:
        return None
    number, value = found
    return number, (
        f"invalid YAML: a value that starts with {{{{ must be quoted ({_quoted(value)}): YAML "
        "reads an unquoted {{ as the start of a mapping"
    )


def _quoted(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _reader_error(exc: yaml.reader.ReaderError, text: str, file: str | None) -> ConfigError:
    """A character YAML does not allow, at its line."""
    line = text.count("\n", 0, exc.position) + 1
    return ConfigError(
        f"invalid YAML: character {exc.character:#x} is not allowed in a YAML file",
        file=file,
        line=line,
    )


#: Bytes a configuration or chart file may hold: a hundred times the largest real one, and small
#: enough that reading and parsing it stays a moment's work (``/dev/zero`` would never end).
MAX_BYTES = 4 * 1024 * 1024


def read_text(path: str | Path) -> str:
    """A UTF-8 text file's exact content (line ends kept, so it hashes like the file).

    Only a regular file of at most MAX_BYTES is read: a FIFO nobody writes
    would block for ever and a device never ends, so anything else (and an
    unreadable file) is a ConfigError naming it, at once.
    """
    try:
        # Non-blocking, so that opening a FIFO returns at once: only its kind is read, then closed.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except OSError as exc:
        raise ConfigError(f"cannot read file: {exc.strerror}", file=str(path)) from None
    kind = _not_regular(os.fstat(fd).st_mode)
    if kind:
        os.close(fd)
        raise ConfigError(f"not a regular file but {kind}", file=str(path))
    with os.fdopen(fd, "rb") as handle:
        try:
            data = handle.read(MAX_BYTES + 1)
        except OSError as exc:
            raise ConfigError(f"cannot read file: {exc.strerror}", file=str(path)) from None
    if len(data) > MAX_BYTES:
        raise ConfigError(
            f"larger than {MAX_BYTES // (1024 * 1024)} MiB: not a configuration or statechart",
            file=str(path),
        )
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            "not a UTF-8 text file (a binary file?)", file=str(path), line=line
        ) from None


def _not_regular(mode: int) -> str:
    """What a file of *mode* is, when it is not a regular file; empty when it is."""
    kinds = (
        (stat.S_ISDIR, "a directory"),
        (stat.S_ISFIFO, "a FIFO (named pipe)"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    )
    other = "" if stat.S_ISREG(mode) else "a special file"
    return next((kind for test, kind in kinds if test(mode)), other)


def parse_scalar(text: str, where: str) -> Any:
    """A command-line string as YAML would read it (``5`` is an int); anything but a plain scalar
    stays text.

    Read with a file's limits: a value beyond them is a ConfigError naming *where* (``-D NAME``).
    """
    if not text.strip():
        return text
    if len(text) > MAX_BYTES:
        raise TooLarge(f"longer than {MAX_BYTES} characters", key=where)
    try:
        value = load_yaml(text)
    except TooLarge as exc:
        raise TooLarge(exc.message, key=where) from None
    except ConfigError:
        return text
    return value if isinstance(value, (bool, int, float, str)) else text


def load_yaml_file(path: str | Path) -> Any:
    """Load a YAML file; an unreadable file is a ConfigError too."""
    return load_yaml(read_text(path), str(path))


def where(value: Any, key: Any) -> tuple[str | None, int | None, str]:
    """File, line and dotted path of entry *key* in *value*, as far as known."""
    if isinstance(value, Located):
        return value.file, value.line_of(key), value.key_path(key)
    return None, None, str(key)


def error_at(root: Any, value: Any, message: str) -> ConfigError | None:
    """A ConfigError at the entry of *root* that holds *value*, or None when none does."""
    found = locate(root, value)
    if found is None:
        return None
    container, key = found
    return container.error(key, message)


def locate(container: Any, value: Any) -> tuple[Located, Any] | None:
    """The Located container and key holding *value* (by identity, or equal text).

    Used after the fact: a policy passes a config value to a helper, the
    helper finds it bad, and the message still names the entry it came from.
    """
    if isinstance(container, Mapping):
        items: Any = container.items()
    elif isinstance(container, list):
        items = enumerate(container)
    else:
        return None
    for key, item in items:
        if item is value or (isinstance(item, str) and item == value):
            return (container, key) if isinstance(container, Located) else None
        found = locate(item, value)
        if found is not None:
            return found
    return None
