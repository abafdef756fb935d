"""The event filter language: which bus events a policy binding or a config key selects."""

from .language import EventFilter, FilterSession, FilterSyntaxError

__all__ = ["EventFilter", "FilterSession", "FilterSyntaxError"]
