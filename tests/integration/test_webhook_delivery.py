"""The deliver worker against a real Redis and a real HTTP receiver that verifies the
Standard Webhooks signature of every request with the ``standardwebhooks`` package."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable

import orjson
import pytest
import redis.asyncio as aioredis

from services.deliver.app import Deliverer
from shared import webhooks
from shared.settings import Settings
from shared.streams import StreamNames
from shared.webhooks import Webhook, WebhookIn
from tests.webhook_receiver import Receiver, receiver

pytestmark = pytest.mark.integration

WAIT = 15.0
SECRET = webhooks.new_secret()


@pytest.fixture
def hook_settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={
            "webhook_allow_private": True,  # the receiver is on 127.0.0.1
            "webhook_refresh_s": 0.1,
            "webhook_max_retry_s": 30.0,
        }
    )


@pytest.fixture
async def sink() -> AsyncIterator[Receiver]:
    with receiver(SECRET) as state:
        yield state


async def _running(
    settings: Settings, client: aioredis.Redis
) -> tuple[Deliverer, asyncio.Event, asyncio.Task[None]]:
    deliverer = Deliverer(settings, client)
    stop = asyncio.Event()
    return deliverer, stop, asyncio.create_task(deliverer.run(stop))


@pytest.fixture
async def deliverer(
    hook_settings: Settings, redis_client: aioredis.Redis
) -> AsyncIterator[Deliverer]:
    running, stop, task = await _running(hook_settings, redis_client)
    yield running
    stop.set()
    await asyncio.wait_for(task, WAIT)


async def until(check: Callable[[], Awaitable[bool] | bool], what: str) -> None:
    """Return once ``check`` holds; fail naming ``what`` after ``WAIT`` seconds."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        result = check()
        if await result if isinstance(result, Awaitable) else result:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"not within {WAIT} s: {what}")


async def _hook(settings: Settings, client: aioredis.Redis, url: str, **data: object) -> Webhook:
    spec = WebhookIn.model_validate({"url": url, "topic": "sport", "secret": SECRET, **data})
    names = StreamNames(settings.prefix)
    return await webhooks.create(client, names, spec, allow_private=True)


async def _publish(settings: Settings, client: aioredis.Redis, *ids: str) -> list[bytes]:
    stream = StreamNames(settings.prefix).topic("sport")
    return [
        await client.xadd(stream, {"json": orjson.dumps({"id": i, "title": f"Article {i}"})})
        for i in ids
    ]


async def _status(settings: Settings, client: aioredis.Redis, webhook_id: str) -> str | None:
    found = await webhooks.get(client, StreamNames(settings.prefix), webhook_id)
    return None if found is None else found.status


async def _deliveries(settings: Settings, client: aioredis.Redis, webhook_id: str) -> list[dict]:
    key = webhooks.deliveries_key(StreamNames(settings.prefix), webhook_id)
    return [orjson.loads(f[b"json"]) for _, f in await client.xrange(key)]


