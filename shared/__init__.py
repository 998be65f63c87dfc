"""Contracts shared by every newsflow service: models, settings, streams, codec, storage."""

from importlib.metadata import PackageNotFoundError, version

try:
    # One definition of the version: the package's own metadata (pyproject.toml).
    __version__ = version("newsflow")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0+unknown"
