"""perfchart: performance and scale tests driven by statechart policies."""

__version__ = "0.1.0"
