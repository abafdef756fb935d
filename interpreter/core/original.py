"""The original driver's classes, in one table: what perfchart implements, refuses, and offers
instead.

Configs written for the original name its classes (``policy.…``, ``channel.…``,
``observer.…``, ``tracker.…``, ``reporter.…``, ``indicator.…``, ``tasks.…``)
and its events. A name in this table is never a typo, so its refusal says
what it is and never guesses a near name. ``docs/configuration.md`` renders
the same table, and a test holds the two together.
"""

from __future__ import annotations

from typing import NamedTuple

#: The kinds of class, in the order the table is shown.
KINDS = ("policy", "channel", "observer", "tracker", "reporter", "indicator", "task", "event")

RESULTS = "the results files (runs.csv, runs.jsonl, summary.json/csv) and `perfchart report`"
LOGLINE = "`tracker.EventAttributeTracker` on `LogLineEvent` with `match:`"
MARATHON_HTTP = "`channel.HTTPChannel` with Marathon's REST calls"
MARATHON_OBSERVERS = (
    "observer.MarathonEventsObserver, observer.MarathonPollerObserver or "
    "observer.MarathonLogsObserver"
)


class OriginalClass(NamedTuple):
    """One class of the original driver: *instead* names what replaces it when perfchart does not
    implement it; *publisher* says, for an event, what of the original published it.
    """

    kind: str
    name: str
    implemented: bool = False
    instead: str = ""
    publisher: str = ""

    def refusal(self) -> str:
        """Why a config naming this class is refused (or, for reporters and indicators, warned)."""
        text = f"{self.name} is a{'n' if self.kind[0] in 'aeiou' else ''} {self.kind} of the "
        text += "original driver that perfchart does not implement"
        if self.publisher:
            text += f" (only {self.publisher} published it)"
        if self.instead:
            text += f"; instead use {self.instead}"
        return text


def _implemented(kind: str, *names: str) -> list[OriginalClass]:
    return [OriginalClass(kind, name, implemented=True) for name in names]


def _refused(kind: str, instead: str, *names: str, publisher: str = "") -> list[OriginalClass]:
    return [OriginalClass(kind, name, instead=instead, publisher=publisher) for name in names]


