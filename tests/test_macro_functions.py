"""The original driver's macro functions: uuid(), date(), safepath(), eval(), {{meta:name}}.

Each is checked where users meet it: rendered values, ``perfchart check``
(a ``{{…}}`` that is no macro is an error at its line) and ``perfchart run``
against the loopback server, where every request gets its own UUID.
"""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path

import pytest

from interpreter.config import BadMacro, MacroError, MissingMacro, render_string
from tests.conftest import Perfchart
from tests.httpserver import serving


def test_uuid_gives_a_fresh_version_4_uuid_each_rendering() -> None:
    first, second = render_string("{{uuid()}}", {}), render_string("{{ uuid() }}", {})
    assert first != second
    # As the original: the 32 hex digits, without dashes.
    assert uuid.UUID(first).version == 4
    assert uuid.UUID(first).hex == first


def test_date_formats_the_local_time_with_strftime() -> None:
    before = time.strftime("%Y%m%d")
    rendered = render_string("metrics/{{date(%Y%m%d)}}-results.json", {})
    assert rendered in (
        f"metrics/{before}-results.json",
        f"metrics/{time.strftime('%Y%m%d')}-results.json",
    )
    assert render_string("{{date('%Y')}}", {}) == time.strftime("%Y")


def test_safepath_replaces_separators_and_parent_references() -> None:
    values = {"name": "../etc/passwd", "win": "a\\b"}
    assert render_string("{{safepath(name)}}", values) == "__etc_passwd"
    assert render_string("{{safepath(win)}}", values) == "a_b"
    assert render_string("{{safepath(missing|'x/y')}}", values) == "x_y"


def test_eval_goes_through_the_safe_evaluator_and_keeps_its_type() -> None:
    assert render_string("{{eval(apps * tasks)}}", {"apps": 3, "tasks": 4}) == 12
    assert render_string("n={{eval(max(a, b) + 1)}}", {"a": 1, "b": 5}) == "n=6"
    assert render_string("{{eval(a | b)}}", {"a": 1, "b": 2}) == 3
    with pytest.raises(MissingMacro):
        render_string("{{eval(nope + 1)}}", {})
    assert render_string("{{eval(nope + 1)|0}}", {}) == 0
    with pytest.raises(MacroError, match="division by zero"):
        render_string("{{eval(1 / z)}}", {"z": 0})
    for code in ("__import__('os')", "open('x', 'w')", "(1).__class__", "[x for x in y]"):
        with pytest.raises(BadMacro, match="not allowed"):
            render_string(f"{{{{eval({code})}}}}", {"y": [1]})


def test_quoted_defaults_are_unquoted_and_stay_text() -> None:
    assert render_string("{{things|'here!'}}", {}) == "here!"
    assert render_string('say {{things|"here!"}}', {}) == "say here!"
    assert render_string("{{n|'5'}}", {}) == "5"
    assert render_string("{{n|5}}", {}) == 5
    assert render_string("{{meta:version|1.0}}", {"meta:version": "2.1"}) == "2.1"


@pytest.mark.parametrize(
    ("macro", "says"),
    [
        ("{{nosuch()}}", "unknown function nosuch() (functions: uuid(), date(format)"),
        ("{{uuid(3)}}", "uuid() takes no argument"),
        ("{{date()}}", "date() needs a strftime format"),
        ("{{two words}}", "expected {{name}}, {{name|default}}, {{meta:name}} or a function"),
        ("{{eval(import os)}}", "import is not allowed"),
    ],
)
def test_a_braced_text_that_is_no_macro_is_refused(macro: str, says: str) -> None:
    with pytest.raises(BadMacro, match="^macro ") as caught:
        render_string(f"x {macro}", {})
    assert says in caught.value.message


CHANNEL = """\
config:
  meta:
    version: "1.2"
  title: macros
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      size: {{type: discrete, values: [1, 2]}}
    events:
      signal:
        OK: CmdlineExitZeroEvent
        FAILED: CmdlineExitNonzeroEvent
channels:
  - class: channel.CmdlineChannel
    shell: yes
    cmdline: "{cmdline}"
"""


def test_a_macro_that_is_no_macro_fails_check_at_its_line(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CHANNEL.format(cmdline="echo {{size}} {{nosuch()}}"))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert done.stderr.splitlines()[0] == (
        f"error: {config}:16: channels[0].cmdline: macro {{{{nosuch()}}}}: unknown function "
        "nosuch() "
        "(functions: uuid(), date(format), safepath(macro), eval(expression))"
    )
    assert perfchart("run", str(config), "--results", str(tmp_path / "r"), "-q").returncode == 2
    assert not (tmp_path / "r").exists()


def test_a_bad_macro_anywhere_in_the_config_is_an_error_at_its_line(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CHANNEL.format(cmdline="echo {{size}}").replace('"1.2"', '"{{vers ion}}"'))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"error: {config}:3: config.meta.version: macro {{{{vers ion}}}}: expected"
    )


