import itertools
import time
import tracemalloc

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from interpreter.config import evaluate, load_yaml
from interpreter.config.matrix import ParameterMatrix, RangeAxis, StepValues, fixed_value
from interpreter.errors import ConfigError


def product_of(matrix: ParameterMatrix) -> list[dict]:
    """The reference answer: the materialised itertools.product of the axes."""
    return [
        dict(zip(matrix.names, values, strict=True))
        for values in itertools.product(*matrix.axes.values())
    ]


def config_error(spec, **kwargs) -> ConfigError:
    with pytest.raises(ConfigError) as caught:
        ParameterMatrix(spec, **kwargs)
    return caught.value


# --- axis types ---------------------------------------------------------------


@pytest.mark.parametrize("spelling", ["discreet", "discrete"])
def test_discreet_and_discrete_take_the_listed_values(spelling):
    matrix = ParameterMatrix({"apps": {"type": spelling, "values": [1, 2, 4, "x"]}})
    assert list(matrix) == [{"apps": 1}, {"apps": 2}, {"apps": 4}, {"apps": "x"}]
    assert list(matrix.axes["apps"]) == [1, 2, 4, "x"]


def test_range_includes_max():
    matrix = ParameterMatrix({"n": {"type": "range", "min": 2, "max": 10, "step": 2}})
    assert [p["n"] for p in matrix] == [2, 4, 6, 8, 10]
    assert all(type(p["n"]) is int for p in matrix)


def test_range_defaults_are_0_to_1_by_1():
    assert [p["n"] for p in ParameterMatrix({"n": {"type": "range"}})] == [0, 1]


def test_range_stops_below_an_unreachable_max():
    assert list(
        ParameterMatrix({"n": {"type": "range", "min": 0, "max": 10, "step": 3}}).axes["n"]
    ) == [0, 3, 6, 9]


def test_range_of_equal_bounds_has_one_value():
    assert list(ParameterMatrix({"n": {"type": "range", "min": 5, "max": 5}}).axes["n"]) == [5]


def test_float_range_is_exact_and_clean():
    axis = ParameterMatrix({"f": {"type": "range", "min": 0.1, "max": 0.5, "step": 0.1}}).axes["f"]
    assert len(axis) == 5
    assert list(axis) == [0.1, 0.2, 0.3, 0.4, 0.5]
    assert [repr(v) for v in axis] == ["0.1", "0.2", "0.3", "0.4", "0.5"]


def test_float_range_from_yaml_keeps_its_precision():
    spec = load_yaml("f:\n  type: range\n  min: 0\n  max: 1\n  step: 0.05\n")
    axis = ParameterMatrix(spec).axes["f"]
    assert len(axis) == 21
    assert axis[-1] == 1.0
    assert [repr(v) for v in axis[:4]] == ["0.0", "0.05", "0.1", "0.15"]
    assert "0.30000000000000004" not in repr(list(axis))
    assert axis[6] == 0.3


def test_float_range_with_small_step_counts_exactly():
    axis = ParameterMatrix(
        {"f": {"type": "range", "min": 1e-05, "max": 0.0001, "step": 1e-05}}
    ).axes["f"]
    assert len(axis) == 10
    assert axis[2] == 3e-05
    assert axis[-1] == 0.0001


def test_range_axis_is_lazy_for_ten_million_values():
    tracemalloc.start()
    try:
        matrix = ParameterMatrix({"n": {"type": "range", "min": 0, "max": 10**7 - 1}})
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    axis = matrix.axes["n"]
    assert isinstance(axis, RangeAxis)
    assert len(axis) == len(matrix) == 10**7
    assert axis[-1] == 10**7 - 1
    assert axis[1234567] == 1234567
    assert peak < 100_000


def test_range_axis_indexing_is_like_a_sequence():
    axis = ParameterMatrix({"n": {"type": "range", "min": 0, "max": 9}}).axes["n"]
    assert axis[-1] == 9
    assert axis[-10] == 0
    with pytest.raises(IndexError):
        axis[10]
    with pytest.raises(IndexError):
        axis[-11]
    assert list(axis[2:8:3]) == [2, 5]
    assert list(axis[::-4]) == [9, 5, 1]


def test_sample_draws_distinct_multiples_of_step_within_bounds():
    axis = ParameterMatrix(
        {"s": {"type": "sample", "min": 3, "max": 100, "step": 5, "samples": 15}}, seed=7
    ).axes["s"]
    assert len(axis) == 15
    assert len(set(axis)) == 15
    assert all(3 <= v <= 100 and v % 5 == 0 for v in axis)
    assert all(type(v) is int for v in axis)


