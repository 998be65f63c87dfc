"""A real enrich worker on maximum-size hostile articles: its event loop never freezes.

Two ``newsflow worker enrich`` processes share the group with a short claim idle
time (1.5 s): if either froze its event loop for longer (spaCy holding the GIL
on one pathological token), its claim heartbeat would stop and the other would
reclaim and enrich the batch a second time.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from services.embedded import free_port
from shared.codec import to_fields
from shared.models import ArticleIn
from shared.normalize import normalize
from shared.redis import range_entries
from shared.streams import StreamNames
from tests.processes import NEWSFLOW, REPO, newsflow_env, wait_until

pytestmark = pytest.mark.integration

MAX_CHARS = 2 * 1024 * 1024 - 64
HOSTILE_BODIES = [
    "(" * MAX_CHARS,
    "\U0001f600" * MAX_CHARS,
    "'s" * (MAX_CHARS // 2),
    "( " * (MAX_CHARS // 2),
    "x" * MAX_CHARS,
    "(<[{" * (MAX_CHARS // 4),
    "The government said. " + "(" * (MAX_CHARS - 30),
    "&amp;" * (MAX_CHARS // 5),
]


@contextmanager
def _enrich_worker(env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*NEWSFLOW, "worker", "enrich"], env=env, cwd=REPO, stdout=out, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            proc.terminate()
            code = proc.wait(60)
    assert code == 0, log.read_text(errors="replace")[-3000:]


def test_health_answers_and_no_batch_is_enriched_twice(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    names = StreamNames(prefix)
    client = redis.Redis.from_url(redis_url)
    ports = [free_port(), free_port()]
    envs = [
        newsflow_env(
            REDIS_URL=redis_url,
            NEWSFLOW_PREFIX=prefix,
            NEWSFLOW_ENRICH_HTTP_PORT=str(port),
            NEWSFLOW_CLAIM_IDLE_MS="1500",
            NEWSFLOW_POLLING_INTERVAL_MS="20",
            NEWSFLOW_DATA_DIR=str(tmp_path),
        )
        for port in ports
    ]
    with (
        _enrich_worker(envs[0], tmp_path / "enrich-0.log"),
        _enrich_worker(envs[1], tmp_path / "enrich-1.log"),
    ):
        wait_until(
            lambda: all(_ok(f"http://127.0.0.1:{p}/readyz") for p in ports),
            120,
            "both workers ready",
        )
        slowest = [0.0, 0.0]
        failures: list[str] = []
        done = threading.Event()

        def probe(index: int) -> None:
            url = f"http://127.0.0.1:{ports[index]}/healthz"
            while not done.is_set():
                started = time.perf_counter()
                try:
                    httpx.get(url, timeout=5).raise_for_status()
                except httpx.HTTPError as exc:
                    failures.append(f"{url}: {exc!r}")
                slowest[index] = max(slowest[index], time.perf_counter() - started)
                time.sleep(0.1)

        # Built before the probes start: the probes' own process must not be busy.
        articles = [
            normalize(ArticleIn(title=f"Hostile {n}", body=body))
            for n, body in enumerate(HOSTILE_BODIES)
        ]
        ids = [a.id for a in articles]
        entries = [to_fields(a) for a in articles]
        del articles
        probes = [threading.Thread(target=probe, args=(i,), daemon=True) for i in (0, 1)]
        for thread in probes:
            thread.start()
        for fields in entries:
            client.xadd(names.raw, fields)
        try:
            wait_until(
                lambda: client.xlen(names.enriched) >= len(ids), 240, "every article enriched"
            )
            time.sleep(3 * 1.5)  # a reclaim after a frozen loop would show up by now
        finally:
            done.set()
            for thread in probes:
                thread.join(10)
    enriched = range_entries(client, names.enriched)
    assert sorted(_article_id(fields) for _, fields in enriched) == sorted(ids)
    assert client.xlen(names.dlq) == 0
    assert not failures, failures[:3]
    print(f"slowest /healthz answers: {slowest}")
    assert max(slowest) < 1.0, f"slowest /healthz answers: {slowest}"
    for key in client.scan_iter(match=f"{prefix}*"):
        client.delete(key)


def _ok(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def _article_id(fields: dict[bytes, bytes]) -> str:
    return str(orjson.loads(fields[b"json"])["id"])
