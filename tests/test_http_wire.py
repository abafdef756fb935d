"""The HTTP channel's own HTTP/1.1 (``interpreter/channels/httpwire.py``) against real servers on
127.0.0.1: what it sends matches what ``http.client`` sent, and well-formed responses of every
framing are read whole.
"""

from __future__ import annotations

import http.client
import json
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from interpreter.channels import ChannelContext, httpwire
from interpreter.channels.http import HTTPChannel, HTTPResponseErrorEvent
from interpreter.channels.httpwire import connect
from interpreter.core import EventBus
from tests.httpserver import Answer, Server, hostile, serving
from tests.test_http_channel import Recorder, echoed, update


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def make(bus: EventBus) -> Iterator[Any]:
    """Build channels subscribed as the session does; close them after the test."""
    channels: list[HTTPChannel] = []

    def build(block: Mapping[str, Any]) -> HTTPChannel:
        HTTPChannel.check(block)
        channel = HTTPChannel(block, ChannelContext(bus, "channels[0]", {}, {}))
        bus.subscribe(channel.handle, *channel.subscribes)
        channels.append(channel)
        return channel

    yield build
    for channel in channels:
        channel.close()


def by_http_client(server: Server, verb: str, body: bytes | None, headers: dict[str, str]) -> Any:
    """What the echo server saw of the same request sent by http.client."""
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request(verb, "/same", body=body, headers=headers)
        return json.loads(connection.getresponse().read())
    finally:
        connection.close()


@pytest.mark.parametrize(
    ("verb", "body", "sent"),
    [
        ("GET", None, None),
        ("POST", "n={{n}}", b"n=3"),
        ("POST", None, None),
        ("PUT", {"n": "{{n}}"}, b'{"n": 3}'),
        ("DELETE", None, None),
    ],
)
def test_the_request_carries_the_headers_http_client_sent(
    bus: EventBus, make: Any, verb: str, body: Any, sent: bytes | None
) -> None:
    block: dict[str, Any] = {"verb": verb, "headers": {"X-Run": "{{n}}", "Accept": "text/plain"}}
    if body is not None:
        block["body"] = body
    with serving() as server:
        make({"url": server.url + "/same", "repeat": "{{n}}", **block})
        recorder = Recorder(bus)
        update(bus, 1, n=3)
        ends = recorder.wait_ends(3)
        headers = {"X-Run": "3", "Accept": "text/plain"}
        if isinstance(body, dict):
            headers["Content-Type"] = "application/json"
        expected = by_http_client(server, verb, sent, headers)
    assert [end.status for end in ends] == [200, 200, 200]
    for end in ends:
        assert echoed(end) == expected


def answering(*pieces: bytes | float) -> Answer:
    """A server answer made of *pieces*, the same for every connection."""
    return lambda: iter(pieces)


def one(bus: EventBus, make: Any, answer: Answer, **block: Any) -> Any:
    with hostile(answer) as base:
        make({"url": base + "/x/{{x}}", "timeout": "5s", **block})
        recorder = Recorder(bus)
        update(bus, 1, x=1)
        return recorder.wait_ends(block.get("repeat", 1))


def test_interim_responses_before_the_answer_are_skipped(bus: EventBus, make: Any) -> None:
    (end,) = one(
        bus,
        make,
        answering(
            b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
        ),
    )
    assert (end.status, end.size, end.body, end.headers) == (200, 2, "ok", {"Content-Length": "2"})


def test_a_chunked_body_with_extensions_and_trailers_is_read_whole(
    bus: EventBus, make: Any
) -> None:
    (end,) = one(
        bus,
        make,
        answering(
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n",
            b"3;name=value\r\nabc\r\n",
            0.05,
            b"2\r\nde\r\n0\r\nX-Trailer: 1\r\n\r\n",
        ),
    )
    assert (end.status, end.size, end.body) == (201, 5, "abcde")


def test_a_body_that_comes_a_byte_at_a_time_is_read_whole(bus: EventBus, make: Any) -> None:
    pieces: list[bytes | float] = [b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"]
    for byte in b"hello":
        pieces += [0.02, bytes([byte])]
    (end,) = one(bus, make, answering(*pieces))
    assert (end.status, end.size, end.body) == (200, 5, "hello")


def test_a_body_until_the_server_closes_is_read_whole(bus: EventBus, make: Any) -> None:
    (end,) = one(bus, make, answering(b"HTTP/1.1 200 OK\r\n\r\nhel", 0.05, b"lo"))
    assert (end.status, end.size, end.body) == (200, 5, "hello")


def test_an_http_1_0_answer_is_not_kept_alive(bus: EventBus, make: Any) -> None:
    # The server keeps each connection open after its one answer: a second request on the same
    # connection would wait for its timeout.
    ends = one(
        bus,
        make,
        answering(b"HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok", 10.0),
        repeat=2,
    )
    assert [(end.status, end.body) for end in ends] == [(200, "ok"), (200, "ok")]


def test_connection_close_is_honoured(bus: EventBus, make: Any) -> None:
    ends = one(
        bus,
        make,
        answering(b"HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok", 10.0),
        repeat=2,
    )
    assert [(end.status, end.body) for end in ends] == [(200, "ok"), (200, "ok")]


def test_a_head_answer_has_no_body(bus: EventBus, make: Any) -> None:
    ends = one(
        bus,
        make,
        answering(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 10.0),
        verb="HEAD",
    )
    assert [(end.status, end.size) for end in ends] == [(200, 0)]


def test_a_folded_header_is_one_value(bus: EventBus, make: Any) -> None:
    (end,) = one(
        bus,
        make,
        answering(b"HTTP/1.1 204 No Content\r\nX-Folded: a\r\n  b\r\nX-Plain:  c \r\n\r\n"),
    )
    assert (end.status, end.size, end.headers) == (204, 0, {"X-Folded": "a b", "X-Plain": "c"})


def test_two_different_content_lengths_are_the_request_error(bus: EventBus, make: Any) -> None:
    (end,) = one(bus, make, answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2, 3\r\n\r\nok", 10.0))
    assert isinstance(end, HTTPResponseErrorEvent)
    assert end.error == "malformed Content-Length '2, 3'"


@pytest.mark.parametrize("reading", ["nothing", "a byte every 50 ms"])
def test_a_long_request_to_a_server_that_reads_slowly_ends_at_its_deadline(reading: str) -> None:
    listener = socket.create_server(("127.0.0.1", 0))
    stop = threading.Event()

    def trickle() -> None:
        accepted, _ = listener.accept()
        with accepted:
            while reading != "nothing" and not stop.wait(0.05):
                accepted.recv(1)
            stop.wait()

    thread = threading.Thread(target=trickle)
    thread.start()
    try:
        connection = connect("127.0.0.1", listener.getsockname()[1], timeout=0.5)
        started = time.perf_counter()
        with pytest.raises(TimeoutError):
            connection.send(b"x" * (64 * 1024 * 1024), started + 0.5)
        took = time.perf_counter() - started
        connection.close()
    finally:
        stop.set()
        thread.join()
        listener.close()
    assert 0.4 < took < 1.5


def test_a_fault_in_the_client_is_the_request_error_not_a_run_that_waits(
    bus: EventBus, make: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(httpwire.Connection, "body", broken)
    (end,) = one(bus, make, answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 10.0))
    assert isinstance(end, HTTPResponseErrorEvent)
    assert end.error == "internal error: KeyError('a bug')"
