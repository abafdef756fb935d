"""``perfchart run`` on a real pseudo-terminal 80 columns wide: the progress line never wraps, the
summary fits, and every number is whole.

The command runs in a fresh interpreter whose stdin, stdout and stderr are
the slave side of a pty set to 80 × 24; what it writes is read from the
master side and split where a terminal would start a new row (a newline, a
carriage return, a cursor movement), after its escape sequences are taken
out.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from rich.cells import cell_len

from tests.conftest import PERFCHART, sweep_config

ROOT = Path(__file__).resolve().parent.parent
COLUMNS = 80

#: Escape sequences: CSI (cursor moves, erase, colours) and OSC (titles, links).
ESCAPE = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[()][0-9A-B]")
#: A row of the terminal begins after a newline, a carriage return or a cursor movement.
ROW_BREAK = re.compile(r"\r\n|\r|\n|\x1b\[[0-9]*[ABEFGH]")
#: A number cut by rich ("101…") or a wrapped cell would leave a digit beside an ellipsis.
CUT_NUMBER = re.compile(r"\d…|…\d")
#: hyperfine's cells: ``145.6 ms ± 59.2 ms`` and ``81.4 ms … 312.5 ms`` (with a unit or none).
QUANTITY = r"-?\d+(?:\.\d+)?(?: [^\s\d±…]+)?"
MEAN_SD = re.compile(rf"{QUANTITY} ± {QUANTITY}")
SPAN = re.compile(rf"{QUANTITY} … {QUANTITY}")


def on_a_terminal(
    args: list[str], cwd: Path, columns: int = COLUMNS, timeout: float = 120, status: int = 0
) -> str:
    """Run ``perfchart *args`` on a pty *columns* wide; everything it wrote, decoded (it must exit
    with *status*).
    """
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, columns, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES", "NO_COLOR")}
    env.update(TERM="xterm-256color", PYTHONPATH=str(ROOT))
    process = subprocess.Popen(
        [*PERFCHART, *args], stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env
    )
    os.close(slave)
    chunks: list[bytes] = []
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: every writer closed the slave side
                    break
                if not chunk:
                    break
                chunks.append(chunk)
            elif process.poll() is not None:
                break
        assert process.wait(timeout=10) == status, b"".join(chunks).decode(errors="replace")
    finally:
        os.close(master)
        if process.poll() is None:
            process.kill()
    return b"".join(chunks).decode()


def rows(output: str) -> list[str]:
    """The rows a terminal shows, escape sequences removed, trailing blanks stripped."""
    return [ESCAPE.sub("", row).rstrip() for row in ROW_BREAK.split(output)]


@pytest.fixture(scope="module")
def sweep_output(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The README's sweep (3 × 2 sets, 3 repetitions, two metrics with units, durations)."""
    tmp = tmp_path_factory.mktemp("terminal")
    output = on_a_terminal(
        ["run", str(ROOT / "examples" / "sweep.yml"), "--results", str(tmp / "r")], cwd=tmp
    )
    return rows(output)


@pytest.mark.slow
def test_no_row_is_wider_than_the_terminal(sweep_output: list[str]) -> None:
    wide = [row for row in sweep_output if cell_len(row) > COLUMNS]
    assert not wide, "\n".join(wide)


@pytest.mark.slow
def test_the_progress_line_is_one_row_with_its_counts_and_times_whole(
    sweep_output: list[str],
) -> None:
    summary = next(i for i, row in enumerate(sweep_output) if row.startswith("18 runs,"))
    progress = [row for row in sweep_output[:summary] if "━" in row]
    assert progress, sweep_output[:summary]
    whole = re.compile(r" \d+/18 \d:\d\d:\d\d ETA (?:\d:\d\d:\d\d|-:--:--)")
    assert [row for row in progress if not whole.search(row)] == []
    # A wrapped progress line leaves rows that are neither a progress line, a log line nor blank.
    others = [
        row
        for row in sweep_output[:summary]
        if row.strip() and "━" not in row and not row.startswith(("INFO", "WARNING"))
    ]
    assert others == []
    assert "18/18" in progress[-1]


@pytest.mark.slow
def test_the_summary_fits_with_each_number_whole_and_on_one_row(sweep_output: list[str]) -> None:
    summary = sweep_output[
        next(i for i, r in enumerate(sweep_output) if r.startswith("18 runs,")) :
    ]
    text = "\n".join(summary)
    assert not CUT_NUMBER.search(text), text
    metric_rows = [row for row in summary if re.search(r"\b(hash_time|throughput|duration)\b", row)]
    # Each of the 6 sets has its 3 metrics; a row per metric, whose mean ± σ is on that row whole.
    assert len([row for row in metric_rows if MEAN_SD.search(row)]) == 18, text
    # and its min … max whole on the next row (or on the same row, when that fits): for those 3
    # and for the command's 3 built-in metrics (cpu_user, cpu_system, max_rss).
    spans = [row for row in summary if SPAN.search(row)]
    assert len(spans) == 36, text
    # One unit per row: hash_time is in ms (as its config says) and durations in ms, not s.
    for row in metric_rows:
        if "duration" in row and "±" in row:
            assert re.search(r"\d ms ± \d+\.\d+ ms", row), row
        if "throughput" in row and "±" in row:
            assert re.search(r"MiB/s ± \d+(\.\d+)? MiB/s", row), row
    assert "ran" in text
    assert re.search(r"\d+\.\d\d ± \d+\.\d\d times faster than size=", text)


@pytest.mark.slow
def test_each_log_line_is_shown_once(sweep_output: list[str]) -> None:
    exploring = {row for row in sweep_output if "exploring 6 permutations" in row}
    assert len(exploring) == 1, exploring
    # The progress display redraws; the log line itself is printed once, above it.
    assert sum("exploring 6 permutations" in row for row in sweep_output) == 1


@pytest.mark.slow
def test_with_v_the_whole_wait_is_shown_under_the_progress_line(tmp_path: Path) -> None:
    config = tmp_path / "slow.yml"
    config.write_text(
        sweep_config(
            "\"{{python}} -c 'import time; time.sleep(0.7)' {{a}}\"",
            matrix={"a": "{type: discrete, values: [1, 2]}"},
        )
    )
    shown = rows(
        on_a_terminal(
            ["run", str(config), "-v", "-D", f"python={sys.executable}", "--results", "r"],
            cwd=tmp_path,
        )
    )
    # The whole wait, on rows of its own under the progress line (which has it cut with "…").
    whole = "in Waiting, waiting for signal: CmdlineExitZeroEvent | CmdlineExitNonzeroEvent"
    assert any(row.startswith(whole) for row in shown), shown
    assert any(re.fullmatch(r"\(\d+s of \d+s before stalled\)", row) for row in shown), shown
