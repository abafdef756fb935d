"""HTTP/1.1 on one keep-alive socket for the HTTP channel, in bounded memory and time.

The channel used ``http.client`` before, which reads each response through
a new buffered file, parses headers with the ``email`` package (most of a
fast request's client CPU), loops on ``100 Continue`` without end, and on
a negative chunk size reads to the end of the stream into memory. Here the
request's bytes are built once per rendered request, a response is read
from one buffer per connection in as few ``recv`` calls as the server's
writes allow, every wait ends at the request's deadline, and every part of
a response has a bound: status and header lines, header count, interim
(1xx) responses, chunk sizes and the body's bytes. A response beyond a
bound, or one that breaks HTTP/1.1, is a :class:`WireError`: the channel
reports it as that request's error and drops the connection.
"""

from __future__ import annotations

import re
import select
import socket
import struct
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Longest status, header, chunk-size or trailer line, in bytes (as http.client allows).
MAX_LINE = 65536
#: Most header (or trailer) lines of one response.
MAX_HEADERS = 100
#: Most interim (1xx) responses before the final one.
MAX_INTERIM = 16
#: Bytes asked of one ``recv``.
RECV = 65536
#: A request up to this many bytes is sent with one plain ``sendall``: the socket's buffer takes it
#: at once. A longer one is sent under the request's deadline.
SMALL_SEND = 65536

_STATUS = re.compile(rb"HTTP/1\.([01]) ([0-9]{3})(?: ([^\r\n]*))?\r?\n")
_CHUNK_SIZE = re.compile(rb"[ \t]*([0-9A-Fa-f]{1,16})[ \t]*(?:;[^\r\n]*)?\r?\n")
_TARGET = re.compile(r"[\x00-\x20\x7f]")
_BODYLESS = frozenset({204, 304})
_EXPECT_BODY = frozenset({"POST", "PUT", "PATCH"})


class WireError(Exception):
    """A response that breaks HTTP/1.1 or one of this module's bounds: the request's failure."""


def host_header(origin_text: str) -> str:
    """The ``Host`` value for an origin's text (``http://h:8080`` gives ``h:8080``)."""
    return origin_text.split("://", 1)[1]


def encode_request(
    verb: str, target: str, host: str, headers: Mapping[str, str], body: bytes | None
) -> bytes:
    """The bytes of one request, head and body, sent with one ``sendall``.

    The headers http.client added are added alike (``Host``, ``Accept-Encoding:
    identity``, ``Content-Length``) unless given; a header value that is not
    Latin-1 is a UnicodeEncodeError and a target with a space or control
    character a ValueError, raised before anything is sent.
    """
    if _TARGET.search(target):
        raise ValueError(f"URL can't contain control characters or spaces: {target!r}")
    given = {name.lower() for name in headers}
    lines = [f"{verb} {target} HTTP/1.1"]
    if "host" not in given:
        lines.append(f"Host: {host}")
    if "accept-encoding" not in given:
        lines.append("Accept-Encoding: identity")
    lines.extend(f"{name}: {value}" for name, value in headers.items())
    if "content-length" not in given and "transfer-encoding" not in given:
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        elif verb in _EXPECT_BODY:
            lines.append("Content-Length: 0")
    head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    return head + body if body else head


@dataclass
class Response:
    """A final response's status line and headers, and how its body is framed."""

    status: int
    reason: str
    headers: dict[str, str]
    #: Body bytes by Content-Length; None when chunked or until the server closes.
    length: int | None
    chunked: bool
    will_close: bool


def connect(
    host: str, port: int, timeout: float, tls: Any = None, server_hostname: str | None = None
) -> Connection:
    """A connection to *host*:*port* (TLS with the ``ssl`` context *tls*), within *timeout*."""
    sock = socket.create_connection((host, port), timeout)
    try:
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if tls is not None:
            sock = tls.wrap_socket(sock, server_hostname=server_hostname or host)
        # Blocking, so a send or recv is one system call; polls keep the deadline, and the
        # kernel's own timeouts stop a blocked send (a server that reads nothing) or recv.
        sock.settimeout(None)
        seconds = int(timeout)
        limit = struct.pack("ll", seconds, int((timeout - seconds) * 1e6))
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDTIMEO, limit)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVTIMEO, limit)
    except BaseException:
        sock.close()
        raise
    return Connection(sock)


