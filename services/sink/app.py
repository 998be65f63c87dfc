"""The sink worker: articles:enriched -> storage, batched and idempotent.

Reads batches in consumer group ``sink`` and upserts them in one transaction;
the batch is acknowledged only after the commit. A storage error leaves the
batch pending for a retry; an undecodable entry goes to the dead-letter stream.
``handle_enriched`` decides; the runtime stores and writes (``stage_process``).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from faststream import FastStream

from services.observability import observe_end_to_end
from services.runtime import BatchResult, Entry, decode_entries, stage_process, worker_app
from shared.codec import to_fields
from shared.models import DeadLetter, EnrichedArticle, StoredEvent
from shared.redis import connect
from shared.settings import Settings
from shared.storage import Storage, open_storage
from shared.streams import GROUP_SINK, StreamNames

log = logging.getLogger(__name__)

SERVICE = "sink"


def decode_documents(
    entries: Sequence[Entry], stream: str
) -> tuple[list[EnrichedArticle], list[DeadLetter]]:
    """The batch's documents (last version of each id wins) and dead letters for the rest."""
    good, bad = decode_entries(
        entries, EnrichedArticle, service=SERVICE, stream=stream, group=GROUP_SINK
    )
    return list({doc.id: doc for _, doc in good}.values()), bad


def handle_enriched(entries: list[Entry], names: StreamNames) -> BatchResult[EnrichedArticle]:
    """The sink stage's decisions for one batch of ``articles:enriched`` (no I/O).

    The documents to store (``commit``), a ``StoredEvent`` on ``events:stored`` for
    each (written after the commit), and dead letters for what does not decode.
    """
    result: BatchResult[EnrichedArticle] = BatchResult()
    docs, invalid = decode_documents(entries, names.enriched)
    result.commit = docs
    for doc in docs:
        result.add(names.stored, to_fields(StoredEvent.of(doc)))
    result.reject(invalid, "invalid")
    result.counts = {"stored": 0, "dead-lettered": len(invalid)}
    return result


def build_app(settings: Settings, redis_url: str) -> FastStream:
    """The sink worker as a FastStream app (storage opens at start-up)."""
    names = StreamNames(settings.prefix)
    client = connect(redis_url, cluster=settings.redis_cluster)
    state: dict[str, Storage] = {}

    async def handle(entries: list[Entry]) -> BatchResult[EnrichedArticle]:
        return handle_enriched(entries, names)

    async def store(docs: list[EnrichedArticle]) -> dict[str, int]:
        written = await state["storage"].upsert_many(docs)
        observe_end_to_end(doc.received_at for doc in docs)  # committed: e2e latency
        return {"stored": written}

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
        process=stage_process(
            service=SERVICE, client=client, names=names, handle=handle, commit=store
        ),
        on_start=open_db,
        on_stop=close_db,
        client=client,
    )
