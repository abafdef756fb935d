import math
import threading

import pytest

from interpreter.config import check_expression as check
from interpreter.config import evaluate, expressions
from interpreter.errors import ConfigError

NAMES = {"apps": 4, "size": 10, "_i": 3}
KEY = "events.signalEventCount"


def failure(expression, names=NAMES, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        evaluate(expression, names, key=KEY, **kwargs)
    error = caught.value
    assert error.key == KEY
    assert f'cannot evaluate "{expression.strip()}": ' in error.message
    return error


# --- values -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("apps + size/2", 9.0),
        ("_i * 2", 6),
        ("apps * _i - size", 2),
        ("size // apps", 2),
        ("size % apps", 2),
        ("2 ** apps", 16),
        ("-apps", -4),
        ("apps if size > 5 else 0", 4),
        ("apps < size and _i == 3", True),
        ("not apps", False),
        ("  apps + 1  ", 5),
        ("'x' if apps else 'y'", "x"),
    ],
)
def test_arithmetic_over_parameters_and_i(expression, value):
    result = evaluate(expression, NAMES)
    assert result == value
    assert type(result) is type(value)


@pytest.mark.parametrize(
    ("expression", "value"),
    [
        ("abs(-apps)", 4),
        ("min(apps, size, _i)", 3),
        ("max(apps, size)", 10),
        ("round(size / 3, 2)", 3.33),
        ("int(size / 3)", 3),
        ("float(apps)", 4.0),
        ("len('abcd')", 4),
        ("ceil(size / apps)", 3),
        ("floor(size / apps)", 2),
        ("sqrt(apps)", 2.0),
        ("log(size)", math.log(10)),
        ("log(8, 2)", 3.0),
        ("log2(apps)", 2.0),
        ("log10(size)", 1.0),
        ("exp(0)", 1.0),
        ("pow(2, size)", 1024),
        ("ceil(log2(apps * size))", 6),
    ],
)
def test_math_functions(expression, value):
    assert evaluate(expression, NAMES) == pytest.approx(value)


@pytest.mark.parametrize("value", [7, 2.5, True, False, None, [1, 2]])
def test_non_string_values_pass_through_unchanged(value):
    assert evaluate(value, {}) is value


def test_names_may_be_any_mapping_and_change_between_calls():
    assert evaluate("apps * 2", {"apps": 1}) == 2
    assert evaluate("apps * 2", {"apps": 21}) == 42


def test_parse_is_cached():
    expressions._parse.cache_clear()
    evaluate("apps + 100", NAMES)
    evaluate("apps + 100", {"apps": 1})
    info = expressions._parse.cache_info()
    assert (info.misses, info.hits) == (1, 1)
    assert info.maxsize is not None


