"""Recovery on a real Redis: reclaiming, dead letters after N deliveries, safe trimming."""

from __future__ import annotations

import asyncio

import pytest
import redis.asyncio as aioredis

from services.runtime import BatchConsumer, Entry
from shared.models import DeadLetter
from shared.redis import ensure_group, raw_backlog
from shared.settings import Settings
from shared.streams import StreamNames

pytestmark = pytest.mark.integration

GROUP = "enrich"


def _consumer(
    settings: Settings, client: aioredis.Redis, stream: str, process: object, **overrides: object
) -> BatchConsumer:
    return BatchConsumer(
        service="enrich",
        stream=stream,
        group=GROUP,
        batch_size=50,
        settings=settings.model_copy(update={"claim_idle_ms": 100, **overrides}),
        client=client,
        process=process,
    )  # type: ignore[arg-type]


async def _fill(client: aioredis.Redis, stream: str, n: int) -> list[bytes]:
    await ensure_group(client, stream, GROUP)
    return [await client.xadd(stream, {"json": f'{{"n": {i}}}'.encode()}) for i in range(n)]


async def _crash_reading(client: aioredis.Redis, stream: str, count: int) -> None:
    """A consumer that reads entries and dies without acknowledging them."""
    await client.xreadgroup(GROUP, "dead-consumer", {stream: ">"}, count=count)


async def test_entries_of_a_dead_consumer_are_reclaimed_and_acked(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).raw
    ids = await _fill(redis_client, stream, 10)
    await _crash_reading(redis_client, stream, 10)
    seen: list[bytes] = []

    async def process(entries: list[Entry]) -> None:
        seen.extend(entry_id for entry_id, _ in entries)

    consumer = _consumer(settings, redis_client, stream, process)
    await asyncio.sleep(0.15)
    assert await consumer.sweep() == 10
    assert seen == ids
    assert (await redis_client.xpending(stream, GROUP))["pending"] == 0
    # Nothing is handled twice: a second sweep finds nothing.
    assert await consumer.sweep() == 0


async def test_young_pending_entries_are_left_to_their_consumer(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).raw
    await _fill(redis_client, stream, 3)
    await _crash_reading(redis_client, stream, 3)

    async def process(entries: list[Entry]) -> None:
        raise AssertionError("must not be called")

    consumer = _consumer(settings, redis_client, stream, process, claim_idle_ms=60_000)
    assert await consumer.sweep() == 0
    assert (await redis_client.xpending(stream, GROUP))["pending"] == 3


