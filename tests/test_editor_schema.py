"""``perfchart schema``: one document an editor's language server can resolve by itself.

The YAML language server (the one VS Code uses) resolves a ``$ref`` only
within the document it was given: a nested ``$id`` resource leaves its refs
unresolved, and then no typo is reported at all. So the schema is checked
offline with jsonschema, refusing any reference that would leave the
document, and, where npm is, by running the language server itself on a
configuration with two planted typos.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import jsonschema
import pytest
import referencing
import referencing.exceptions
import yaml
from referencing.jsonschema import DRAFT202012

from tests.conftest import Perfchart

ROOT = Path(__file__).resolve().parent.parent
#: Where the language server is installed once, when it is not on PATH.
CACHE = ROOT / ".pytest_cache" / "yaml-language-server"


def schema(perfchart: Perfchart, kind: str) -> dict[str, Any]:
    done = perfchart("schema", kind)
    assert done.returncode == 0, done.stderr
    document: dict[str, Any] = json.loads(done.stdout)
    return document


def nodes(node: Any, path: str = "") -> Iterator[tuple[str, dict[str, Any]]]:
    """Every schema object in *node*, with its JSON pointer."""
    if isinstance(node, dict):
        yield path, node
        for key, value in node.items():
            yield from nodes(value, f"{path}/{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from nodes(value, f"{path}/{index}")


def offline_registry() -> referencing.Registry[Any]:
    """A registry that fetches nothing: a reference out of the document fails to resolve."""

    def refuse(uri: str) -> referencing.Resource[Any]:
        raise referencing.exceptions.NoSuchResource(ref=uri)

    return referencing.Registry(retrieve=refuse)


def offline_validator(document: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator of *document* that resolves its references offline, in itself."""
    jsonschema.Draft202012Validator.check_schema(document)
    return jsonschema.Draft202012Validator(document, registry=offline_registry())


@pytest.mark.parametrize("kind", ["config", "statechart"])
def test_every_ref_resolves_inside_the_one_document(perfchart: Perfchart, kind: str) -> None:
    document = schema(perfchart, kind)
    nested = [
        f"{path}/{key}"
        for path, node in nodes(document)
        if path
        for key in ("$id", "$defs", "$anchor", "$dynamicAnchor")
        if key in node
    ]
    assert nested == []
    offline_validator(document)
    resolver = offline_registry().resolver_with_root(DRAFT202012.create_resource(document))
    refs = [node["$ref"] for _, node in nodes(document) if isinstance(node.get("$ref"), str)]
    assert refs
    assert all(ref.startswith("#/$defs/") for ref in refs)
    for ref in refs:
        assert resolver.lookup(ref).contents is not None, ref


@pytest.mark.parametrize(("kind", "shipped"), [("config", "config"), ("statechart", "chart")])
def test_printing_a_schema_leaves_the_loaders_schemas_as_shipped(
    perfchart: Perfchart, kind: str, shipped: str
) -> None:
    """The loader caches each shipped schema; the editor's copy is built beside it, not in it."""
    from interpreter.config import load_schema

    schema(perfchart, kind)
    path = ROOT / "interpreter" / "schemas" / f"{shipped}.schema.json"
    assert load_schema(shipped) == json.loads(path.read_text())


def test_the_offline_validator_finds_a_typo_in_every_embedded_block(perfchart: Perfchart) -> None:
    validator = offline_validator(schema(perfchart, "config"))
    config = yaml.safe_load((ROOT / "examples" / "multi_step.yml").read_text())
    assert sorted(e.message for e in validator.iter_errors(config)) == []
    step = config["policies"][0]["steps"][0]
    step["valus"] = step.pop("values")
    config["channels"][0]["timeot"] = "1s"
    found = sorted(e.message for e in validator.iter_errors(config))
    assert any("'valus' was unexpected" in message for message in found), found
    assert any("'timeot' was unexpected" in message for message in found), found


# --- the YAML language server itself ---------------------------------------------------------

TYPOS = """\
# yaml-language-server: $schema={schema}
config:
  title: two typos
  repeet: 3
policies:
  - class: multivariable-explorer
    matrix:
      n: {{type: discrete, values: [1, 2]}}
    events:
      signal: {{OK: CmdlineExitZeroEvent, FAILED: CmdlineExitNonzeroEvent}}
channels:
  - class: channel.CmdlineChannel
    cmdline: "true {{{{n}}}}"
    timeot: 30s
"""


