"""The engine: charts in motion.

:class:`PolicyRunner` runs one policy's chart in a sismic interpreter and
gives its code the :class:`PolicyAPI` (``policy``); :class:`ParameterBatch`
turns one step's parameter changes into one run; :class:`EventLoop` is the
one loop that sessions, dry runs, session tasks and the test harness turn.
"""

from .loop import EventLoop
from .parameters import ParameterBatch
from .policy import PolicyAPI
from .runner import Binding, PolicyRunner

__all__ = ["Binding", "EventLoop", "ParameterBatch", "PolicyAPI", "PolicyRunner"]
