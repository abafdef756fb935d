"""The request an HTTP channel block describes: checked when loaded, rendered per parameter update.

Substitution is safe by construction. The scheme, host and port are fixed
for the session (literal or definitions), so a parameter never changes
where requests go; a macro in the path or query is percent-encoded, so a
value stays inside its segment; header names are literal and a value with a
line break is refused, so a value never adds a header; a JSON body keeps
each value a JSON value, so it never breaks out of the body's structure.
Nothing here touches the network.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import quote

from ..config import (
    MACRO,
    MacroError,
    MissingMacro,
    check_expression,
    evaluate,
    has_fresh,
    macro_names,
    render_string,
)
from ..core import parse_duration
from ..errors import ConfigError
from .commands import config_error

#: Seconds a request may take when the block gives no ``timeout``.
DEFAULT_TIMEOUT = 30.0
#: Body bytes a response may have when the block gives no ``maxBody``: a response beyond it is
#: the request's error, so a server that streams without end cannot hold a run.
DEFAULT_MAX_BODY = 256 * 1024 * 1024

_URL = re.compile(
    r"(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://(?P<authority>[^/?#]*)(?P<target>[^#]*)(?:#.*)?",
    re.DOTALL,
)
_HOST_PORT = re.compile(
    r"(?P<host>[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?|\[[0-9A-Fa-f:.]+\])(?::(?P<port>[0-9]{1,5}))?"
)
_BREAKS = re.compile(r"[\r\n\x00]")
#: The definition whose value the original driver sent as ``Authorization: token=…``.
AUTH_TOKEN = "dcos_auth_token"


def automatic_headers(definitions: Mapping[str, Any]) -> dict[str, str]:
    """The headers sent unless the block gives its own: ``Authorization: token=…`` when a
    ``dcos_auth_token`` definition exists, as the original driver's HTTP channel did.
    """
    if AUTH_TOKEN not in definitions:
        return {}
    return {"Authorization": f"token={_to_text(definitions[AUTH_TOKEN])}"}


@dataclass(frozen=True)
class Request:
    """One rendered request, sent ``repeat`` times."""

    verb: str
    #: The whole URL, for events and messages.
    url: str
    #: The request target sent on the request line: path and query.
    target: str
    headers: Mapping[str, str]
    body: bytes | None
    repeat: int


@dataclass(frozen=True)
class Origin:
    """Where requests go: fixed for the session."""

    scheme: str
    host: str
    port: int
    #: A path the URL's origin part brings (``http://h/api`` from a definition), put before the
    #: rest.
    base: str = ""

    @property
    def text(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}" + ("" if self.port == default else f":{self.port}")


_T = TypeVar("_T")


class _Absent:
    """The value of a name the values do not hold, in a part's key."""


_ABSENT = _Absent()
#: The types of values a part's rendering is kept for: immutable, so an equal key renders alike.
_KEPT = frozenset({str, int, bool, type(None), _Absent})


class _Part:
    """One part of the template (the path and query, a header's value, the body, ``repeat``) with
    its last rendering, reused while the values it reads are the same.

    A sweep that changes one parameter renders only the parts that use it,
    and a request rendered again for a ``uuid()`` only the parts that hold
    one. The last rendering is one tuple, so worker threads rendering a
    batch's requests anew and the session thread rendering the next update
    never see a key with another key's value.
    """

    def __init__(self, template: Any, names: Collection[str] | None = None) -> None:
        self.names = tuple(sorted(macro_names(template) if names is None else names))
        self.fresh = has_fresh(template)
        self._last: tuple[tuple[Any, ...], Any] | None = None

    def render(self, values: Mapping[str, Any], compute: Callable[..., _T], *args: Any) -> _T:
        """``compute(*args)``, or its result for the same values last time."""
        if self.fresh:
            return compute(*args)
        key: list[Any] = []
        for name in self.names:
            value = values.get(name, _ABSENT)
            kind = type(value)
            if kind is float:
                key.append((kind, repr(value)))  # 0.0 and -0.0 are equal and render apart
            elif kind in _KEPT:
                key.append((kind, value))  # True == 1, and they render apart
            else:
                return compute(*args)
        last, fixed = self._last, tuple(key)
        if last is not None and last[0] == fixed:
            result: _T = last[1]
            return result
        result = compute(*args)
        self._last = (fixed, result)
        return result


