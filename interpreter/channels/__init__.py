"""Channels and tasks: how parameters reach the system under test.

A new channel is a :class:`Channel` subclass registered in the
``perfchart.channels`` entry point group (see :mod:`.registry`); the
command-line channel in :mod:`.cmdline` and the HTTP channel in :mod:`.http`
are registered the same way and are loaded through it, not through this
face. Tasks, command templates and child processes, which commands share,
live here too, as does the dry run's :class:`Simulator`, the channel that
stands in for all of them. :mod:`.process` is imported only by what starts
a process, so loading a configuration never imports ``subprocess``.
"""

from .base import Channel, ChannelContext, Simulation
from .registry import channel_class, channel_classes
from .simulator import Simulator
from .tasks import TaskRunner, TaskSpec, task_specs

__all__ = [
    "Channel",
    "ChannelContext",
    "Simulation",
    "Simulator",
    "TaskRunner",
    "TaskSpec",
    "channel_class",
    "channel_classes",
    "task_specs",
]
