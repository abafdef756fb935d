"""Marginal cost per request of the HTTP channel, against a bare http.client loop.

    python benchmarks/http_requests.py [--small 500] [--large 3000] [--tries 3]

Starts a local server in a child process (127.0.0.1, HTTP/1.1 keep-alive, a
fixed 2-byte body), then, for each of two request counts:

* a bare loop of ``http.client`` on one keep-alive connection, in this script;
* ``perfchart run`` of a one-run sweep whose HTTP channel sends the request
  ``repeat`` times (``benchmarks/http_requests.yml``), timed by the run's own
  record: from its parameter update to its ``HTTPLastResponseEndEvent``.

The marginal cost is (time for the large count - time for the small one) /
(large - small), so start-up and the first connection cancel out. Each
figure is the best of ``--tries``. Everything stays on the loopback
interface, and the server stops when the script ends.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import subprocess
import sys
import tempfile
import time
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
    """Wall seconds of the one run of ``perfchart run`` that sends *count* requests (from its record), and the process's CPU seconds."""
    command = [sys.executable, "-m", "interpreter", "run", str(HERE / "http_requests.yml"), "-q", "-D", f"port={port}", "-D", f"n={count}", "--results", str(results)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    errors = process.stderr.read()
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"perfchart run failed ({process.returncode}): {errors}")
    (record,) = [json.loads(line) for line in (results / "runs.jsonl").read_text().splitlines()]
    if record["status"] != "OK" or len(record["exitcodes"]) != count:
        raise SystemExit(f"unexpected run record: status {record['status']}, {len(record['exitcodes'])} outcomes")
    return float(record["duration"]), usage.ru_utime + usage.ru_stime


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=500)
    parser.add_argument("--large", type=int, default=3000)
    parser.add_argument("--tries", type=int, default=3)
    args = parser.parse_args()
    server = subprocess.Popen([sys.executable, "-c", SERVER], stdout=subprocess.PIPE, text=True)
    try:
        assert server.stdout is not None
        port = int(server.stdout.readline())
        ways = {"bare http.client loop": bare, "perfchart run, HTTP channel": through_perfchart}
        taken: dict[str, dict[int, list[tuple[float, float]]]] = {way: {args.small: [], args.large: []} for way in ways}
        with tempfile.TemporaryDirectory() as scratch:
            # Interleaved, so a change in the machine's load touches both ways alike.
            for attempt in range(args.tries):
                for count in (args.small, args.large):
                    taken["bare http.client loop"][count].append(bare(port, count))
                    taken["perfchart run, HTTP channel"][count].append(through_perfchart(port, count, Path(scratch) / f"r{count}-{attempt}"))
        print(f"| how | wall, {args.small} requests | wall, {args.large} requests | marginal wall per request | marginal CPU per request |")
        print("| --- | ---: | ---: | ---: | ---: |")
        marginal: dict[str, tuple[float, float]] = {}
        for way, times in taken.items():
            small = min(w for w, _ in times[args.small]), min(c for _, c in times[args.small])
            large = min(w for w, _ in times[args.large]), min(c for _, c in times[args.large])
            marginal[way] = ((large[0] - small[0]) / (args.large - args.small), (large[1] - small[1]) / (args.large - args.small))
            print(f"| {way} | {small[0] * 1000:.0f} ms | {large[0] * 1000:.0f} ms | {marginal[way][0] * 1e6:.1f} µs | {marginal[way][1] * 1e6:.1f} µs |")
        ours, theirs = marginal["perfchart run, HTTP channel"], marginal["bare http.client loop"]
        print(f"\nratio to the bare loop: {ours[0] / theirs[0]:.2f}x wall, {ours[1] / theirs[1]:.2f}x client CPU")
    finally:
        server.kill()
        server.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
