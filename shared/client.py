"""A small Python client: follow a topic, submit articles.

Follow a topic (``EnrichedArticle`` objects, as the enrich service writes them)::

    from shared.client import subscribe

    async with subscribe(topic="politics", group="alerts", consumer="alerts-1") as articles:
        async for article in articles:
            print(article.title, [t.slug for t in article.topics])

``subscribe(subscription="iran-conflict")`` follows a saved filter subscription
(``newsflow subscriptions add``) the same way.

Without ``group`` the subscription reads the stream with ``XREAD``: from new
entries (or ``from_start``, ``since`` or after ``last_id``), and every reader
sees every entry. ``Subscription.last_id`` is the id of the last entry handed
out; pass it back as ``last_id=`` to resume without missing or repeating.

With ``group`` the readers of one consumer group share the entries (each entry
goes to one of them) and the group remembers the position:

* the group is created on first use, from new entries (``from_start``: from the
  first entry the stream holds; ``since``: from that time);
* a consumer first gets back its own pending entries (delivered before, never
  acknowledged: the previous run stopped with them), then new ones; entries left
  pending by a consumer that is gone are claimed after ``NEWSFLOW_CLAIM_IDLE_MS``;
* an entry is acknowledged (``XACK``) once the loop body is done with it: when
  the next article is asked for, and when the ``async with`` block ends without
  an exception. An exception leaves the current entry pending, so it is handed
  out again (at-least-once). Give a stable ``consumer`` name so a restarted
  reader resumes exactly where it stopped.

``submit(article)`` posts one article to the HTTP API (``POST /v1/articles``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Mapping
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, cast

import httpx
from pydantic import ValidationError
from redis.exceptions import BusyLoadingError, RedisError, ResponseError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from shared.codec import entry_json, loads
from shared.models import ArticleIn, EnrichedArticle
from shared.settings import get_settings
from shared.streams import StreamNames, consumer_name

log = logging.getLogger(__name__)

_Entry = tuple[bytes, dict[bytes, bytes]]
_MAX_SEQ = 2**64 - 1
RECONNECT_FIRST_S = 0.2


class SubmitError(Exception):
    """The API refused an article: ``status`` and its ``{"code", "message", ...}`` error."""

    def __init__(self, status: int, error: Mapping[str, Any]) -> None:
        super().__init__(f"{status} {error.get('code', 'error')}: {error.get('message', '')}")
        self.status = status
        self.error = dict(error)


def id_before(when: datetime) -> str:
    """The stream id just before ``when``: reading after it starts at ``<ms>-0``."""
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    ms = int(when.timestamp() * 1000)
    return f"{ms - 1}-{_MAX_SEQ}" if ms > 0 else "0-0"


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value


class Subscription:
    """An async iterator of ``EnrichedArticle`` and an async context manager.

    Made by :func:`subscribe`; see the module documentation for the semantics.
    """

    def __init__(
        self,
        *,
        topic: str | None = None,
        subscription: str | None = None,
        group: str | None = None,
        consumer: str | None = None,
        redis_url: str | None = None,
        prefix: str | None = None,
        from_start: bool = False,
        since: datetime | None = None,
        last_id: str | None = None,
        block_ms: int = 1000,
        count: int = 10,
        claim_idle_ms: int | None = None,
        cluster: bool | None = None,
        reconnect: bool = True,
        max_backoff_s: float = 5.0,
    ) -> None:
        settings = get_settings()
        url = redis_url or settings.resolved_redis_url()
        if not url:
            raise ValueError("no Redis: pass redis_url, set REDIS_URL or start 'newsflow up'")
        if (topic is None) == (subscription is None):
            raise ValueError("give exactly one of topic and subscription")
        self.topic = topic
        self.subscription = subscription
        names = StreamNames(prefix or settings.prefix)
        self.stream = names.topic(topic) if topic is not None else names.subs(str(subscription))
        self.group = group
        self.consumer = consumer or consumer_name("subscribe")
        self.block_ms = block_ms
        self.count = count
        self.claim_idle_ms = claim_idle_ms if claim_idle_ms is not None else settings.claim_idle_ms
        self._url = url
        self._cluster = settings.redis_cluster if cluster is None else cluster
        self._client: Any = None
        if last_id is not None:
            self._start: str | None = last_id
        elif since is not None:
            self._start = id_before(since)
        elif from_start:
            self._start = "0-0"
        else:
            self._start = None  # new entries only ("$", pinned at the first read)
        self.last_id: str | None = last_id
        self._buffer: list[_Entry] = []
        self._unacked: str | None = None
        self._own_pending = True  # with a group: first this consumer's pending entries
        self._claimed_at = 0.0
        self._closed = False
        self.reconnect = reconnect
        self.max_backoff_s = max_backoff_s

    # --- lifecycle ---------------------------------------------------------------------

    async def _connect(self) -> Any:
        if self._client is None:
            from shared.redis import connect

            self._client = connect(self._url, cluster=self._cluster)
            if self.group is not None:
                try:
                    await self._client.xgroup_create(
                        self.stream, self.group, id=self._start or "$", mkstream=True
                    )
                except ResponseError as exc:
                    if "BUSYGROUP" not in str(exc):
                        raise
            elif self._start is None:
                newest = await self._client.xrevrange(self.stream, count=1)
                self._start = _text(newest[0][0]) if newest else "0-0"
        return self._client

    async def ack(self) -> None:
        """Acknowledge the article handed out last (done by itself on the next one)."""
        if self._unacked is not None and self.group is not None and self._client is not None:
            await self._client.xack(self.stream, self.group, self._unacked)
        self._unacked = None

    async def aclose(self, *, ack: bool = True) -> None:
        """Stop: acknowledge the last article (unless ``ack=False``) and disconnect."""
        if self._closed:
            return
        self._closed = True
        try:
            if ack:
                await self.ack()
        finally:
            if self._client is not None:
                await self._client.aclose()
                self._client = None

    async def __aenter__(self) -> Subscription:
        # Live from here on: the group exists, or the "new entries" position is pinned.
        await self._connect()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose(ack=exc_type is None)

    # --- iteration ---------------------------------------------------------------------

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> EnrichedArticle:
        if self._closed:
            raise StopAsyncIteration
        failures = 0
        while True:
            try:
                return await self._next()
            except (RedisConnectionError, RedisTimeoutError, BusyLoadingError) as exc:
                if not self.reconnect or self._closed:
                    raise
                wait = min(self.max_backoff_s, RECONNECT_FIRST_S * 2**failures)
                wait *= 1 + random.random() / 4  # jitter: clients do not return in step
                failures += 1
                log.warning("lost Redis (%s); reconnecting in %.1f s", exc, wait)
                await self._disconnect()
                await asyncio.sleep(wait)

    async def _next(self) -> EnrichedArticle:
        await self._connect()
        await self.ack()
        while True:
            while self._buffer:
                raw_id, fields = self._buffer.pop(0)
                entry_id = _text(raw_id)
                self.last_id = entry_id
                article = self._decode(entry_id, fields)
                if article is None:
                    if self.group is not None:
                        await self._client.xack(self.stream, self.group, entry_id)
                    continue
                self._unacked = entry_id if self.group is not None else None
                return article
            self._buffer = await self._read()

    async def _disconnect(self) -> None:
        """Drop the connection after an error; the next read connects again, resuming
        after ``last_id`` (XREAD) or from this consumer's pending entries (group)."""
        client, self._client = self._client, None
        # Fetched but not handed out: read again after last_id, or (with a group)
        # among this consumer's pending entries.
        self._buffer = []
        self._own_pending = True
        if client is not None:
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    def _decode(self, entry_id: str, fields: Mapping[bytes, bytes]) -> EnrichedArticle | None:
        data = entry_json(fields)
        if data is None:
            log.warning("%s entry %s has no json field; skipped", self.stream, entry_id)
            return None
        try:
            return loads(EnrichedArticle, data)
        except ValidationError as exc:
            log.warning(
                "%s entry %s is not an EnrichedArticle; skipped: %s", self.stream, entry_id, exc
            )
            return None

    async def _read(self) -> list[_Entry]:
        client = self._client
        if self.group is None:
            reply = await client.xread(
                {self.stream: self.last_id or self._start}, block=self.block_ms, count=self.count
            )
            return [e for _, entries in reply or [] for e in entries]
        if self._own_pending:
            reply = await client.xreadgroup(
                self.group, self.consumer, {self.stream: "0"}, count=self.count
            )
            pending = [e for _, es in reply or [] for e in es]
            # A pending entry trimmed from the stream comes back without fields: drop it.
            gone = [e[0] for e in pending if not e[1]]
            if gone:
                await client.xack(self.stream, self.group, *gone)
            entries = [e for e in pending if e[1]]
            if entries or gone:
                return entries
            self._own_pending = False
        claimed = await self._claim()
        if claimed:
            return claimed
        reply = await client.xreadgroup(
            self.group, self.consumer, {self.stream: ">"}, count=self.count, block=self.block_ms
        )
        return [e for _, es in reply or [] for e in es]

    async def _claim(self) -> list[_Entry]:
        """Entries pending longer than ``claim_idle_ms`` on other (gone) consumers."""
        now = time.monotonic()
        if now - self._claimed_at < self.claim_idle_ms / 2000:
            return []
        self._claimed_at = now
        try:
            reply = await self._client.xautoclaim(
                self.stream,
                self.group,
                self.consumer,
                min_idle_time=self.claim_idle_ms,
                start_id="0-0",
                count=self.count,
            )
        except ResponseError:  # Redis < 6.2: no XAUTOCLAIM
            return []
        return [e for e in cast("list[_Entry]", reply[1]) if e and e[1]]


