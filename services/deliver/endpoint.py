"""Delivery to one webhook: its entries in stream order, each acknowledged after a 2xx.

One task per webhook reads the webhook's consumer group (``webhook:<id>``) as the
consumer ``deliver``, while it holds the webhook's lease (``services.deliver.lease``):
order per endpoint needs one reader, so with several worker processes each webhook is
delivered by one of them at a time. It first takes back what was read but not
acknowledged before (a restart, or a process that died), then new entries. Each
delivery (one article, or a JSON array of up to ``batch_size``) is retried until a
2xx, with full-jitter backoff or the receiver's ``Retry-After``, for up to
``NEWSFLOW_WEBHOOK_MAX_RETRY_S``; then its entries go to the webhook's dead-letter
stream and the webhook is marked ``failing``. A 410 Gone
disables the webhook at once (its entries stay unacknowledged in its group). Every
attempt is appended to ``<prefix>webhooks:<id>:deliveries`` (about the last 1,000).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import httpx
from redis.exceptions import RedisError, ResponseError

from services.deliver.lease import Lease
from services.deliver.sender import Attempt, backoff, message_id, post, signed_headers
from shared import webhooks
from shared.codec import entry_json
from shared.models import WebhookDelivery
from shared.redis import DLQ_MAXLEN, StreamEntry
from shared.settings import Settings
from shared.streams import JSON_FIELD, StreamNames
from shared.webhooks import Webhook, check_target

log = logging.getLogger(__name__)

CONSUMER = "deliver"
BLOCK_MS = 1000
# A deliverer that dies holds its webhooks this long before another process takes over.
LEASE_MS = 15_000


class Gone(Exception):
    """The receiver answered 410 Gone: the webhook is disabled."""


class Stopped(Exception):
    """The endpoint was asked to stop (webhook deleted or worker stopping)."""


def _id(entry_id: bytes | str) -> str:
    return entry_id.decode() if isinstance(entry_id, bytes) else entry_id


def body_of(entries: Sequence[StreamEntry], batch: bool) -> bytes:
    """One article's JSON, or (``batch``) a JSON array of every entry's article."""
    # An entry trimmed from the stream while pending reads back with no fields.
    docs = [entry_json(fields or {}) or b"null" for _, fields in entries]
    parts = [d.encode() if isinstance(d, str) else d for d in docs]
    return b"[" + b",".join(parts) + b"]" if batch else parts[0]


class Endpoint:
    """Delivers one webhook's stream until cancelled, or until the receiver says 410."""

    def __init__(
        self,
        webhook: Webhook,
        client: Any,
        http: httpx.AsyncClient,
        settings: Settings,
        *,
        owner: str,
    ) -> None:
        self.webhook = webhook
        self.owner = owner  # this process, as the holder of the webhook's lease
        self.client = client
        self.http = http
        self.settings = settings
        self.names = StreamNames(settings.prefix)
        self.stream = webhook.stream(self.names)
        self.group = webhooks.group(webhook.id)
        self.status = webhook.status
        # Set to stop: within a read's block time, or during a wait between attempts
        # (the entries in hand stay unacknowledged and are sent again later).
        self.stopping = asyncio.Event()

    async def run(self) -> None:
        """Deliver until ``stopping`` is set or the webhook is disabled (410); return at
        once when another process holds the webhook's lease."""
        lease = Lease(
            self.client, webhooks.lease_key(self.names, self.webhook.id), self.owner, LEASE_MS
        )
        if not await lease.acquire():
            return
        log.info("webhook %s: delivering %s to %s", self.webhook.id, self.stream, self.webhook.url)
        keeper = asyncio.create_task(lease.keep(self.stopping))
        try:
            await self._deliver_all()
        finally:
            keeper.cancel()
            with contextlib.suppress(RedisError):
                await lease.release()

    async def _deliver_all(self) -> None:
        await self._ensure_group()
        backlog = True  # first what this consumer read and never acknowledged
        while not self.stopping.is_set():
            entries = await self._read("0" if backlog else ">")
            if backlog and not entries:
                backlog = False
                continue
            if not entries:
                continue
            if not backlog and len(entries) < self.webhook.batch_size:
                entries += await self._fill(len(entries))
            try:
                await self.deliver(entries)
            except (Gone, Stopped):
                return

    async def _ensure_group(self) -> None:
        # Made with the webhook; made again (from new entries) if Redis lost it.
        try:
            await self.client.xgroup_create(self.stream, self.group, "$", mkstream=True)
        except ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    async def _read(self, last_id: str, count: int | None = None) -> list[StreamEntry]:
        reply = await self.client.xreadgroup(
            self.group,
            CONSUMER,
            {self.stream: last_id},
            count=count or self.webhook.batch_size,
            block=None if last_id == "0" else BLOCK_MS,
        )
        return [entry for _, entries in reply or [] for entry in entries]

    async def _fill(self, have: int) -> list[StreamEntry]:
        """More entries for a batch, until it is full or its interval has passed."""
        more: list[StreamEntry] = []
        deadline = time.monotonic() + self.webhook.batch_interval_s
        while have + len(more) < self.webhook.batch_size:
            left_ms = int((deadline - time.monotonic()) * 1000)
            if left_ms <= 0:
                break
            reply = await self.client.xreadgroup(
                self.group,
                CONSUMER,
                {self.stream: ">"},
                count=self.webhook.batch_size - have - len(more),
                block=left_ms,
            )
            more += [entry for _, entries in reply or [] for entry in entries]
        return more

    async def deliver(self, entries: list[StreamEntry]) -> None:
        """POST ``entries`` until a 2xx (then ack), 410 (raise ``Gone``) or the retry
        time is over (then dead-letter and ack); raise ``Stopped`` when asked to stop
        between attempts."""
        first, last = _id(entries[0][0]), _id(entries[-1][0])
        msg_id = message_id(self.webhook.id, first, last)
        body = body_of(entries, batch=self.webhook.batch_size > 1)
        deadline = time.monotonic() + self.settings.webhook_max_retry_s
        number = 0
        while True:
            number += 1
            outcome = await self._attempt(msg_id, body)
            await self._record(outcome, first, len(entries), msg_id, number)
            if outcome.ok:
                await self.client.xack(self.stream, self.group, *[e for e, _ in entries])
                await self._set_status("active")
                return
            if outcome.gone:
                await self._set_status("disabled")
                log.warning("webhook %s answered 410 Gone: disabled", self.webhook.id)
                raise Gone
            left = deadline - time.monotonic()
            if left <= 0:
                await self._dead_letter(entries, outcome, number, msg_id)
                return
            wait = outcome.retry_after_s
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    self.stopping.wait(), min(left, backoff(number) if wait is None else wait)
                )
            if self.stopping.is_set():
                raise Stopped

    async def _attempt(self, msg_id: str, body: bytes) -> Attempt:
        # Checked on every attempt: the name may resolve elsewhere since it was made.
        try:
            address = await check_target(
                self.webhook.url, allow_private=self.settings.webhook_allow_private
            )
        except webhooks.WebhookRejected as exc:
            return Attempt(None, exc.message, 0.0)
        headers = signed_headers(self.webhook.secret, msg_id, body, datetime.now(UTC))
        return await post(
            self.http, self.webhook.url, body, headers, self.settings.webhook_timeout_s, address
        )

    async def _record(
        self, outcome: Attempt, entry_id: str, count: int, msg_id: str, number: int
    ) -> None:
        record = WebhookDelivery(
            at=datetime.now(UTC).isoformat(),
            entry_id=entry_id,
            articles=count,
            webhook_id=msg_id,
            attempt=number,
            status=outcome.status,
            error=outcome.error,
            latency_ms=outcome.latency_ms,
        )
        await self.client.xadd(
            webhooks.deliveries_key(self.names, self.webhook.id),
            {JSON_FIELD: record.model_dump_json()},
            maxlen=webhooks.DELIVERIES_MAXLEN,
            approximate=True,
        )

    async def _dead_letter(
        self, entries: list[StreamEntry], outcome: Attempt, attempts: int, msg_id: str
    ) -> None:
        error = outcome.error or f"HTTP {outcome.status}"
        async with self.client.pipeline(transaction=False) as pipe:
            for entry_id, fields in entries:
                pipe.xadd(
                    webhooks.dlq_key(self.names, self.webhook.id),
                    {
                        JSON_FIELD: entry_json(fields or {}) or b"null",
                        "entry_id": entry_id,
                        "stream": self.stream,
                        "webhook_id": msg_id,
                        "error": error,
                        "attempts": attempts,
                    },
                    maxlen=DLQ_MAXLEN,
                    approximate=True,
                )
            pipe.xack(self.stream, self.group, *[e for e, _ in entries])
            await pipe.execute()
        await self._set_status("failing")
        log.warning(
            "webhook %s: gave up on %d entries after %d attempts (%s): dead-lettered",
            self.webhook.id,
            len(entries),
            attempts,
            error,
        )

    async def _set_status(self, status: webhooks.Status) -> None:
        if status != self.status:
            await webhooks.set_status(self.client, self.names, self.webhook.id, status)
            self.status = status