def test_more_samples_than_values_uses_each_value_once_and_says_so(
    caplog: pytest.LogCaptureFixture,
):
    axis = ParameterMatrix({"s": {"type": "sample"}}, seed=1).axes["s"]
    assert sorted(axis) == [0, 1]
    assert (
        "10 asked, but only 2 distinct multiples of 1 lie in [0, 1]; each is used once"
        in caplog.text
    )


def test_a_trillion_samples_cost_no_memory():
    matrix = ParameterMatrix({"s": {"min": 0, "max": 10**13, "samples": 10**12}}, seed=3)
    assert len(matrix) == 10**12
    axis = matrix.axes["s"]
    picked = [axis[i] for i in (0, 1, 10**6, 10**12 - 1)]
    assert len(set(picked)) == 4
    assert all(0 <= v <= 10**13 for v in picked)
    assert picked == [
        ParameterMatrix({"s": {"min": 0, "max": 10**13, "samples": 10**12}}, seed=3).axes["s"][i]
        for i in (0, 1, 10**6, 10**12 - 1)
    ]


def test_a_sample_without_a_multiple_of_step_in_bounds_is_an_error():
    with pytest.raises(
        ConfigError, match=r"matrix.s.step: no multiple of step 5 lies between min 3 and max 4"
    ):
        ParameterMatrix({"s": {"min": 3, "max": 4, "step": 5}})


def test_a_matrix_too_large_to_count_is_an_error_naming_it():
    axis = {"type": "range", "min": 1, "max": 10**7}
    with pytest.raises(
        ConfigError,
        match=r"matrix: 10000000 x 10000000 x 10000000 = 1e\+21 permutations, more than",
    ):
        ParameterMatrix({"a": axis, "b": axis, "c": axis}).check_countable()


def test_missing_type_means_sample():
    spec = {"s": {"min": 0, "max": 1000, "samples": 4}}
    assert list(ParameterMatrix(spec, seed=5).axes["s"]) == list(
        ParameterMatrix({"s": {"type": "sample", **spec["s"]}}, seed=5).axes["s"]
    )
    assert len(ParameterMatrix(spec, seed=5)) == 4


def test_float_sample_is_clean():
    axis = ParameterMatrix(
        {"s": {"min": 0.0, "max": 1.0, "step": 0.1, "samples": 200}}, seed=3
    ).axes["s"]
    assert all(len(repr(v)) <= 3 for v in axis)
    assert {round(v * 10) for v in axis} == set(range(11))


def test_seeded_sample_is_reproducible_and_seeds_differ():
    spec = {"s": {"min": 0, "max": 10**6, "samples": 10}}
    first = list(ParameterMatrix(spec, seed=42).axes["s"])
    assert first == list(ParameterMatrix(spec, seed=42).axes["s"])
    assert first != list(ParameterMatrix(spec, seed=43).axes["s"])
    assert first != list(ParameterMatrix(spec, seed="other").axes["s"])


def test_sample_axes_are_independent_of_each_other():
    one = {"min": 0, "max": 10**6, "samples": 5}
    matrix = ParameterMatrix({"a": one, "b": one}, seed=1)
    assert list(matrix.axes["a"]) != list(matrix.axes["b"])
    alone = ParameterMatrix({"b": one}, seed=1)
    assert list(alone.axes["b"]) == list(matrix.axes["b"])


def test_seed_is_recorded():
    assert ParameterMatrix({"s": {}}, seed=123).seed == 123
    assert ParameterMatrix({"s": {}}, seed="abc").seed == "abc"
    drawn = ParameterMatrix({"s": {"max": 10**9, "samples": 5}})
    assert isinstance(drawn.seed, int)
    again = ParameterMatrix({"s": {"max": 10**9, "samples": 5}}, seed=drawn.seed)
    assert list(again.axes["s"]) == list(drawn.axes["s"])


# --- the product --------------------------------------------------------------

SMALL = {
    "apps": {"type": "discreet", "values": [1, 2, 4]},
    "inst": {"type": "range", "min": 0, "max": 1},
    "size": {"type": "range", "min": 0.5, "max": 1.5, "step": 0.5},
}


def test_iteration_is_itertools_product_order_with_keys_in_config_order():
    matrix = ParameterMatrix(SMALL)
    expected = [
        dict(zip(["apps", "inst", "size"], values, strict=True))
        for values in itertools.product([1, 2, 4], [0, 1], [0.5, 1.0, 1.5])
    ]
    assert list(matrix) == expected
    assert all(list(p) == ["apps", "inst", "size"] for p in matrix)
    assert matrix.names == ("apps", "inst", "size")
    assert list(matrix.axes) == ["apps", "inst", "size"]