class Connection:
    """One keep-alive connection: requests out, responses in through one buffer."""

    def __init__(self, sock: Any) -> None:
        self.sock: Any = sock
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)
        self._buffer = bytearray()
        self._pos = 0
        #: A poll said the socket is readable and nothing read since: the next recv needs none.
        self._ready = False

    def close(self) -> None:
        self.sock.close()

    def cut(self) -> None:
        """Unblock a worker waiting on this connection: its wait ends and its read fails."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def dropped(self) -> bool:
        """Whether an idle connection was closed by the server (it reads as ready) or holds bytes
        no request asked for."""
        return self._pos < len(self._buffer) or bool(self._poll.poll(0))

    def send(self, data: bytes, deadline: float) -> None:
        """Send *data* whole by *deadline*: a server that reads slowly, or not at all, cannot hold
        the request past it."""
        if len(data) <= SMALL_SEND:
            self.sock.sendall(data)
            return
        remaining = deadline - time.perf_counter()
        if remaining <= 0:
            raise TimeoutError("timed out")
        # With a timeout, sendall's is the whole send's (Python 3.5 and later).
        self.sock.settimeout(remaining)
        try:
            self.sock.sendall(data)
        finally:
            self.sock.settimeout(None)

    def wait(self, timeout: float) -> bool:
        """Whether there is data to read within *timeout* seconds."""
        if self._ready or self._pos < len(self._buffer) or self._pending():
            return True
        self._ready = bool(self._poll.poll(max(timeout, 0.0) * 1000))
        return self._ready

    def _pending(self) -> bool:
        pending = getattr(self.sock, "pending", None)
        return pending is not None and pending() > 0

    def _recv(self, deadline: float) -> bytes:
        """The next bytes from the socket, waiting until *deadline* at most; EOF is b""."""
        if not self._ready and not self._pending():
            remaining = deadline - time.perf_counter()
            if remaining <= 0 or not self._poll.poll(remaining * 1000):
                raise TimeoutError("timed out")
        self._ready = False
        data: bytes = self.sock.recv(RECV)
        return data

    def _fill(self, deadline: float, what: str) -> None:
        if self._pos:
            del self._buffer[: self._pos]
            self._pos = 0
        data = self._recv(deadline)
        if not data:
            raise WireError(f"the server closed the connection {what}")
        self._buffer += data

    def _line(self, deadline: float, what: str) -> bytes:
        """The next line, its end of line included, at most :data:`MAX_LINE` bytes."""
        scanned = self._pos
        while True:
            end = self._buffer.find(b"\n", scanned)
            if end >= 0:
                if end + 1 - self._pos > MAX_LINE:
                    break
                line = bytes(self._buffer[self._pos : end + 1])
                self._pos = end + 1
                return line
            if len(self._buffer) - self._pos > MAX_LINE:
                break
            scanned = len(self._buffer) - self._pos
            self._fill(deadline, what)
        raise WireError(f"{what}: a line longer than {MAX_LINE} bytes")

    def _headers(self, deadline: float, what: str) -> list[tuple[str, str]]:
        """Header (or trailer) lines up to the empty line that ends them."""
        fields: list[tuple[str, str]] = []
        for _ in range(MAX_HEADERS + 1):
            line = self._line(deadline, f"in the {what}")
            if line in (b"\r\n", b"\n"):
                return fields
            text = line.decode("latin-1").rstrip("\r\n")
            if text.startswith((" ", "\t")) and fields:
                name, value = fields[-1]
                fields[-1] = (name, f"{value} {text.strip()}")
                continue
            name, colon, value = text.partition(":")
            if not colon or not name or name != name.strip():
                raise WireError(f"malformed {what} line {text[:80]!r}")
            fields.append((name, value.strip(" \t")))
        raise WireError(f"more than {MAX_HEADERS} {what} lines")

    def response(self, verb: str, deadline: float) -> Response:
        """The final response's status line and headers, interim (1xx) responses skipped."""
        for _ in range(MAX_INTERIM + 1):
            line = self._line(deadline, "before the status line")
            match = _STATUS.fullmatch(line)
            if match is None:
                raise WireError(f"malformed status line {line[:80].decode('latin-1')!r}")
            status = int(match.group(2))
            if status < 100:
                raise WireError(f"malformed status line {line[:80].decode('latin-1')!r}")
            fields = self._headers(deadline, "header")
            if status >= 200:
                return _framed(verb, match, status, fields)
        raise WireError(f"more than {MAX_INTERIM} interim (1xx) responses")

    def body(
        self, response: Response, deadline: float, max_body: int, keep: int
    ) -> tuple[bytes, int]:
        """The first *keep* bytes of the body and its size; more than *max_body* bytes is a
        WireError."""
        head = bytearray()
        size = 0
        if response.chunked:
            while chunk := self._chunk_size(deadline, max_body - size, max_body):
                size = self._read(chunk, deadline, head, keep, size)
                if self._line(deadline, "after a chunk") not in (b"\r\n", b"\n"):
                    raise WireError("a chunk longer than its size")
            self._headers(deadline, "trailer")
        elif response.length is not None:
            if response.length > max_body:
                raise _too_large(max_body, f"Content-Length {response.length}")
            size = self._read(response.length, deadline, head, keep, 0)
        else:
            size = self._until_close(deadline, head, keep, max_body)
        return bytes(head), size

    def _chunk_size(self, deadline: float, room: int, max_body: int) -> int:
        line = self._line(deadline, "before a chunk size")
        match = _CHUNK_SIZE.fullmatch(line)
        if match is None:
            raise WireError(f"malformed chunk size {line[:40].decode('latin-1')!r}")
        size = int(match.group(1), 16)
        if size > room:
            raise _too_large(max_body, f"a chunk of {size} bytes")
        return size

    def _read(self, count: int, deadline: float, head: bytearray, keep: int, size: int) -> int:
        """Read *count* body bytes, keeping the body's first *keep* in *head*; the new size."""
        while count:
            if self._pos >= len(self._buffer):
                self._fill(deadline, f"with {count} bytes of the body unread")
            piece = memoryview(self._buffer)[self._pos : self._pos + count]
            taken = len(piece)
            if len(head) < keep:
                head += piece[: keep - len(head)]
            piece.release()
            self._pos += taken
            count -= taken
            size += taken
        return size

    def _until_close(self, deadline: float, head: bytearray, keep: int, max_body: int) -> int:
        size = len(self._buffer) - self._pos
        head += self._buffer[self._pos : self._pos + keep]
        self._buffer.clear()
        self._pos = 0
        while data := self._recv(deadline):
            size += len(data)
            if size > max_body:
                raise _too_large(max_body, "the body")
            if len(head) < keep:
                head += data[: keep - len(head)]
        if size > max_body:
            raise _too_large(max_body, "the body")
        return size


