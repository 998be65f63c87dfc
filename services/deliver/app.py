"""``newsflow worker deliver``: one delivery task per active webhook.

Every ``NEWSFLOW_WEBHOOK_REFRESH_S`` the worker reads the webhooks from Redis,
starts a task for each active one it has none for (the task returns at once while
another process holds the webhook's lease) and stops the task of each one deleted or
disabled, so webhooks come and go without a restart. Tasks are independent: a slow
or failing receiver delays only its own deliveries. A task that stops on an error
(Redis away) is started again at the next refresh and takes back its unacknowledged
entries first.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import signal
from typing import Any

from redis.exceptions import RedisError

from services.deliver import sender
from services.deliver.endpoint import Endpoint
from shared import webhooks
from shared.redis import connect
from shared.settings import Settings
from shared.streams import StreamNames, consumer_name

log = logging.getLogger(__name__)


class Deliverer:
    """The running endpoint tasks, kept in step with the webhooks stored in Redis."""

    def __init__(self, settings: Settings, client: Any) -> None:
        self.settings = settings
        self.client = client
        self.names = StreamNames(settings.prefix)
        self.http = sender.client(settings)
        self.tasks: dict[str, asyncio.Task[None]] = {}
        self.endpoints: dict[str, Endpoint] = {}
        # Unique per Deliverer: the holder's name on the webhooks' leases.
        self.owner = f"{consumer_name('deliver')}-{secrets.token_hex(3)}"

    async def refresh(self) -> None:
        """Start tasks for new active webhooks; cancel those of removed or disabled ones."""
        active = {
            w.id: w
            for w in await webhooks.list_all(self.client, self.names)
            if w.status != "disabled"
        }
        for webhook_id in [i for i in self.tasks if i not in active]:
            self.endpoints[webhook_id].stopping.set()
            log.info("webhook %s removed or disabled: delivery stops", webhook_id)
        for webhook_id, task in list(self.tasks.items()):
            if task.done():
                del self.tasks[webhook_id]  # started again below if still active
                del self.endpoints[webhook_id]
                if not task.cancelled() and task.exception() is not None:
                    log.warning("webhook %s: delivery stopped: %r", webhook_id, task.exception())
        for webhook_id, webhook in active.items():
            if webhook_id not in self.tasks:
                endpoint = Endpoint(
                    webhook, self.client, self.http, self.settings, owner=self.owner
                )
                self.endpoints[webhook_id] = endpoint
                self.tasks[webhook_id] = asyncio.create_task(
                    endpoint.run(), name=f"webhook:{webhook_id}"
                )

    async def run(self, stop: asyncio.Event) -> None:
        """Follow the webhooks until ``stop`` is set, then cancel every task."""
        try:
            while not stop.is_set():
                try:
                    await self.refresh()
                except RedisError as exc:
                    log.warning("cannot read the webhooks (%s); trying again", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.settings.webhook_refresh_s)
        finally:
            await self.close()

    async def close(self) -> None:
        """Stop every endpoint (a delivery in flight may finish), then close."""
        for endpoint in self.endpoints.values():
            endpoint.stopping.set()
        tasks = list(self.tasks.values())
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=self.settings.graceful_timeout)
            for task in late:
                task.cancel()
            if late:
                # Bounded: redis-py can swallow a cancellation inside a command.
                await asyncio.wait(late, timeout=5)
        self.tasks.clear()
        self.endpoints.clear()
        await self.http.aclose()


async def serve(settings: Settings, redis_url: str) -> None:
    """Run the deliver worker until SIGINT or SIGTERM."""
    client = connect(redis_url, cluster=settings.redis_cluster)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    log.info("deliver worker started")
    try:
        await Deliverer(settings, client).run(stop)
    finally:
        await client.aclose()
        log.info("deliver worker stopped")
