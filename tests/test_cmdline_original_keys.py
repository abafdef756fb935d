"""The original driver's CmdlineChannel keys: ``teardown``, ``gracePeriod`` and ``kind``."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from interpreter.config import load_yaml
from interpreter.errors import ConfigError
from interpreter.session.loader import channel_spec
from tests.harness import py
from tests.test_cmdline_channel import Recorder, bus, make, update

__all__ = ["bus", "make"]  # fixtures, used by name

SERVE = py("import time; print('up', flush=True); time.sleep(30)")
STUBBORN = py(
    "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
    "print('up', flush=True); time.sleep(30)"
)


def test_kind_renames_the_streams_of_its_lines(bus, make) -> None:
    code = "import sys; print('out'); print('err', file=sys.stderr)"
    make({"cmdline": py(code) + " {{n}}", "kind": {"stdout": "app", "stderr": "trouble"}})
    recorder = Recorder(bus)
    update(bus, 1, n=1)
    recorder.wait_exits()
    assert recorder.lines(stream="app") == ["out"]
    assert recorder.lines(stream="trouble") == ["err"]


def test_teardown_runs_before_each_stop_with_the_stopped_runs_values(
    bus, make, tmp_path: Path
) -> None:
    log = tmp_path / "log"
    channel = make({"cmdline": SERVE + " {{n}}", "teardown": f"echo down {{{{n}}}} >> {log}"})
    recorder = Recorder(bus)
    update(bus, 1, n=1)
    recorder.wait_for(lambda _: recorder.lines() == ["up"])
    update(bus, 2, {"n": 1}, n=2)
    recorder.wait_for(lambda _: recorder.lines() == ["up", "up"])
    assert log.read_text() == "down 1\n"
    channel.close()
    assert log.read_text() == "down 1\ndown 2\n"


def test_grace_period_is_the_time_between_sigterm_and_sigkill(bus, make) -> None:
    channel = make({"cmdline": STUBBORN + " {{n}}", "gracePeriod": "200ms"})
    recorder = Recorder(bus)
    update(bus, 1, n=1)
    recorder.wait_for(lambda _: recorder.lines() == ["up"])
    started = time.monotonic()
    channel.close()
    assert time.monotonic() - started < 1.5  # the default grace is 2s
    assert recorder.wait_exits()[0].exitcode == -9


@pytest.mark.parametrize(
    ("text", "key", "message"),
    [
        ("gracePeriod: soon", "channels[0].gracePeriod", "expected a duration"),
        ("kind: {stdout: app, stdin: x}", "channels[0].kind.stdin", "unknown key 'stdin'"),
        ("teardown: ''", "channels[0].teardown", ""),
    ],
)
def test_bad_keys_are_refused_at_their_line(text: str, key: str, message: str) -> None:
    block = load_yaml(f"channels:\n  - class: cmdline\n    cmdline: run\n    {text}\n", "c.yml")
    with pytest.raises(ConfigError) as caught:
        channel_spec(0, block["channels"][0])
    assert (caught.value.line, caught.value.key) == (4, key)
    assert message in caught.value.message


def test_the_default_grace_is_the_process_machinerys() -> None:
    from interpreter.channels.cmdline import DEFAULT_GRACE
    from interpreter.channels.process import KILL_GRACE

    assert DEFAULT_GRACE == KILL_GRACE
