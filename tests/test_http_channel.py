"""HTTPChannel driven through a real bus, sending real requests to a real server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from interpreter.channels import ChannelContext
from interpreter.channels.http import (
    HTTPChannel,
    HTTPEvent,
    HTTPFirstRequestStartEvent,
    HTTPFirstResponseEndEvent,
    HTTPLastRequestStartEvent,
    HTTPLastResponseEndEvent,
    HTTPOnlyResponseEndEvent,
    HTTPRequestEndEvent,
    HTTPRequestStartEvent,
    HTTPResponseEndEvent,
    HTTPResponseErrorEvent,
    HTTPResponseStartEvent,
)
from interpreter.config import load_yaml
from interpreter.core import Event, EventBus, FlagUpdateEvent, ParameterUpdateEvent
from interpreter.errors import ConfigError
from interpreter.session.loader import channel_spec
from tests import harness
from tests.httpserver import Server, serving

ROOT = Path(__file__).resolve().parent.parent


class Recorder(harness.Recorder):
    def ends(self, trace: int | None = None) -> list[HTTPResponseEndEvent]:
        return [
            e for e in self.of(HTTPResponseEndEvent, trace) if isinstance(e, HTTPResponseEndEvent)
        ]

    def wait_ends(
        self, count: int = 1, trace: int | None = None, timeout: float = 5.0
    ) -> list[HTTPResponseEndEvent]:
        self.wait_for(lambda _: len(self.ends(trace)) >= count, timeout)
        return self.ends(trace)


@pytest.fixture
def server():
    with serving() as running:
        yield running


@pytest.fixture
def bus() -> EventBus:
    return EventBus()


@pytest.fixture
def make(bus: EventBus):
    """Build channels subscribed the way the session subscribes them; close them after the test."""
    channels: list[HTTPChannel] = []

    def build(
        block: Mapping[str, Any], definitions: Mapping[str, Any] | None = None
    ) -> HTTPChannel:
        HTTPChannel.check(block)
        HTTPChannel.check_definitions(block, definitions or {})
        channel = HTTPChannel(block, ChannelContext(bus, "channels[0]", definitions or {}, {}))
        bus.subscribe(channel.handle, *channel.subscribes)
        channels.append(channel)
        return channel

    yield build
    for channel in channels:
        channel.close()


def update(bus: EventBus, trace: int, **changes: Any) -> None:
    bus.publish(ParameterUpdateEvent(parameters=changes, changes=changes, traceids=[trace]))


def echoed(event: HTTPResponseEndEvent) -> dict[str, Any]:
    return json.loads(event.body)


# -- the keys ---------------------------------------------------------------------


def test_get_times_the_request_and_publishes_four_events_in_order(
    bus, make, server: Server
) -> None:
    make({"url": server.url + "/items/{{id}}"})
    recorder = Recorder(bus)
    update(bus, 7, id=42)
    (end,) = recorder.wait_ends()
    events = [e for e in recorder.events if isinstance(e, HTTPEvent)]
    assert _names(events) == [
        "HTTPOnlyRequestStartEvent",
        "HTTPOnlyRequestEndEvent",
        "HTTPOnlyResponseStartEvent",
        "HTTPBatchEndEvent",  # the batch's counts, just before its last end
        "HTTPOnlyResponseEndEvent",
    ]
    assert all(e.traceids == frozenset({7}) for e in events)
    assert isinstance(end, HTTPOnlyResponseEndEvent)
    assert isinstance(end, HTTPLastResponseEndEvent)
    assert isinstance(end, HTTPFirstResponseEndEvent)
    assert (end.url, end.verb, end.status, end.code, end.ok) == (
        server.url + "/items/42",
        "GET",
        200,
        200,
        True,
    )
    assert end.size == len(end.body.encode())
    assert echoed(end)["target"] == "/items/42"
    assert 0 < end.ttfb <= end.elapsed < 5
    assert end.headers["Content-Type"] == "application/json"
    (sent,) = recorder.of(HTTPRequestEndEvent)
    assert 0 < sent.sent <= end.ttfb  # type: ignore[attr-defined]


def test_verb_headers_and_text_body(bus, make, server: Server) -> None:
    make(
        {
            "url": server.url + "/x",
            "verb": "put",
            "headers": {"X-Rate": "{{rate}}/s", "Accept": "text/plain"},
            "body": "rate={{rate}}",
        }
    )
    recorder = Recorder(bus)
    update(bus, 1, rate=5)
    (end,) = recorder.wait_ends()
    seen = echoed(end)
    assert (seen["verb"], seen["body"], seen["headers"]["X-Rate"], seen["headers"]["Accept"]) == (
        "PUT",
        "rate=5",
        "5/s",
        "text/plain",
    )
    assert "Content-Type" not in seen["headers"]
    (start,) = recorder.of(HTTPRequestStartEvent)
    assert (start.verb, start.body, start.headers) == (  # type: ignore[attr-defined]
        "PUT",
        "rate=5",
        {"X-Rate": "5/s", "Accept": "text/plain"},
    )


def test_mapping_body_is_json_and_a_lone_macro_keeps_its_type(bus, make, server: Server) -> None:
    make(
        {
            "url": server.url + "/apps",
            "verb": "POST",
            "body": {"instances": "{{n}}", "id": "/app-{{n}}", "labels": ["{{flag}}"]},
        }
    )
    recorder = Recorder(bus)
    update(bus, 1, n=3, flag=True)
    (end,) = recorder.wait_ends()
    seen = echoed(end)
    assert json.loads(seen["body"]) == {"instances": 3, "id": "/app-3", "labels": [True]}
    assert seen["headers"]["Content-Type"] == "application/json"


def test_repeat_as_count_macro_or_expression(bus, make, server: Server) -> None:
    make({"url": server.url + "/a?n={{n}}", "repeat": "n * 2"})
    make({"url": server.url + "/b?n={{n}}", "repeat": "{{n}}"})
    make({"url": server.url + "/c?n={{n}}", "repeat": 2})
    recorder = Recorder(bus)
    update(bus, 1, n=3)
    recorder.wait_ends(6 + 3 + 2)
    targets = [echoed(e)["target"].split("?")[0] for e in recorder.ends()]
    assert sorted(targets) == ["/a"] * 6 + ["/b"] * 3 + ["/c"] * 2


def test_first_and_last_variants_of_a_repeat(bus, make, server: Server) -> None:
    make({"url": server.url + "/r/{{x}}", "repeat": 3})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    ends = recorder.wait_ends(3)
    assert [e.index for e in ends] == [0, 1, 2]
    assert {e.repeat for e in ends} == {3}
    assert [type(e).__name__ for e in ends] == [
        "HTTPFirstResponseEndEvent",
        "HTTPResponseEndEvent",
        "HTTPLastResponseEndEvent",
    ]
    starts = recorder.of(HTTPRequestStartEvent)
    assert isinstance(starts[0], HTTPFirstRequestStartEvent)
    assert isinstance(starts[2], HTTPLastRequestStartEvent)
    assert not isinstance(starts[1], (HTTPFirstRequestStartEvent, HTTPLastRequestStartEvent))


def test_requests_share_one_keep_alive_connection(bus, make, server: Server) -> None:
    make({"url": server.url + "/k/{{x}}", "repeat": 5})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_ends(5)
    update(bus, 2, x=2)
    recorder.wait_ends(10)
    assert len({seen.client for seen in server.seen}) == 1


def test_repeat_interval_spaces_the_sends(bus, make, server: Server) -> None:
    make({"url": server.url + "/i/{{x}}", "repeat": 3, "repeatInterval": "100ms"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_ends(3)
    sends = [e.ts for e in recorder.of(HTTPRequestStartEvent)]
    assert all(
        later - earlier >= 0.099 for earlier, later in zip(sends, sends[1:], strict=False)
    ), sends
    arrivals = [seen.at for seen in server.seen]
    assert all(
        later - earlier >= 0.08 for earlier, later in zip(arrivals, arrivals[1:], strict=False)
    ), arrivals


def test_repeat_after_waits_for_one_event_of_the_run_per_resend(bus, make, server: Server) -> None:
    make({"url": server.url + "/ra/{{x}}", "repeat": 3, "repeatAfter": "FlagUpdateEvent[name=go]"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_ends(1)
    bus.publish(FlagUpdateEvent(name="go", value=1, traceids=[99]))  # another run's: no credit
    bus.publish(FlagUpdateEvent(name="stop", value=1, traceids=[1]))  # does not match
    with pytest.raises(AssertionError):
        recorder.wait_ends(2, timeout=0.3)
    assert len(server.seen) == 1
    bus.publish(FlagUpdateEvent(name="go", value=1, traceids=[1]))
    recorder.wait_ends(2)
    bus.publish(FlagUpdateEvent(name="go", value=2, traceids=[1]))
    ends = recorder.wait_ends(3)
    assert isinstance(ends[2], HTTPLastResponseEndEvent)


def test_repeat_after_may_wait_for_the_channels_own_events(bus, make, server: Server) -> None:
    make({"url": server.url + "/own/{{x}}", "repeat": 3, "repeatAfter": "HTTPResponseEndEvent"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    assert [e.index for e in recorder.wait_ends(3)] == [0, 1, 2]


def test_events_handed_over_together_keep_the_time_they_happened(bus, make, server: Server) -> None:
    make({"url": server.url + "/ts/{{x}}", "repeat": 20})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_ends(20)
    stamps = [e.ts for e in recorder.events if isinstance(e, HTTPEvent)]
    assert stamps == sorted(stamps)
    assert len(stamps) == 81  # four per request, and the batch's end
    for end in recorder.ends():
        (start,) = [e for e in recorder.of(HTTPRequestStartEvent) if e.index == end.index]  # type: ignore[attr-defined]
        assert end.elapsed / 2 < end.ts - start.ts < end.elapsed + 0.05


def test_a_slow_response_does_not_hold_back_the_request_events(bus, make, server: Server) -> None:
    make({"url": server.url + "/hold?x={{x}}"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_for(lambda _: bool(recorder.of(HTTPRequestEndEvent)), timeout=1.0)
    assert not recorder.ends()
    server.release()
    recorder.wait_ends()


@pytest.mark.parametrize("concurrency", [1, pytest.param(3, marks=pytest.mark.slow)])
def test_concurrency_bounds_the_requests_in_flight(
    bus, make, server: Server, concurrency: int
) -> None:
    make(
        {
            "url": server.url + f"/gather/{concurrency}?x={{{{x}}}}",
            "repeat": 6,
            "concurrency": concurrency,
            "timeout": "10s",
        }
    )
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    ends = recorder.wait_ends(6, timeout=20)
    assert server.most_inflight == concurrency
    assert all(e.status == 200 for e in ends)
    assert isinstance(ends[-1], HTTPLastResponseEndEvent)
    assert isinstance(ends[0], HTTPFirstResponseEndEvent)
    assert sorted(e.index for e in ends) == list(range(6))


def test_a_new_update_stops_the_previous_repeats(bus, make, server: Server) -> None:
    make({"url": server.url + "/s/{{x}}", "repeat": 1000, "repeatInterval": "20ms"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_ends(2, trace=1)
    update(bus, 2, x=2)
    recorder.wait_ends(2, trace=2)
    first_of_two = min(e.ts for e in recorder.of(HTTPRequestStartEvent, 2))
    assert all(e.ts <= first_of_two for e in recorder.of(HTTPRequestStartEvent, 1))


def test_an_update_of_an_unused_parameter_sends_nothing(bus, make, server: Server) -> None:
    make({"url": server.url + "/u/{{x}}"})
    recorder = Recorder(bus)
    update(bus, 1, y=1)
    update(bus, 2, x=1)
    (end,) = recorder.wait_ends()
    assert end.traceids == frozenset({2})
    assert len(server.seen) == 1


# -- errors become events and outcomes -------------------------------------------------


def test_a_500_is_a_failed_outcome(bus, make, server: Server) -> None:
    make({"url": server.url + "/status/{{code}}"})
    recorder = Recorder(bus)
    update(bus, 1, code=500)
    (end,) = recorder.wait_ends()
    assert (end.status, end.code, end.ok, end.body) == (500, 500, False, "status 500")
    assert not isinstance(end, HTTPResponseErrorEvent)


def test_connection_refused_is_an_error_event(bus, make) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    make({"url": f"http://127.0.0.1:{port}/{{{{x}}}}", "repeat": 2})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    ends = recorder.wait_ends(2)
    assert all(isinstance(e, HTTPResponseErrorEvent) for e in ends)
    error = ends[0]
    assert isinstance(error, HTTPResponseErrorEvent)
    assert error.error == f"connection refused by http://127.0.0.1:{port}"
    assert not error.timedout
    assert (error.status, error.code, error.ok) == (None, None, False)
    assert isinstance(ends[1], HTTPLastResponseEndEvent)
    assert not recorder.of(HTTPResponseStartEvent)


def test_timeout_is_an_error_event(bus, make, server: Server) -> None:
    make({"url": server.url + "/hold?x={{x}}", "timeout": "300ms"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    (end,) = recorder.wait_ends()
    assert isinstance(end, HTTPResponseErrorEvent)
    assert (end.timedout, end.error) == (True, "timed out after 0.3s")
    assert 0.25 < end.elapsed < 3


def test_close_cuts_a_request_in_flight(bus, make, server: Server) -> None:
    channel = make({"url": server.url + "/hold?x={{x}}"})
    recorder = Recorder(bus)
    update(bus, 1, x=1)
    recorder.wait_for(lambda _: bool(recorder.of(HTTPRequestEndEvent)))
    started = time.monotonic()
    channel.close()
    assert time.monotonic() - started < 2
    (end,) = recorder.wait_ends()
    assert isinstance(end, HTTPResponseErrorEvent)
    assert end.error == "cut: the channel closed"


# -- substitution is safe ------------------------------------------------------------

HOSTILE = "../../admin?x=1&y=2#frag @evil.example:80/ \r\nX-Injected: 1"


def test_path_and_query_macros_are_percent_encoded(bus, make, server: Server) -> None:
    make({"url": server.url + "/items/{{id}}?q={{id}}&z=1"})
    recorder = Recorder(bus)
    update(bus, 1, id=HOSTILE)
    (end,) = recorder.wait_ends()
    target = echoed(end)["target"]
    assert target.startswith(
        "/items/..%2F..%2Fadmin%3Fx%3D1%26y%3D2%23frag%20%40evil.example%3A80%2F%20%0D%0AX-Injected%3A%201?q="
    )
    assert target.endswith("&z=1")
    assert target.count("?") == 1
    assert target.count("&") == 1
    assert "X-Injected" not in echoed(end)["headers"]


def test_a_header_value_never_adds_a_header(bus, make, server: Server) -> None:
    make({"url": server.url + "/h/{{x}}", "headers": {"X-Id": "{{x}}"}})
    Recorder(bus)
    update(bus, 1, x="1\r\nX-Injected: 1")
    with pytest.raises(
        ConfigError, match="X-Id: value .* has a line break: a value never adds a header"
    ):
        bus.dispatch(timeout=1.0)
    assert not server.seen


def test_a_header_value_http_cannot_carry_is_an_error_event(bus, make, server: Server) -> None:
    make({"url": server.url + "/h/{{x}}", "headers": {"X-Name": "{{x}}"}})
    recorder = Recorder(bus)
    update(bus, 1, x="名前")
    (end,) = recorder.wait_ends()
    assert isinstance(end, HTTPResponseErrorEvent)
    assert end.error.startswith("UnicodeEncodeError")
    assert not end.ok
    assert not server.seen


def test_json_bodies_keep_values_values(bus, make, server: Server) -> None:
    breakout = '", "admin": true, "x": "'
    make(
        {
            "url": server.url + "/map/{{name}}",
            "verb": "POST",
            "body": {"name": "{{name}}", "n": "{{n}}"},
        }
    )
    make(
        {
            "url": server.url + "/text/{{name}}",
            "verb": "POST",
            "body": '{"name": "{{name}}", "n": {{n}}, "tag": "x-{{n}}"}',
        }
    )
    recorder = Recorder(bus)
    update(bus, 1, name=breakout, n='1, "admin": true')
    ends = recorder.wait_ends(2)
    bodies = {echoed(e)["target"].split("/")[1]: json.loads(echoed(e)["body"]) for e in ends}
    assert bodies["map"] == {"name": breakout, "n": '1, "admin": true'}
    assert bodies["text"] == {
        "name": breakout,
        "n": '1, "admin": true',
        "tag": 'x-1, "admin": true',
    }
    assert all(echoed(e)["headers"]["Content-Type"] == "application/json" for e in ends)


def test_a_text_body_that_is_not_json_is_sent_as_written(bus, make, server: Server) -> None:
    make({"url": server.url + "/t/{{x}}", "verb": "POST", "body": "a={{x}}&b=2"})
    recorder = Recorder(bus)
    update(bus, 1, x="1 & c")
    (end,) = recorder.wait_ends()
    assert echoed(end)["body"] == "a=1 & c&b=2"


def test_the_host_comes_from_definitions_only(tmp_path: Path) -> None:
    from interpreter.session import load_config

    text = """\
