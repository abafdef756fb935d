"""The engine: charts in motion.

:class:`PolicyRunner` runs one policy's chart in a sismic interpreter and
gives its code the :class:`PolicyAPI` (``policy``); :class:`ParameterBatch`
turns one step's parameter changes into one run, and :class:`RunLedger`
owns every run from its update to its closed record; :class:`EventLoop` is the
one loop that sessions, dry runs, session tasks and the test harness turn;
``engine_for`` says whether a chart runs compiled (``compiled.py``, its table
kept on disk by ``tables.py``) or on sismic, and why.
"""

from .ledger import TIMEOUT, Cursor, Record, RunLedger, RunListener, Stats, Summary, run_ok
from .loop import EventLoop
from .parameters import ParameterBatch
from .policy import PolicyAPI
from .runner import Binding, PolicyRunner
from .tables import engine_for

__all__ = [
    "TIMEOUT",
    "Binding",
    "Cursor",
    "EventLoop",
    "ParameterBatch",
    "PolicyAPI",
    "PolicyRunner",
    "Record",
    "RunLedger",
    "RunListener",
    "Stats",
    "Summary",
    "engine_for",
    "run_ok",
]