def _to_text(value: Any) -> str:
    """A parameter value as it appears inside text: YAML spellings for booleans and null."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _percent(text: str) -> str:
    return quote(text, safe="")


def _split_url(url: str) -> tuple[str, str]:
    """The URL template's origin part (scheme, host, port, maybe a base path) and the rest (path and
    query).

    The origin part ends at the first ``/``, ``?`` or ``#`` after the scheme
    that no macro holds, so ``{{base}}/apps/{{id}}`` splits into ``{{base}}``
    and ``/apps/{{id}}``, and ``http://{{host}}:8080/x`` after the port.
    """
    position, scheme_seen = 0, False
    while position < len(url):
        macro = MACRO.match(url, position)
        if macro is not None:
            position = macro.end()
        elif not scheme_seen and url.startswith("://", position):
            position, scheme_seen = position + 3, True
        elif url[position] in "/?#":
            break
        else:
            position += 1
    return url[:position], url[position:]


def _json_slots(template: str) -> list[bool] | None:
    """For each macro of a text body, whether it stands inside a JSON string; None when the body is
    not JSON.

    The body counts as JSON when it parses once each macro is replaced by a
    placeholder of its kind, so ``{"n": {{n}}, "id": "app-{{id}}"}`` is JSON.
    """
    inside: list[bool] = []
    probe: list[str] = []
    in_string, escaped, position = False, False, 0
    for match in MACRO.finditer(template):
        for char in template[position : match.start()]:
            if escaped:
                escaped = False
            elif in_string and char == "\\":
                escaped = True
            elif char == '"':
                in_string = not in_string
        probe.append(template[position : match.start()])
        probe.append("x" if in_string else "0")
        inside.append(in_string)
        position = match.end()
    probe.append(template[position:])
    if not inside:
        return None
    try:
        json.loads("".join(probe))
    except ValueError:
        return None
    return inside


class RequestTemplate:
    """The keys of an HTTP channel block: checked when the
    configuration loads, rendered per update.
    """

    def __init__(self, block: Mapping[str, Any]) -> None:
        self.block = block
        self.origin_template, self.target = _split_url(block["url"].strip())
        if not MACRO.search(self.origin_template):
            self.origin({})
        self.verb = str(block.get("verb", "GET")).upper()
        self.headers: dict[str, str] = {}
        for name, value in (block.get("headers") or {}).items():
            if MACRO.search(str(name)) or not re.fullmatch(
                r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", str(name)
            ):
                raise config_error(
                    block.get("headers"),
                    name,
                    f"expected a header name (letters, digits, '-'; no macros), got {name!r}",
                )
            self.headers[str(name)] = _to_text(value)
        self.body = block.get("body")
        self.json_slots = _json_slots(self.body) if isinstance(self.body, str) else None
        self.repeat = block.get("repeat", 1)
        self.timeout = self._duration("timeout", DEFAULT_TIMEOUT)
        self.interval = self._duration("repeatInterval", 0.0)
        self.concurrency: int = block.get("concurrency", 1)
        self.verify: bool = block.get("verify", True)
        self.max_body: int = block.get("maxBody", DEFAULT_MAX_BODY)
        simulate = block.get("simulate") or {}
        self.simulated_status: int | str = simulate.get("status", 200)
        self.simulated_duration: float | str = self._simulated_duration(simulate)
        self._check_simulated_status(simulate)
        repeat_names: set[str] = set()
        if isinstance(self.repeat, str) and not MACRO.fullmatch(self.repeat.strip()):
            try:
                repeat_names = set(check_expression(self.repeat))
            except ConfigError as exc:
                raise config_error(block, "repeat", exc.message) from None
        #: Whether a macro gives a new value each time (uuid(), date()): then every request of a
        #: batch is rendered anew.
        self.fresh = has_fresh(self.target) or has_fresh(self.headers) or has_fresh(self.body)
        #: Every macro or name whose change sends the request again.
        self.names: frozenset[str] = frozenset(
            macro_names(self.target)
            | macro_names(self.headers)
            | macro_names(self.body)
            | macro_names(self.repeat)
            | repeat_names
        )
        self._target_part = _Part(self.target)
        self._header_parts = {name: _Part(text) for name, text in self.headers.items()}
        self._body_part = _Part(self.body)
        self._repeat_part = _Part(self.repeat, macro_names(self.repeat) | repeat_names)

    def _duration(self, key: str, default: float) -> float:
        if key not in self.block:
            return default
        try:
            seconds = parse_duration(self.block[key])
        except ValueError as exc:
            raise config_error(self.block, key, str(exc)) from None
        if key == "timeout" and seconds <= 0:
            raise config_error(
                self.block,
                key,
                f"expected a positive duration such as 10s, got {self.block[key]!r}",
            )
        return seconds

    def _simulated_duration(self, simulate: Mapping[str, Any]) -> float | str:
        """Seconds, or an expression that gives them per update."""
        value = simulate.get("duration", 0.0)
        try:
            return parse_duration(value)
        except ValueError:
            if not isinstance(value, str):
                raise config_error(
                    simulate,
                    "duration",
                    f"expected a duration such as 20ms or an expression, got {value!r}",
                ) from None
        try:
            check_expression(value)
        except ConfigError as exc:
            raise config_error(
                simulate,
                "duration",
                f"expected a duration such as 20ms or an expression: {exc.message}",
            ) from None
        return value

    def _check_simulated_status(self, simulate: Mapping[str, Any]) -> None:
        status = self.simulated_status
        if isinstance(status, str):
            try:
                check_expression(status)
            except ConfigError as exc:
                raise config_error(simulate, "status", exc.message) from None
        elif not 100 <= status <= 599:
            raise config_error(
                simulate, "status", f"expected an HTTP status from 100 to 599, got {status!r}"
            )

    def simulated(self, values: Mapping[str, Any]) -> tuple[int, float]:
        """The status and seconds a dry run pretends each request of an update gets."""
        status, duration = self.simulated_status, self.simulated_duration
        try:
            status = evaluate(status, values)
            duration = evaluate(duration, values)
        except ConfigError as exc:
            raise config_error(
                self.block.get("simulate"),
                "status" if status is self.simulated_status else "duration",
                exc.message,
            ) from None
        if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
            raise config_error(
                self.block.get("simulate"),
                "status",
                f"expected an HTTP status from 100 to 599, got {status!r}",
            )
        if isinstance(duration, bool) or not isinstance(duration, (int, float)) or duration < 0:
            raise config_error(
                self.block.get("simulate"),
                "duration",
                f"expected seconds (0 or more), got {duration!r}",
            )
        return status, float(duration)

    # -- the origin: definitions only -------------------------------------------

    def origin(self, definitions: Mapping[str, Any]) -> Origin:
        """Scheme, host, port and base path, from the block and *definitions* alone: no parameter
        reaches them.
        """
        try:
            rendered = str(render_string(self.origin_template, definitions, quote=_to_text))
        except MissingMacro as exc:
            raise config_error(
                self.block,
                "url",
                f"macro {{{{{exc.name}}}}} in the URL's scheme or host must be a definition "
                f"(define:, config.definitions or -D {exc.name}=...) "
                f"or have a default: a parameter never changes where requests go",
            ) from None
        except MacroError as exc:
            raise config_error(self.block, "url", exc.message) from None
        match = _URL.fullmatch(rendered.strip())
        if match is None or match.group("scheme").lower() not in ("http", "https"):
            given = repr(self.block["url"]) + (
                "" if rendered == self.origin_template else f", which starts {rendered!r}"
            )
            raise config_error(
                self.block, "url", f"expected an http:// or https:// URL, got {given}"
            )
        scheme, authority, base = (
            match.group("scheme").lower(),
            match.group("authority"),
            match.group("target"),
        )
        if "@" in authority:
            raise config_error(
                self.block,
                "url",
                "credentials in the URL are not sent: give them as a header, such as headers: "
                "{Authorization: ...}",
            )
        host_port = _HOST_PORT.fullmatch(authority)
        port = (
            int(host_port.group("port"))
            if host_port and host_port.group("port")
            else 443
            if scheme == "https"
            else 80
        )
        if host_port is None or not 0 < port < 65536:
            raise config_error(
                self.block,
                "url",
                f"expected host or host:port after {scheme}://, got {authority!r}",
            )
        if "?" in base:
            raise config_error(
                self.block,
                "url",
                f"expected the query after the path, got {self.block['url']!r}, which starts "
                f"{rendered!r}",
            )
        return Origin(scheme, host_port.group("host").strip("[]"), port, base.rstrip("/"))

    # -- per update ---------------------------------------------------------------

    def render(
        self, origin: Origin, values: Mapping[str, Any], automatic: Mapping[str, str] = {}
    ) -> Request:
        """The request for one update; a macro without a value or a bad repeat is a ConfigError.

        *automatic* headers (:func:`automatic_headers`) are added where the
        block gives no header of that name.
        """
        target = origin.base + self._target_part.render(
            values, self._text, "url", self.target, values, _percent
        )
        if not target.startswith("/"):
            target = "/" + target
        headers = {}
        given = {name.lower() for name in self.headers}
        for name, value in automatic.items():
            if name.lower() not in given:
                if _BREAKS.search(value):
                    raise config_error(
                        self.block, "url", f"definition {AUTH_TOKEN!r} has a line break"
                    )
                headers[name] = value
        for name, text in self.headers.items():
            headers[name] = self._header_parts[name].render(
                values, self._header, name, text, values
            )
        body = self._body_part.render(values, self._body, values)
        if (
            body is not None
            and self._is_json()
            and not any(name.lower() == "content-type" for name in headers)
        ):
            headers["Content-Type"] = "application/json"
        repeat = self._repeat_part.render(values, self._repeat, values)
        return Request(self.verb, origin.text + target, target, headers, body, repeat)

    def _header(self, name: str, text: str, values: Mapping[str, Any]) -> str:
        value = self._text(name, text, values, _to_text, container=self.block.get("headers"))
        if _BREAKS.search(value):
            raise config_error(
                self.block.get("headers"),
                name,
                f"value {value!r} has a line break: a value never adds a header",
            )
        return value

    def _is_json(self) -> bool:
        return isinstance(self.body, (Mapping, list)) or self.json_slots is not None

    def _body(self, values: Mapping[str, Any]) -> bytes | None:
        if self.body is None:
            return None
        if isinstance(self.body, (Mapping, list)):
            return json.dumps(self._json_value(self.body, values), default=str).encode("utf-8")
        if self.json_slots is None:
            return self._text("body", self.body, values, _to_text).encode("utf-8")
        slots = iter(self.json_slots)

        def encode(match: re.Match[str]) -> str:
            value = self._value("body", match.group(0), values)
            if next(slots):
                return json.dumps(_to_text(value))[1:-1]
            return json.dumps(value, default=str)

        return MACRO.sub(encode, self.body).encode("utf-8")

    def _json_value(self, node: Any, values: Mapping[str, Any]) -> Any:
        """A JSON body with its macros filled in: a lone macro keeps its value's type, other text
        stays text.
        """
        if isinstance(node, str):
            return (
                self._value("body", node, values)
                if MACRO.fullmatch(node.strip())
                else self._text("body", node, values, _to_text)
            )
        if isinstance(node, Mapping):
            return {key: self._json_value(item, values) for key, item in node.items()}
        if isinstance(node, list):
            return [self._json_value(item, values) for item in node]
        return node

    def _repeat(self, values: Mapping[str, Any]) -> int:
        repeat = self.repeat
        if isinstance(repeat, str):
            text = repeat.strip()
            repeat = self._value("repeat", text, values) if MACRO.fullmatch(text) else text
            if isinstance(repeat, str):
                try:
                    repeat = evaluate(repeat, values)
                except ConfigError as exc:
                    raise config_error(self.block, "repeat", exc.message) from None
        if isinstance(repeat, float) and repeat.is_integer():
            repeat = int(repeat)
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            raise config_error(
                self.block,
                "repeat",
                f"expected a count of at least 1, got {repeat!r} from {self.repeat!r}",
            )
        return repeat

    def _value(self, key: str, text: str, values: Mapping[str, Any]) -> Any:
        try:
            return render_string(text, values)
        except MissingMacro as exc:
            raise self._missing(self.block, key, exc.name) from None
        except MacroError as exc:
            raise config_error(self.block, key, exc.message) from None

    def _text(
        self, key: str, text: str, values: Mapping[str, Any], encode: Any, container: Any = None
    ) -> str:
        try:
            return str(render_string(text, values, quote=encode))
        except MissingMacro as exc:
            raise self._missing(
                self.block if container is None else container, key, exc.name
            ) from None
        except MacroError as exc:
            raise config_error(
                self.block if container is None else container, key, exc.message
            ) from None

    @staticmethod
    def _missing(container: Any, key: str, name: str) -> Exception:
        return config_error(
            container,
            key,
            f"macro {{{{{name}}}}} has no value: define it (define:, config.definitions or -D "
            f"{name}=...), "
            f"make it a parameter, or give a default {{{{{name}|...}}}}",
        )
