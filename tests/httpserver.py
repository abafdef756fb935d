"""A small HTTP/1.1 server on 127.0.0.1 for the HTTP channel's tests: records what it receives,
answers on command.

Paths: ``/status/N`` answers N; ``/hold`` answers only once ``release()`` is
called (or after 5 s), for timeouts and cut requests; ``/gather/N`` answers
once N requests are in flight together (or after 2 s), for concurrency;
anything else echoes the request as JSON. ``hostile`` is a server that
sends whatever a test tells it, HTTP or not.
"""

from __future__ import annotations

import json
import socket
import ssl
import threading
import time
from collections.abc import Callable, Collection, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Seen:
    """One request as the server received it."""

    verb: str
    target: str
    headers: dict[str, str]
    body: bytes
    client: tuple[str, int]
    at: float


class Server:
    def __init__(self, tls: ssl.SSLContext | None = None) -> None:
        self.seen: list[Seen] = []
        self.inflight = 0
        self.most_inflight = 0
        self._cond = threading.Condition()
        self._released = threading.Event()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def handle_one(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                seen = Seen(
                    self.command,
                    self.path,
                    dict(self.headers),
                    body,
                    self.client_address,
                    time.monotonic(),
                )
                with server._cond:
                    server.seen.append(seen)
                    server.inflight += 1
                    server.most_inflight = max(server.most_inflight, server.inflight)
                    server._cond.notify_all()
                try:
                    self.answer(seen)
                finally:
                    with server._cond:
                        server.inflight -= 1

            def answer(self, seen: Seen) -> None:
                status, payload = 200, b""
                path = self.path.split("?")[0]
                if path.startswith("/status/"):
                    status = int(path.split("/")[2])
                    payload = f"status {status}".encode()
                elif path == "/hold":
                    server._released.wait(5.0)
                    payload = b"held"
                elif path.startswith("/gather/"):
                    wanted = int(path.split("/")[2])
                    with server._cond:
                        server._cond.wait_for(lambda: server.inflight >= wanted, timeout=2.0)
                    payload = b"gathered"
                else:
                    payload = json.dumps(
                        {
                            "verb": seen.verb,
                            "target": seen.target,
                            "headers": seen.headers,
                            "body": seen.body.decode("utf-8", "replace"),
                        }
                    ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = handle_one

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        if tls is not None:
            self.httpd.socket = tls.wrap_socket(self.httpd.socket, server_side=True)
        self.port = self.httpd.server_address[1]
        self.scheme = "https" if tls is not None else "http"
        self.url = f"{self.scheme}://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    def release(self) -> None:
        """Let every held request answer."""
        self._released.set()

    def wait_seen(self, count: int, timeout: float = 5.0) -> list[Seen]:
        with self._cond:
            if not self._cond.wait_for(lambda: len(self.seen) >= count, timeout=timeout):
                raise AssertionError(f"the server saw {len(self.seen)} requests, expected {count}")
            return list(self.seen)


@contextmanager
def serving(tls: ssl.SSLContext | None = None) -> Iterator[Server]:
    """A running server, stopped (with held requests released) on the way out."""
    server = Server(tls)
    server._thread.start()
    try:
        yield server
    finally:
        server.release()
        server.httpd.shutdown()
        server.httpd.server_close()


@contextmanager
def delaying(delays: list[float], failing: Collection[int] = ()) -> Iterator[str]:
    """A loopback server whose n-th request is answered after ``delays[n]`` seconds, with 500
    when n is in *failing*, else 200.
    """
    lock = threading.Lock()
    arrivals = iter(enumerate(delays))

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            with lock:
                index, delay = next(arrivals, (-1, 0.0))
            time.sleep(delay)
            self.send_response(500 if index in failing else 200)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


#: What a hostile server sends after a request's head: pieces of bytes, or a float to pause.
Answer = Callable[[], Iterator["bytes | float"]]


def _hostile_answer(connection: socket.socket, answer: Answer, stopping: threading.Event) -> None:
    """Read one request's head from *connection*, then send what *answer* yields."""
    with connection:
        try:
            received = b""
            while b"\r\n\r\n" not in received:
                data = connection.recv(65536)
                if not data:
                    return
                received += data
            for piece in answer():
                if stopping.is_set():
                    return
                if isinstance(piece, float):
                    stopping.wait(piece)
                else:
                    connection.sendall(piece)
        except OSError:
            return


@contextmanager
def hostile(answer: Answer) -> Iterator[str]:
    """A loopback server that reads each request's head, then sends what *answer* yields, whatever
    HTTP says: pieces of bytes, with pauses where it yields seconds. It stops sending when the
    client leaves or the server stops.
    """
    stopping = threading.Event()
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.05)

    def accept() -> None:
        while not stopping.is_set():
            try:
                connection, _ = listener.accept()
            except TimeoutError:
                continue
            connection.settimeout(None)
            threading.Thread(
                target=_hostile_answer, args=(connection, answer, stopping), daemon=True
            ).start()

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        stopping.set()
        thread.join()
        listener.close()
