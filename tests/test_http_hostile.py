"""Hostile HTTP servers on 127.0.0.1: a response that breaks HTTP/1.1, breaks a bound or never ends
is that request's error, the run ends soon with the error in its record, and memory stays bounded.

Each test runs ``perfchart run`` in a child process against a server from
``tests.httpserver.hostile`` and reads the child's peak RSS from ``wait4``.
A child still running after ``LIMIT`` seconds is killed, and the test fails.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.httpserver import Answer, hostile

#: Seconds a child may run before it is killed.
LIMIT = 45.0
#: Peak RSS a child may reach, in MiB, while a server sends hundreds of megabytes or more.
PEAK_MIB = 200
#: The most a server sends before it closes, so that a client that keeps it all cannot exhaust the
#: machine's memory.
MOST = 600 * 1024 * 1024
#: A megabyte of body.
BLOCK = b"\0" * (1024 * 1024)

CONFIG = """
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      x: {{type: discrete, values: [1]}}
    events:
      signal:
        OK: "HTTPResponseEndEvent[status<400]"
        FAILED: "HTTPResponseEndEvent[status>=400] HTTPResponseErrorEvent"
channels:
  - class: http
    url: "{{{{base}}}}/x/{{{{x}}}}"
    timeout: {timeout}
{extra}"""


@dataclass
class Ran:
    """What one ``perfchart run`` against a hostile server gave."""

    returncode: int
    seconds: float
    peak_mib: float
    record: dict[str, Any]
    stderr: str


#: Runs the command in its argv (after the file to write to) and writes its peak RSS in KiB there.
#: A child's peak as ``wait4`` gives it counts what the process it was forked from had reached
#: (Linux keeps the larger across ``exec``), so perfchart is started from this small process, never
#: from pytest's own.
PEAK = """
import os, subprocess, sys
child = subprocess.Popen(sys.argv[2:])
_, status, usage = os.wait4(child.pid, 0)
with open(sys.argv[1], "w") as out:
    out.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_against(answer: Answer, tmp_path: Path, timeout: str = "20s", extra: str = "") -> Ran:
    """``perfchart run`` of a one-run sweep whose one request goes to a server that answers
    *answer*."""
    config = tmp_path / "hostile.yml"
    config.write_text(CONFIG.format(timeout=timeout, extra=extra))
    results, peak = tmp_path / "results", tmp_path / "peak"
    with hostile(answer) as base:
        started = time.monotonic()
        process = subprocess.Popen(
            [sys.executable, "-c", PEAK, str(peak), sys.executable, "-m", "interpreter", "run"]
            + [str(config), "-q", "-D", f"base={base}", "--results", str(results)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        killer = threading.Timer(LIMIT, os.killpg, (process.pid, signal.SIGKILL))
        killer.start()
        try:
            _, stderr = process.communicate()
        finally:
            killer.cancel()
        seconds = time.monotonic() - started
    assert seconds < LIMIT, f"perfchart run was killed after {LIMIT:g}s"
    (record,) = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    return Ran(process.returncode, seconds, int(peak.read_text()) / 1024, record, stderr)


def failed_with(ran: Ran, words: str, within: float = 10.0, status: str = "FAILED") -> None:
    """The run ended with *status* on its request's error, naming *words*, within *within*
    seconds, in bounded memory; perfchart itself exited 1 (a failed run), with no traceback."""
    assert ran.peak_mib < PEAK_MIB, f"peak RSS {ran.peak_mib:.0f} MiB"
    assert ran.seconds < within, f"the run took {ran.seconds:.1f}s"
    assert ran.returncode == 1, ran.stderr
    assert "Traceback" not in ran.stderr
    assert ran.record["status"] == status, ran.record
    assert words in ran.record["last_stderr"], ran.record["last_stderr"]


def body(head: bytes, piece: bytes, most: int = MOST) -> Iterator[bytes | float]:
    """*head*, then *piece* again and again until *most* bytes went."""
    yield head
    for _ in range(most // len(piece) if piece else 0):
        yield piece


def test_a_negative_chunk_size_fails_the_request_at_once(tmp_path: Path) -> None:
    ran = run_against(
        lambda: body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n", BLOCK),
        tmp_path,
    )
    failed_with(ran, "malformed chunk size '-1\\r\\n'", within=5.0)


def test_a_huge_chunk_size_fails_the_request_before_its_body(tmp_path: Path) -> None:
    ran = run_against(
        lambda: body(
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffff\r\n", BLOCK
        ),
        tmp_path,
    )
    failed_with(ran, "a chunk of 281474976710655 bytes passes the body limit", within=5.0)


def test_endless_chunks_stop_at_max_body(tmp_path: Path) -> None:
    chunk = b"100000\r\n" + BLOCK + b"\r\n"
    ran = run_against(
        lambda: body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", chunk),
        tmp_path,
        extra="    maxBody: 50000000\n",
    )
    failed_with(ran, "passes the body limit (maxBody: 50000000 bytes)")


def test_a_body_until_close_stops_at_the_default_max_body(tmp_path: Path) -> None:
    ran = run_against(lambda: body(b"HTTP/1.1 200 OK\r\n\r\n", BLOCK), tmp_path)
    failed_with(ran, "the body passes the body limit (maxBody: 268435456 bytes)", within=30.0)


def test_a_content_length_beyond_max_body_fails_before_the_body(tmp_path: Path) -> None:
    ran = run_against(
        lambda: body(b"HTTP/1.1 200 OK\r\nContent-Length: 600000000\r\n\r\n", BLOCK),
        tmp_path,
        extra="    maxBody: 1000000\n",
    )
    failed_with(ran, "Content-Length 600000000 passes the body limit", within=5.0)


def test_endless_interim_responses_fail_the_request(tmp_path: Path) -> None:
    ran = run_against(lambda: body(b"", b"HTTP/1.1 100 Continue\r\n\r\n"), tmp_path)
    failed_with(ran, "more than 16 interim (1xx) responses", within=5.0)


def test_slow_interim_responses_end_at_the_timeout(tmp_path: Path) -> None:
    def slow() -> Iterator[bytes | float]:
        while True:
            yield b"HTTP/1.1 102 Processing\r\n\r\n"
            yield 0.3

    ran = run_against(slow, tmp_path, timeout="1s")
    failed_with(ran, "timed out after 1s", within=8.0, status="TIMEOUT")
    assert ran.seconds >= 1.0


def test_a_header_trickled_byte_by_byte_ends_at_the_timeout(tmp_path: Path) -> None:
    def trickle() -> Iterator[bytes | float]:
        yield b"HTTP/1.1 200 OK\r\nX-Slow: "
        while True:
            yield b"x"
            yield 0.05

    ran = run_against(trickle, tmp_path, timeout="1s")
    failed_with(ran, "timed out after 1s", within=8.0, status="TIMEOUT")
    assert ran.seconds >= 1.0


def test_endless_headers_fail_the_request(tmp_path: Path) -> None:
    ran = run_against(lambda: body(b"HTTP/1.1 200 OK\r\n", b"X-More: yes\r\n"), tmp_path)
    failed_with(ran, "more than 100 header lines", within=5.0)


def test_endless_continuation_lines_of_one_header_fail_the_request(tmp_path: Path) -> None:
    ran = run_against(lambda: body(b"HTTP/1.1 200 OK\r\nX-Fold: a\r\n", b" more\r\n"), tmp_path)
    failed_with(ran, "more than 100 header lines", within=5.0)


def test_an_endless_header_line_fails_the_request(tmp_path: Path) -> None:
    ran = run_against(lambda: body(b"HTTP/1.1 200 OK\r\nX-Long: ", b"x" * 65536), tmp_path)
    failed_with(ran, "a line longer than 65536 bytes", within=5.0)


def test_a_malformed_status_line_fails_the_request(tmp_path: Path) -> None:
    ran = run_against(lambda: body(b"HTTP/1.1 OK 200\r\n\r\n", b"", most=0), tmp_path)
    failed_with(ran, "malformed status line 'HTTP/1.1 OK 200\\r\\n'", within=5.0)


def test_a_malformed_chunk_fails_the_request(tmp_path: Path) -> None:
    ran = run_against(
        lambda: body(b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokay\r\n", b"", 0),
        tmp_path,
    )
    failed_with(ran, "a chunk longer than its size", within=5.0)
