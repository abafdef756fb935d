"""Refusing a policy that would wait for an event nothing in its configuration can publish.

A policy's event filters (``events.end``, ``signal:``, ``start`` ...) are
its waits. Each must be able to match an event the runtime publishes in
every session, one a configured channel declares in its ``events``, or a
task's output; otherwise the run would wait for ever (a Simple policy bound
to ``HTTPResponseEndEvent`` with only a cmdline channel, or to
``CmdlineExitZeroEvent`` with no channel at all). It is refused while the
file loads, real and dry alike, at the filter's line, naming the event and
the channels there are, before anything starts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from ..channels import Channel, channel_classes
from ..config import Located, format_values
from ..core import RUNTIME_EVENTS, TASK_EVENTS, Event
from ..errors import ConfigError
from ..filters import EventFilter

#: A configured channel: its name in messages (``channels[0]``) and its class.
Configured = tuple[str, type[Channel]]


def unanswered(
    policies: Iterable[tuple[Mapping[str, Any], Mapping[str, Any] | None]],
    channels: Sequence[Configured],
    tasks: bool,
) -> list[ConfigError]:
    """One error for each event filter of *policies* (each block with its chart's config schema)
    that no event the config can publish matches; *tasks* says whether it has tasks.
    """
    published: list[type[Event]] = [*RUNTIME_EVENTS, *(TASK_EVENTS if tasks else ())]
    for _, cls in channels:
        published.extend(cls.events)
    errors: list[ConfigError] = []
    for block, schema in policies:
        if schema is None:
            continue
        for container, key in format_values(block, schema, "event-filter"):
            found = _unanswered(container[key], published, channels)
            if found is not None and isinstance(container, Located):
                errors.append(container.error(key, found))
    return errors


def _unanswered(
    text: Any, published: Iterable[type[Event]], channels: Sequence[Configured]
) -> str | None:
    """Why filter *text* waits for ever, or None when something may publish what it matches."""
    try:
        found = EventFilter(text)
    except ConfigError:  # validation reported it already
        return None
    if any(found.selects(cls) for cls in published):
        return None
    names = " or ".join(sorted(found.class_names)) or repr(text)
    return (
        f"nothing this config runs publishes {names}, so the policy would wait for it for ever "
        f"({_publishers(found)}; {_configured(channels)})"
    )


def _publishers(found: EventFilter) -> str:
    """Which registered channels would publish what *found* matches."""
    classes = dict.fromkeys(channel_classes().values())
    names = [cls.names[-1] for cls in classes if any(found.selects(event) for event in cls.events)]
    if not names:
        return "no channel publishes it"
    return f"only the {' or '.join(names)} channel publishes it"


def _configured(channels: Sequence[Configured]) -> str:
    """The channels the config has, as a message names them."""
    if not channels:
        return "this config has no channels"
    listed = ", ".join(f"{name} {cls.names[-1]}" for name, cls in channels)
    return f"its channels: {listed}"
