"""Dateline: cited, extractive answers from a news archive."""

from importlib.metadata import version

__all__ = ["__version__"]

# The installed distribution's version: pyproject.toml is its one source (the widget's copy is
# checked against it by the tests).
__version__ = version("dateline")
