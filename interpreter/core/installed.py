"""Installed distributions' entry points and versions, read from their metadata folders.

importlib.metadata answers both, but importing it imports email, zipfile, csv
and socket: about a tenth of a dry run's whole start, for two facts every run
needs (the plugins' entry points, and the versions meta.json records). They are
read here the way importlib.metadata finds them: each ``*.dist-info`` or
``*.egg-info`` folder in each folder on ``sys.path``, the first distribution of
a name winning. A path entry that is not a folder (a zip archive) is left to
importlib.metadata, which reads those.
"""

from __future__ import annotations

import functools
import importlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

_SUFFIXES = (".dist-info", ".egg-info")


class EntryPoint(NamedTuple):
    """One ``name = module:attribute`` line of a distribution's ``entry_points.txt``."""

    name: str
    value: str
    group: str

    def load(self) -> Any:
        """The object the entry point names, its module imported."""
        reference = self.value.split("[", 1)[0].strip()  # extras, if any, name no object
        module, _, attributes = reference.partition(":")
        found: Any = importlib.import_module(module.strip())
        for attribute in filter(None, attributes.strip().split(".")):
            found = getattr(found, attribute)
        return found


def _normalized(name: str) -> str:
    """A distribution name as importlib.metadata compares them (PEP 503, ``_`` for ``-``)."""
    return re.sub(r"[-_.]+", "_", name).lower()


@functools.cache
def _folders() -> dict[str, Path]:
    """Each distribution's metadata folder by its normalized name, the first of a name only; read
    once per process, as importlib.metadata reads them on every call."""
    found: dict[str, Path] = {}
    for entry in sys.path:
        folder = Path(entry or ".")
        try:
            names = sorted(os.listdir(folder))
        except OSError:  # missing, or not a folder: nothing installed there
            continue
        for name in names:
            if name.endswith(_SUFFIXES):
                distribution = _normalized(name.rsplit(".", 1)[0].split("-", 1)[0])
                if distribution not in found and (folder / name).is_dir():
                    found[distribution] = folder / name
    return found


def _zipped() -> bool:
    """Whether a path entry is an archive, whose distributions only importlib.metadata reads."""
    return any(entry and os.path.isfile(entry) for entry in sys.path)


def _sections(text: str) -> Iterator[tuple[str, str, str]]:
    """(section, name, value) of each ``name = value`` line of an INI text, as importlib.metadata
    reads ``entry_points.txt``."""
    section = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1].strip()
        elif "=" in line:
            name, value = line.split("=", 1)
            yield section, name.strip(), value.strip()


@functools.cache
def entry_points() -> tuple[EntryPoint, ...]:
    """Every installed entry point, read once per process: each read scans every installed
    distribution."""
    found: list[EntryPoint] = []
    if _zipped():
        import importlib.metadata

        seen: set[str] = set()
        for distribution in importlib.metadata.distributions():
            name = _normalized(distribution.metadata["Name"] or "")
            if name not in seen:
                seen.add(name)
                found += (EntryPoint(e.name, e.value, e.group) for e in distribution.entry_points)
        return tuple(found)
    for folder in _folders().values():
        try:
            text = (folder / "entry_points.txt").read_text(encoding="utf-8")
        except OSError:
            continue
        found += (EntryPoint(name, value, group) for group, name, value in _sections(text))
    return tuple(found)


def version(distribution: str) -> str | None:
    """The installed version of *distribution*, None when it is not installed."""
    if _zipped():
        from importlib.metadata import PackageNotFoundError
        from importlib.metadata import version as looked_up

        try:
            return looked_up(distribution)
        except PackageNotFoundError:
            return None
    folder = _folders().get(_normalized(distribution))
    return None if folder is None else _metadata_version(folder)


def _metadata_version(folder: Path) -> str | None:
    """The ``Version:`` header of a metadata folder's METADATA (PKG-INFO in an egg-info)."""
    for file in ("METADATA", "PKG-INFO"):
        try:
            text = (folder / file).read_text(encoding="utf-8")
        except OSError:
            continue
        for line in text.splitlines():
            if not line.strip():  # the headers end at the first blank line
                break
            if line.lower().startswith("version:"):
                return line.split(":", 1)[1].strip()
    return None
