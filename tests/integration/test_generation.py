"""The generation marker against a real Redis: one loss, one incident, the backlog counted."""

from __future__ import annotations

import redis.asyncio as aioredis

from shared.generation import GenerationWatch, recent_incidents
from shared.redis import ensure_pipeline_groups
from shared.streams import StreamNames


async def _lose_everything(client: aioredis.Redis, prefix: str) -> None:
    keys = [key async for key in client.scan_iter(match=f"{prefix}*")]
    if keys:
        await client.delete(*keys)


async def test_two_replicas_record_one_loss(redis_client: aioredis.Redis, prefix: str) -> None:
    names = StreamNames(prefix)
    accepted = {"first": 0, "second": 0}
    first = GenerationWatch(redis_client, names, accepted=lambda: accepted["first"])
    second = GenerationWatch(redis_client, names, accepted=lambda: accepted["second"])
    await ensure_pipeline_groups(redis_client, names)
    await first.start()
    await second.start()
    assert first.generation == second.generation  # the first writer's marker is shared

    for n in range(4):
        await redis_client.xadd(names.raw, {"json": f'{{"n": {n}}}'})
    assert await first.check() is None
    assert await second.check() is None
    assert first.backlog == 4

    await _lose_everything(redis_client, prefix)
    accepted["first"] += 3  # accepted after the last good check, lost too
    incident = await first.check()
    assert incident is not None
    assert incident.backlog_at_last_check == 4 and incident.accepted_since_last_check == 3
    assert incident.lost_at_least == 7
    assert await second.check() is None  # the other replica adopts the new marker
    assert second.generation == first.generation == incident.generation
    assert await first.check() is None

    recorded = await recent_incidents(redis_client, names)
    assert len(recorded) == 1
    assert recorded == [incident]


async def test_a_wiped_marker_alone_is_a_loss_with_nothing_lost(
    redis_client: aioredis.Redis, prefix: str
) -> None:
    names = StreamNames(prefix)
    watch = GenerationWatch(redis_client, names)
    await watch.start()
    await redis_client.delete(names.generation)
    incident = await watch.check()
    assert incident is not None and incident.lost_at_least == 0
