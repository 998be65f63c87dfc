"""The enrich worker: articles:raw -> NER + topics -> articles:enriched and topics:<slug>.

Reads batches in consumer group ``enrich``; a batch is acknowledged only after
every output entry of it is written (at-least-once). An entry that can never be
enriched goes to the dead-letter stream and is acknowledged with its batch.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from faststream import FastStream
from redis.exceptions import ResponseError

from services.enrich.pipeline import Enricher
from services.observability import note_dead_letters
from services.runtime import Entry, decode_entries, worker_app
from shared.codec import to_fields
from shared.models import Article, DeadLetter, EnrichedArticle
from shared.redis import add_dead_letter, connect, dead_letter
from shared.settings import Settings
from shared.streams import GROUP_ENRICH, StreamNames
from shared.subscriptions import SubscriptionIndex

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


async def _matching(subscriptions: SubscriptionIndex, doc: EnrichedArticle) -> list[str]:
    """The saved filters ``doc`` matches; none when Redis refuses to read them (the
    key holds something else): a broken filter store must not stop the articles."""
    try:
        return await subscriptions.matching(doc)
    except ResponseError as exc:
        log.error("saved filters unreadable (%s); articles go to no subscription stream", exc)
        return []


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


def build_app(settings: Settings, redis_url: str) -> FastStream:
    """The enrich worker as a FastStream app (model and taxonomy load at start-up)."""
    names = StreamNames(settings.prefix)
    client = connect(redis_url, cluster=settings.redis_cluster)
    state: dict[str, Enricher] = {}
    retention_ms = int(settings.topic_retention_hours * 3600 * 1000)
    subscriptions = SubscriptionIndex(client, names)

    async def process(entries: list[Entry]) -> None:
        started = time.perf_counter()
        items, letters = await asyncio.to_thread(decode_articles, entries, names.raw)
        fields_of = dict(entries)
        enriched: list[EnrichedArticle] = []
        failed: list[DeadLetter] = []
        # Off the event loop, in parts of bounded size: the claim heartbeat, /healthz
        # and shutdown go on while a batch is enriched (work per article is bounded,
        # so the thread gives the GIL back often), and peak memory stays bounded.
        for part in batch_parts(items, settings.enrich_batch_max_bytes):
            done, bad = await asyncio.to_thread(
                enrich_resilient, state["enricher"], part, fields_of, names.raw
            )
            enriched.extend(done)
            failed.extend(bad)
        letters.extend(failed)
        # Encoded on the thread too: a batch may hold megabytes of text.
        encoded = await asyncio.to_thread(lambda: [to_fields(doc) for doc in enriched])
        note_dead_letters(len(failed), "error")
        minid = str(int(time.time() * 1000) - retention_ms)
        topics: set[str] = set()
        async with client.pipeline(transaction=False) as pipe:
            for doc, fields in zip(enriched, encoded, strict=True):
                pipe.xadd(names.enriched, fields)
                for topic in doc.topics:
                    topics.add(names.topic(topic.slug))
                    pipe.xadd(names.topic(topic.slug), fields, minid=minid, approximate=True)
                for name in await _matching(subscriptions, doc):
                    topics.add(names.subs(name))  # capped like the topic streams
                    pipe.xadd(names.subs(name), fields, minid=minid, approximate=True)
            if settings.topic_maxlen:
                for stream in topics:
                    pipe.xtrim(stream, maxlen=settings.topic_maxlen, approximate=True)
            for letter in letters:
                add_dead_letter(pipe, names, letter)
            await pipe.execute()
        log.info(
            "enriched %d, dead-lettered %d of %d in %.0f ms",
            len(enriched),
            len(letters),
            len(entries),
            (time.perf_counter() - started) * 1000,
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
        process=process,
        on_start=load,
        client=client,
    )
