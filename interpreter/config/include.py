"""Configurations made of several files: ``include:`` and several files on the command line.

The original driver merged them: mappings merge key by key, lists
concatenate. perfchart does the same with one order for both: a file's own
content, then each file it includes (each with its own includes first
expanded), in the order written; files on the command line in the order
given. Lists concatenate in that order, and where two files give a scalar
(or different kinds of value) for one key, the first wins. Each merged entry
keeps the file and line it came from, so an error names the fragment.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from .schema import describe
from .yamlsource import Located, LocatedDict, LocatedList, load_yaml, read_text


def load_merged(paths: Sequence[Path]) -> tuple[Any, str, list[ConfigError]]:
    """The merged document of *paths* (each with its includes), the text of every file read, in
    order (to hash), and the includes refused (each left out, so the rest is still checked).
    """
    texts: list[str] = []
    errors: list[ConfigError] = []
    merged: Any = None
    for path in paths:
        document = _load(path, (), texts, errors)
        merged = document if merged is None else merge(merged, document)
    return merged, "".join(texts), errors


def _load(
    path: Path, including: tuple[Path, ...], texts: list[str], errors: list[ConfigError]
) -> Any:
    text = read_text(path)
    texts.append(text)
    raw = load_yaml(text, str(path))
    if not isinstance(raw, LocatedDict) or "include" not in raw:
        return raw
    includes = raw["include"]
    entries = _include_entries(raw, includes)
    merged = LocatedDict(file=raw.file, line=raw.line, path=raw.path)
    merged.lines = {key: line for key, line in raw.lines.items() if key != "include"}
    merged.update((key, value) for key, value in raw.items() if key != "include")
    here = path.resolve()
    for container, key, name in entries:
        try:
            merged = merge(
                merged, _included(path, (*including, here), container, key, name, texts, errors)
            )
        except ConfigError as exc:
            errors.append(exc)
    return merged


def _included(
    path: Path,
    including: tuple[Path, ...],
    container: Located,
    key: Any,
    name: str,
    texts: list[str],
    errors: list[ConfigError],
) -> LocatedDict:
    """The document *path* includes as *name*; ConfigError at the entry if it cannot."""
    shown = path.parent / Path(name).expanduser()
    target = shown.resolve()
    if target in including:
        chain = " includes ".join(p.name for p in (*including, target))
        raise container.error(key, f"include cycle: {chain}")
    if not target.is_file():
        raise container.error(key, f"no file {name!r} to include (looked for {target})")
    document = _load(shown, including, texts, errors)
    if not isinstance(document, LocatedDict):
        raise container.error(
            key, f"{name} holds {describe(document)}, not a mapping of sections to include"
        )
    return document


def _include_entries(raw: LocatedDict, includes: Any) -> list[tuple[Located, Any, str]]:
    """``include:``'s file names, each with where it is written."""
    if isinstance(includes, str):
        return [(raw, "include", includes)]
    if not isinstance(includes, LocatedList):
        raise raw.error(
            "include", f"expected a file name or a list of them, got {describe(includes)}"
        )
    for index, name in enumerate(includes):
        if not isinstance(name, str) or not name.strip():
            raise includes.error(index, f"expected the name of a file to include, got {name!r}")
    return [(includes, index, name) for index, name in enumerate(includes)]


def merge(first: Any, then: Any) -> Any:
    """*first* and *then* merged: mappings key by key, lists concatenated, otherwise *first*."""
    if isinstance(first, LocatedDict) and isinstance(then, LocatedDict):
        out = LocatedDict(first, file=first.file, line=first.line, path=first.path)
        _copy_origins(first, out, {key: key for key in first})
        for key, value in then.items():
            if key in first:
                out[key] = merge(first[key], value)
            else:
                out[key] = value
                _copy_origins(then, out, {key: key})
        return out
    if isinstance(first, LocatedList) and isinstance(then, LocatedList):
        out_list = LocatedList([*first, *then], file=first.file, line=first.line, path=first.path)
        _copy_origins(first, out_list, {index: index for index in range(len(first))})
        _copy_origins(then, out_list, {index: len(first) + index for index in range(len(then))})
        return out_list
    if isinstance(first, dict) and isinstance(then, dict):
        return {**then, **{key: merge(value, then.get(key)) for key, value in first.items()}}
    if isinstance(first, list) and isinstance(then, list):
        return [*first, *then]
    return then if first is None else first


def _copy_origins(source: Located, target: Located, keys: dict[Any, Any]) -> None:
    """Where each entry *keys* maps from *source* into *target* was written."""
    for old, new in keys.items():
        target.origins[new] = source.origin(old)
        target.lines[new] = source.line_of(old) or 0