async def test_poison_entry_goes_to_dlq_after_max_deliveries_others_are_stored(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    ids = await _fill(redis_client, names.raw, 5)
    poison = ids[2]
    await _crash_reading(redis_client, names.raw, 5)
    done: list[bytes] = []

    async def process(entries: list[Entry]) -> None:
        if any(entry_id == poison for entry_id, _ in entries):
            raise RuntimeError("spaCy exploded on this one")
        done.extend(entry_id for entry_id, _ in entries)

    consumer = _consumer(settings, redis_client, names.raw, process, max_deliveries=3)
    for _ in range(10):
        await asyncio.sleep(0.12)
        await consumer.sweep()
        if await redis_client.xlen(names.dlq):
            break
    assert sorted(done) == sorted(i for i in ids if i != poison)
    ((_, fields),) = await redis_client.xrange(names.dlq)
    letter = DeadLetter.model_validate_json(fields[b"json"])
    assert letter.entry_id == poison.decode()
    assert letter.source_stream == names.raw
    assert letter.group == GROUP
    assert letter.error_class == "MaxDeliveriesExceeded"
    assert letter.delivery_count == 4
    assert "spaCy exploded on this one" in letter.error
    assert letter.payload == {"json": '{"n": 2}'}
    assert (await redis_client.xpending(names.raw, GROUP))["pending"] == 0


async def test_trim_never_removes_what_a_group_has_not_acknowledged(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).raw
    ids = await _fill(redis_client, stream, 300)
    await ensure_group(redis_client, stream, "audit")
    # enrich read and acked everything; "audit" acked the first 100 and holds 100 pending.
    read = await redis_client.xreadgroup(GROUP, "c1", {stream: ">"}, count=300)
    await redis_client.xack(stream, GROUP, *[i for i, _ in read[0][1]])
    audit = await redis_client.xreadgroup("audit", "c2", {stream: ">"}, count=200)
    await redis_client.xack(stream, "audit", *[i for i, _ in audit[0][1][:100]])

    async def process(entries: list[Entry]) -> None:
        return None

    consumer = _consumer(settings, redis_client, stream, process, claim_idle_ms=60_000)
    assert await consumer.trim() == 100
    remaining = [entry_id for entry_id, _ in await redis_client.xrange(stream)]
    assert remaining == ids[100:]
    # Once audit acks all, the stream empties down to nothing both have finished.
    await redis_client.xack(stream, "audit", *[i for i, _ in audit[0][1][100:]])
    await redis_client.xreadgroup("audit", "c2", {stream: ">"}, count=300)
    assert (await redis_client.xpending(stream, "audit"))["pending"] == 100
    await consumer.trim()
    assert [e for e, _ in await redis_client.xrange(stream)] == ids[200:]


async def test_stream_without_groups_is_not_trimmed(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).topic("politics")
    for i in range(5):
        await redis_client.xadd(stream, {"json": str(i).encode()})

    async def process(entries: list[Entry]) -> None:
        return None

    consumer = _consumer(settings, redis_client, stream, process)
    assert await consumer.trim() == 0
    assert await redis_client.xlen(stream) == 5


async def test_stale_consumers_with_nothing_pending_are_removed(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).raw
    await _fill(redis_client, stream, 2)
    await redis_client.xreadgroup(GROUP, "idle-empty", {stream: ">"}, count=1)
    await redis_client.xack(stream, GROUP, (await redis_client.xrange(stream))[0][0])
    await redis_client.xreadgroup(GROUP, "idle-with-work", {stream: ">"}, count=1)

    async def process(entries: list[Entry]) -> None:
        return None

    consumer = _consumer(
        settings, redis_client, stream, process, claim_idle_ms=60_000, stale_consumer_ms=1000
    )
    await asyncio.sleep(1.1)
    assert await consumer.remove_stale_consumers() == 1
    names = {c["name"] for c in await redis_client.xinfo_consumers(stream, GROUP)}
    assert names == {b"idle-with-work"}


async def test_backlog_counts_unread_and_pending(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).raw
    await _fill(redis_client, stream, 7)
    await redis_client.xreadgroup(GROUP, "c", {stream: ">"}, count=3)
    assert await raw_backlog(redis_client, stream) == 7
    await redis_client.xack(stream, GROUP, *[e for e, _ in await redis_client.xrange(stream)][:3])
    major = int((await redis_client.info("server"))["redis_version"].split(".")[0])
    # Redis 7 reports the group's lag; before that the (trimmed) stream length stands in.
    assert await raw_backlog(redis_client, stream) == (4 if major >= 7 else 7)


async def test_a_slow_batch_in_progress_is_not_claimed_by_another_consumer(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).raw
    await _fill(redis_client, stream, 4)

    async def slow(entries: list[Entry]) -> None:
        await asyncio.sleep(0.8)

    async def never(entries: list[Entry]) -> None:
        raise AssertionError("a live batch was claimed")

    busy = _consumer(settings, redis_client, stream, slow, claim_idle_ms=150)
    other = _consumer(settings, redis_client, stream, never, claim_idle_ms=150)
    other.consumer = "another-replica"
    reply = await redis_client.xreadgroup(GROUP, busy.consumer, {stream: ">"}, count=4)
    working = asyncio.create_task(busy._run(reply[0][1]))
    for _ in range(6):
        await asyncio.sleep(0.12)
        assert await other.sweep() == 0
    await working
    pending = await redis_client.xpending_range(stream, GROUP, "-", "+", 10)
    assert {p["consumer"] for p in pending} == {busy.consumer.encode()}
    assert {p["times_delivered"] for p in pending} == {1}


async def test_lost_consumer_group_asks_for_a_restart(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    stream = StreamNames(settings.prefix).raw
    await _fill(redis_client, stream, 1)
    lost: list[str] = []

    async def process(entries: list[Entry]) -> None:
        return None

    consumer = BatchConsumer(
        service="enrich",
        stream=stream,
        group=GROUP,
        batch_size=10,
        settings=settings.model_copy(update={"claim_idle_ms": 200}),
        client=redis_client,
        process=process,
        on_group_lost=lambda: lost.append("restart"),
    )
    await redis_client.delete(stream)  # what a Redis restart without AOF looks like
    consumer.start()
    for _ in range(50):
        if lost:
            break
        await asyncio.sleep(0.05)
    await consumer.stop()
    assert lost == ["restart"]