def language_server() -> list[str]:
    """The command starting yaml-language-server: on PATH, or installed once with npm."""
    found = shutil.which("yaml-language-server")
    if found:
        return [found, "--stdio"]
    if shutil.which("node") is None:
        pytest.skip("node is missing: cannot run yaml-language-server")
    installed = CACHE / "node_modules" / ".bin" / "yaml-language-server"
    if not installed.exists():
        npm = shutil.which("npm")
        if npm is None:
            pytest.skip("npm is missing: cannot install yaml-language-server to run it")
        try:
            CACHE.mkdir(parents=True, exist_ok=True)
            done = subprocess.run(
                [npm, "install", "--no-audit", "--no-fund", "--prefix", str(CACHE)]
                + ["yaml-language-server"],
                capture_output=True,
                text=True,
                timeout=300,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            pytest.skip(f"npm could not install yaml-language-server: {exc}")
        if done.returncode != 0 or not installed.exists():
            pytest.skip(f"npm could not install yaml-language-server: {done.stderr[-300:]}")
    return [str(installed), "--stdio"]


class Client:
    """Just enough of a language client: framed JSON-RPC on the server's stdin and stdout."""

    def __init__(self, command: list[str]) -> None:
        self.process = subprocess.Popen(
            command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        self.messages: queue.Queue[dict[str, Any]] = queue.Queue()
        assert self.process.stdout is not None
        threading.Thread(target=self._read, args=(self.process.stdout,), daemon=True).start()
        self.ids = 0

    def _read(self, stream: IO[bytes]) -> None:
        while True:
            length = 0
            while (line := stream.readline()) not in (b"\r\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            if not line:
                return
            self.messages.put(json.loads(stream.read(length)))

    def send(self, method: str | None, params: Any = None, *, answer: Any = None) -> int:
        message: dict[str, Any] = {"jsonrpc": "2.0"}
        if method is None:  # the answer to the server's request number *params*
            message |= {"id": params, "result": answer}
        else:
            message |= {"method": method, "params": params}
            if method in ("initialize", "shutdown"):
                self.ids += 1
                message["id"] = self.ids
        body = json.dumps(message).encode()
        assert self.process.stdin is not None
        self.process.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.process.stdin.flush()
        return self.ids

    def diagnostics(self, uri: str, timeout: float = 60) -> list[dict[str, Any]]:
        """The first non-empty diagnostics published for *uri*, answering the server's requests."""
        while True:
            message = self.messages.get(timeout=timeout)
            if "id" in message and "method" in message:
                wanted = message.get("params", {}).get("items", [])
                self.send(None, message["id"], answer=[SETTINGS["yaml"]] * len(wanted) or None)
            elif message.get("method") == "textDocument/publishDiagnostics":
                if message["params"]["uri"] == uri and message["params"]["diagnostics"]:
                    return list(message["params"]["diagnostics"])

    def close(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)


SETTINGS = {"yaml": {"validate": True, "schemaStore": {"enable": False}, "schemas": {}}}


@pytest.mark.slow
def test_the_yaml_language_server_reports_both_planted_typos(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    command = language_server()
    schema_file = tmp_path / "config.schema.json"
    schema_file.write_text(json.dumps(schema(perfchart, "config")))
    config = tmp_path / "typos.yml"
    config.write_text(TYPOS.format(schema=schema_file.as_uri()))
    uri = config.as_uri()
    client = Client(command)
    try:
        client.send(
            "initialize",
            {
                "processId": os.getpid(),
                "rootUri": tmp_path.as_uri(),
                "capabilities": {"workspace": {"configuration": True}},
            },
        )
        client.send("initialized", {})
        client.send("workspace/didChangeConfiguration", {"settings": SETTINGS})
        client.send(
            "textDocument/didOpen",
            {
                "textDocument": {
                    "uri": uri,
                    "languageId": "yaml",
                    "version": 1,
                    "text": config.read_text(),
                }
            },
        )
        found = client.diagnostics(uri)
    finally:
        client.close()
    messages = [(d["range"]["start"]["line"], d["message"]) for d in found]
    lines = config.read_text().splitlines()
    typos = {lines.index("  repeet: 3"), lines.index("    timeot: 30s")}
    assert {line for line, _ in messages} == typos, messages
    assert all("not allowed" in message for _, message in messages), messages
