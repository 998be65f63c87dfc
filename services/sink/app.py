"""The sink worker: articles:enriched -> storage, batched and idempotent.

Reads batches in consumer group ``sink`` and upserts them in one transaction;
the batch is acknowledged only after the commit. A storage error leaves the
batch pending for a retry; an undecodable entry goes to the dead-letter stream.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from typing import Any

import orjson
from faststream import FastStream

from services.observability import observe_end_to_end
from services.runtime import Entry, decode_entries, worker_app
from shared.models import DeadLetter, EnrichedArticle
from shared.redis import add_dead_letter, connect
from shared.settings import Settings
from shared.storage import Storage, open_storage
from shared.streams import GROUP_SINK, JSON_FIELD, StreamNames

log = logging.getLogger(__name__)

SERVICE = "sink"
# Stored-article notifications are for live display (`newsflow up`), not a work
# queue: no group reads them, so a length cap loses nothing anyone waits for.
STORED_EVENTS_MAXLEN = 10_000


def decode_documents(
    entries: Sequence[Entry], stream: str
) -> tuple[list[EnrichedArticle], list[DeadLetter]]:
    """The batch's documents (last version of each id wins) and dead letters for the rest."""
    good, bad = decode_entries(
        entries, EnrichedArticle, service=SERVICE, stream=stream, group=GROUP_SINK
    )
    return list({doc.id: doc for _, doc in good}.values()), bad


def stored_event(doc: EnrichedArticle) -> dict[Any, Any]:
    """A short notice of one stored article: id, title, top entities, topics."""
    summary = {
        "id": doc.id,
        "title": doc.title,
        "entities": [[e.name, e.type] for e in doc.entities[:5]],
        "topics": [[t.slug, t.qcode] for t in doc.topics],
    }
    return {JSON_FIELD: orjson.dumps(summary)}


def build_app(settings: Settings, redis_url: str) -> FastStream:
    """The sink worker as a FastStream app (storage opens at start-up)."""
    names = StreamNames(settings.prefix)
    client = connect(redis_url, cluster=settings.redis_cluster)
    state: dict[str, Storage] = {}

    async def process(entries: list[Entry]) -> None:
        started = time.perf_counter()
        docs, letters = decode_documents(entries, names.enriched)
        written = await state["storage"].upsert_many(docs) if docs else 0
        observe_end_to_end(doc.received_at for doc in docs)  # committed: e2e latency
        async with client.pipeline(transaction=False) as pipe:
            for letter in letters:
                add_dead_letter(pipe, names, letter)
            for doc in docs:
                pipe.xadd(
                    names.stored,
                    stored_event(doc),
                    maxlen=STORED_EVENTS_MAXLEN,
                    approximate=True,
                )
            await pipe.execute()
        log.info(
            "stored %d, dead-lettered %d of %d in %.0f ms",
            written,
            len(letters),
            len(entries),
            (time.perf_counter() - started) * 1000,
        )

    async def open_db() -> None:
        storage = open_storage(settings.resolved_database_url)
        await storage.open()
        state["storage"] = storage
        log.info("sink storage open (%s)", settings.resolved_database_url.split("://")[0])

    async def close_db() -> None:
        if "storage" in state:
            await state["storage"].close()

    return worker_app(
        service=SERVICE,
        stream=names.enriched,
        group=GROUP_SINK,
        batch_size=settings.sink_batch_size,
        settings=settings,
        redis_url=redis_url,
        process=process,
        on_start=open_db,
        on_stop=close_db,
        client=client,
    )
