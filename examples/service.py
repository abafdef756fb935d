"""A small local HTTP service for the example HTTP sweep, on 127.0.0.1 only.

    python service.py start --port 8431   # serve in the background; returns once it answers
    python service.py stop --port 8431    # ask it to stop; returns once it is gone

``GET /work?kib=N`` answers N KiB after hashing them, so bigger requests
take measurably longer; ``GET /status/N`` answers status N. The service
stops by itself after ``--lifetime`` seconds (10 minutes by default), so a
sweep that never reached its teardown leaves nothing running for long.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    #: Headers and body go out as separate writes: without this, Nagle's algorithm holds the body back.
    disable_nagle_algorithm = True

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if url.path == "/work":
            kib = max(0, min(int(parse_qs(url.query).get("kib", ["1"])[0]), 16384))
            payload = bytes(1024 * kib)
            hashlib.sha256(payload).digest()
            self.answer(200, payload)
        elif url.path.startswith("/status/"):
            status = int(url.path.rsplit("/", 1)[1])
            self.answer(status, f"status {status}\n".encode())
        else:
            self.answer(404, b"not found\n")

    def do_POST(self) -> None:
        if self.path == "/shutdown":
            self.answer(200, b"stopping\n")
            threading.Thread(target=self.server.shutdown).start()
        else:
            self.answer(404, b"not found\n")

    def answer(self, status: int, payload: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


def serve(port: int, lifetime: float) -> int:
    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    timer = threading.Timer(lifetime, server.shutdown)
    timer.daemon = True
    timer.start()
    server.serve_forever(poll_interval=0.1)
    server.server_close()
    return 0


def answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/status/200", timeout=1) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def start(port: int, lifetime: float) -> int:
    """Serve in a detached process and return once it answers (within 10 s)."""
    process = subprocess.Popen(
        [sys.executable, __file__, "serve", "--port", str(port), "--lifetime", str(lifetime)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if answers(port):
            print(f"service answering on 127.0.0.1:{port} (pid {process.pid})")
            return 0
        if process.poll() is not None:
            break
        time.sleep(0.05)
    print(f"service did not start on 127.0.0.1:{port} (is the port taken?)", file=sys.stderr)
    process.kill()
    return 1


def stop(port: int) -> int:
    """Ask the service to stop and wait (up to 10 s) until it no longer answers."""
    try:
        urllib.request.urlopen(urllib.request.Request(f"http://127.0.0.1:{port}/shutdown", method="POST"), timeout=5).close()
    except (urllib.error.URLError, OSError):
        print(f"no service on 127.0.0.1:{port}")
        return 0
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and answers(port):
        time.sleep(0.05)
    print(f"service on 127.0.0.1:{port} stopped")
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["start", "stop", "serve"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--lifetime", type=float, default=600.0, help="seconds before the service stops by itself")
    args = parser.parse_args()
    if args.action == "serve":
        return serve(args.port, args.lifetime)
    if args.action == "start":
        return start(args.port, args.lifetime)
    return stop(args.port)


if __name__ == "__main__":
    sys.exit(main())
