"""Property tests: whatever the input, the config loader, the expression evaluator and the macro
renderer give a result or a PerfchartError (exit status 2), never any other exception, and in
bounded time."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from interpreter.channels.commands import CommandTemplate
from interpreter.config import evaluate, load_yaml, render
from interpreter.errors import PerfchartError
from interpreter.session import load_config

VALID = """\
config:
  title: fuzz
  repeat: 1
define:
  n: 3
policies:
  - class: multivariable-explorer
    matrix:
      a: {type: discrete, values: [1, 2]}
      b: {type: range, min: 0, max: 4, step: 2}
      c: {min: 0, max: 10, samples: 2}
    events:
      signal:
        OK: CmdlineExitZeroEvent[code=0]
      signalEventCount: "a + n"
channels:
  - class: cmdline
    cmdline: "echo {{a}} {{b|1}}"
    timeout: 2s
tasks:
  - at: setup
    cmdline: "true"
"""

YAML_BITS = st.sampled_from(
    [":", " ", "\n", "  ", "- ", "{", "}", "[", "]", ",", "'", '"', "&a ", "*a", "<<: ",
     "!!python/object ", "#", "|", ">", "?", "%", "@", "`", "{{", "}}", "{{a}}", "{{nosuch}}",
     "1e9", "-1", "0", "yes", "null", "~", ".inf", "\t", "\x00", "é", "\ufeff", "10**9"]
)  # fmt: skip


def mutated(draw: st.DrawFn) -> str:
    text = list(VALID)
    for _ in range(draw(st.integers(1, 6))):
        position = draw(st.integers(0, len(text)))
        kind = draw(st.sampled_from(["insert", "delete", "replace"]))
        piece = draw(YAML_BITS | st.text(max_size=3))
        if kind == "insert":
            text[position:position] = list(piece)
        elif kind == "delete":
            del text[position : position + draw(st.integers(1, 8))]
        else:
            text[position : position + 1] = list(piece)
    return "".join(text)


@st.composite
def configs(draw: st.DrawFn) -> str:
    return draw(
        st.one_of(
            st.builds(lambda: VALID), st.text(max_size=200), st.composite(lambda d: mutated(d))()
        )
    )


def refusal(call: Callable[[], object]) -> PerfchartError | None:
    """The PerfchartError *call* raises, or None when it returns."""
    try:
        call()
    except PerfchartError as exc:
        return exc
    return None


def loads_or_refuses(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    started = time.monotonic()
    error = refusal(lambda: load_config(path))
    if error is not None:
        assert error.exit_status == 2
        assert str(error).startswith(str(path)), str(error)
    assert time.monotonic() - started < 5


@pytest.mark.slow
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(text=configs())
def test_the_config_loader_loads_or_refuses_any_text(tmp_path: Path, text: str) -> None:
    loads_or_refuses(tmp_path / "fuzz.yml", text)


TOKENS = st.sampled_from(
    ["a", "b", "_i", "n", "x", "1", "0", "-1", "2.5", "1e308", "3999999", "4000000", "10", "'s'",
     '"t"', "True", "None",
     "+", "-", "*", "/", "//", "%", "**", "<<", ">>", "&", "|", "^", "~", "not ", " and ", " or ",
     "==", "<", ">=", " if ", " else ",
     " in ", "(", ")", "[", "]", ",", ".", ":", "abs(", "min(", "max(", "round(", "int(", "float(",
     "len(", "ceil(", "floor(",
     "sqrt(", "log(", "exp(", "pow(", "__class__", "._x", "lambda x: x", "[x for x in a]", "f'{a}'",
     "import os", "a = 1", ";"]
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=1000, deadline=None)
@given(
    tokens=st.lists(TOKENS, max_size=14),
    names=st.dictionaries(
        st.sampled_from(["a", "b", "_i", "n"]),
        st.integers(-5, 5) | st.floats(allow_nan=False) | st.text(max_size=3),
    ),
)
def test_the_evaluator_gives_a_value_or_a_config_error_in_bounded_time(
    tokens: list[str], names: dict
) -> None:
    expression = "".join(tokens)
    started = time.monotonic()
    error = refusal(lambda: evaluate(expression, names, key="signalEventCount"))
    if error is not None:
        assert error.exit_status == 2
        assert str(error).startswith("signalEventCount: ")
    assert time.monotonic() - started < 1


@pytest.mark.parametrize(
    "expression",
    [
        "3999999**3999999",
        "pow(3999999, 3999999)",
        "(10**20000)*(10**20000)*(10**20000)",
        "9**9**9",
        "1 << 100000",
        "'x' * 10**9",
        "((" * 300 + "1" + "))" * 300,
    ],
)
def test_costly_expressions_are_refused_quickly(expression: str) -> None:
    started = time.monotonic()
    with pytest.raises(PerfchartError):
        evaluate(expression, {})
    assert time.monotonic() - started < 1


MACRO_TEXT = st.lists(
    st.sampled_from(
        [
            "{{a}}",
            "{{ b }}",
            "{{c|d}}",
            "{{nosuch}}",
            "{{a|}}",
            "{{",
            "}}",
            "{",
            "}",
            "'",
            '"',
            "\\",
            "$",
            "`",
            "$(",
            ")",
            " ",
            "<<",
            "x",
            "\n",
            "#",
        ]
    ),
    max_size=12,
).map("".join)
VALUES = st.dictionaries(
    st.sampled_from(["a", "b", "c"]),
    st.text(max_size=5) | st.integers() | st.booleans() | st.none(),
    max_size=3,
)


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(text=MACRO_TEXT, values=VALUES, shell=st.booleans())
def test_a_command_template_renders_or_refuses_with_a_config_error(
    text: str, values: dict, shell: bool
) -> None:
    block = load_yaml("cmdline: x\nshell: no\n", "c.yml")
    block["cmdline"], block["shell"] = text, shell
    error: PerfchartError | None = None
    try:
        command = CommandTemplate(block).render(values)
    except PerfchartError as exc:
        error = exc
    if error is not None:
        assert error.exit_status == 2
        assert str(error).startswith("c.yml:1: cmdline: ")
        return
    if shell:
        assert isinstance(command.args, str)
        assert all(
            str(value) not in command.args
            for value in values.values()
            if isinstance(value, str) and "$(" in str(value)
        )


@settings(max_examples=300, deadline=None)
@given(text=MACRO_TEXT, values=VALUES)
def test_rendering_a_config_value_gives_a_value_or_a_located_config_error(
    text: str, values: dict
) -> None:
    doc = load_yaml("title: x\n", "c.yml")
    doc["title"] = text
    error = refusal(lambda: render(doc, values))
    if error is not None:
        assert error.exit_status == 2
        assert str(error).startswith("c.yml:1: title: macro {{")