def test_threads_evaluate_independently():
    results: dict[int, list] = {}

    def work(n: int) -> None:
        results[n] = [evaluate("n * 10 + k", {"n": n, "k": k}) for k in range(200)]

    threads = [threading.Thread(target=work, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == {n: [n * 10 + k for k in range(200)] for n in range(8)}


# --- errors -------------------------------------------------------------------


def test_unknown_name_lists_the_names():
    error = failure("apps + sise")
    assert str(error) == (
        'events.signalEventCount: cannot evaluate "apps + sise": '
        "name 'sise' is not defined (names: apps, size, _i)"
    )


def test_unknown_name_with_no_names():
    assert failure("x", names={}).message.endswith("name 'x' is not defined (no names are defined)")


def test_long_name_lists_are_shortened():
    names = {f"p{k}": k for k in range(30)}
    message = failure("q", names=names).message
    assert "p19, … 10 more)" in message
    assert "p20" not in message


def test_where_adds_file_and_line():
    with pytest.raises(ConfigError) as caught:
        evaluate("1/0", {}, key="steps[0].value", where=("perf.yml", 12))
    assert (
        str(caught.value) == 'perf.yml:12: steps[0].value: cannot evaluate "1/0": division by zero'
    )


def test_key_is_optional():
    with pytest.raises(ConfigError) as caught:
        evaluate("1 +", {})
    assert caught.value.key is None
    assert str(caught.value) == 'cannot evaluate "1 +": invalid syntax'


@pytest.mark.parametrize(
    ("expression", "cause"),
    [
        ("apps +", "invalid syntax"),
        ("(apps", "invalid syntax: '(' was never closed"),
        ("", "the expression is empty"),
        ("   ", "the expression is empty"),
        ("apps; size", "only one expression is allowed"),
        ("size / (apps - 4)", "division by zero"),
        ("size % 0", "modulo by zero"),
        ("apps + 'a'", "unsupported operand type(s) for +: 'int' and 'str'"),
        ("int('many')", "invalid literal for int()"),
        ("sqrt(-apps)", "math domain error"),
        ("exp(1000)", "math range error"),
        ("9 ** 9 ** 9", "9 ** 387420489"),
        ("pow(10, 10 ** 9)", "10 ** 1000000000"),
        ("apps.nothing", "attribute 'nothing' does not exist"),
        ("apps[0]", "'int' object is not subscriptable"),
        ("abs()", "abs() takes exactly one argument"),
        ("apps @ size", "operator MatMult is not allowed"),
    ],
)
def test_every_failure_is_a_config_error_naming_key_and_expression(expression, cause):
    assert cause in failure(expression).message


def test_lookup_errors_say_what_kind():
    assert failure("table['q']", names={"table": {}}).message.endswith("KeyError: 'q'")
    assert failure("table[5]", names={"table": [1]}).message.endswith(
        "IndexError: list index out of range"
    )


@pytest.mark.parametrize(
    ("expression", "cause"),
    [
        ("__import__('os')", "calling '__import__' is not allowed"),
        ("__builtins__", "name '__builtins__' is not allowed"),
        ("().__class__", "attribute '__class__' is not allowed"),
        ("apps.__class__.__bases__", "attribute '__bases__' is not allowed"),
        ("apps.__add__(1)", "calling 'apps.__add__' is not allowed"),
        ("apps._private", "attribute '_private' is not allowed"),
        ("'{0.__class__}'.format(apps)", "calling"),
        ("'abc'.format", "method is not available"),
        ("(lambda: 1)()", "calling 'lambda: 1' is not allowed"),
        ("lambda: 1", "lambda is not allowed"),
        ("apps = 1", "assignment is not allowed"),
        ("apps += 1", "assignment is not allowed"),
        ("(apps := 1)", "assignment is not allowed"),
        ("import os", "import is not allowed"),
        ("from os import system", "import is not allowed"),
        ("getattr(apps, 'real')", "calling 'getattr' is not allowed"),
        ("open('/etc/passwd')", "calling 'open' is not allowed"),
        ("eval('1')", "calling 'eval' is not allowed"),
        ("size.bit_length()", "calling 'size.bit_length' is not allowed"),
        ("[x for x in 'ab']", "a comprehension is not allowed"),
        ("f'{apps}'", "an f-string is not allowed"),
        ("[apps]", "List is not allowed"),
        ("del apps", "a statement is not allowed"),
    ],
)
def test_forbidden_constructs_are_rejected(expression, cause):
    assert cause in failure(expression).message


def test_allowed_functions_are_named_when_a_call_is_refused():
    assert (
        "(functions: abs, min, max, round, int, float, len, ceil, floor, sqrt, log, log2, log10, "
        "exp, pow)" in (failure("system('ls')").message)
    )


# --- check --------------------------------------------------------------------


def test_check_returns_the_names_read():
    assert check("ceil(apps / size) + _i", ["apps", "size", "_i"]) == {"apps", "size", "_i"}
    assert check("max(1, 2)") == frozenset()
    assert check(5) == frozenset()


def test_check_validates_syntax_without_values():
    with pytest.raises(ConfigError) as caught:
        check("apps +* 2", key=KEY, where=("perf.yml", 3))
    assert (
        str(caught.value)
        == 'perf.yml:3: events.signalEventCount: cannot evaluate "apps +* 2": invalid syntax'
    )


def test_check_rejects_forbidden_constructs():
    with pytest.raises(ConfigError) as caught:
        check("().__class__", key=KEY)
    assert "attribute '__class__' is not allowed" in str(caught.value)


def test_check_with_names_catches_typos():
    with pytest.raises(ConfigError) as caught:
        check("apps + sise", ["apps", "size", "_i"], key=KEY)
    assert str(caught.value) == (
        'events.signalEventCount: cannot evaluate "apps + sise": '
        "name 'sise' is not defined (names: apps, size, _i)"
    )


def test_check_without_names_accepts_any_name():
    assert check("whatever * 2") == {"whatever"}
