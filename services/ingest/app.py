"""The ingest service: HTTP API and the inbox-stream reader, in one process.

The broker (inbox subscription) starts and stops inside the API's lifespan, so
SIGTERM/SIGINT to uvicorn stops reading the inbox, finishes in-flight batches
and closes Redis before the process exits.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from prometheus_client import CollectorRegistry, Counter

from services.ingest.api import create_api
from services.ingest.core import Ingestor, article_from_entry
from services.runtime import (
    BatchConsumer,
    BatchResult,
    Entry,
    Process,
    make_broker,
    stage_process,
    wait_for_redis,
)
from shared.errors import PermanentError
from shared.generation import GenerationWatch, Incident, watch_forever
from shared.models import Article, DeadLetter
from shared.redis import connect, dead_letter, ensure_pipeline_groups
from shared.settings import Settings
from shared.streams import GROUP_INGEST, StreamNames

log = logging.getLogger(__name__)

SERVICE = "ingest"


def handle_inbox(
    entries: list[Entry], settings: Settings, names: StreamNames
) -> BatchResult[Article]:
    """The inbox stage's decisions for one batch (no I/O): the articles to submit to
    ``articles:raw`` (``commit``), dead letters for entries that are not articles."""
    result: BatchResult[Article] = BatchResult()
    letters: list[DeadLetter] = []
    for entry_id, fields in entries:
        try:
            result.commit.append(article_from_entry(fields, settings))
        except PermanentError as exc:
            letters.append(
                dead_letter(
                    service=SERVICE,
                    stream=names.inbox,
                    group=GROUP_INGEST,
                    entry_id=entry_id,
                    fields=fields,
                    error=exc,
                )
            )
    result.reject(letters, "invalid")
    result.counts = {"accepted": 0, "duplicate": 0, "dead-lettered": len(letters)}
    return result


def inbox_processor(settings: Settings, ingestor: Ingestor, client: Any) -> Process:
    """Handle inbox entries: valid ones go on to articles:raw, bad ones to the DLQ."""
    names = StreamNames(settings.prefix)

    async def handle(entries: list[Entry]) -> BatchResult[Article]:
        # Decoding, HTML extraction and normalization off the event loop, which the
        # HTTP API in this process shares.
        return await asyncio.to_thread(handle_inbox, entries, settings, names)

    async def submit(articles: list[Article]) -> dict[str, int]:
        # The HTTP API's path: duplicates are found by id and content as they go in.
        results = await ingestor.submit_many(articles)
        dupes = sum(1 for r in results if r.status == "duplicate")
        return {"accepted": len(results) - dupes, "duplicate": dupes}

    return stage_process(service="inbox", client=client, names=names, handle=handle, commit=submit)


def build_api(settings: Settings, redis_url: str) -> Any:
    """The FastAPI app with the inbox reader running in its lifespan."""
    names = StreamNames(settings.prefix)
    client = connect(redis_url, cluster=settings.redis_cluster)
    # Event streams get a pool of their own: followers, however many and however slow,
    # never take the connections that accepting articles needs.
    stream_client = connect(
        redis_url, cluster=settings.redis_cluster, max_connections=settings.sse_max_streams + 8
    )
    ingestor = Ingestor(client, settings)
    broker = make_broker(settings, redis_url)
    watch_registry = CollectorRegistry()
    losses = Counter(
        "newsflow_redis_data_loss",
        "Times Redis was found to have lost its data (the generation marker changed).",
        registry=watch_registry,
    )
    lost = Counter(
        "newsflow_redis_lost_articles",
        "Articles accepted and not yet stored when Redis lost its data (at least).",
        registry=watch_registry,
    )

    def on_incident(incident: Incident) -> None:
        losses.inc()
        lost.inc(incident.lost_at_least)

    watch = GenerationWatch(
        client, names, accepted=lambda: ingestor.accepted_total, on_incident=on_incident
    )
    watching: list[asyncio.Task[None]] = []
    stop_watching = asyncio.Event()

    def group_lost() -> None:
        # The inbox's group is gone: Redis lost its data. Record the loss before this
        # process stops to be restarted (a new process would not know what was lost).
        async def report_then_stop() -> None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(watch.check(), 10)
            os.kill(os.getpid(), signal.SIGTERM)

        watching.append(asyncio.get_running_loop().create_task(report_then_stop()))

    inbox = BatchConsumer(
        service=SERVICE,
        stream=names.inbox,
        group=GROUP_INGEST,
        batch_size=settings.inbox_batch_size,
        settings=settings,
        client=client,
        process=inbox_processor(settings, ingestor, client),
        on_group_lost=group_lost,
    )
    inbox.subscribe(broker)

    async def connect_inbox() -> None:
        # The API serves from the start (503 while Redis is away); the inbox reader
        # starts once Redis answers and the groups exist.
        await wait_for_redis(client, SERVICE)
        await ensure_pipeline_groups(client, names)
        await watch.start()
        watching.append(
            asyncio.create_task(
                watch_forever(watch, settings.generation_check_s, stop_watching),
                name="generation-watch",
            )
        )
        await broker.start()
        inbox.start()
        log.info("ingest reading %s", names.inbox)

    @asynccontextmanager
    async def lifespan(_: Any) -> AsyncIterator[None]:
        starting = asyncio.create_task(connect_inbox(), name="ingest-connect")
        log.info("ingest API on http://%s:%d", settings.api_host, settings.api_port)
        try:
            yield
        finally:
            if not starting.done():
                starting.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await starting
            # Stop whatever start-up reached: a cancelled start-up may still have
            # finished (the broker's start can swallow the cancellation), and a reader
            # left running would go on sweeping a stream nobody serves.
            # Ended by an event (a cancellation can be lost inside a Redis command),
            # and cancelled only if it does not end in time.
            stop_watching.set()
            if watching:
                await asyncio.wait(watching, timeout=10)
            for task in watching:
                if not task.done():
                    task.cancel()
            await inbox.stop()
            await broker.stop()
            await client.aclose()
            await stream_client.aclose()
            log.info("ingest stopped")

    return create_api(
        settings,
        lambda: ingestor,
        lambda: client,
        lifespan=lifespan,
        metrics_registries=[inbox.metrics.registry, watch_registry],
        stream_redis_factory=lambda: stream_client,
    )