def test_len_and_index_agree_with_iteration():
    matrix = ParameterMatrix(SMALL)
    items = list(matrix)
    assert len(matrix) == matrix.size == 18 == len(items)
    assert [matrix[i] for i in range(len(matrix))] == items
    assert [matrix[-i] for i in range(1, 19)] == items[::-1]


def test_index_out_of_range_and_non_integer():
    matrix = ParameterMatrix(SMALL)
    with pytest.raises(IndexError):
        matrix[18]
    with pytest.raises(IndexError):
        matrix[-19]
    with pytest.raises(TypeError):
        matrix["0"]


def test_every_iteration_yields_fresh_dicts():
    matrix = ParameterMatrix(SMALL)
    items = list(itertools.islice(matrix, 3))
    items[0]["apps"] = 999
    assert items[1] == {"apps": 1, "inst": 0, "size": 1.0}
    assert matrix[0]["apps"] == 1
    assert next(iter(matrix))["apps"] == 1


def test_huge_matrix_is_never_materialised():
    spec = {name: {"type": "range", "min": 1, "max": 10**6} for name in ("a", "b")}
    start = time.perf_counter()
    tracemalloc.start()
    try:
        matrix = ParameterMatrix(spec)
        last = matrix[10**12 - 1]
        first_few = list(itertools.islice(matrix, 3))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.perf_counter() - start < 1.0
    assert peak < 100_000
    assert len(matrix) == 10**12
    assert last == {"a": 10**6, "b": 10**6}
    assert matrix[-(10**12)] == {"a": 1, "b": 1}
    assert matrix[10**6] == {"a": 2, "b": 1}
    assert first_few == [{"a": 1, "b": 1}, {"a": 1, "b": 2}, {"a": 1, "b": 3}]


def test_size_is_exact_beyond_len():
    spec = {name: {"type": "range", "min": 1, "max": 10**7} for name in "abc"}
    matrix = ParameterMatrix(spec)
    assert matrix.size == 10**21
    assert matrix[10**21 - 1] == {"a": 10**7, "b": 10**7, "c": 10**7}


axis_specs = st.one_of(
    st.builds(
        lambda v: {"type": "discreet", "values": v},
        st.lists(st.integers(-5, 5), min_size=1, max_size=4),
    ),
    st.builds(
        lambda low, n, step: {"type": "range", "min": low, "max": low + n * step, "step": step},
        st.integers(-10, 10),
        st.integers(0, 3),
        st.integers(1, 4),
    ),
    st.builds(lambda n: {"min": 0, "max": 100, "samples": n}, st.integers(1, 3)),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(axis_specs, min_size=1, max_size=4), st.integers(0, 2**32))
def test_matrix_agrees_with_itertools_product(axes, seed):
    spec = {f"p{k}": axis for k, axis in enumerate(axes)}
    matrix = ParameterMatrix(spec, seed=seed)
    expected = product_of(matrix)
    assert list(matrix) == expected
    assert len(matrix) == len(expected)
    assert [matrix[i] for i in range(len(matrix))] == expected
    assert [matrix[i - len(matrix)] for i in range(len(matrix))] == expected


# --- errors -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("axis", "key", "words"),
    [
        (
            {"type": "grid"},
            "matrix.apps.type",
            "unknown matrix type 'grid' (expected discreet, range or sample)",
        ),
        ({"type": ["range"]}, "matrix.apps.type", "unknown matrix type"),
        (
            {"type": "discreet"},
            "matrix.apps.values",
            "expected a non-empty list of values, got nothing",
        ),
        (
            {"type": "discreet", "values": []},
            "matrix.apps.values",
            "expected a non-empty list of values, got an empty list",
        ),
        (
            {"type": "discrete", "values": 5},
            "matrix.apps.values",
            "expected a non-empty list of values, got 5",
        ),
        ({"type": "range", "min": "ten"}, "matrix.apps.min", "expected a number, got 'ten'"),
        ({"type": "range", "max": True}, "matrix.apps.max", "expected a number, got True"),
        ({"type": "range", "max": float("inf")}, "matrix.apps.max", "expected a number, got inf"),
        ({"type": "range", "step": 0}, "matrix.apps.step", "expected a step greater than 0, got 0"),
        (
            {"type": "range", "step": -1},
            "matrix.apps.step",
            "expected a step greater than 0, got -1",
        ),
        ({"type": "range", "min": 5, "max": 1}, "matrix.apps.min", "min 5 is greater than max 1"),
        ({"type": "sample", "min": 2, "max": 1}, "matrix.apps.min", "min 2 is greater than max 1"),
        ({"type": "sample", "step": 0.0}, "matrix.apps.step", "expected a step greater than 0"),
        ({"samples": 0}, "matrix.apps.samples", "expected a whole number of at least 1, got 0"),
        ({"samples": 2.5}, "matrix.apps.samples", "expected a whole number of at least 1, got 2.5"),
        (
            {"type": "range", "samples": 3},
            "matrix.apps.samples",
            "unknown key 'samples' (expected max, min, step, type)",
        ),
        ({"type": "discreet", "values": [1], "step": 1}, "matrix.apps.step", "unknown key 'step'"),
    ],
)
def test_axis_errors_name_the_key(axis, key, words):
    error = config_error({"apps": axis})
    assert error.key == key
    assert words in error.message
    assert str(error).startswith(f"{key}: ")