async def test_articles_arrive_signed_and_in_order(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    hook = await _hook(hook_settings, redis_client, sink.url)  # made while the worker runs
    await until(lambda: hook.id in deliverer.tasks, "the new webhook is picked up")
    ids = [f"a{n}" for n in range(20)]
    await _publish(hook_settings, redis_client, *ids)
    await until(lambda: len(sink.delivered()) == 20, "20 deliveries")
    got = sink.delivered()
    assert [r.verified["id"] for r in got] == ids  # signature verified, in order
    assert len({r.headers["webhook-id"] for r in got}) == 20
    assert all(r.headers["webhook-signature"].startswith("v1,") for r in got)
    stream = StreamNames(hook_settings.prefix).topic("sport")
    await until(lambda: _pending_is_zero(redis_client, stream, hook.id), "every entry acknowledged")
    attempts = await _deliveries(hook_settings, redis_client, hook.id)
    assert [a["status"] for a in attempts] == [200] * 20
    assert all(a["latency_ms"] >= 0 and a["entry_id"] for a in attempts)


async def _pending_is_zero(client: aioredis.Redis, stream: str, webhook_id: str) -> bool:
    info = await client.xpending(stream, webhooks.group(webhook_id))
    return int(info["pending"]) == 0


async def test_a_500_is_retried_with_the_same_webhook_id(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    sink.replies = [(500, {}), (503, {})]
    hook = await _hook(hook_settings, redis_client, sink.url)
    await until(lambda: hook.id in deliverer.tasks, "the webhook is picked up")
    await _publish(hook_settings, redis_client, "only")
    await until(lambda: len(sink.delivered()) == 1, "a 2xx after two failures")
    assert [r.status for r in sink.received] == [500, 503, 200]
    assert len({r.headers["webhook-id"] for r in sink.received}) == 1
    assert sink.delivered()[0].verified["id"] == "only"
    attempts = await _deliveries(hook_settings, redis_client, hook.id)
    assert [(a["attempt"], a["status"]) for a in attempts] == [(1, 500), (2, 503), (3, 200)]


async def test_retry_after_is_honoured(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    sink.replies = [(429, {"Retry-After": "2"})]
    hook = await _hook(hook_settings, redis_client, sink.url)
    await until(lambda: hook.id in deliverer.tasks, "the webhook is picked up")
    await _publish(hook_settings, redis_client, "later")
    await until(lambda: len(sink.delivered()) == 1, "delivered after Retry-After")
    first, second = sink.received
    # Without Retry-After the first retry waits under 1 s (full jitter over 1 s).
    assert second.at - first.at >= 1.9
    assert second.headers["webhook-id"] == first.headers["webhook-id"]


async def test_410_disables_the_webhook(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    sink.replies = [(410, {})]
    hook = await _hook(hook_settings, redis_client, sink.url)
    await until(lambda: hook.id in deliverer.tasks, "the webhook is picked up")
    await _publish(hook_settings, redis_client, "gone")
    await until(
        lambda: _is(hook_settings, redis_client, hook.id, "disabled"), "the webhook disabled"
    )
    await until(lambda: hook.id not in deliverer.tasks, "its task stopped")
    await _publish(hook_settings, redis_client, "after")
    other = await _hook(hook_settings, redis_client, sink.url)  # a refresh has passed
    await until(lambda: other.id in deliverer.tasks, "a later webhook is picked up")
    assert [r.status for r in sink.received] == [410]


async def _is(settings: Settings, client: aioredis.Redis, webhook_id: str, status: str) -> bool:
    return await _status(settings, client, webhook_id) == status


async def test_dead_letter_after_the_retry_time_then_recovery(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver
) -> None:
    settings = hook_settings.model_copy(update={"webhook_max_retry_s": 1.5})
    running, stop, task = await _running(settings, redis_client)
    try:
        sink.replies = [(500, {})] * 1000  # down until the script is cleared
        hook = await _hook(settings, redis_client, sink.url)
        await until(lambda: hook.id in running.tasks, "the webhook is picked up")
        await _publish(settings, redis_client, "lost")
        await until(lambda: _is(settings, redis_client, hook.id, "failing"), "marked failing")
        dlq = await redis_client.xrange(webhooks.dlq_key(StreamNames(settings.prefix), hook.id))
        assert [orjson.loads(f[b"json"])["id"] for _, f in dlq] == ["lost"]
        assert dlq[0][1][b"error"] == b"HTTP 500"
        with sink.lock:
            sink.replies.clear()
        await _publish(settings, redis_client, "next")
        await until(lambda: len(sink.delivered()) == 1, "the next article delivered")
        assert sink.delivered()[0].verified["id"] == "next"
        await until(lambda: _is(settings, redis_client, hook.id, "active"), "active again")
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)


async def test_batches_are_json_arrays(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    hook = await _hook(hook_settings, redis_client, sink.url, batch_size=3, batch_interval_s=0.5)
    await until(lambda: hook.id in deliverer.tasks, "the webhook is picked up")
    await _publish(hook_settings, redis_client, "b1", "b2", "b3", "b4")
    await until(lambda: sum(len(r.verified) for r in sink.delivered()) == 4, "4 articles")
    batches = [[doc["id"] for doc in r.verified] for r in sink.delivered()]
    assert [i for batch in batches for i in batch] == ["b1", "b2", "b3", "b4"]
    assert all(len(batch) <= 3 for batch in batches)
    assert len(batches) < 4  # some were sent together


async def test_a_deleted_webhook_stops_receiving(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    hook = await _hook(hook_settings, redis_client, sink.url)
    await until(lambda: hook.id in deliverer.tasks, "the webhook is picked up")
    await _publish(hook_settings, redis_client, "before")
    await until(lambda: len(sink.delivered()) == 1, "delivered while it exists")
    assert await webhooks.delete(redis_client, StreamNames(hook_settings.prefix), hook.id)
    await until(lambda: hook.id not in deliverer.tasks, "its task stopped")
    await _publish(hook_settings, redis_client, "after")
    other = await _hook(hook_settings, redis_client, sink.url)
    await until(lambda: len(sink.delivered()) == 1 and other.id in deliverer.tasks, "refresh")
    assert [r.verified["id"] for r in sink.delivered()] == ["before"]


async def test_a_slow_receiver_does_not_delay_another_webhook(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    with receiver(SECRET) as slow:
        slow.delay_s = 3.0
        slow_hook = await _hook(hook_settings, redis_client, slow.url)
        fast_hook = await _hook(hook_settings, redis_client, sink.url)
        await until(lambda: {slow_hook.id, fast_hook.id} <= set(deliverer.tasks), "both picked up")
        await _publish(hook_settings, redis_client, *[f"s{n}" for n in range(5)])
        await until(lambda: len(sink.delivered()) == 5, "the fast receiver has every article")
        assert len(slow.received) <= 1  # the slow one is still on its first


async def test_a_restarted_worker_sends_what_it_had_not_delivered(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver
) -> None:
    sink.replies = [(500, {})] * 1000
    first, stop, task = await _running(hook_settings, redis_client)
    hook = await _hook(hook_settings, redis_client, sink.url)
    await until(lambda: hook.id in first.tasks, "the webhook is picked up")
    await _publish(hook_settings, redis_client, "r1", "r2")
    await until(lambda: len(sink.received) >= 1, "a first failed attempt")
    stop.set()
    await asyncio.wait_for(task, WAIT)  # stops between attempts: nothing acknowledged
    with sink.lock:
        sink.replies.clear()
    _, stop, task = await _running(hook_settings, redis_client)
    try:
        await until(lambda: len(sink.delivered()) == 2, "both delivered after the restart")
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)
    assert [r.verified["id"] for r in sink.delivered()] == ["r1", "r2"]
    first_try = sink.received[0].headers["webhook-id"]
    assert sink.delivered()[0].headers["webhook-id"] == first_try  # the same id after restart


async def test_two_workers_deliver_each_article_once_in_order(
    hook_settings: Settings, redis_client: aioredis.Redis, sink: Receiver, deliverer: Deliverer
) -> None:
    other, stop, task = await _running(hook_settings, redis_client)  # a second replica
    try:
        hook = await _hook(hook_settings, redis_client, sink.url)
        await until(lambda: hook.id in deliverer.tasks and hook.id in other.tasks, "both see it")
        ids = [f"t{n}" for n in range(20)]
        await _publish(hook_settings, redis_client, *ids)
        await until(lambda: len(sink.delivered()) >= 20, "20 deliveries")
        # One more refresh of both: nothing else arrives.
        late = await _hook(hook_settings, redis_client, sink.url)
        await until(lambda: late.id in deliverer.tasks and late.id in other.tasks, "refresh")
    finally:
        stop.set()
        await asyncio.wait_for(task, WAIT)
    assert [r.verified["id"] for r in sink.delivered()] == ids
