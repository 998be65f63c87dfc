"""Contracts shared by every newsflow service: models, settings, streams, codec, storage."""

__version__ = "0.1.0"
