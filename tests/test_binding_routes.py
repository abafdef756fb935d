"""A runner decides once per event class which bindings an event can concern: a binding made after
its class was routed to none must still be reached, and a dropped one never again."""

from __future__ import annotations

from pathlib import Path

from interpreter.channels.cmdline import CmdlineExitNonzeroEvent, CmdlineExitZeroEvent
from interpreter.testing import PolicyHarness

#: A binds ``first``; B binds ``second`` to the class A ignored; C drops ``first``.
CHART = """\
statechart:
  name: Rebinding
  root state:
    name: R
    initial: A
    transitions:
      - target: Done
        event: interrupt
    states:
      - name: A
        on entry: policy.bind('first', 'CmdlineExitZeroEvent')
        transitions:
          - target: B
            event: first
      - name: B
        on entry: policy.bind('second', 'CmdlineExitNonzeroEvent')
        transitions:
          - target: C
            event: second
      - name: C
        on entry: policy.unbind('first')
        transitions:
          - target: Again
            event: first
          - target: Done
            event: second
      - name: Again
      - name: Done
        type: final
"""


def test_a_binding_made_or_dropped_after_its_class_was_routed_is_seen(tmp_path: Path) -> None:
    chart = tmp_path / "chart.yaml"
    chart.write_text(CHART)
    h = PolicyHarness(chart, {}, validate_config=False)
    assert sorted(h.states) == ["A", "R"]
    # Routed while no binding selects its class: the chart does not move.
    h.signal(CmdlineExitNonzeroEvent, traced=False, exitcode=1)
    assert sorted(h.states) == ["A", "R"]
    h.signal(CmdlineExitZeroEvent, traced=False, exitcode=0)
    assert sorted(h.states) == ["B", "R"]
    # ``second`` was bound after its class was routed to no binding: it arrives all the same.
    h.signal(CmdlineExitNonzeroEvent, traced=False, exitcode=1)
    assert sorted(h.states) == ["C", "R"]
    # ``first`` was dropped in C: its class reaches no chart, so Again is never entered.
    h.signal(CmdlineExitZeroEvent, traced=False, exitcode=0)
    assert sorted(h.states) == ["C", "R"]
    h.signal(CmdlineExitNonzeroEvent, traced=False, exitcode=1)
    assert h.final
    assert (h.runner.entered["Again"], h.runner.entered["Done"]) == (0, 1)
