"""Resuming a session into the results directory it left: what is done, and whether it may go on.

The same run is the same policy (its chart's name), the same repetition
and the same values of the policy's matrix parameters. A run is done when
``runs.jsonl`` holds its record with a status of its own; runs the session
cut short (status ``interrupted`` or ``error``) run again, and their new
record is appended after the old one. Index, run number and trace continue
after those already recorded, so no two records share them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import UsageError
from .reader import SessionReader

log = logging.getLogger("perfchart")

#: Statuses the session gives the runs it cuts short: they are not done.
CUT_SHORT = frozenset({"interrupted", "error"})


@dataclass
class Previous:
    """The results a resumed session continues."""

    directory: Path
    meta: dict[str, Any]
    records: list[dict[str, Any]]
    forced: bool = False
    _done: dict[tuple[str, int], list[Mapping[str, Any]]] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for record in self.records:
            if record.get("status") not in CUT_SHORT:
                key = (str(record.get("policy")), int(record.get("repetition") or 1))
                self._done.setdefault(key, []).append(record.get("parameters") or {})

    def done(self, policy: str, repetition: int) -> list[Mapping[str, Any]]:
        """The parameters of the runs of *policy* in *repetition* that are done."""
        return self._done.get((policy, repetition), [])

    @property
    def skipped(self) -> int:
        return sum(len(done) for done in self._done.values())

    def last_run(self, policy: str, repetition: int) -> int:
        """The highest run number recorded for *policy* in *repetition*, cut short or not."""
        runs = (
            int(r.get("run") or 0)
            for r in self.records
            if r.get("policy") == policy and int(r.get("repetition") or 1) == repetition
        )
        return max(runs, default=0)

    def highest(self, key: str) -> int:
        """The highest ``index`` or ``trace`` recorded, so new records continue after it."""
        return max((int(record.get(key) or 0) for record in self.records), default=0)


def load_previous(
    directory: Path,
    *,
    config_sha256: str,
    definitions: Mapping[str, Any],
    seed: int | None,
    dry_run: bool,
    force: bool,
) -> Previous:
    """Read *directory* and check that the session about to start is the one that wrote it.

    A different configuration file (by SHA-256), other definitions, another
    seed or a dry run resuming a real one (or the reverse) is refused unless
    *force* is given. A last line cut off mid-write (a crash, a power cut)
    is removed with a warning; any other unreadable line is refused.
    """
    if not (directory / "meta.json").exists():
        raise UsageError(
            f"{directory}: no results to resume (no meta.json); give the directory a session wrote"
        )
    reader = SessionReader(directory)
    meta = reader.meta
    changes = []
    if meta.get("config_sha256") != config_sha256:
        changes.append(
            f"the configuration file changed (sha256 {str(meta.get('config_sha256'))[:12]}…, now "
            f"{config_sha256[:12]}…)"
        )
    if json.loads(json.dumps(definitions, default=str)) != meta.get("definitions"):
        changes.append("the definitions (define:, -D) differ")
    if seed is not None and seed != meta.get("seed"):
        changes.append(
            f"--seed {seed} differs from the seed {meta.get('seed')} the samples were drawn with"
        )
    if bool(meta.get("dry_run")) != dry_run:
        changes.append("a dry run cannot continue a real run, nor the reverse")
    if changes and not force:
        raise UsageError(
            f"{directory}: cannot resume: {'; '.join(changes)}; give --force to resume anyway"
        )
    for change in changes:
        log.warning("resuming although %s (--force)", change)
    return Previous(
        directory, meta, list(reader.runs(missing_ok=True, resuming=True)), forced=bool(changes)
    )
