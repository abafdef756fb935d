"""Config and chart files must be regular files under a size limit, and ``-D`` values are read with
a file's limits: anything else is one line and exit 2, at once, for ``run``, ``check`` and
``draw``."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import Perfchart, sweep_config

COMMANDS = ("run", "check", "draw")


def refused(perfchart: Perfchart, *args: str, seconds: float = 5) -> str:
    """``perfchart *args`` in a fresh interpreter: exit 2 with one line, no traceback, at once."""
    started = time.monotonic()
    done = perfchart(*args, subprocess=True, timeout=20)
    took = time.monotonic() - started
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, done.stderr
    assert took < seconds, f"took {took:.1f}s"
    return errors[0]


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_a_fifo_nobody_writes_is_refused_at_once(
    perfchart: Perfchart, tmp_path: Path, command: str
) -> None:
    fifo = tmp_path / "config.yml"
    os.mkfifo(fifo)
    line = refused(perfchart, command, str(fifo))
    assert f"{fifo}: not a regular file but a FIFO (named pipe)" in line or (
        command == "draw" and str(fifo) in line
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
@pytest.mark.parametrize(
    ("target", "expected"),
    [("/dev/zero", "a character device"), (".", "a directory")],
    ids=["dev-zero", "directory"],
)
def test_a_device_or_a_directory_is_refused_at_once(
    perfchart: Perfchart, tmp_path: Path, command: str, target: str, expected: str
) -> None:
    line = refused(perfchart, command, target)
    # draw looks its target up as a chart or a policy first: neither is a file it reads.
    assert f"{target}: not a regular file but {expected}" in line or (
        command == "draw" and target in line
    )


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_a_huge_file_is_refused_without_reading_it_all(
    perfchart: Perfchart, tmp_path: Path, command: str
) -> None:
    huge = tmp_path / "huge.yml"
    with huge.open("wb") as handle:
        handle.truncate(2 * 1024**3)  # 2 GiB, sparse: reading it whole would take memory and time
    line = refused(perfchart, command, str(huge))
    assert f"{huge}: larger than 4 MiB: not a configuration or statechart" in line


@pytest.mark.slow
@pytest.mark.parametrize("command", COMMANDS)
def test_a_binary_file_is_refused_at_its_line(
    perfchart: Perfchart, tmp_path: Path, command: str
) -> None:
    binary = tmp_path / "binary.yml"
    binary.write_bytes(b"a: 1\n" + bytes(range(128, 256)) * 40)
    line = refused(perfchart, command, str(binary))
    assert f"{binary}:2: not a UTF-8 text file (a binary file?)" in line


CONFIG = sweep_config('"echo {{a}}"', matrix={"a": "{type: discrete, values: [1]}"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("[" * 3000 + "]" * 3000, "-D x: invalid YAML: exceeded maximum nesting depth"),
        ("[" * 500 + "]" * 500, "-D x: nested more than 100 levels deep"),
        ("1" * 5000, f"-D x: a number of more than {sys.get_int_max_str_digits()} digits"),
    ],
    ids=["3000-deep", "500-deep", "5000-digits"],
)
def test_a_define_is_read_with_the_limits_of_a_file(
    perfchart: Perfchart, tmp_path: Path, value: str, expected: str
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CONFIG)
    done = perfchart("run", str(config), "-D", f"x={value}", "--results", str(tmp_path / "r"))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == f"perfchart: error: {expected}"
    assert not (tmp_path / "r").exists()


def test_a_number_too_long_to_convert_is_located_in_a_file(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(f"define:\n  x: {'1' * 5000}\n" + CONFIG)
    done = perfchart("run", str(config))
    assert done.returncode == 2, done.stderr
    digits = sys.get_int_max_str_digits()
    assert done.stderr.strip() == (
        f"perfchart: error: {config}:2: a number of more than {digits} digits"
    )


def test_a_date_that_does_not_exist_is_a_config_error(perfchart: Perfchart, tmp_path: Path) -> None:
    config = tmp_path / "c.yml"
    config.write_text("define:\n  x: 2026-02-30\n" + CONFIG)
    done = perfchart("run", str(config))
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip() == (
        f"perfchart: error: {config}: invalid YAML value: day is out of range for month"
    )


def test_plain_defines_still_read_as_yaml_scalars(perfchart: Perfchart, tmp_path: Path) -> None:
    from interpreter.session import parse_define

    assert parse_define("n=5") == ("n", 5)
    assert parse_define("s=[1, 2]") == ("s", "[1, 2]")
    assert parse_define("t=a: b: c") == ("t", "a: b: c")
    assert parse_define("e=") == ("e", "")


DEFINE_PIECES = st.sampled_from(
    ["[", "]", "{", "}", "a: ", ", ", "1" * 50, "1" * 5000, "&a ", "*a", "!!int ", "0x", "-", "'",
     '"', "\n", "2026-02-30", "nan", ".inf", "~", "yes", "\x00", "\t", "#"]
)  # fmt: skip


@pytest.mark.slow
@settings(max_examples=500, deadline=None)
@given(
    pieces=st.lists(DEFINE_PIECES | st.text(max_size=4), max_size=12),
    repeat=st.integers(1, 400),
)
def test_a_define_gives_a_value_or_one_error_in_bounded_time(
    pieces: list[str], repeat: int
) -> None:
    from interpreter.errors import PerfchartError
    from interpreter.session import parse_define

    started = time.monotonic()
    text = "".join(pieces) * (repeat if len("".join(pieces)) * repeat < 200_000 else 1)
    error: PerfchartError | None = None
    try:
        name, value = parse_define(f"x={text}")
    except PerfchartError as raised:
        error = raised
    if error is not None:
        assert error.exit_status == 2
        assert str(error).startswith("-D x: "), str(error)
    else:
        assert name == "x"
        assert isinstance(value, (bool, int, float, str))
    assert time.monotonic() - started < 5