def test_non_mapping_axis_is_an_error_naming_the_parameter():
    error = config_error({"apps": [1, 2]})
    assert (
        str(error)
        == "matrix.apps: expected a mapping with a type (discreet, range or sample), got a list"
    )


@pytest.mark.parametrize(
    ("spec", "got"), [({}, "no parameters"), ([1], "a list"), (None, "nothing")]
)
def test_matrix_must_be_a_non_empty_mapping(spec, got):
    assert (
        str(config_error(spec))
        == f"matrix: expected a mapping of parameter names to axes, got {got}"
    )


def test_parameter_names_are_strings():
    assert "expected a parameter name, got 1" in str(config_error({1: {"type": "range"}}))


def test_error_key_path_can_be_given_for_plain_dicts():
    assert (
        config_error({"apps": {"type": "x"}}, key="policies[0].matrix").key
        == "policies[0].matrix.apps.type"
    )


def test_errors_from_yaml_point_at_file_and_line():
    config = load_yaml(
        "policies:\n"
        "  - matrix:\n"
        "      apps:\n"
        "        type: discreet\n"
        "        values: [1]\n"
        "      size:\n"
        "        type: range\n"
        "        step: 0\n",
        "perf.yml",
    )
    error = config_error(config["policies"][0]["matrix"])
    assert (
        str(error)
        == "perf.yml:8: policies[0].matrix.size.step: expected a step greater than 0, got 0"
    )


# --- MultiStep values ---------------------------------------------------------


def plain(expression, names):
    return evaluate(expression, names)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (7, 7),
        ("n * 2", 6),
        ("fast", "fast"),
        ("n", 3),
        ("1.2.3", "1.2.3"),
        ("two words", "two words"),
        ("'quoted'", "quoted"),
    ],
)
def test_a_fixed_value_is_evaluated_only_when_it_is_an_expression_over_known_names(value, expected):
    assert fixed_value(value, {"n": 3}, plain) == expected


def test_a_fixed_value_naming_an_unknown_name_inside_an_expression_is_an_error():
    with pytest.raises(ConfigError, match="nope"):
        fixed_value("n + nope", {"n": 3}, plain)


def test_step_values_are_lazy_and_indexable():
    values = StepValues(
        [{"parameter": "a", "min": 0, "max": 10**9}, {"parameter": "b", "values": ["x", "y"]}],
        seed=1,
        evaluate=plain,
    )
    assert len(values) == 2 * (10**9 + 1)
    assert values[3] == {"a": 1, "b": "y"}
    assert next(iter(values)) == {"a": 0, "b": "x"}


def test_only_fixed_values_make_one_combination():
    assert list(StepValues([{"parameter": "a", "value": "1 + 1"}], seed=1, evaluate=plain)) == [
        {"a": 2}
    ]


@pytest.mark.parametrize(
    ("entries", "key", "words"),
    [
        ("[{parameter: a, min: 3, max: 3, inclusive: no}]", "values[0].max", "has no values"),
        ("[{parameter: a, values: [1]}, {parameter: a, value: 2}]", "values[1]", "listed twice"),
        ("[{parameter: a, min: 5, max: 1}]", "values[0].min", "greater than max"),
    ],
)
def test_step_value_errors_name_their_key(entries, key, words):
    with pytest.raises(ConfigError) as caught:
        StepValues(load_yaml(f"values: {entries}", "v.yml")["values"], seed=1, evaluate=plain)
    assert caught.value.key == key
    assert words in caught.value.message
