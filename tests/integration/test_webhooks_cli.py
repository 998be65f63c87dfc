"""``newsflow webhooks`` and ``newsflow worker deliver`` as real processes, with a real
Redis and a real receiver that verifies every signature."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys

import orjson
import pytest
import redis.asyncio as aioredis

from shared import webhooks
from shared.settings import Settings
from shared.streams import StreamNames
from tests.integration.test_subscribe import REPO
from tests.integration.test_webhook_delivery import until
from tests.webhook_receiver import receiver

pytestmark = pytest.mark.integration

WAIT = 20.0


def _env(settings: Settings, allow_private: bool = True) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
    env.update(
        REDIS_URL=settings.redis_url or "",
        NEWSFLOW_PREFIX=settings.prefix,
        NEWSFLOW_WEBHOOK_ALLOW_PRIVATE="true" if allow_private else "false",
        NEWSFLOW_WEBHOOK_REFRESH_S="0.2",
        NEWSFLOW_LOG_FORMAT="text",
    )
    return env


def _cli(
    settings: Settings, *args: str, allow_private: bool = True
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "services.cli", "webhooks", *args],
        env=_env(settings, allow_private),
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_add_list_test_rm(settings: Settings, redis_client: aioredis.Redis) -> None:
    refused = await asyncio.to_thread(
        _cli, settings, "add", "http://localhost:9/hook", "--topic", "sport", allow_private=False
    )
    assert refused.returncode == 2
    assert "url: host 'localhost' resolves to" in refused.stderr
    assert "loopback" in refused.stderr
    unknown = await asyncio.to_thread(_cli, settings, "add", "http://x.test/", "--topic", "sports")
    assert unknown.returncode == 2
    assert "topic: unknown topic 'sports'" in unknown.stderr

    with receiver(webhooks.new_secret()) as sink:
        added = await asyncio.to_thread(
            _cli, settings, "add", sink.url, "--topic", "sport", "--secret", sink.secret
        )
        assert added.returncode == 0, added.stderr
        hook_id = re.search(r"added (wh_[0-9a-f]+)", added.stdout)
        assert hook_id is not None
        assert f"secret (shown once): {sink.secret}" in added.stdout
        listed = await asyncio.to_thread(_cli, settings, "list", "--json")
        rows = [orjson.loads(line) for line in listed.stdout.splitlines()]
        assert [(r["id"], r["topic"], r["status"]) for r in rows] == [
            (hook_id[1], "sport", "active")
        ]
        assert "secret" not in rows[0]

        tried = await asyncio.to_thread(_cli, settings, "test", sink.url, "--secret", sink.secret)
        assert tried.returncode == 0, tried.stderr
        assert re.search(r"HTTP 200 in \d+ ms", tried.stdout)
        assert sink.received[0].verified["title"] == "newsflow webhook test"

        sink.replies = [(503, {})]
        failed = await asyncio.to_thread(_cli, settings, "test", sink.url)
        assert failed.returncode == 1
        assert "HTTP 503" in failed.stdout
        assert "signed with a new secret: whsec_" in failed.stdout

    removed = await asyncio.to_thread(_cli, settings, "rm", hook_id[1])
    assert removed.returncode == 0
    again = await asyncio.to_thread(_cli, settings, "rm", hook_id[1])
    assert again.returncode == 1
    assert (await asyncio.to_thread(_cli, settings, "list")).stdout == ""


async def test_worker_deliver_process(settings: Settings, redis_client: aioredis.Redis) -> None:
    names = StreamNames(settings.prefix)
    with receiver(webhooks.new_secret()) as sink:
        worker = await asyncio.to_thread(
            subprocess.Popen,
            [sys.executable, "-m", "services.cli", "worker", "deliver"],
            env=_env(settings),
            cwd=REPO,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        try:
            spec = webhooks.WebhookIn(url=sink.url, topic="sport", secret=sink.secret)
            await webhooks.create(redis_client, names, spec, allow_private=True)
            for n in range(3):
                doc = {"id": f"p{n}", "title": "match report"}
                await redis_client.xadd(names.topic("sport"), {"json": orjson.dumps(doc)})
            await until(lambda: len(sink.delivered()) == 3, "3 deliveries by the worker")
            assert [r.verified["id"] for r in sink.delivered()] == ["p0", "p1", "p2"]
        finally:
            worker.send_signal(signal.SIGTERM)
            _, stderr = await asyncio.to_thread(worker.communicate, timeout=WAIT)
        assert worker.returncode == 0, stderr
