"""Redis helpers every service uses: connections, consumer groups, dead letters."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, cast

import redis
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialWithJitterBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.codec import to_fields
from shared.models import DeadLetter
from shared.streams import GROUP_ENRICH, StreamNames
from shared.topology import DLQ, pipeline_groups

log = logging.getLogger(__name__)

# Dead letters are kept for inspection and replay; the cap bounds a runaway producer
# of bad input. Nothing reads the DLQ in a group, so a length cap loses no work.
DLQ_MAXLEN = DLQ.cap


StreamEntry = tuple[bytes, dict[bytes, bytes]]


def read_entries(
    client: redis.Redis, stream: str, last_id: bytes | str, *, block: int, count: int
) -> list[StreamEntry]:
    """XREAD one stream after ``last_id`` (blocking up to ``block`` ms), typed."""
    reply = cast(
        "list[tuple[bytes, list[StreamEntry]]] | None",
        client.xread({stream: last_id}, block=block, count=count),
    )
    return [entry for _, entries in reply or [] for entry in entries]


def range_entries(client: redis.Redis, stream: str) -> list[StreamEntry]:
    """Every entry of ``stream`` (XRANGE - +), typed."""
    return cast("list[StreamEntry]", client.xrange(stream))


def connect(
    url: str, *, cluster: bool = False, max_connections: int | None = None
) -> aioredis.Redis:
    """A client that retries commands with backoff while Redis is briefly away.

    With ``cluster``, ``url`` names one node of a Redis Cluster and the client is a
    ``redis.asyncio.RedisCluster``, which routes each command to the node holding
    its key. It has the same command methods, so it is typed as the single-node client.
    """
    options: dict[str, Any] = {
        "decode_responses": False,
        "health_check_interval": 15,
        "socket_keepalive": True,
        "retry": Retry(ExponentialWithJitterBackoff(base=0.05, cap=2.0), retries=5),
        "retry_on_error": [RedisConnectionError, RedisTimeoutError],
    }
    if max_connections is not None:
        options["max_connections"] = max_connections
    if cluster:
        return cast("aioredis.Redis", aioredis.RedisCluster.from_url(url, **options))
    return aioredis.Redis.from_url(url, **options)


def connect_sync(url: str, *, cluster: bool = False, **options: Any) -> redis.Redis:
    """A blocking client for command-line tools; ``cluster`` as for ``connect``."""
    if cluster:
        return cast("redis.Redis", redis.RedisCluster.from_url(url, **options))
    return redis.Redis.from_url(url, **options)


async def ensure_group(client: aioredis.Redis, stream: str, group: str) -> bool:
    """Create ``group`` on ``stream`` reading from the start; True if it was created.

    Created from id 0 (not ``$``) so entries written before the group existed
    are still read, and with MKSTREAM so a fresh Redis works.
    """
    try:
        await client.xgroup_create(stream, group, id="0", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
        return False
    log.info("created consumer group %s on %s", group, stream)
    return True


async def ensure_pipeline_groups(client: aioredis.Redis, names: StreamNames) -> None:
    """Every group of the pipeline (``shared.topology``), so no stream is written before
    its reader's group exists."""
    for stream, group in pipeline_groups(names):
        await ensure_group(client, stream, group)


async def group_backlog(client: aioredis.Redis, stream: str, group: str) -> int:
    """Entries of ``stream`` that ``group`` has not finished: lag + pending.

    Falls back to the stream length where Redis has no ``lag`` (before Redis 7, or
    after entries past the group's position were deleted); the stream is trimmed
    below what was acknowledged, so its length is close to the backlog. 0 when the
    stream does not exist; its length when the group does not.
    """
    try:
        groups = await client.xinfo_groups(stream)
    except ResponseError:
        return 0
    for info in groups:
        name = info["name"]
        if (name.decode() if isinstance(name, bytes) else name) != group:
            continue
        if info.get("lag") is not None:
            # After a restart Redis may report a lag for entries long gone (its
            # entries-read counter is an estimate): no backlog exceeds the stream.
            length = int(await client.xlen(stream))
            return min(int(info["lag"]) + int(info["pending"]), length)
    return int(await client.xlen(stream))


async def raw_backlog(client: aioredis.Redis, stream: str) -> int:
    """Entries of ``stream`` (articles:raw) the enrich group has not finished."""
    return await group_backlog(client, stream, GROUP_ENRICH)


def decode_fields(fields: Mapping[bytes, bytes]) -> dict[str, Any]:
    """Entry fields as JSON-safe text; bytes that are not UTF-8 are kept as base64."""
    out: dict[str, Any] = {}
    for key, value in fields.items():
        name = key.decode("utf-8", "replace")
        try:
            out[name] = value.decode("utf-8")
        except UnicodeDecodeError:
            out[name] = {"base64": base64.b64encode(value).decode("ascii")}
    return out


def encode_fields(payload: Mapping[str, Any]) -> dict[Any, Any]:
    """The inverse of ``decode_fields``: the original entry's bytes."""
    out: dict[str, bytes] = {}
    for name, value in payload.items():
        if isinstance(value, dict) and "base64" in value:
            out[name] = base64.b64decode(value["base64"])
        else:
            out[name] = str(value).encode("utf-8")
    return out


def dead_letter(
    *,
    service: str,
    stream: str,
    group: str | None,
    entry_id: bytes | str | None,
    fields: Mapping[bytes, bytes],
    error: BaseException | str,
    error_class: str | None = None,
    delivery_count: int = 1,
) -> DeadLetter:
    """The dead letter for one entry that cannot be processed."""
    if isinstance(entry_id, bytes):
        entry_id = entry_id.decode()
    return DeadLetter(
        service=service,
        source_stream=stream,
        group=group,
        entry_id=entry_id,
        error_class=error_class
        or (type(error).__name__ if isinstance(error, BaseException) else "Error"),
        error=str(error)[:4000],
        delivery_count=delivery_count,
        payload=decode_fields(fields),
        failed_at=datetime.now(UTC),
    )


def add_dead_letter(pipe: Any, names: StreamNames, letter: DeadLetter) -> None:
    """Queue an XADD of ``letter`` to the DLQ on a pipeline (or client)."""
    pipe.xadd(names.dlq, to_fields(letter), maxlen=DLQ_MAXLEN, approximate=True)
