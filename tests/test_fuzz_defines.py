"""Generated ``-D`` values through the whole command: each given to ``perfchart run --dry-run`` and
``perfchart check`` of a config that reads it as a title, a repeat count, a stale timeout, a
policy parameter, a policy timeout and in a command. Every one is a session or one line with
exit 2, never an internal error or a traceback, each in bounded time."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.conftest import run_perfchart

CONFIG = """\
config:
  title: "{{title|sweep}}"
  repeat: "{{n|1}}"
  staleTimeout: "{{stale|1m}}"
  definitions:
    - {name: v, default: 1}
policies:
  - class: simple
    parameters: {p: "{{v}}", q: "{{v|2}}"}
    timeout: "{{timeout|1s}}"
    events: {end: CmdlineExitZeroEvent}
channels:
  - class: cmdline
    cmdline: "echo {{v}} {{p}}"
    timeout: "{{timeout|5s}}"
"""

NAMES = st.sampled_from(["title", "n", "stale", "v", "timeout", "unused"])
PIECES = st.sampled_from(
    ["[", "]", "{", "}", "a: ", ", ", "1" * 50, "9" * 5000, "&a ", "*a", "!!int ",
     "!!python/name:os.system ", "0x", "-", "'", '"', "\n", "2026-02-30", "nan", ".inf", "-1",
     "0", "1e400", "~", "yes", "\x00", "\t", "#", "{{v}}", "{{", "}}", "|", "3s", "1e10",
     "$(touch pwned)"]
)  # fmt: skip
VALUES = st.lists(PIECES | st.text(max_size=4), max_size=10).map("".join)


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("defines") / "c.yml"
    path.write_text(CONFIG)
    return path


@pytest.mark.slow
@settings(
    max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    defines=st.lists(st.tuples(NAMES, VALUES), min_size=1, max_size=3),
    command=st.sampled_from(["run", "check"]),
)
def test_any_define_gives_a_session_or_one_line(
    config: Path, defines: list[tuple[str, str]], command: str
) -> None:
    args = [arg for name, value in defines for arg in ("-D", f"{name}={value}")]
    if command == "run":
        argv = ["run", str(config), "--dry-run", "-q", "--results", str(config.parent / "r"), *args]
    else:
        argv = ["check", str(config), *args]
    done = run_perfchart(*argv, cwd=config.parent, timeout=30)
    assert done.returncode in (0, 1, 2), (defines, done.stderr)
    assert "internal error" not in done.stderr, (defines, done.stderr)
    assert "Traceback" not in done.stderr, (defines, done.stderr)
    assert not (config.parent / "pwned").exists()
    if done.returncode == 2 and command == "run":
        assert len(done.stderr.strip().splitlines()) == 1, (defines, done.stderr)