def _too_large(max_body: int, what: str) -> WireError:
    return WireError(f"{what} passes the body limit (maxBody: {max_body} bytes): stopped reading")


def _framed(
    verb: str, match: re.Match[bytes], status: int, fields: list[tuple[str, str]]
) -> Response:
    """The response, with its body's framing read from its headers (RFC 9112, section 6)."""
    headers = dict(fields)
    lower = {name.lower(): value for name, value in fields}
    tokens = {token.strip().lower() for token in lower.get("connection", "").split(",")}
    will_close = "close" in tokens or (match.group(1) == b"0" and "keep-alive" not in tokens)
    reason = (match.group(3) or b"").decode("latin-1")
    if verb == "HEAD" or status in _BODYLESS:
        return Response(status, reason, headers, 0, False, will_close)
    codings = lower.get("transfer-encoding")
    if codings is not None:
        chunked = codings.rsplit(",", 1)[-1].strip().lower() == "chunked"
        return Response(status, reason, headers, None, chunked, will_close or not chunked)
    if "content-length" in lower:
        values = {value.strip() for value in lower["content-length"].split(",")}
        (text,) = values if len(values) == 1 else ("",)
        if not text.isdigit() or len(text) > 19:
            raise WireError(f"malformed Content-Length {lower['content-length'][:40]!r}")
        return Response(status, reason, headers, int(text), False, will_close)
    return Response(status, reason, headers, None, False, True)
