"""The worker contract on a real Redis: error classes that act.

``RetryableError`` (storage away) holds a batch in place for as long as it lasts,
with its claim kept alive, so nothing is dead-lettered and nothing is processed
twice; ``PermanentError`` dead-letters the guilty entry on its first delivery;
anything else keeps the bounded retry (``test_recovery.py``)."""

from __future__ import annotations

import asyncio
import time

import orjson
import pytest
import redis.asyncio as aioredis

from services.runtime import BatchConsumer, Entry
from shared.errors import InvalidMessage, RetryableError, TooLarge
from shared.models import DeadLetter
from shared.settings import Settings
from shared.streams import StreamNames
from tests.integration.test_recovery import GROUP, _consumer, _crash_reading, _fill

pytestmark = pytest.mark.integration
WAIT = 20.0  # a bounded wait, never a timing assertion


def _n(entry: Entry) -> int:
    return int(orjson.loads(entry[1][b"json"])["n"])


async def _until(predicate: object, what: str) -> None:
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def test_storage_outage_holds_the_batch_and_dead_letters_nothing(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    ids = await _fill(redis_client, names.raw, 6)
    await _crash_reading(redis_client, names.raw, 6)
    outage = {"on": True}
    processed: list[int] = []
    tries = {"n": 0}

    async def process(entries: list[Entry]) -> None:
        tries["n"] += 1
        if outage["on"]:
            raise RetryableError("SQLite database data/newsflow.db is busy: database is locked")
        processed.extend(_n(e) for e in entries)

    # Old behaviour: 2 deliveries of 100 ms idle each, then the dead-letter stream.
    consumer = _consumer(
        settings, redis_client, names.raw, process, max_deliveries=2, retry_max_backoff_s=0.1
    )
    await asyncio.sleep(0.15)
    sweep = asyncio.create_task(consumer.sweep())
    await _until(lambda: tries["n"] >= 3, "the batch to be retried in place")
    consumer._task = asyncio.create_task(asyncio.sleep(3600))  # as if started: readiness
    # reports a problem only for a running consumer.
    try:
        assert "holding a batch" in (consumer.problem() or "")
        assert "database is locked" in (consumer.problem() or "")
        assert consumer.metrics.value("newsflow_holding_seconds") > 0
        # Far longer than claim idle x max deliveries: still held, nothing else claims it.
        await asyncio.sleep(1.5)
        pending = await redis_client.xpending_range(names.raw, GROUP, "-", "+", 100)
        assert {int(p["times_delivered"]) for p in pending} == {2}
        assert await redis_client.xlen(names.dlq) == 0
        outage["on"] = False
        assert await asyncio.wait_for(sweep, WAIT) == 6
        assert consumer.problem() is None
    finally:
        consumer._task.cancel()
    assert sorted(processed) == list(range(6))  # each once
    assert len(ids) == 6
    assert (await redis_client.xpending(names.raw, GROUP))["pending"] == 0
    assert await redis_client.xlen(names.dlq) == 0
    assert consumer.metrics.value("newsflow_holding_seconds") == 0
    assert consumer.metrics.value("newsflow_batch_retries_total") >= 3


@pytest.mark.parametrize("error", [InvalidMessage, TooLarge])
async def test_permanent_error_dead_letters_on_first_delivery(
    settings: Settings, redis_client: aioredis.Redis, error: type[Exception]
) -> None:
    names = StreamNames(settings.prefix)
    ids = await _fill(redis_client, names.raw, 4)
    await _crash_reading(redis_client, names.raw, 4)
    processed: list[int] = []

    async def process(entries: list[Entry]) -> None:
        if any(_n(e) == 2 for e in entries):
            raise error("body: over the 2,097,152-character limit")
        processed.extend(_n(e) for e in entries)

    consumer = _consumer(settings, redis_client, names.raw, process, max_deliveries=5)
    await asyncio.sleep(0.15)
    assert await consumer.sweep() == 4
    assert sorted(processed) == [0, 1, 3]
    ((_, fields),) = await redis_client.xrange(names.dlq)
    letter = DeadLetter.model_validate_json(fields[b"json"])
    assert letter.entry_id == ids[2].decode()
    assert letter.error_class == error.__name__
    assert letter.delivery_count == 1
    assert "2,097,152-character limit" in letter.error
    assert (await redis_client.xpending(names.raw, GROUP))["pending"] == 0
    assert consumer.metrics.value("newsflow_entries_dead_lettered_total", reason="permanent") == 1


async def test_stop_during_a_hold_leaves_the_batch_pending(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    await _fill(redis_client, names.raw, 3)
    await _crash_reading(redis_client, names.raw, 3)
    tries = {"n": 0}

    async def process(entries: list[Entry]) -> None:
        tries["n"] += 1
        raise RetryableError("PostgreSQL localhost:5432/newsflow is unavailable")

    consumer: BatchConsumer = _consumer(
        settings, redis_client, names.raw, process, retry_max_backoff_s=30.0
    )
    await asyncio.sleep(0.15)
    sweep = asyncio.create_task(consumer.sweep())
    await _until(lambda: tries["n"] >= 2, "a retry")
    consumer._stop.set()  # what stop() does at shutdown
    await asyncio.wait_for(sweep, WAIT)
    assert tries["n"] <= 3  # the hold ends at once: no retry of each entry alone
    assert (await redis_client.xpending(names.raw, GROUP))["pending"] == 3
    assert await redis_client.xlen(names.dlq) == 0


async def test_a_key_of_the_wrong_type_holds_the_batch_until_it_is_mended(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    # Someone SET a string where the enrich worker writes a stream: every XADD fails
    # with WRONGTYPE. That says nothing against the articles, so none is dead-lettered.
    names = StreamNames(settings.prefix)
    await _fill(redis_client, names.raw, 4)
    await _crash_reading(redis_client, names.raw, 4)
    await redis_client.set(names.enriched, "oops")

    async def process(entries: list[Entry]) -> None:
        for entry in entries:
            await redis_client.xadd(names.enriched, {"json": entry[1][b"json"]})

    consumer = _consumer(
        settings, redis_client, names.raw, process, max_deliveries=2, retry_max_backoff_s=0.1
    )
    await asyncio.sleep(0.15)
    sweep = asyncio.create_task(consumer.sweep())
    consumer._task = asyncio.create_task(asyncio.sleep(3600))  # as if started
    try:
        await _until(lambda: "WRONGTYPE" in (consumer.problem() or ""), "the batch to be held")
        await asyncio.sleep(1.0)  # many claim-idle periods: still held, not dead-lettered
        assert await redis_client.xlen(names.dlq) == 0
        await redis_client.delete(names.enriched)  # the operator mends the key
        assert await asyncio.wait_for(sweep, WAIT) == 4
        assert consumer.problem() is None
    finally:
        consumer._task.cancel()
    assert await redis_client.xlen(names.enriched) == 4
    assert await redis_client.xlen(names.dlq) == 0


async def test_a_held_batch_is_reported_where_stats_and_up_look(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    import redis as sync_redis

    from services.tools import collect_stats
    from shared import worker_status

    names = StreamNames(settings.prefix)
    await _fill(redis_client, names.raw, 3)
    await _crash_reading(redis_client, names.raw, 3)
    outage = {"on": True}

    async def process(entries: list[Entry]) -> None:
        if outage["on"]:
            raise RetryableError("SQLite database data/newsflow.db is busy: database is locked")

    consumer = _consumer(settings, redis_client, names.raw, process, retry_max_backoff_s=0.1)
    sync = sync_redis.Redis.from_url(settings.resolved_redis_url() or "")
    consumer.start()  # the recovery loop claims the batch after 100 ms and holds it
    try:

        def holding() -> list[worker_status.WorkerStatus]:
            return [s for s in worker_status.read_all(sync, names) if s.holding_since]

        await _until(holding, "the hold to be published")
        (status,) = holding()
        assert status.service == "enrich" and status.consumer == consumer.consumer
        assert "database is locked" in (status.holding_reason or "")
        shown = collect_stats(sync, names)["workers"]
        assert [w["holding_reason"] for w in shown] == [status.holding_reason]

        outage["on"] = False
        await _until(lambda: not holding(), "the worker to report it resumed")
        assert [s.consumer for s in worker_status.read_all(sync, names)] == [consumer.consumer]
    finally:
        await consumer.stop()
        sync.close()
