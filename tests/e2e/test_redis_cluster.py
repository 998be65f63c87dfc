"""The pipeline on a real three-node Redis Cluster (NEWSFLOW_REDIS_CLUSTER=true).

Three ``redis-server --cluster-enabled yes`` processes split the 16,384 slots; the
workers are given the address of a node that does *not* hold the pipeline's slot,
so every command they send must be routed by the cluster clients (FastStream's
``RedisClusterBroker``, redis-py's ``RedisCluster``) to work at all.
"""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from services.embedded import RedisServer, free_port, start_redis
from shared.client import subscribe
from shared.streams import GROUP_ENRICH, GROUP_INGEST, GROUP_SINK, JSON_FIELD, StreamNames
from tests.processes import (
    NEWSFLOW,
    REPO,
    api_url,
    newsflow_env,
    running_workers,
    stack_env,
    wait_until,
)

pytestmark = pytest.mark.e2e

SLOTS = 16384


def _cluster_ok(port: int) -> bool:
    with redis.Redis(port=port) as node:
        info = node.execute_command("CLUSTER", "INFO").decode()
        slots = node.execute_command("CLUSTER", "SLOTS")
    return "cluster_state:ok" in info and len(slots) == 3


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[RedisServer]]:
    """Three primaries, a third of the slots each, built with CLUSTER ADDSLOTS and MEET."""
    binary = shutil.which("redis-server")
    assert binary, "redis-server must be on PATH for the Redis Cluster test"
    base = tmp_path_factory.mktemp("cluster")
    servers: list[RedisServer] = []
    bus_ports = [free_port() for _ in range(3)]
    try:
        for i in range(3):
            data = base / f"node{i}"
            servers.append(
                start_redis(
                    data,
                    appendonly=False,
                    binary=binary,
                    extra_args=[
                        "--cluster-enabled",
                        "yes",
                        "--cluster-config-file",
                        str((data / "nodes.conf").resolve()),
                        "--cluster-node-timeout",
                        "5000",
                        # Not the default (port + 10000), which may be past 65535.
                        "--cluster-port",
                        str(bus_ports[i]),
                    ],
                )
            )
        bounds = [0, SLOTS // 3, 2 * SLOTS // 3, SLOTS]
        for i, server in enumerate(servers):
            with redis.Redis(port=server.port) as node:
                node.execute_command("CLUSTER", "ADDSLOTS", *range(bounds[i], bounds[i + 1]))
        with redis.Redis(port=servers[0].port) as first:
            for server, bus_port in zip(servers[1:], bus_ports[1:], strict=True):
                first.execute_command("CLUSTER", "MEET", "127.0.0.1", server.port, bus_port)
        wait_until(lambda: all(_cluster_ok(s.port) for s in servers), 30, "the cluster to form")
        yield servers
    finally:
        for server in servers:
            server.stop()


def _slot_owner(servers: list[RedisServer], key: str) -> RedisServer:
    with redis.Redis(port=servers[0].port) as node:
        slot = int(node.execute_command("CLUSTER", "KEYSLOT", key))
        for start, end, (_, port, *_rest), *_ in node.execute_command("CLUSTER", "SLOTS"):
            if start <= slot <= end:
                return next(s for s in servers if s.port == int(port))
    raise AssertionError(f"no node holds the slot of {key}")


def test_prefix_without_hash_tag_is_refused_at_start(
    cluster: list[RedisServer], tmp_path: Path
) -> None:
    result = subprocess.run(
        [*NEWSFLOW, "worker", "sink"],
        check=False,
        env=newsflow_env(
            REDIS_URL=cluster[0].url,
            NEWSFLOW_REDIS_CLUSTER="true",
            NEWSFLOW_PREFIX="plain:",
            NEWSFLOW_DATA_DIR=str(tmp_path),
        ),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "NEWSFLOW_PREFIX" in result.stderr and "hash tag" in result.stderr


def test_pipeline_runs_on_a_redis_cluster(cluster: list[RedisServer], tmp_path: Path) -> None:
    prefix = f"{{nf{uuid.uuid4().hex[:8]}}}:"
    names = StreamNames(prefix)
    owner = _slot_owner(cluster, names.raw)
    entry = next(s for s in cluster if s is not owner)  # routing is required to work
    url = f"redis://127.0.0.1:{entry.port}/0"
    env = stack_env(url, prefix, tmp_path, NEWSFLOW_REDIS_CLUSTER="true", NEWSFLOW_NER="off")
    sink_port, enrich_port = env["NEWSFLOW_SINK_HTTP_PORT"], env["NEWSFLOW_ENRICH_HTTP_PORT"]
    api = api_url(env)

    def ready(base: str) -> bool:
        try:
            return httpx.get(f"{base}/readyz", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False

    with running_workers(env, tmp_path):
        for base in (api, f"http://127.0.0.1:{sink_port}", f"http://127.0.0.1:{enrich_port}"):
            wait_until(lambda b=base: ready(b), 60, f"{base}/readyz")

        subscription = subscribe(
            topic="politics-and-government", redis_url=url, prefix=prefix, cluster=True
        )
        received: list[str] = []

        async def listen() -> None:
            async with subscription as articles:
                async for article in articles:
                    received.append(article.title)
                    if len(received) == 11:
                        return

        async def feed_and_listen() -> None:
            listener = asyncio.create_task(listen())
            await asyncio.sleep(0.5)  # the subscription starts at new entries
            batch = [
                {
                    "title": f"Parliament votes on the budget ({i})",
                    "body": "The government won the parliament vote on the budget, "
                    "the prime minister said after the election.",
                    "source": "cluster.test",
                }
                for i in range(10)
            ]
            async with httpx.AsyncClient(base_url=api, timeout=10) as http:
                response = await http.post("/v1/articles/batch", json=batch)
                assert response.status_code == 200, response.text
                assert response.json()["accepted"] == 10
                again = await http.post("/v1/articles", json=batch[0])
                assert again.json()["status"] == "duplicate"
            with redis.Redis(port=owner.port) as node:
                article = {
                    "title": "Senate passes the election law",
                    "body": "The senate and the parliament passed the election law.",
                }
                node.xadd(names.inbox, {JSON_FIELD: orjson.dumps(article)})
                node.xadd(names.inbox, {JSON_FIELD: b"{not json"})
            await asyncio.wait_for(listener, 60)

        asyncio.run(feed_and_listen())
        assert len(received) == 11 and "Senate passes the election law" in received

        search_env = {**env, "NEWSFLOW_LOG_LEVEL": "WARNING"}

        def stored() -> int:
            out = subprocess.run(
                [*NEWSFLOW, "search", "--json", "--limit", "100"],
                check=False,
                env=search_env,
                cwd=REPO,
                capture_output=True,
                timeout=60,
            )
            return len(out.stdout.splitlines())

        wait_until(lambda: stored() == 11, 30, "11 articles stored")
        stats = subprocess.run(
            [*NEWSFLOW, "stats", "--json", "--interval", "0"],
            env=search_env,
            cwd=REPO,
            capture_output=True,
            check=True,
            timeout=60,
        )
        report = orjson.loads(stats.stdout)
        assert report["dlq"] == 1
        assert report["stored"] == 11

        # Every key lives on the node holding the prefix's slot; the node the workers
        # were pointed at redirects (MOVED) instead of answering.
        with redis.Redis(port=owner.port) as node:
            assert node.xlen(names.topic("politics-and-government")) == 11
            for stream, group in (
                (names.inbox, GROUP_INGEST),
                (names.raw, GROUP_ENRICH),
                (names.enriched, GROUP_SINK),
            ):
                assert node.xpending(stream, group)["pending"] == 0
        with (
            redis.Redis(port=entry.port) as other,
            pytest.raises(redis.exceptions.MovedError),
        ):
            other.xlen(names.raw)
