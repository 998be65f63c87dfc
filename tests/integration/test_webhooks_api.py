"""The /v1/webhooks endpoints against a real Redis."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import orjson
import pytest
import redis.asyncio as aioredis
import standardwebhooks

from shared import webhooks
from shared.settings import Settings
from shared.streams import StreamNames
from tests.integration.test_ingest import serve

pytestmark = pytest.mark.integration

PUBLIC = "http://93.184.215.14/hook"  # a public address: no DNS needed


@pytest.fixture
async def api(settings: Settings, redis_client: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(settings) as client:
        yield client


async def test_create_list_get_delete(
    api: httpx.AsyncClient, settings: Settings, redis_client: aioredis.Redis
) -> None:
    created = await api.post("/v1/webhooks", json={"url": PUBLIC, "topic": "sport"})
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["id"].startswith("wh_")
    assert body["status"] == "active"
    assert body["stream"] == StreamNames(settings.prefix).topic("sport")
    assert (body["batch_size"], body["subscription"]) == (1, None)
    standardwebhooks.Webhook(body["secret"])  # a usable Standard Webhooks secret

    listed = (await api.get("/v1/webhooks")).json()["items"]
    assert [w["id"] for w in listed] == [body["id"]]
    assert "secret" not in listed[0]  # shown once, at creation
    one = await api.get(f"/v1/webhooks/{body['id']}")
    assert one.status_code == 200
    assert one.json()["url"] == PUBLIC
    assert "secret" not in one.json()

    key = webhooks.deliveries_key(StreamNames(settings.prefix), body["id"])
    for status in (500, 200):
        await redis_client.xadd(key, {"json": orjson.dumps({"status": status})})
    deliveries = await api.get(f"/v1/webhooks/{body['id']}/deliveries")
    assert [d["status"] for d in deliveries.json()["items"]] == [200, 500]  # newest first

    assert (await api.delete(f"/v1/webhooks/{body['id']}")).status_code == 204
    gone = await api.get(f"/v1/webhooks/{body['id']}")
    assert gone.status_code == 404
    assert gone.json()["error"]["code"] == "not_found"
    assert (await api.delete(f"/v1/webhooks/{body['id']}")).status_code == 404
    assert (await api.get(f"/v1/webhooks/{body['id']}/deliveries")).status_code == 404
    assert (await api.get("/v1/webhooks")).json()["items"] == []


@pytest.mark.parametrize(
    ("payload", "field", "words"),
    [
        ({"url": PUBLIC, "topic": "sports"}, "topic", "unknown topic 'sports'"),
        ({"url": PUBLIC, "subscription": "nope"}, "subscription", "no subscription"),
        ({"url": "not a url", "topic": "sport"}, "url", "http"),
        ({"url": "http://localhost:9/", "topic": "sport"}, "url", "loopback"),
        ({"url": "http://10.0.0.7/", "topic": "sport"}, "url", "private"),
        ({"url": PUBLIC}, "webhook", "exactly one"),
        ({"url": PUBLIC, "topic": "sport", "secret": "hunter2"}, "secret", "whsec_"),
        ({"url": PUBLIC, "topic": "sport", "batch_size": 1000}, "batch_size", "100"),
    ],
)
async def test_bad_webhooks_are_422_naming_the_field(
    api: httpx.AsyncClient, payload: dict[str, object], field: str, words: str
) -> None:
    answer = await api.post("/v1/webhooks", json=payload)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "invalid_webhook"
    assert error["fields"][0]["field"] == field
    assert words in error["fields"][0]["message"]
    assert (await api.get("/v1/webhooks")).json()["items"] == []


async def test_bad_json_and_ids(api: httpx.AsyncClient) -> None:
    bad = await api.post("/v1/webhooks", content=b"{", headers={"content-type": "application/json"})
    assert bad.status_code == 400
    assert (await api.get("/v1/webhooks/nope")).status_code == 422


async def test_webhooks_need_the_api_key(settings: Settings, redis_client: aioredis.Redis) -> None:
    keyed = settings.model_copy(update={"api_key": "s3cret"})
    async with serve(keyed) as client:
        assert (await client.get("/v1/webhooks")).status_code == 401
        ok = await client.get("/v1/webhooks", headers={"X-API-Key": "s3cret"})
        assert ok.status_code == 200