def subscribe(
    *,
    topic: str | None = None,
    subscription: str | None = None,
    group: str | None = None,
    consumer: str | None = None,
    redis_url: str | None = None,
    prefix: str | None = None,
    from_start: bool = False,
    since: datetime | None = None,
    last_id: str | None = None,
    block_ms: int = 1000,
    count: int = 10,
    cluster: bool | None = None,
    reconnect: bool = True,
) -> Subscription:
    """Follow ``<prefix>topics:<topic>``: ``async for article in subscribe(topic=...)``.

    Or, with ``subscription=NAME`` (instead of ``topic``), ``<prefix>subs:<NAME>``:
    the articles matching that saved filter subscription.

    Use it as ``async with subscribe(...) as articles`` so the last article is
    acknowledged (with a group) and the connection closed when the block ends.
    ``count`` entries are fetched per read (with a group they are delivered to this
    consumer at once, so a crash leaves up to ``count`` pending for its next run).
    Settings not given come from the environment (``REDIS_URL``, ``NEWSFLOW_PREFIX``,
    ``NEWSFLOW_REDIS_CLUSTER``: ``cluster=True`` when ``redis_url`` is a cluster node).

    When Redis goes away (restart, failover, network), the subscription reconnects
    with backoff (0.2 s doubling to 5 s, with jitter) and goes on where it stopped;
    ``reconnect=False`` raises the redis-py error instead.
    """
    return Subscription(
        topic=topic,
        subscription=subscription,
        group=group,
        consumer=consumer,
        redis_url=redis_url,
        prefix=prefix,
        from_start=from_start,
        since=since,
        last_id=last_id,
        block_ms=block_ms,
        count=count,
        cluster=cluster,
        reconnect=reconnect,
    )


async def submit(
    article: ArticleIn | Mapping[str, Any],
    *,
    api: str | None = None,
    api_key: str | None = None,
    http_timeout: float = 10.0,
) -> dict[str, Any]:
    """POST one article to ``/v1/articles``; ``{"id", "status"}``, or raises ``SubmitError``."""
    settings = get_settings()
    base = api or settings.resolved_api_url
    key = api_key if api_key is not None else settings.api_key
    payload = (
        article.model_dump(mode="json", exclude_none=True, exclude_defaults=True)
        if isinstance(article, ArticleIn)
        else dict(article)
    )
    headers = {"authorization": f"Bearer {key}"} if key else {}
    async with httpx.AsyncClient(base_url=base, timeout=http_timeout) as http:
        response = await http.post("/v1/articles", json=payload, headers=headers)
    try:
        body = response.json()
    except ValueError:
        body = {"error": {"code": "http_error", "message": response.text[:500]}}
    if response.status_code >= 400:
        raise SubmitError(
            response.status_code, body.get("error", {}) if isinstance(body, dict) else {}
        )
    return cast("dict[str, Any]", body)
