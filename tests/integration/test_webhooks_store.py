"""Webhook storage on a real Redis: checks at creation, the consumer group, deletion."""

from __future__ import annotations

import pytest
import redis.asyncio as aioredis

from shared import subscriptions, webhooks
from shared.settings import Settings
from shared.streams import StreamNames
from shared.webhooks import WebhookIn, WebhookRejected

pytestmark = pytest.mark.integration

URL = "http://127.0.0.1:9/hook"


async def _create(client: aioredis.Redis, names: StreamNames, **data: object) -> webhooks.Webhook:
    return await webhooks.create(client, names, WebhookIn.model_validate(data), allow_private=True)


async def test_create_reads_new_articles_only(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    await redis_client.xadd(names.topic("sport"), {"json": b"{}"})
    made = await _create(redis_client, names, url=URL, topic="Sport")
    assert made.topic == "sport"
    assert made.status == "active"
    assert made.secret.startswith("whsec_")
    groups = await redis_client.xinfo_groups(names.topic("sport"))
    assert [(g["name"], g["lag"]) for g in groups] == [(f"webhook:{made.id}".encode(), 0)]
    assert await webhooks.get(redis_client, names, made.id) == made
    assert [w.id for w in await webhooks.list_all(redis_client, names)] == [made.id]


async def test_unknown_topic_and_subscription_are_refused(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    with pytest.raises(WebhookRejected) as topic:
        await _create(redis_client, names, url=URL, topic="sports")
    assert topic.value.field == "topic"
    assert "unknown topic 'sports'" in topic.value.message
    with pytest.raises(WebhookRejected) as sub:
        await _create(redis_client, names, url=URL, subscription="nope")
    assert sub.value.field == "subscription"
    await subscriptions.save(redis_client, names, subscriptions.SavedFilter(name="nope"))
    made = await _create(redis_client, names, url=URL, subscription="nope")
    assert made.stream(names) == names.subs("nope")
    assert await webhooks.list_all(redis_client, names) == [made]


async def test_loopback_is_refused_without_the_flag(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    spec = WebhookIn(url="http://localhost:9/hook", topic="sport")
    with pytest.raises(webhooks.UnsafeTarget):
        await webhooks.create(redis_client, names, spec, allow_private=False)
    assert await webhooks.list_all(redis_client, names) == []


async def test_delete_removes_group_and_status_cannot_bring_it_back(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    made = await _create(redis_client, names, url=URL, topic="sport")
    assert await webhooks.set_status(redis_client, names, made.id, "failing")
    stored = await webhooks.get(redis_client, names, made.id)
    assert stored is not None
    assert stored.status == "failing"
    assert stored.model_copy(update={"status": "active"}) == made
    assert await webhooks.delete(redis_client, names, made.id)
    assert await redis_client.xinfo_groups(names.topic("sport")) == []
    assert not await webhooks.set_status(redis_client, names, made.id, "disabled")
    assert await webhooks.get(redis_client, names, made.id) is None
    assert not await webhooks.delete(redis_client, names, made.id)
