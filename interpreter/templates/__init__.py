"""The files ``perfchart new`` writes (NAME and CLASS replaced): see interpreter/cli/new.py."""
