"""Configuration's input language: YAML with lines, schemas and formats, expressions, macros, the
matrix.

YAML is read with the line of every value (:mod:`.yamlsource`), macros are
rendered (:mod:`.macros`), and blocks are validated against JSON Schemas
(:mod:`.schema`, with perfchart's own formats in :mod:`.formats`).
Expressions, the lazy parameter matrix and MultiStep values
(:mod:`.matrix`) and the TimeEvolution schedule (:mod:`.evolution`) are
the rest of the language charts and configs are written in. Composing a
session from a loaded file is the session room's work, not this one's.
"""

from .evolution import Evolution
from .expressions import SHOWN, evaluate
from .expressions import check as check_expression
from .formats import format_checker
from .macros import MACRO, MissingMacro, macro_names, render, render_entry, render_string
from .matrix import ParameterMatrix, Remaining, StepValues
from .schema import check_schema, describe, load_schema, validate, validator_class
from .yamlsource import (
    Located,
    LocatedDict,
    LocatedList,
    error_at,
    load_yaml,
    load_yaml_file,
    locate,
    read_text,
)

__all__ = [
    "MACRO",
    "SHOWN",
    "Evolution",
    "Located",
    "LocatedDict",
    "LocatedList",
    "MissingMacro",
    "ParameterMatrix",
    "Remaining",
    "StepValues",
    "check_expression",
    "check_schema",
    "describe",
    "error_at",
    "evaluate",
    "format_checker",
    "load_schema",
    "load_yaml",
    "load_yaml_file",
    "locate",
    "macro_names",
    "read_text",
    "render",
    "render_entry",
    "render_string",
    "validate",
    "validator_class",
]
