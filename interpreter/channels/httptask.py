"""The original driver's ``tasks.http.Request``: one HTTP request (``repeat`` times) as a task.

The request is rendered here exactly as the HTTP channel renders its own
(the same template: percent-encoded path macros, headers that no value can
add to, JSON bodies filled as JSON, ``Authorization`` from
``dcos_auth_token``), then sent by a child Python process, so that the task
runner starts, times out and stops it like any other task.
"""

from __future__ import annotations

import base64
import json
import sys
from collections.abc import Mapping
from typing import Any

from ..config import LocatedDict, load_schema, validate
from .commands import Command, config_error
from .httptemplate import RequestTemplate, automatic_headers

#: The keys of ``tasks.http.Request``: the original's, and the HTTP channel's timeout and verify.
KEYS = ("url", "verb", "body", "repeat", "headers", "timeout", "verify")

#: What the child runs: the request read from stdin, a line per response, exit 1 if one failed.
SEND = """\
import base64, json, ssl, sys, urllib.error, urllib.request
r = json.load(sys.stdin)
context = ssl.create_default_context()
if not r["verify"]:
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
failed = 0
for _ in range(r["repeat"]):
    body = None if r["body"] is None else base64.b64decode(r["body"])
    request = urllib.request.Request(r["url"], body, r["headers"], method=r["verb"])
    try:
        with urllib.request.urlopen(request, timeout=r["timeout"], context=context) as answer:
            status = answer.status
    except urllib.error.HTTPError as exc:
        status = exc.code
    except OSError as exc:
        print(f"{r['verb']} {r['url']}: {exc}", file=sys.stderr)
        failed = 1
        continue
    stream = sys.stderr if status >= 400 else sys.stdout
    print(f"{r['verb']} {r['url']}: HTTP {status}", file=stream)
    failed |= status >= 400
sys.exit(failed)
"""


class HTTPRequestCommand:
    """A ``tasks.http.Request`` entry, checked when the configuration loads and rendered into a
    command each time its task runs.
    """

    def __init__(self, config: Mapping[str, Any]) -> None:
        self.config = config
        block = {key: value for key, value in config.items() if key in KEYS}
        for key in config:
            if key not in (*KEYS, "class", "at", "name"):
                raise config_error(
                    config,
                    key,
                    f"unknown key {key!r} (tasks.http.Request has at, name, {', '.join(KEYS)})",
                )
        if "url" not in config:
            raise config_error(config, "class", "missing key 'url': where to send the request")
        validate(
            _located(config, block),
            load_schema("http-channel"),
            default_file=getattr(config, "file", None),
        )
        self.template = RequestTemplate(_located(config, block))

    def render(self, values: Mapping[str, Any]) -> Command:
        """The command that sends the request for *values*; a macro without one is a
        ConfigError.
        """
        request = self.template.render(
            self.template.origin(values), values, automatic_headers(values)
        )
        sent = {
            "verb": request.verb,
            "url": request.url,
            "headers": dict(request.headers),
            "body": None if request.body is None else base64.b64encode(request.body).decode(),
            "repeat": request.repeat,
            "timeout": self.template.timeout,
            "verify": self.template.verify,
        }
        return Command(
            [sys.executable, "-c", SEND],
            stdin=json.dumps(sent),
            timeout=self.template.timeout * max(request.repeat, 1) + 5.0,
        )


def _located(config: Mapping[str, Any], block: dict[str, Any]) -> Mapping[str, Any]:
    """*block* where *config* was written, so that errors point at its lines."""
    if not isinstance(config, LocatedDict):
        return block
    out = LocatedDict(block, file=config.file, line=config.line, path=config.path)
    out.lines = {key: config.line_of(key) or 0 for key in block}
    return out
