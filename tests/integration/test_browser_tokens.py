"""A browser with an API key in force: /docs opens, and an EventSource (which sends no
headers) follows a topic with a short-lived ``?token=`` from ``POST /v1/tokens``."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import httpx
import pytest
import redis.asyncio as aioredis

from services.ingest import tokens
from shared.settings import Settings
from tests.integration.test_subscribe import EventReader, add, api_server

pytestmark = pytest.mark.integration
KEY = "s3cret"
TOPIC = "/v1/streams/topics/politics-and-government"


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[str]:
    async with api_server(settings.model_copy(update={"api_key": KEY})) as base:
        yield base


async def test_a_token_opens_the_event_streams_and_nothing_else(
    api: str, redis_client: aioredis.Redis, prefix: str
) -> None:
    entry = await add(redis_client, prefix, 1)
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        assert (await http.post("/v1/tokens")).status_code == 401
        issued = await http.post("/v1/tokens", headers={"x-api-key": KEY})
        assert issued.status_code == 200
        token = issued.json()["token"]
        assert issued.json()["expires_at"].endswith("+00:00")
        params = {"token": token, "from": "start"}
        async with http.stream("GET", TOPIC, params=params) as response:
            assert response.status_code == 200
            assert [e["id"] for e in await EventReader(response).events(1)] == [entry]
        # Read only, streams only.
        assert (await http.get("/v1/search", params={"token": token})).status_code == 401
        posted = await http.post(
            "/v1/articles", params={"token": token}, json={"title": "T", "body": "B"}
        )
        assert posted.status_code == 401
        # A forged, altered or expired token is refused.
        expired, _ = tokens.issue(KEY, 60, now=time.time() - 3600)
        forged, _ = tokens.issue("other-key", 3600)
        for bad in (expired, forged, token[:-2] + "xx", "123", ""):
            assert (await http.get(TOPIC, params={"token": bad})).status_code == 401, bad


def test_tokens_are_signed_with_the_key_and_expire() -> None:
    token, expires = tokens.issue(KEY, 120, now=1_000_000)
    assert expires == 1_000_120
    assert tokens.valid(KEY, token, now=1_000_100)
    assert not tokens.valid(KEY, token, now=1_000_121)
    assert not tokens.valid("another", token, now=1_000_100)
    assert not tokens.valid(KEY, "1000120.", now=1_000_100)


async def test_an_open_api_needs_no_token(settings: Settings) -> None:
    async with api_server(settings) as base, httpx.AsyncClient(base_url=base) as http:
        answer = await http.post("/v1/tokens")
    assert answer.status_code == 409
    assert "NEWSFLOW_API_KEY is unset" in answer.json()["error"]["message"]
