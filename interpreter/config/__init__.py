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
from .include import load_merged, merge
from .macros import (
    FUNCTIONS as MACRO_FUNCTIONS,
)
from .macros import (
    MACRO,
    BadMacro,
    Macro,
    MacroError,
    MissingMacro,
    bad_macros,
    has_fresh,
    macro_names,
    macros_in,
    parse_macro,
    render,
    render_entry,
    render_string,
    value_of,
)
from .matrix import ParameterMatrix, Remaining, StepValues
from .schema import (
    check_schema,
    describe,
    format_values,
    load_schema,
    validate,
    validate_block,
    validation_errors,
    validator_class,
)
from .yamlsource import (
    Located,
    LocatedDict,
    LocatedList,
    error_at,
    load_yaml,
    load_yaml_file,
    locate,
    parse_scalar,
    read_text,
)

__all__ = [
    "MACRO",
    "MACRO_FUNCTIONS",
    "SHOWN",
    "Evolution",
    "BadMacro",
    "Located",
    "LocatedDict",
    "LocatedList",
    "Macro",
    "MacroError",
    "MissingMacro",
    "ParameterMatrix",
    "Remaining",
    "StepValues",
    "bad_macros",
    "check_expression",
    "check_schema",
    "describe",
    "error_at",
    "evaluate",
    "format_checker",
    "format_values",
    "has_fresh",
    "load_schema",
    "load_merged",
    "load_yaml",
    "merge",
    "load_yaml_file",
    "locate",
    "macro_names",
    "macros_in",
    "parse_macro",
    "parse_scalar",
    "read_text",
    "render",
    "render_entry",
    "render_string",
    "validate",
    "validate_block",
    "validation_errors",
    "validator_class",
    "value_of",
]