ORIGINAL_CLASSES: tuple[OriginalClass, ...] = (
    *_implemented(
        "policy",
        "policy.MultivariableExplorerPolicy",
        "policy.MultiStepPolicy",
        "policy.SimplePolicy",
        "policy.TimeEvolutionPolicy",
    ),
    *_refused(
        "policy",
        "a statechart of your own (`statechart: file.yaml`) that sets each step's parameters "
        "and waits for its end events",
        "policy.ChainedDeploymentPolicy",
    ),
    *_refused("policy", "", "policy.AutoExplorerPolicy"),
    *_implemented("channel", "channel.CmdlineChannel", "channel.HTTPChannel"),
    *_refused(
        "channel", MARATHON_HTTP, "channel.MarathonUpdateChannel", "channel.MarathonDeployChannel"
    ),
    *_refused(
        "observer",
        "the HTTP channel's own events (`ttfb`, `elapsed` of `HTTPResponseEndEvent`) and "
        "`tracker.DurationTracker`",
        "observer.HTTPTimingObserver",
    ),
    *_refused("observer", LOGLINE, "observer.LogStaxObserver"),
    *_refused(
        "observer",
        "",
        "observer.JMXObserver",
        "observer.MarathonEventsObserver",
        "observer.MarathonLogsObserver",
        "observer.MarathonMetricsObserver",
        "observer.MarathonPollerObserver",
    ),
    *_implemented(
        "tracker",
        "tracker.CountTracker",
        "tracker.DurationTracker",
        "tracker.EventAttributeTracker",
    ),
    *_refused("tracker", LOGLINE, "tracker.LogStaxTracker"),
    *_refused("tracker", "", "tracker.DumpMetricTracker"),
    *_refused("reporter", "`perfchart report`, whose page has the plots", "reporter.PlotReporter"),
    *_refused("reporter", "runs.csv and summary.csv", "reporter.CSVReporter"),
    *_refused(
        "reporter",
        "runs.jsonl and summary.json",
        "reporter.RawReporter",
        "reporter.RawEventsReporter",
    ),
    *_refused("reporter", "output.log and the terminal's summary", "reporter.LogReporter"),
    *_refused(
        "reporter",
        f"{RESULTS}, uploaded by a command of your own",
        "reporter.DataDogReporter",
        "reporter.DataDogMetricReporter",
        "reporter.PostgRESTReporter",
        "reporter.S3Reporter",
    ),
    *_refused(
        "indicator",
        "",
        "indicator.NormalizedMeanMetricIndicator",
        "indicator.NormalizedMinMetricIndicator",
        "indicator.NormalizedMaxMetricIndicator",
    ),
    *_implemented("task", "tasks.exec.Run", "tasks.delay.Delay", "tasks.http.Request"),
    *_refused(
        "task",
        "",
        "tasks.auth.AuthEE",
        "tasks.auth.AuthOpen",
        "tasks.chronos.RemoveAllJobs",
        "tasks.marathon.RemoveAllApps",
        "tasks.marathon.RemoveMatchingApps",
        "tasks.marathon.RemoveGroup",
    ),
    *_implemented(
        "event",
        "CmdlineExitEvent",
        "CmdlineExitZeroEvent",
        "CmdlineExitNonzeroEvent",
        "CmdlineStartedEvent",
        "HTTPRequestStartEvent",
        "HTTPFirstRequestStartEvent",
        "HTTPLastRequestStartEvent",
        "HTTPRequestEndEvent",
        "HTTPFirstRequestEndEvent",
        "HTTPLastRequestEndEvent",
        "HTTPResponseStartEvent",
        "HTTPFirstResponseStartEvent",
        "HTTPLastResponseStartEvent",
        "HTTPResponseEndEvent",
        "HTTPFirstResponseEndEvent",
        "HTTPLastResponseEndEvent",
        "HTTPResponseErrorEvent",
        "HTTPFirstResponseErrorEvent",
        "HTTPLastResponseErrorEvent",
        "RestartEvent",
        "InterruptEvent",
        "StalledEvent",
        "RunTaskEvent",
        "RunTaskCompletedEvent",
        "TickEvent",
        "ParameterUpdateEvent",
        "FlagUpdateEvent",
        "LogLineEvent",
    ),
    *_refused("event", "`SessionStartEvent`", "StartEvent"),
    *_refused("event", "`SessionEndEvent`", "TeardownEvent"),
    *_refused("event", "`HTTPResponseErrorEvent`", "HTTPErrorEvent"),
    *_refused("event", "", "ExitEvent", "MetricUpdateEvent", "ObserverEvent", "ObserverValueEvent"),
    *_refused("event", "", "CompleteStepImmediatelyEvent"),
    *_refused(
        "event",
        "`HTTPResponseEndEvent`",
        "HTTPTimingResultEvent",
        publisher="observer.HTTPTimingObserver",
    ),
    *_refused(
        "event", "`LogLineEvent`", "LogStaxMessageEvent", publisher="observer.LogStaxObserver"
    ),
    *_refused(
        "event",
        "",
        "MarathonEvent",
        "MarathonStartedEvent",
        "MarathonUnavailableEvent",
        "MarathonSSEEvent",
        "MarathonSSEConnectedEvent",
        "MarathonSSEDisconnectedEvent",
        "MarathonUpdateEvent",
        "MarathonGroupChangeSuccessEvent",
        "MarathonGroupChangeFailedEvent",
        "MarathonDeploymentSuccessEvent",
        "MarathonDeploymentFailedEvent",
        "MarathonDeploymentStatusEvent",
        "MarathonDeploymentStepSuccessEvent",
        "MarathonDeploymentStepFailureEvent",
        publisher=MARATHON_OBSERVERS,
    ),
    *_refused(
        "event", "", "MarathonMetricUpdateEvent", publisher="observer.MarathonMetricsObserver"
    ),
    *_refused(
        "event",
        "",
        "MarathonDeploymentRequestedEvent",
        "MarathonDeploymentStartedEvent",
        "MarathonDeploymentRequestFailedEvent",
        publisher="channel.MarathonDeployChannel and channel.MarathonUpdateChannel",
    ),
)

_BY_NAME: dict[tuple[str, str], OriginalClass] = {}
for _entry in ORIGINAL_CLASSES:
    _BY_NAME[_entry.kind, _entry.name.casefold()] = _entry
    # The original resolved ``policy.X`` under its classes package; a bare ``X`` is the same class.
    _BY_NAME.setdefault((_entry.kind, _entry.name.rsplit(".", 1)[-1].casefold()), _entry)


def original_class(kind: str, name: object) -> OriginalClass | None:
    """The original's *kind* class that *name* spells (any letter case), if it had one."""
    if not isinstance(name, str):
        return None
    return _BY_NAME.get((kind, name.strip().casefold()))


def unimplemented(kind: str, name: object) -> OriginalClass | None:
    """The original's *kind* class *name*, if perfchart does not implement it."""
    entry = original_class(kind, name)
    return entry if entry is not None and not entry.implemented else None


def markdown_table() -> list[str]:
    """The table as ``docs/configuration.md`` shows it, one line per row."""
    lines = ["| kind | class of the original | in perfchart |", "| --- | --- | --- |"]
    for kind in KINDS:
        for entry in (e for e in ORIGINAL_CLASSES if e.kind == kind):
            if entry.implemented:
                status = "implemented"
            else:
                status = "not implemented"
                if entry.publisher:
                    status += f" (only {entry.publisher} published it)"
                if entry.instead:
                    status += f"; instead: {entry.instead}"
            lines.append(f"| {kind} | `{entry.name}` | {status} |")
    return lines
