"""``shell:`` names the shell a command line runs in: ``yes`` is ``/bin/sh``, a name is looked up on
PATH when the configuration loads, and a shell that is not there is one error at its line."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from interpreter.channels.commands import CommandTemplate
from tests.conftest import Perfchart, environ
from tests.test_cmdline_channel import Recorder, bus, make, update

__all__ = ["bus", "make"]  # fixtures, used by name

#: The shells a test names: dash and bash must be installed (.ci/run installs them), busybox is
#: tried where it is.
SHELLS = ["dash", "bash"] + ["busybox"] * bool(shutil.which("busybox"))
#: What an error about a missing shell ends with.
HINT = "; name an installed shell (bash, dash, /bin/sh) or set shell: yes for /bin/sh"

CONFIG = """\
config:
  parameters:
    - name: a
policies:
  - class: policy.MultivariableExplorerPolicy
    matrix:
      a: {{type: discrete, values: [3, 4]}}
    events:
      signal:
        OK: CmdlineExitEvent
channels:
  - class: channel.CmdlineChannel
    cmdline: {cmdline}
    shell: {shell}
"""


def _lines(results: Path) -> list[str]:
    """What the runs printed, in order, without output.log's prefixes."""
    log = (results / "output.log").read_text().splitlines()
    return [line.split(" stdout: ", 1)[1] for line in log if " stdout: " in line]


def test_yes_is_bin_sh_and_a_name_is_the_program_found_on_path() -> None:
    assert CommandTemplate({"cmdline": "true", "shell": True}).render({}).argv[0] == "/bin/sh"
    bash = CommandTemplate({"cmdline": "echo {{x}}", "shell": "bash"}).render({"x": 1})
    assert bash.argv == [shutil.which("bash"), "-c", 'echo "${PERFCHART_x}"']
    assert bash.env == {"PERFCHART_x": "1"}


@pytest.mark.skipif("busybox" not in SHELLS, reason="no busybox on this machine")
def test_a_shell_with_arguments_keeps_them_before_dash_c() -> None:
    command = CommandTemplate({"cmdline": "true", "shell": "busybox sh"}).render({})
    assert command.argv == [shutil.which("busybox"), "sh", "-c", "true"]


@pytest.mark.parametrize(
    ("shell", "says"),
    [
        ("no-such-shell-here", f"shell 'no-such-shell-here' is not found on PATH{HINT}"),
        ("/no/such/sh", f"shell '/no/such/sh' is not an executable file{HINT}"),
        ("''", "expected yes, no or a shell such as bash, got ''"),
        ("3", "expected true or false or a string, got an integer"),
        ("'bash \"-x'", "cannot split 'bash \"-x': No closing quotation"),
    ],
)
def test_a_shell_that_is_not_there_is_one_error_at_its_line(
    perfchart: Perfchart, tmp_path: Path, shell: str, says: str
) -> None:
    config = tmp_path / "c.yml"
    config.write_text(CONFIG.format(cmdline="'echo {{a}}'", shell=shell))
    for command in (["check"], ["run", "--results", str(tmp_path / "out")]):
        done = perfchart(*command, str(config))
        assert done.returncode == 2, done.stderr
        first = done.stderr.splitlines()[0]
        assert first.endswith(f"error: {config}:14: channels[0].shell: {says}"), done.stderr
        assert "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "runs.csv").exists()


@pytest.mark.parametrize("shell", SHELLS)
def test_each_shell_runs_the_command_it_is_named_for(
    perfchart: Perfchart, tmp_path: Path, shell: str
) -> None:
    """``$BASH_VERSION`` is set in bash alone; the arithmetic is each shell's own."""
    name = "busybox sh" if shell == "busybox" else shell
    config = tmp_path / "c.yml"
    config.write_text(
        CONFIG.format(cmdline="'echo $(({{a}} * 7)) ${BASH_VERSION:+bash}'", shell=name)
    )
    done = perfchart("run", "-q", str(config), "--results", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    suffix = " bash" if shell == "bash" else ""
    assert _lines(tmp_path / "out") == [f"{3 * 7}{suffix}", f"{4 * 7}{suffix}"]


def test_a_name_is_looked_up_on_the_path_perfchart_was_started_with(
    perfchart: Perfchart, tmp_path: Path
) -> None:
    """A shell of one's own in a PATH directory: found there when the configuration loads."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    mysh = bin_dir / "mysh"
    mysh.write_text('#!/bin/sh\necho "mysh $*"\n')
    mysh.chmod(0o755)
    config = tmp_path / "c.yml"
    config.write_text(CONFIG.format(cmdline="'echo {{a}}'", shell="mysh"))
    env = environ(PATH=f"{bin_dir}:/usr/bin:/bin")
    done = perfchart(
        "run", "-q", str(config), "--results", str(tmp_path / "out"), env=env, subprocess=True
    )
    assert done.returncode == 0, done.stderr
    assert _lines(tmp_path / "out") == ['mysh -c echo "${PERFCHART_a}"'] * 2
    done = perfchart("check", str(config), subprocess=True)
    assert done.returncode == 2
    assert "shell 'mysh' is not found on PATH" in done.stderr


def test_the_teardown_runs_in_the_channels_shell(bus, make, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    teardown = f"echo down {{{{n}}}} ${{BASH_VERSION:+bash}} >> {marks}"
    channel = make({"cmdline": "echo up; sleep 30 # {{n}}", "shell": "bash", "teardown": teardown})
    recorder = Recorder(bus)
    update(bus, 1, n=1)
    recorder.wait_for(lambda _: recorder.lines() == ["up"])
    channel.close()
    assert marks.read_text() == "down 1 bash\n"


def test_a_task_names_its_shell_too(perfchart: Perfchart, tmp_path: Path) -> None:
    marks = tmp_path / "marks"
    config = tmp_path / "c.yml"
    config.write_text(
        CONFIG.format(cmdline="'echo {{a}}'", shell="yes")
        + "tasks:\n  - at: setup\n    shell: bash\n"
        + f"    cmdline: 'echo ${{BASH_VERSION:+bash}} > {marks}'\n"
    )
    done = perfchart("run", "-q", str(config), "--results", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert marks.read_text() == "bash\n"
    config.write_text(config.read_text().replace("shell: bash", "shell: nosh-x"))
    done = perfchart("check", str(config))
    assert done.returncode == 2
    assert f"{config}:17: tasks[0].shell: shell 'nosh-x' is not found on PATH" in done.stderr
