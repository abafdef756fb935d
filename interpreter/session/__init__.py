"""The top floor: a session composed from a loaded test configuration, and run.

:func:`load_config` reads a configuration in the original driver's format
and resolves what it names (bundled or user charts, channel and tracker
plugins, tasks, metrics); :class:`Session` builds the clock, the bus, the
channels, the ledger and the results files from it and runs every policy.
This is the only room that puts channels and results files together.
"""

from .loader import (
    ChannelSpec,
    ParameterSpec,
    PolicySpec,
    TestConfig,
    TrackerSpec,
    load_config,
    parse_define,
)
from .session import (
    ENDING_SIGNALS,
    EXIT_BAD_INPUT,
    EXIT_FAILED_RUNS,
    EXIT_INTERRUPTED,
    EXIT_OK,
    Session,
    SessionUI,
    unhandled,
)

__all__ = [
    "ENDING_SIGNALS",
    "EXIT_BAD_INPUT",
    "EXIT_FAILED_RUNS",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "ChannelSpec",
    "ParameterSpec",
    "PolicySpec",
    "Session",
    "SessionUI",
    "TestConfig",
    "TrackerSpec",
    "load_config",
    "parse_define",
    "unhandled",
]
