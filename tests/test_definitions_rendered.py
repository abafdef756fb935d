"""A ``define:`` value holding macros is rendered from the other definitions and ``meta:``, as the
original rendered ``marathon_url: "{{cluster_url}}/marathon"``; a definition that reads itself, or
a name with no value when the file loads, is an error at its line."""

from __future__ import annotations

from pathlib import Path

from tests.conftest import Perfchart

CONFIG = """\
config:
  parameters: [{{name: n}}]
  definitions:
    - name: base
      required: yes
define:
{define}
meta: {{team: core}}
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix: {{n: {{type: discrete, values: [1, 2]}}}}
    events: {{signal: {{OK: CmdlineExitZeroEvent}}}}
channels:
  - class: channel.CmdlineChannel
    cmdline: "echo {echo} {{{{n}}}}"
"""


def _write(tmp_path: Path, define: str, echo: str) -> Path:
    path = tmp_path / "c.yml"
    path.write_text(CONFIG.format(define=define, echo=echo))
    return path


def _printed(tmp_path: Path) -> list[str]:
    log = (tmp_path / "out" / "output.log").read_text().splitlines()
    return [line.split(" stdout: ", 1)[1] for line in log]


def test_definitions_read_definitions_and_meta_through_chains(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    define = (
        '  api: "{{url}}/api"\n'  # reads url, which reads base: the chain is followed
        '  url: "{{base}}/marathon"\n'
        '  owner: "{{meta:team}}-perf"\n'
        "  port: '{{eval(8000 + 80)}}'\n"
    )
    config = _write(tmp_path, define, "{{api}} {{owner}} {{port}}")
    done = perfchart("check", "-D", "base=http://h", str(config))
    assert done.returncode == 0, done.stderr
    done = perfchart(
        "run", "-q", "-D", "base=http://h", str(config), "--results", "out", cwd=tmp_path
    )
    assert done.returncode == 0, done.stderr
    assert _printed(tmp_path) == [f"http://h/marathon/api core-perf 8080 {n}" for n in (1, 2)]


def test_a_given_value_is_taken_as_given(perfchart: Perfchart, tmp_path: Path) -> None:
    config = _write(tmp_path, '  url: "{{base}}/marathon"\n', "{{url}}")
    args = ["-D", "base=http://h", "-D", "url=http://other"]
    done = perfchart("run", "-q", *args, str(config), "--results", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _printed(tmp_path) == ["http://other 1", "http://other 2"]


def test_a_definition_reading_itself_or_a_parameter_is_an_error_at_its_line(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    define = '  a: "{{b}}/x"\n  b: "{{a}}/y"\n  c: "{{n}}"\n  d: "{{d}}"\n'
    config = _write(tmp_path, define, "{{a}} {{c}} {{d}}")
    done = perfchart("check", "-D", "base=1", str(config))
    assert done.returncode == 2
    assert done.stderr.splitlines() == [
        f"error: {config}:7: define.a: definition 'a' reads itself: a -> b -> a",
        f"error: {config}:9: define.c: {{{{n}}}} has no value when the file loads: a definition "
        "is fixed for the session, so it reads other definitions and meta: values (give n in "
        "define: or with -D n=..., or write {{n}} where it is used)",
        f"error: {config}:10: define.d: definition 'd' reads itself: d -> d",
        "1 file checked: 3 errors, 0 warnings",
    ]
    done = perfchart("run", "-D", "base=1", str(config), "--results", str(tmp_path / "out"))
    assert done.returncode == 2
    assert done.stderr.startswith(f"perfchart: error: {config}:7: define.a: ")
    assert not (tmp_path / "out").exists()


def test_a_definition_that_fails_leaves_the_other_blocks_checked(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    config = _write(tmp_path, '  a: "{{a}}"\n', "{{a}}")
    config.write_text(
        config.read_text().replace('    cmdline: "echo', '    timout: 1\n    cmdline: "echo')
    )
    done = perfchart("check", "-D", "base=1", str(config))
    assert done.returncode == 2
    lines = done.stderr.splitlines()
    assert lines[0] == f"error: {config}:7: define.a: definition 'a' reads itself: a -> a"
    assert lines[1].startswith(f"error: {config}:16: channels[0].timout: unknown key 'timout'")
    assert lines[2] == "1 file checked: 2 errors, 0 warnings"


def test_a_chain_as_long_as_the_file_is_rendered_and_its_cycle_refused(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    """5,000 definitions each reading the next: no recursion limit is reached."""
    count = 5000
    chain = "".join(f'  a{i}: "{{{{a{i + 1}}}}}."\n' for i in range(count))
    config = _write(tmp_path, chain + "  a5000: end\n", "{{a0}}")
    done = perfchart("run", "-q", "-D", "base=1", str(config), "--results", "out", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert _printed(tmp_path) == ["end" + "." * count + f" {n}" for n in (1, 2)]
    config.write_text(config.read_text().replace("  a5000: end\n", '  a5000: "{{a0}}"\n'))
    done = perfchart("check", "-D", "base=1", str(config))
    assert done.returncode == 2
    assert done.stderr.startswith(
        f"error: {config}:7: define.a0: definition 'a0' reads itself: a0 -> a1 -> a2 -> "
    )
