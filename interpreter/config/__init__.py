"""Configuration: test configurations in the original driver's format, loaded and checked whole.

YAML is read with the line of every value (:mod:`.yamlsource`), macros are
rendered (:mod:`.macros`), and every block is validated against a JSON
Schema (:mod:`.schema`, with perfchart's own formats in :mod:`.formats`)
before anything runs. Expressions, durations and the lazy parameter matrix
used by charts live here too.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .durations import parse_duration
from .matrix import ParameterMatrix
from .yamlsource import Located, LocatedDict, LocatedList, load_yaml, load_yaml_file

if TYPE_CHECKING:
    from .loader import ChannelSpec, ParameterSpec, PolicySpec, TestConfig, load_config, parse_define

_LOADER = frozenset({"ChannelSpec", "ParameterSpec", "PolicySpec", "TestConfig", "load_config", "parse_define"})

__all__ = [
    "ChannelSpec",
    "Located",
    "LocatedDict",
    "LocatedList",
    "ParameterMatrix",
    "ParameterSpec",
    "PolicySpec",
    "TestConfig",
    "load_config",
    "load_yaml",
    "load_yaml_file",
    "parse_define",
    "parse_duration",
]


def __getattr__(name: str) -> Any:
    # The loader needs charts and channels, which need this package's other modules: load it on first use.
    if name in _LOADER:
        from . import loader

        return getattr(loader, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
