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
from typing import Any, NamedTuple

from ..channels import Channel, channel_classes
from ..charts import Bound
from ..config import Located, format_values
from ..core import RUNTIME_EVENTS, TASK_EVENTS, Event
from ..errors import ConfigError
from ..filters import EventFilter

#: A configured channel: its name in messages (``channels[0]``) and its class.
Configured = tuple[str, type[Channel]]


class Waits(NamedTuple):
    """What one policy may wait for: its block's filters (found through its chart's config
    schema) and those its chart's code binds literally.
    """

    name: str
    block: Mapping[str, Any]
    schema: Mapping[str, Any] | None
    bound: Sequence[Bound]


def unanswered(
    policies: Iterable[Waits], channels: Sequence[Configured], tasks: bool
) -> list[ConfigError]:
    """One error for each event filter of *policies* that no event the config can publish
    matches; *tasks* says whether it has tasks.
    """
    published: list[type[Event]] = [*RUNTIME_EVENTS, *(TASK_EVENTS if tasks else ())]
    for _, cls in channels:
        events = getattr(cls, "events", None)
        if events is None:  # a plugin that does not say what it publishes: it may publish anything
            return []
        published.extend(events)
    errors: list[ConfigError] = []
    for policy in policies:
        found = format_values(policy.block, policy.schema, "event-filter") if policy.schema else []
        for container, key in found:
            why = _unanswered(container[key], "the policy", published, channels)
            if why is not None and isinstance(container, Located):
                errors.append(container.error(key, why))
        for bound in policy.bound:
            why = _unanswered(bound.text, policy.name, published, channels)
            if why is not None:
                errors.append(ConfigError(why, file=bound.file, line=bound.line, key=bound.place))
    return errors


def _unanswered(
    text: Any, who: str, published: Iterable[type[Event]], channels: Sequence[Configured]
) -> str | None:
    """Why filter *text* makes *who* wait for ever, or None when something may publish what it
    matches.
    """
    try:
        found = EventFilter(text)
    except ConfigError:  # validation, or the chart's checks, reported it already
        return None
    if any(found.selects(cls) for cls in published):
        return None
    names = " or ".join(sorted(found.class_names)) or repr(text)
    return (
        f"nothing this config runs publishes {names}, so {who} would wait for it for ever "
        f"({_publishers(found)}; {_configured(channels)})"
    )


def _publishers(found: EventFilter) -> str:
    """Which registered channels would publish what *found* matches."""
    classes = dict.fromkeys(channel_classes().values())
    names = [
        cls.names[-1]
        for cls in classes
        if any(found.selects(event) for event in getattr(cls, "events", ()))
    ]
    if not names:
        return "no channel publishes it"
    return f"only the {' or '.join(names)} channel publishes it"


def _configured(channels: Sequence[Configured]) -> str:
    """The channels the config has, as a message names them."""
    if not channels:
        return "this config has no channels"
    listed = ", ".join(f"{name} {cls.names[-1]}" for name, cls in channels)
    return f"its channels: {listed}"
