"""Channels and tasks: how parameters reach the system under test.

A new channel is a :class:`Channel` subclass registered in the
``perfchart.channels`` entry point group (see :mod:`.registry`); the
command-line channel in :mod:`.cmdline` and the HTTP channel in :mod:`.http`
are registered the same way. Tasks,
command templates and child processes, which commands share, live here
too, as does the dry-run :mod:`.simulator` that stands in for all of them.
"""

from .base import Channel, ChannelContext
from .registry import channel_class, channel_classes, event_catalogue

__all__ = ["Channel", "ChannelContext", "channel_class", "channel_classes", "event_catalogue"]
