"""Marginal cost per request of the HTTP channel, against a bare http.client loop.

    python benchmarks/http_requests.py [--small 500] [--large 3000] [--tries 5]

Starts a local server in a child process (127.0.0.1, HTTP/1.1 keep-alive, a
fixed 2-byte body), then, in alternating rounds, for each of two request
counts:

* a bare loop of ``http.client`` on one keep-alive connection, in this script;
* ``perfchart run`` of a one-run sweep whose HTTP channel sends the request
  ``repeat`` times (``benchmarks/http_requests.yml``), timed by the run's own
  record: from its parameter update to its ``HTTPLastResponseEndEvent``.

The marginal cost is (time for the large count - time for the small one) /
(large - small), so start-up and the first connection cancel out. Each
round gives one ratio per way; the report shows every round, the median of
the rounds' ratios, and the ratio of the best figures. Everything stays on
the loopback interface, and the server stops when the script ends.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent

SERVER = """
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *args):
        pass
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
"""

BARE = "bare http.client loop"
OURS = "perfchart run, HTTP channel"


@contextmanager
def serving() -> Iterator[int]:
    """The port of the benchmark's server, running in a child process until the block ends."""
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        yield int(server.stdout.readline())
    finally:
        server.kill()
        server.wait()


def bare(port: int, count: int) -> tuple[float, float]:
    """Wall and CPU seconds for *count* sequential requests on one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", "/warm")
    connection.getresponse().read()
    started, cpu = time.perf_counter(), time.process_time()
    for index in range(count):
        connection.request("GET", f"/bare/{index}")
        response = connection.getresponse()
        response.read()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu
    connection.close()
    return elapsed, cpu


def through_perfchart(port: int, count: int, results: Path) -> tuple[float, float]:
    """Wall seconds of the one run of ``perfchart run`` that sends *count* requests (from its
    record), and the process's CPU seconds."""
    command = [sys.executable, "-m", "interpreter", "run", str(HERE / "http_requests.yml"), "-q"]
    command += ["-D", f"port={port}", "-D", f"n={count}", "--results", str(results)]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
    )
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"perfchart run failed ({process.returncode}): {errors}")
    (record,) = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    if record["status"] != "OK" or len(record["exitcodes"]) != count:
        raise SystemExit(
            f"unexpected run record: status {record['status']}, {len(record['exitcodes'])} outcomes"
        )
    return float(record["duration"]), usage.ru_utime + usage.ru_stime


def rounds(small: int, large: int, tries: int) -> dict[str, list[tuple[float, float]]]:
    """Per way, each round's marginal (wall, CPU) seconds per request; the ways alternate within
    a round, so a change in the machine's load touches both alike."""
    marginal: dict[str, list[tuple[float, float]]] = {BARE: [], OURS: []}
    with serving() as port, tempfile.TemporaryDirectory() as scratch:
        for attempt in range(tries):
            taken: dict[str, dict[int, tuple[float, float]]] = {BARE: {}, OURS: {}}
            for count in (small, large):
                taken[BARE][count] = bare(port, count)
                results = Path(scratch) / f"r{count}-{attempt}"
                taken[OURS][count] = through_perfchart(port, count, results)
            for way, times in taken.items():
                wall = (times[large][0] - times[small][0]) / (large - small)
                cpu = (times[large][1] - times[small][1]) / (large - small)
                marginal[way].append((wall, cpu))
    return marginal


def median_ratio(marginal: dict[str, list[tuple[float, float]]], part: int) -> float:
    """The median over rounds of perfchart's figure over the bare loop's (0: wall, 1: CPU)."""
    return statistics.median(
        ours[part] / theirs[part]
        for ours, theirs in zip(marginal[OURS], marginal[BARE], strict=True)
    )


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=3000)
    parser.add_argument("--tries", type=int, default=5)
    args = parser.parse_args()
    marginal = rounds(args.small, args.large, args.tries)
    print("| round | bare loop: wall / CPU per request | perfchart: wall / CPU | ratio wall |")
    print("| ---: | ---: | ---: | ---: |")
    for index, (theirs, ours) in enumerate(zip(marginal[BARE], marginal[OURS], strict=True), 1):
        print(
            f"| {index} | {theirs[0] * 1e6:.1f} / {theirs[1] * 1e6:.1f} µs "
            f"| {ours[0] * 1e6:.1f} / {ours[1] * 1e6:.1f} µs | {ours[0] / theirs[0]:.2f}x |"
        )
    best = {
        way: (min(w for w, _ in runs), min(c for _, c in runs)) for way, runs in marginal.items()
    }
    print(
        f"\nmedian of the rounds' ratios: {median_ratio(marginal, 0):.2f}x wall, "
        f"{median_ratio(marginal, 1):.2f}x client CPU; best figures: "
        f"{best[OURS][0] * 1e6:.1f} vs {best[BARE][0] * 1e6:.1f} µs wall "
        f"({best[OURS][0] / best[BARE][0]:.2f}x)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
