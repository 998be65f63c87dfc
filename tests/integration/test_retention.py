"""Topic and subscription streams on a real Redis: trimmed only by their age and
length limits, and a subscriber's consumer group that loses unread entries to a
limit is told (log line and metric); a group that is behind is never trimmed
below its position by anything else."""

from __future__ import annotations

import logging

import pytest
import redis.asyncio as aioredis

from services.retention import Limits, trim_to_limits
from services.runtime import BatchConsumer
from shared.settings import Settings
from shared.streams import StreamNames

pytestmark = pytest.mark.integration

DAY_MS = 24 * 3600 * 1000
NOW_MS = 100 * DAY_MS


async def _fill(client: aioredis.Redis, stream: str, stamps_ms: list[int]) -> list[str]:
    """One entry per timestamp (ids ``<ms>-0``), oldest first."""
    return [(await client.xadd(stream, {"json": b"{}"}, id=f"{ms}-0")).decode() for ms in stamps_ms]


async def _group_reads(client: aioredis.Redis, stream: str, group: str, n: int, ack: int) -> None:
    """Group ``group`` (from the start) reads ``n`` entries and acknowledges the first ``ack``."""
    await client.xgroup_create(stream, group, id="0")
    if n:
        [[_, read]] = await client.xreadgroup(group, f"{group}-1", {stream: ">"}, count=n)
        if ack:
            await client.xack(stream, group, *[entry_id for entry_id, _ in read[:ack]])


async def _ids(client: aioredis.Redis, stream: str) -> list[str]:
    return [entry_id.decode() for entry_id, _ in await client.xrange(stream)]


async def test_a_length_limit_tells_each_group_how_many_unread_entries_it_lost(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    stream = StreamNames(prefix).topic("politics")
    ids = await _fill(redis_client, stream, list(range(1000, 11000, 1000)))  # 10 entries
    await _group_reads(redis_client, stream, "done", 10, ack=10)  # read everything
    await _group_reads(redis_client, stream, "slow", 5, ack=3)  # 2 pending, 5 unread
    await _group_reads(redis_client, stream, "away", 0, ack=0)  # read nothing

    trimmed = await trim_to_limits(redis_client, stream, Limits(None, 4), now_ms=NOW_MS)

    assert await _ids(redis_client, stream) == ids[6:]
    assert trimmed.total == 6
    # slow lost entries 4-6 (two pending, one unread), away all six, done nothing.
    assert trimmed.unread == {"slow": 3, "away": 6}


async def test_an_age_limit_trims_old_entries_and_tells_the_group_behind(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    stream = StreamNames(prefix).subs("flood-alerts")
    old = [NOW_MS - 9 * DAY_MS, NOW_MS - 8 * DAY_MS, NOW_MS - 7 * DAY_MS - 1]
    new = [NOW_MS - 6 * DAY_MS, NOW_MS - 1000]
    ids = await _fill(redis_client, stream, old + new)
    await _group_reads(redis_client, stream, "pager", 1, ack=1)

    trimmed = await trim_to_limits(redis_client, stream, Limits(7 * DAY_MS, None), now_ms=NOW_MS)

    assert await _ids(redis_client, stream) == ids[3:]
    assert (trimmed.total, trimmed.unread) == (3, {"pager": 2})


async def test_within_the_limits_nothing_is_trimmed_however_far_behind_a_group_is(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    stream = StreamNames(prefix).topic("sport")
    ids = await _fill(redis_client, stream, [NOW_MS - 3000, NOW_MS - 2000, NOW_MS - 1000])
    await _group_reads(redis_client, stream, "never-read", 0, ack=0)

    trimmed = await trim_to_limits(redis_client, stream, Limits(DAY_MS, 3), now_ms=NOW_MS)

    assert await _ids(redis_client, stream) == ids
    assert (trimmed.total, trimmed.unread) == (0, {})


async def test_the_enrich_worker_trims_topic_streams_and_reports_the_loss(
    settings: Settings, redis_client: aioredis.Redis, caplog: pytest.LogCaptureFixture
) -> None:
    names = StreamNames(settings.prefix)
    topic, subs = names.topic("economy-business-and-finance"), names.subs("markets")
    await _fill(redis_client, topic, list(range(1000, 7000, 1000)))  # 6 entries
    await _fill(redis_client, subs, [1000, 2000])
    await _group_reads(redis_client, topic, "newsroom", 0, ack=0)
    await redis_client.xadd(names.raw, {"json": b"{}"})  # not a topic: never touched

    async def process(_: object) -> None:
        return None

    consumer = BatchConsumer(
        service="enrich",
        stream=names.raw,
        group="enrich",
        batch_size=10,
        # No age limit to speak of (the entries' ids are from 1970): length only.
        settings=settings.model_copy(update={"topic_maxlen": 4, "topic_retention_hours": 1e6}),
        client=redis_client,
        process=process,
    )
    consumer.limits = Limits(None, 4)
    with caplog.at_level(logging.WARNING, logger="services.runtime"):
        assert await consumer.trim_limited() == 2

    assert await redis_client.xlen(topic) == 4
    assert await redis_client.xlen(subs) == 2
    assert await redis_client.xlen(names.raw) == 1
    metric = consumer.metrics.registry.get_sample_value(
        "newsflow_trimmed_unread_total",
        {"stage": "enrich", "stream": topic, "group": "newsroom"},
    )
    assert metric == 2
    [line] = [r.getMessage() for r in caplog.records if "trimmed" in r.getMessage()]
    assert topic in line and "newsroom" in line and " 2 entries" in line


async def test_a_length_limit_cuts_at_the_right_entry_past_many_pages(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    stream = StreamNames(prefix).topic("weather")
    async with redis_client.pipeline(transaction=False) as pipe:
        for n in range(1, 1204):
            pipe.xadd(stream, {"json": b"{}"}, id=f"{n}-0")
        await pipe.execute()

    trimmed = await trim_to_limits(redis_client, stream, Limits(None, 100), now_ms=NOW_MS)

    assert trimmed.total == 1103
    assert await _ids(redis_client, stream) == [f"{n}-0" for n in range(1104, 1204)]