config:
  parameters: [{name: host, default: x}]
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix: {n: {values: [1]}}
    events: {signal: {OK: HTTPResponseEndEvent}}
channels:
  - class: http
    url: "http://{{host}}:{{port|8080}}/n/{{n}}"
"""
    path = tmp_path / "perf.yml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert str(caught.value).startswith(
        f"{path}:9: channels[0].url: macro {{{{host}}}} in the URL's scheme or host must be a "
        "definition"
    )
    config = load_config(path, {"host": "127.0.0.1"})
    assert config.channels[0].cls is HTTPChannel
    with pytest.raises(
        ConfigError, match="expected host or host:port after http://, got 'evil example:8080'"
    ):
        load_config(path, {"host": "evil example"})


def test_a_base_url_definition_may_bring_a_path(bus, make, server: Server) -> None:
    make({"url": "{{base}}/items/{{id}}?q={{id}}"}, {"base": server.url + "/api/"})
    recorder = Recorder(bus)
    update(bus, 1, id="a/b")
    (end,) = recorder.wait_ends()
    assert echoed(end)["target"] == "/api/items/a%2Fb?q=a%2Fb"
    assert end.url == server.url + "/api/items/a%2Fb?q=a%2Fb"


def test_a_parameter_right_after_the_host_is_part_of_the_host(tmp_path: Path) -> None:
    with pytest.raises(
        ConfigError, match=r"macro \{\{path\}\} in the URL's scheme or host must be a definition"
    ):
        HTTPChannel.check_definitions(
            load_yaml("url: '{{base}}{{path}}'", "perf.yaml"), {"base": "http://127.0.0.1"}
        )


# -- TLS ------------------------------------------------------------------------------


def _self_signed(tmp_path: Path) -> ssl.SSLContext:
    key, cert = tmp_path / "key.pem", tmp_path / "cert.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(key),
            "-out",
            str(cert),
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
        ],
        check=True,
        capture_output=True,
        timeout=60,
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


@pytest.mark.skipif(
    subprocess.run(["which", "openssl"], capture_output=True).returncode != 0,
    reason="needs openssl",
)
def test_tls_is_verified_unless_verify_no(bus, make, tmp_path: Path) -> None:
    with serving(_self_signed(tmp_path)) as server:
        make({"url": server.url + "/v/{{x}}"})
        make({"url": server.url + "/n/{{x}}", "verify": False})
        recorder = Recorder(bus)
        update(bus, 1, x=1)
        ends = recorder.wait_ends(2)
        by_verify = {e.url.split("/")[3]: e for e in ends}
        refused = by_verify["v"]
        assert isinstance(refused, HTTPResponseErrorEvent)
        assert "CERTIFICATE_VERIFY_FAILED" in refused.error
        assert by_verify["n"].status == 200


# -- load-time checks -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("url: ftp://h/x", "url", "expected an http:// or https:// URL, got 'ftp://h/x'"),
        ("url: 'http:///x'", "url", "expected host or host:port after http://, got ''"),
        ("url: 'http://u:p@h/x'", "url", "credentials in the URL are not sent"),
        ("url: http://h/\nheaders: {'X-{{n}}': 1}", "headers.X-{{n}}", "expected a header name"),
        ("url: http://h/\ntimeout: 0", "timeout", "expected a positive duration"),
        ("url: http://h/\nrepeat: 'n +'", "repeat", "n +"),
        (
            "url: http://h/\nrepeatAfter: 'FlagUpdateEvent:after(1s)'",
            "repeatAfter",
            "':after' cannot pace a repeat",
        ),
    ],
)
def test_config_errors_name_the_key(text: str, key: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        channel_spec(0, load_yaml("class: http\n" + text, "perf.yaml"))
    assert caught.value.file == "perf.yaml"
    assert caught.value.key == f"{key}"
    assert message in caught.value.message


def test_schema_errors_name_the_key() -> None:
    with pytest.raises(ConfigError) as caught:
        channel_spec(
            0, load_yaml("class: channel.HTTPChannel\nurl: http://h/\nconcurrency: 0", "perf.yaml")
        )
    assert (caught.value.line, caught.value.key) == (3, "concurrency")
    with pytest.raises(ConfigError, match="no event class is called 'NoSuchEvent'"):
        channel_spec(
            0, load_yaml("class: http\nurl: http://h/\nrepeatAfter: NoSuchEvent", "perf.yaml")
        )


def test_a_bad_repeat_value_at_run_time_names_the_key(bus, make, server: Server) -> None:
    make({"url": server.url + "/{{n}}", "repeat": "{{n}}"})
    update(bus, 1, n=0)
    with pytest.raises(ConfigError, match="expected a count of at least 1, got 0"):
        bus.dispatch(timeout=1.0)


def test_loading_a_config_without_http_does_not_import_the_client() -> None:
    code = (
        "import sys; from interpreter.session.loader import load_config; "
        f"load_config({str(ROOT / 'examples' / 'sweep.yml')!r}); "
        "import interpreter.session.session, interpreter.cli; "
        "print(sorted(m for m in ('http.client', 'ssl', 'concurrent.futures') if m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert result.stdout.strip() == "[]"


def _names(events: list[Event]) -> list[str]:
    return [type(e).__name__ for e in events]