def test_eval_of_python_code_is_refused_when_the_config_loads(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CHANNEL.format(cmdline="echo {{eval(open('pwned', 'w'))}}"))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert (
        f"{config}:16: channels[0].cmdline: macro {{{{eval(open('pwned', 'w'))}}}}: " in done.stderr
    )
    assert "calling 'open' is not allowed" in done.stderr
    assert not (tmp_path / "pwned").exists()


def test_eval_of_a_name_nothing_gives_is_an_error_at_load(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CHANNEL.format(cmdline="echo {{eval(size * sise)}}"))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert (
        f"{config}:16: channels[0].cmdline: macro {{{{sise}}}} is not a definition" in done.stderr
    )


@pytest.mark.slow
def test_the_functions_reach_a_command_and_check_strict_is_clean(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    cmdline = (
        "echo {{meta:version}} {{eval(size * 10)}} {{safepath(where)}} {{uuid()}} {{date(%Y)}}"
        " {{label|'a b'}}"
    )
    config = tmp_path / "c.yml"
    config.write_text(CHANNEL.format(cmdline=cmdline))
    defines = ("-D", "where=a/../b")
    years = {time.strftime("%Y")}
    done = perfchart("check", "--strict", str(config), *defines)
    assert done.returncode == 0, done.stderr
    assert "0 errors, 0 warnings" in done.stderr
    done = perfchart("run", str(config), *defines, "--results", str(tmp_path / "r"), "-q")
    assert done.returncode == 0, done.stderr
    lines = [
        line.split(" stdout: ", 1)[1]
        for line in (tmp_path / "r" / "output.log").read_text().splitlines()
    ]
    words = [line.split() for line in lines]
    assert [w[:3] for w in words] == [["1.2", "10", "a___b"], ["1.2", "20", "a___b"]]
    assert [w[5:] for w in words] == [["a", "b"], ["a", "b"]]
    years.add(time.strftime("%Y"))
    assert {words[0][4], words[1][4]} <= years
    uuids = [w[3] for w in words]
    assert uuids[0] != uuids[1]
    assert all(uuid.UUID(u).version == 4 for u in uuids)


def test_a_meta_value_that_is_not_there_is_an_error_at_load(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CHANNEL.format(cmdline="echo {{size}} {{meta:build}}"))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert (
        f"{config}:16: channels[0].cmdline: macro {{{{meta:build}}}}: config.meta has no value "
        "'build'" in done.stderr
    )


HTTP = """\
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      n: {type: discrete, values: [1, 2]}
    events:
      signal:
        OK: "HTTPLastResponseEndEvent[status<400] HTTPOnlyResponseEndEvent[status<400]"
        FAILED: "HTTPResponseErrorEvent"
channels:
  - class: channel.HTTPChannel
    url: "{{base}}/apps"
    verb: POST
    repeat: 3
    body: |
      {"n": {{n}}, "id": "/scale-instances/{{uuid()}}"}
"""


def _sent_ids(server: object) -> list[str]:
    return [json.loads(seen.body)["id"].rsplit("/", 1)[1] for seen in server.seen]  # type: ignore[attr-defined]


@pytest.mark.slow
def test_uuid_in_an_http_body_differs_for_every_request(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "http.yml"
    config.write_text(HTTP)
    with serving() as server:
        done = perfchart(
            "run", str(config), "-D", f"base={server.url}", "--results", str(tmp_path / "r"), "-q"
        )
    assert done.returncode == 0, done.stderr
    assert [json.loads(seen.body)["n"] for seen in server.seen] == [1, 1, 1, 2, 2, 2]
    ids = _sent_ids(server)
    assert len(set(ids)) == 6
    assert all(uuid.UUID(i).version == 4 for i in ids)
    assert all("Authorization" not in seen.headers for seen in server.seen)


@pytest.mark.slow
def test_a_dcos_auth_token_definition_sends_the_original_authorization_header(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = tmp_path / "http.yml"
    config.write_text(HTTP)
    with serving() as server:
        done = perfchart(
            "run",
            str(config),
            "-D",
            f"base={server.url}",
            "-D",
            "dcos_auth_token=s3cr3t",
            "--results",
            str(tmp_path / "r"),
            "-q",
        )
    assert done.returncode == 0, done.stderr
    assert [seen.headers.get("Authorization") for seen in server.seen] == ["token=s3cr3t"] * 6
    # A header of the block's own wins, as in the original.
    config.write_text(HTTP + "    headers:\n      authorization: Bearer mine\n")
    with serving() as server:
        done = perfchart(
            "run",
            str(config),
            "-D",
            f"base={server.url}",
            "-D",
            "dcos_auth_token=s3cr3t",
            "--results",
            str(tmp_path / "r2"),
            "-q",
        )
    assert done.returncode == 0, done.stderr
    assert [seen.headers.get("authorization") for seen in server.seen] == ["Bearer mine"] * 6
    assert all(seen.headers.get("Authorization") in (None, "Bearer mine") for seen in server.seen)
