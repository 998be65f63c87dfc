"""The enrich worker: articles:raw -> NER + topics -> articles:enriched and topics:<slug>.

Reads batches in consumer group ``enrich``; a batch is acknowledged only after
every output entry of it is written (at-least-once). An entry that can never be
enriched goes to the dead-letter stream and is acknowledged with its batch.
``handle_raw`` decides; the runtime writes (``services.runtime.stage_process``).
This worker also trims the topic and subscription streams it writes (their age and
length limits, ``shared.topology``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from faststream import FastStream
from redis.exceptions import ResponseError

from services.enrich.pipeline import Enricher
from services.runtime import BatchResult, Entry, decode_entries, stage_process, worker_app
from shared.codec import to_fields
from shared.models import Article, DeadLetter, EnrichedArticle
from shared.redis import connect, dead_letter
from shared.settings import Settings
from shared.streams import GROUP_ENRICH, StreamNames
from shared.subscriptions import FilterIndex, SavedFilter, SubscriptionIndex, matching

log = logging.getLogger(__name__)

SERVICE = "enrich"


def _warmup_article() -> Article:
    return Article(
        id="warmup",
        title="Ministers meet in Paris",
        body="The French government met union leaders in Paris on Monday, officials said.",
        received_at=datetime.now(UTC),
        content_hash="warmup",
        word_count=16,
    )


def decode_articles(
    entries: Sequence[Entry], stream: str
) -> tuple[list[tuple[bytes, Article]], list[DeadLetter]]:
    """Split a batch into decodable articles and dead letters for the rest."""
    return decode_entries(entries, Article, service=SERVICE, stream=stream, group=GROUP_ENRICH)


def enrich_resilient(
    enricher: Enricher,
    items: list[tuple[bytes, Article]],
    fields_of: dict[bytes, Any],
    stream: str,
) -> tuple[list[EnrichedArticle], list[DeadLetter]]:
    """Enrich the batch; if it fails, enrich one by one so one bad article can't block the rest."""
    articles = [a for _, a in items]
    try:
        return enricher.enrich_batch(articles), []
    except Exception:
        log.exception("batch enrichment failed; retrying the %d articles one by one", len(items))
    done: list[EnrichedArticle] = []
    bad: list[DeadLetter] = []
    for entry_id, article in items:
        try:
            done.extend(enricher.enrich_batch([article]))
        except Exception as exc:  # noqa: BLE001 - recorded in the dead letter
            bad.append(
                dead_letter(
                    service=SERVICE,
                    stream=stream,
                    group=GROUP_ENRICH,
                    entry_id=entry_id,
                    fields=fields_of[entry_id],
                    error=exc,
                )
            )
    return done, bad


def batch_parts(
    items: list[tuple[bytes, Article]], max_chars: int
) -> list[list[tuple[bytes, Article]]]:
    """``items`` in order, in parts of at most ``max_chars`` characters of title and
    body each (an article longer than that is a part of its own)."""
    parts: list[list[tuple[bytes, Article]]] = []
    size = 0
    for item in items:
        length = len(item[1].title) + len(item[1].body)
        if not parts or size + length > max_chars:
            parts.append([])
            size = 0
        parts[-1].append(item)
        size += length
    return parts


def handle_raw(
    entries: list[Entry],
    *,
    enricher: Enricher,
    filters: FilterIndex | Sequence[SavedFilter],
    names: StreamNames,
    max_chars: int,
) -> BatchResult[None]:
    """The enrich stage's decisions for one batch of ``articles:raw`` (no I/O).

    Each article that decodes and enriches goes to ``articles:enriched``, to the
    stream of each of its topics and to the stream of each saved filter in
    ``filters`` it matches; the others are dead letters. Enriched in parts of at
    most ``max_chars`` characters, so peak memory stays bounded.
    """
    result: BatchResult[None] = BatchResult()
    items, invalid = decode_articles(entries, names.raw)
    result.reject(invalid, "invalid")
    fields_of = dict(entries)
    enriched: list[EnrichedArticle] = []
    for part in batch_parts(items, max_chars):
        done, failed = enrich_resilient(enricher, part, fields_of, names.raw)
        enriched.extend(done)
        result.reject(failed, "error")
    for doc in enriched:
        fields = to_fields(doc)
        result.add(names.enriched, fields)
        for topic in doc.topics:
            result.add(names.topic(topic.slug), fields)
        for name in matching(filters, doc):
            result.add(names.subs(name), fields)
    result.counts = {"enriched": len(enriched), "dead-lettered": len(result.dead_letters)}
    return result


async def load_filters(subscriptions: SubscriptionIndex) -> FilterIndex:
    """The saved filters; none when Redis refuses to read them (the key holds something
    else): a broken filter store must not stop the articles."""
    try:
        return await subscriptions.current()
    except ResponseError as exc:
        log.error("saved filters unreadable (%s); articles go to no subscription stream", exc)
        return FilterIndex(())


def build_app(settings: Settings, redis_url: str) -> FastStream:
    """The enrich worker as a FastStream app (model and taxonomy load at start-up)."""
    names = StreamNames(settings.prefix)
    client = connect(redis_url, cluster=settings.redis_cluster)
    state: dict[str, Enricher] = {}
    subscriptions = SubscriptionIndex(client, names)

    async def handle(entries: list[Entry]) -> BatchResult[None]:
        filters = await load_filters(subscriptions)
        # Off the event loop: the claim heartbeat, /healthz and shutdown go on while a
        # batch is decoded, enriched and encoded (work per article is bounded, so the
        # thread gives the GIL back often).
        return await asyncio.to_thread(
            handle_raw,
            entries,
            enricher=state["enricher"],
            filters=filters,
            names=names,
            max_chars=settings.enrich_batch_max_bytes,
        )

    async def load() -> None:
        state["enricher"] = await asyncio.to_thread(Enricher, settings)
        # The first call into spaCy is several times slower than the rest: pay it
        # now, so the first real article is not a second late for its subscribers.
        await asyncio.to_thread(state["enricher"].enrich_batch, [_warmup_article()])
        log.info("enrich worker loaded (NER %s)", settings.ner)

    return worker_app(
        service=SERVICE,
        stream=names.raw,
        group=GROUP_ENRICH,
        batch_size=settings.resolved_enrich_batch_size,
        settings=settings,
        redis_url=redis_url,
        process=stage_process(service=SERVICE, client=client, names=names, handle=handle),
        on_start=load,
        client=client,
        retention=True,
    )
