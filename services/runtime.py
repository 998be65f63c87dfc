"""What every worker process shares: logging, the broker, batch stream subscriptions.

Subscriptions read raw stream entries (the ``json`` field of each) rather than
letting FastStream decode bodies: a body that fails to decode must go to the
dead-letter stream with its entry id, not stay pending forever.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Mapping
from typing import Any

import orjson
from faststream.message import StreamMessage
from faststream.redis import RedisBroker, StreamSub

from shared.settings import Settings
from shared.streams import consumer_name

Entry = tuple[bytes, Mapping[bytes, bytes]]


class _JsonFormatter(logging.Formatter):
    """One JSON object per line, for log collectors."""

    def format(self, record: logging.LogRecord) -> str:
        doc: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "msg": record.getMessage(),
        }
        if record.exc_info:
            doc["exc"] = self.formatException(record.exc_info)
        return orjson.dumps(doc).decode()


def configure_logging(settings: Settings, service: str) -> None:
    """Text on a terminal, JSON otherwise; FastStream's per-message lines kept quiet."""
    handler = logging.StreamHandler(sys.stderr)
    use_json = settings.log_format == "json" or (
        settings.log_format == "auto" and not sys.stderr.isatty()
    )
    if use_json:
        handler.setFormatter(_JsonFormatter())
    else:
        handler.setFormatter(
            logging.Formatter(f"%(asctime)s {service} %(levelname)s %(name)s: %(message)s")
        )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(settings.log_level)
    # FastStream writes "Received"/"Processed" for every message at INFO; one line
    # per batch from our handlers is enough, so its loggers start at WARNING.
    if settings.log_level != "DEBUG":
        for name in ("faststream", "faststream.access", "faststream.access.redis"):
            logging.getLogger(name).setLevel(logging.WARNING)


def make_broker(settings: Settings, url: str) -> RedisBroker:
    return RedisBroker(
        url,
        graceful_timeout=settings.graceful_timeout,
        logger=logging.getLogger("faststream.access.redis"),
    )


def batch_stream(stream: str, group: str, settings: Settings, max_records: int) -> StreamSub:
    """A consumer-group batch subscription with a name unique to this process."""
    return StreamSub(
        stream,
        group=group,
        consumer=consumer_name(group),
        batch=True,
        max_records=max_records,
        polling_interval=settings.polling_interval_ms,
        # Groups are created by ensure_pipeline_groups from id 0 before start.
        declare=True,
    )


async def raw_entries(msg: StreamMessage[Any]) -> list[Entry]:
    """FastStream decoder: the batch as (entry id, fields) pairs, undecoded."""
    raw = msg.raw_message
    return list(zip(raw["message_ids"], raw["data"], strict=True))
