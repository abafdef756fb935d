"""``check`` and ``run`` of files that are no text: random bytes, binaries, compressed and UTF-16
files, device files. Each is one line naming the file (and its line where one is known) and exit 2,
without a traceback, in bounded time.
"""

from __future__ import annotations

import gzip
import random
import shutil
import time
from pathlib import Path

import pytest

from tests.conftest import Perfchart


def _random(seed: int, size: int) -> bytes:
    return random.Random(seed).randbytes(size)


#: Name -> contents: the kinds of file someone may pass by mistake.
FILES: dict[str, bytes] = {
    **{f"random-{seed}": _random(seed, 1 + seed * 7919) for seed in range(12)},
    "random-after-yaml": b"config:\n  title: x\n" + _random(99, 4096),
    "nul-bytes": b"\0" * 4096,
    "yaml-with-nul": b"config:\n  title: a\0b\n",
    "utf-16": "config:\n  title: x\n".encode("utf-16"),
    "latin-1": "config:\n  title: caf\xe9\n".encode("latin-1"),
    "gzip": gzip.compress(b"config:\n  title: x\n" * 100),
    "png": b"\x89PNG\r\n\x1a\n" + _random(7, 512),
    "control-characters": bytes(range(1, 32)) * 10,
}


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("name", sorted(FILES))
def test_a_file_that_is_no_text_is_one_line_and_exit_2(
    perfchart: Perfchart, tmp_path: Path, command: str, name: str
) -> None:
    path = tmp_path / f"{name}.yml"
    path.write_bytes(FILES[name])
    started = time.monotonic()
    done = perfchart(command, str(path), timeout=30)
    assert time.monotonic() - started < 30
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, done.stderr
    assert f"{path}:" in errors[0]


@pytest.mark.parametrize("command", ["check", "run"])
def test_a_program_is_refused_as_no_text(
    perfchart: Perfchart, tmp_path: Path, command: str
) -> None:
    program = shutil.which("true") or shutil.which("sh")
    assert program is not None
    path = tmp_path / "program.yml"
    path.write_bytes(Path(program).read_bytes())
    done = perfchart(command, str(path), timeout=30)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1, done.stderr
    assert f"{path}:1: not a UTF-8 text file (a binary file?)" in errors[0]


@pytest.mark.parametrize("command", ["check", "run"])
@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom", "/dev/null"])
def test_a_device_is_refused_at_once(perfchart: Perfchart, command: str, device: str) -> None:
    done = perfchart(command, device, timeout=30)
    assert done.returncode == 2, done.stderr
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert errors == [
        f"{'perfchart: ' if command == 'run' else ''}error: {device}: not a regular file but a "
        "character device"
    ], done.stderr
