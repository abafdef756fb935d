"""What writing results costs: per closed run, and at the end of a session.

    python benchmarks/results_files.py [N]      (default: 100000 runs)

Feeds N records shaped like a dry run's (two parameters, a status flag)
to every registered exporter, as the run ledger closes them, into a
temporary directory, then times ``finished``. The per-run figure is CPU
seconds per closed run; the end figure is the CPU and wall seconds of
``finished`` alone, the session-end phase budget B3 wants free of any pass
over the runs (the summary groups what it filed as runs closed).
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from interpreter.results import ExportContext, open_exports


def record(index: int) -> dict[str, object]:
    """A closed run's record as a dry run of benchmarks/dry_run.yml makes it."""
    return {
        "index": index, "repetition": 1, "policy": "multivariable-explorer", "run": index, "trace": index,
        "parameters": {"a": index % 100 + 1, "b": index // 100 + 1}, "flags": {"status": "OK"},
        "start": 1796082730.3941755, "exitcodes": [], "timedout": False, "last_stderr": None, "status": "OK",
        "ok": True, "end": 1796082730.3941755, "duration": 0.0, "dry_run": True, "metrics": {},
    }


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    records = [record(i) for i in range(1, runs + 1)]
    with tempfile.TemporaryDirectory() as folder:
        exports = open_exports(ExportContext(Path(folder) / "r"))
        exporters = exports.exporters
        started = time.process_time()
        for one in records:
            for exporter in exporters:
                exporter.finish(one)
            for exporter in exporters:
                exporter.closed(one)
        writing = time.process_time() - started
        cpu, wall = time.process_time(), time.perf_counter()
        exports.finished({"runs": runs, "ok": runs})
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"{runs} runs: exporters {writing / runs * 1e6:.1f} µs CPU per run; finish {cpu:.3f} s CPU, {wall:.3f} s wall")


if __name__ == "__main__":
    main()
