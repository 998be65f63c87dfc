"""Redis with a password and an ACL user, through REDIS_URL, for the API and the inbox reader."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import redis

from services.embedded import RedisServer, start_redis
from shared.settings import Settings
from shared.streams import StreamNames
from tests.integration.test_ingest import ARTICLE, serve

pytestmark = pytest.mark.integration


@pytest.fixture
def secured_redis(tmp_path: Path) -> Iterator[RedisServer]:
    server = start_redis(
        tmp_path / "redis",
        appendonly=False,
        binary=shutil.which("redis-server"),
        extra_args=["--requirepass", "admin-pw"],
    )
    with redis.Redis(port=server.port, password="admin-pw") as admin:
        admin.acl_setuser(
            "newsflow",
            enabled=True,
            passwords=["+news-pw"],
            keys=["*"],
            channels=["*"],
            commands=["+@all"],
        )
    try:
        yield server
    finally:
        server.stop()


async def test_acl_user_in_redis_url_works_for_api_and_inbox(
    secured_redis: RedisServer, settings: Settings
) -> None:
    url = f"redis://newsflow:news-pw@127.0.0.1:{secured_redis.port}/0"
    names = StreamNames(settings.prefix)
    async with serve(settings.model_copy(update={"redis_url": url})) as client:
        response = await client.post("/v1/articles", json=ARTICLE)
        assert response.status_code == 202
        with redis.Redis.from_url(url) as direct:
            direct.xadd(names.inbox, {"json": orjson.dumps({**ARTICLE, "url": None})})
            for _ in range(100):
                if direct.xlen(names.raw) == 2:
                    break
                await asyncio.sleep(0.05)
            assert direct.xlen(names.raw) == 2


async def test_wrong_password_is_503_not_500(
    secured_redis: RedisServer, settings: Settings
) -> None:
    url = f"redis://newsflow:wrong@127.0.0.1:{secured_redis.port}/0"
    async with serve(settings.model_copy(update={"redis_url": url}), ready=False) as client:
        response = await client.post("/v1/articles", json=ARTICLE)
        assert response.status_code == 503
        assert "AuthenticationError" in response.json()["error"]["message"]
        assert (await client.get("/readyz")).status_code == 503
