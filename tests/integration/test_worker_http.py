"""Worker /healthz, /readyz and /metrics, and `newsflow stats` rates, on a real Redis.

Workers run as `newsflow worker sink|enrich` processes (as docker compose runs them)
on a free port; readiness edge cases (a deleted group, lag over the limit) are
checked against the same HTTP app in process, since a worker whose group is
deleted stops at once (NOGROUP) and leaves no time to ask it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import shutil
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis
import redis.asyncio as aioredis
from prometheus_client.parser import text_string_to_metric_families

from services.embedded import free_port, start_redis
from services.observability import WorkerMetrics, WorkerProbe, build_http_app
from services.runtime import BatchConsumer, Entry
from shared.codec import to_fields
from shared.models import Article, EnrichedArticle, Entity, Provenance, Topic
from shared.redis import ensure_group, ensure_pipeline_groups
from shared.settings import Settings
from shared.storage import open_storage
from shared.streams import GROUP_ENRICH, GROUP_SINK, StreamNames
from tests.processes import NEWSFLOW, REPO, newsflow_env

pytestmark = pytest.mark.integration

WAIT = 60.0  # a bounded wait, never a timing assertion


# --- helpers ------------------------------------------------------------------------------


_env = newsflow_env


def _wait(predicate: Callable[[], Any], what: str, timeout: float = WAIT) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def _get(url: str) -> httpx.Response | None:
    try:
        return httpx.get(url, timeout=5)
    except httpx.HTTPError:
        return None


def _status(url: str) -> int | None:
    response = _get(url)
    return None if response is None else response.status_code


Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def _samples(text: str) -> Samples:
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: Samples, name: str, **labels: str) -> float | None:
    return samples.get((name, frozenset(labels.items())))


def _scrape(base: str) -> Samples:
    response = httpx.get(f"{base}/metrics", timeout=10)
    assert response.status_code == 200, response.text
    return _samples(response.text)


def _enriched(n: int, tag: str) -> EnrichedArticle:
    now = datetime.now(UTC)
    return EnrichedArticle(
        id=f"{tag}{n}",
        title=f"Article {n}",
        body=f"Body of article {n} about Iraq.",
        source="news.test",
        received_at=now,
        content_hash=f"{tag}h{n}",
        word_count=6,
        entities=[Entity(name="Iraq", type="GPE", salience=1.0, mention_count=1)],
        topics=[Topic(qcode="medtop:11000000", label="politics", slug="politics", relevance=0.9)],
        provenance=Provenance(
            newsflow_version="0.1.0", ner_model="m", taxonomy="t", enriched_at=now
        ),
    )


def _push_enriched(client: redis.Redis, names: StreamNames, count: int, tag: str) -> None:
    pipe = client.pipeline(transaction=False)
    for n in range(count):
        pipe.xadd(names.enriched, to_fields(_enriched(n, tag)))
    pipe.execute()


def _stored(database_url: str) -> int:
    async def count() -> int:
        storage = open_storage(database_url)
        await storage.open()
        try:
            return await storage.count()
        finally:
            await storage.close()

    return asyncio.run(count())


@contextlib.contextmanager
def _worker(
    service: str, tmp_path: Path, env: dict[str, str], *, expect_clean_exit: bool = True
) -> Iterator[subprocess.Popen[bytes]]:
    log_path = tmp_path / f"{service}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*NEWSFLOW, "worker", service], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            yield proc
        finally:
            proc.send_signal(signal.SIGTERM)
            try:
                code = proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait(10)
    if expect_clean_exit:
        assert code == 0, log_path.read_text(errors="replace")[-3000:]


def _sink_env(
    redis_url: str, prefix: str, tmp_path: Path, port: int, **extra: str
) -> dict[str, str]:
    return _env(
        REDIS_URL=redis_url,
        NEWSFLOW_PREFIX=prefix,
        DATABASE_URL=f"sqlite:///{tmp_path / 'newsflow.db'}",
        NEWSFLOW_DATA_DIR=str(tmp_path),
        NEWSFLOW_POLLING_INTERVAL_MS="20",
        NEWSFLOW_SINK_HTTP_PORT=str(port),
        **extra,
    )


# --- a sink worker process ---------------------------------------------------------------------


def test_sink_worker_serves_health_and_counts_each_stored_article(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    names = StreamNames(prefix)
    env = _sink_env(redis_url, prefix, tmp_path, port)
    client = redis.Redis.from_url(redis_url)
    with _worker("sink", tmp_path, env):
        _wait(lambda: _status(f"{base}/healthz") == 200, "the sink's /healthz")
        assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
        _wait(lambda: _status(f"{base}/readyz") == 200, "the sink's /readyz")
        assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}

        _push_enriched(client, names, 40, "a")
        _push_enriched(client, names, 17, "b")
        total = 57
        _wait(
            lambda: (
                _value(_scrape(base), "newsflow_entries_processed_total", stage="sink") == total
            ),
            f"{total} entries processed",
        )
        samples = _scrape(base)
        stored = _stored(env["DATABASE_URL"])

    assert stored == total
    ok = {"stage": "sink", "outcome": "ok"}
    assert _value(samples, "newsflow_batch_size_sum", **ok) == total
    batches = _value(samples, "newsflow_batch_size_count", **ok)
    assert batches is not None and 1 <= batches <= total
    assert _value(samples, "newsflow_batch_duration_seconds_count", **ok) == batches
    assert _value(samples, "newsflow_batches_failed_total", stage="sink") == 0
    # One end-to-end latency per stored article, each from received_at to the commit.
    e2e_count = _value(samples, "newsflow_end_to_end_latency_seconds_count", stage="sink")
    assert e2e_count == stored
    e2e_sum = _value(samples, "newsflow_end_to_end_latency_seconds_sum", stage="sink")
    assert e2e_sum is not None and 0 < e2e_sum / stored < WAIT
    assert (
        _value(samples, "newsflow_end_to_end_latency_seconds_bucket", stage="sink", le="+Inf")
        == stored
    )
    # Read from Redis at scrape time, for this worker's own stream and group.
    group = {"stream": names.enriched, "group": GROUP_SINK}
    assert _value(samples, "newsflow_redis_up") == 1
    assert _value(samples, "newsflow_group_pending", **group) == 0
    assert _value(samples, "newsflow_group_lag", **group) == 0
    assert _value(samples, "newsflow_dlq_entries") == 0
    assert _value(samples, "newsflow_stream_length", stream=names.enriched) is not None


def test_sink_readyz_says_redis_is_unreachable_while_healthz_stays_ok(
    tmp_path: Path, prefix: str
) -> None:
    binary = shutil.which("redis-server")
    server = start_redis(tmp_path / "redis", appendonly=False, binary=binary)
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = _sink_env(server.url, prefix, tmp_path, port, NEWSFLOW_GRACEFUL_TIMEOUT="2")
    try:
        with _worker("sink", tmp_path, env, expect_clean_exit=False) as proc:
            _wait(lambda: _status(f"{base}/readyz") == 200, "the sink's /readyz")
            server.stop()
            response = _wait(
                lambda: (r := _get(f"{base}/readyz")) is not None and r.status_code == 503 and r,
                "/readyz to report Redis away",
            )
            body = response.json()
            assert body["status"] == "not ready"
            assert any(p.startswith("Redis unreachable") for p in body["problems"]), body
            assert _status(f"{base}/healthz") == 200
            assert _value(_scrape(base), "newsflow_redis_up") == 0
            assert proc.poll() is None  # still running, waiting for Redis
    finally:
        server.stop()


# --- readiness against a real Redis, in process ------------------------------------------


async def _aget(app: Any, path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        return await client.get(path)


async def test_readyz_names_a_lag_over_the_limit_and_a_deleted_group(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    await ensure_pipeline_groups(redis_client, names)
    probe = WorkerProbe(
        "sink", names.enriched, GROUP_SINK, redis_client, max_lag=5, phase="running"
    )
    app = build_http_app(probe, WorkerMetrics("sink"), dlq=names.dlq)
    ready = await _aget(app, "/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})

    for n in range(8):
        await redis_client.xadd(names.enriched, {"json": f'{{"n": {n}}}'.encode()})
    lagging = await _aget(app, "/readyz")
    assert lagging.status_code == 503
    (problem,) = lagging.json()["problems"]
    assert "lags 8 entries" in problem
    assert "NEWSFLOW_READY_MAX_LAG" in problem
    scrape = _samples((await _aget(app, "/metrics")).text)
    assert _value(scrape, "newsflow_group_lag", stream=names.enriched, group=GROUP_SINK) == 8
    assert _value(scrape, "newsflow_stream_length", stream=names.enriched) == 8

    # A deleted entry past the group's position: Redis reports no lag at all, and
    # one entry pending must not pass for "ready" with seven still to read.
    read = await redis_client.xreadgroup(GROUP_SINK, "c", {names.enriched: ">"}, count=1)
    later = await redis_client.xrange(names.enriched, count=3)
    await redis_client.xdel(names.enriched, later[2][0])
    (info,) = await redis_client.xinfo_groups(names.enriched)
    assert info["lag"] is None and info["pending"] == len(read[0][1]) == 1
    unknown = await _aget(app, "/readyz")
    assert unknown.status_code == 503
    (problem,) = unknown.json()["problems"]
    assert "may lag up to 7 entries" in problem

    await redis_client.xgroup_destroy(names.enriched, GROUP_SINK)
    gone = await _aget(app, "/readyz")
    assert gone.status_code == 503
    assert gone.json() == {
        "status": "not ready",
        "problems": [f"group {GROUP_SINK} missing on {names.enriched}"],
    }


async def test_batch_consumer_counts_reclaims_failures_and_dead_letters(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    names = StreamNames(settings.prefix)
    await ensure_group(redis_client, names.raw, GROUP_ENRICH)
    ids = [await redis_client.xadd(names.raw, {"json": f'{{"n": {i}}}'.encode()}) for i in range(5)]
    poison = ids[2]
    await redis_client.xreadgroup(GROUP_ENRICH, "dead-consumer", {names.raw: ">"}, count=5)

    async def process(entries: list[Entry]) -> None:
        if any(entry_id == poison for entry_id, _ in entries):
            raise RuntimeError("bad one")

    consumer = BatchConsumer(
        service="enrich",
        stream=names.raw,
        group=GROUP_ENRICH,
        batch_size=50,
        settings=settings.model_copy(update={"claim_idle_ms": 100, "max_deliveries": 2}),
        client=redis_client,
        process=process,
    )
    for _ in range(10):
        await asyncio.sleep(0.12)
        await consumer.sweep()
        if await redis_client.xlen(names.dlq):
            break
    m = consumer.metrics
    assert m.value("newsflow_entries_processed_total") == 4
    assert m.value("newsflow_entries_dead_lettered_total", reason="max_deliveries") == 1
    assert m.value("newsflow_entries_reclaimed_total") >= 5
    assert m.value("newsflow_batches_failed_total") >= 2  # the batch of 5, then the poison alone
    assert m.value("newsflow_batch_size_sum", outcome="ok") == 4


# --- newsflow stats rates -------------------------------------------------------------------


def test_stats_shows_positive_rates_while_articles_flow(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    names = StreamNames(prefix)
    env = _sink_env(redis_url, prefix, tmp_path, port)
    client = redis.Redis.from_url(redis_url)
    stop = threading.Event()

    def feed() -> None:
        n = 0
        while not stop.is_set():
            _push_enriched(client, names, 5, f"f{n}-")
            n += 1
            time.sleep(0.05)

    with _worker("sink", tmp_path, env):
        _wait(lambda: _status(f"http://127.0.0.1:{port}/readyz") == 200, "the sink")
        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        try:
            result = subprocess.run(
                [*NEWSFLOW, "stats", "--json", "--interval", "0.5"],
                env=env,
                cwd=REPO,
                capture_output=True,
                timeout=60,
                check=True,
            )
            table = subprocess.run(
                [*NEWSFLOW, "stats", "--interval", "0.3"],
                env={**env, "COLUMNS": "200"},
                cwd=REPO,
                capture_output=True,
                timeout=60,
                check=True,
            )
        finally:
            stop.set()
            feeder.join(10)
    stats = orjson.loads(result.stdout)
    # What was there before stays.
    assert {"streams", "topics", "dlq", "stored"} <= stats.keys()
    enriched = stats["streams"][names.enriched]
    assert {"length", "groups"} <= enriched.keys()
    assert stats["interval"] == 0.5
    assert enriched["added_per_s"] > 0, enriched
    (sink,) = [g for g in enriched["groups"] if g["name"] == GROUP_SINK]
    assert {"name", "consumers", "pending", "lag", "last_delivered_id"} <= sink.keys()
    assert sink["read_per_s"] > 0, sink
    assert sink["acked_per_s"] is not None
    raw = stats["streams"][names.raw]
    assert raw["added_per_s"] == 0  # nothing flows there
    text = table.stdout.decode()
    assert "added/s" in text and "acked/s" in text
    row = next(line for line in text.splitlines() if names.enriched in line)
    rate = re.split(r"\s*│\s*", row.strip("│ "))[2]
    assert float(rate) > 0, row


def test_stats_without_interval_has_no_rates(redis_url: str, prefix: str, tmp_path: Path) -> None:
    env = _sink_env(redis_url, prefix, tmp_path, 0)
    client = redis.Redis.from_url(redis_url)
    _push_enriched(client, StreamNames(prefix), 3, "z")
    result = subprocess.run(
        [*NEWSFLOW, "stats", "--json", "--interval", "0"],
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=True,
    )
    stats = orjson.loads(result.stdout)
    enriched = stats["streams"][StreamNames(prefix).enriched]
    assert enriched["length"] == 3
    assert enriched["entries_added"] == 3
    assert enriched["added_per_s"] is None


# --- an enrich worker (NER off, so it loads in seconds) -----------------------------------


def test_enrich_worker_is_ready_once_loaded_and_counts_its_batches(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    names = StreamNames(prefix)
    env = _env(
        REDIS_URL=redis_url,
        NEWSFLOW_PREFIX=prefix,
        NEWSFLOW_DATA_DIR=str(tmp_path),
        NEWSFLOW_POLLING_INTERVAL_MS="20",
        NEWSFLOW_NER="off",
        NEWSFLOW_ENRICH_HTTP_PORT=str(port),
    )
    client = redis.Redis.from_url(redis_url)
    with _worker("enrich", tmp_path, env):
        _wait(lambda: _status(f"{base}/healthz") == 200, "the enrich worker's /healthz")
        _wait(lambda: _status(f"{base}/readyz") == 200, "the enrich worker to be ready")
        now = datetime.now(UTC)
        for n in range(3):
            article = Article(
                id=f"e{n}",
                title=f"Election {n}",
                body="The governing party won the parliamentary election.",
                received_at=now,
                content_hash=f"eh{n}",
                word_count=7,
            )
            client.xadd(names.raw, to_fields(article))
        client.xadd(names.raw, {"json": b"{not an article"})
        _wait(
            lambda: _value(_scrape(base), "newsflow_entries_processed_total", stage="enrich") == 4,
            "4 entries processed",
        )
        samples = _scrape(base)
    assert _value(samples, "newsflow_batch_size_sum", stage="enrich", outcome="ok") == 4
    assert (
        _value(samples, "newsflow_entries_dead_lettered_total", stage="enrich", reason="invalid")
        == 1
    )
    assert _value(samples, "newsflow_dlq_entries") == 1
    assert _value(samples, "newsflow_group_pending", stream=names.raw, group=GROUP_ENRICH) == 0
    assert _value(samples, "newsflow_end_to_end_latency_seconds_count", stage="enrich") is None


# --- newsflow up: one port per worker process ------------------------------------------------


def test_up_gives_every_worker_process_its_own_health_and_metrics_port(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    api_port, sink_port, enrich_base = free_port(), free_port(), free_port()
    env = _env(
        REDIS_URL=redis_url,
        NEWSFLOW_PREFIX=prefix,
        NEWSFLOW_DATA_DIR=str(tmp_path / "data"),
        NEWSFLOW_NER="off",
        NEWSFLOW_GRACEFUL_TIMEOUT="5",
        NEWSFLOW_SINK_HTTP_PORT=str(sink_port),
        NEWSFLOW_ENRICH_HTTP_PORT=str(enrich_base),
        COLUMNS="200",
    )
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = subprocess.Popen(
            [*NEWSFLOW, "up", "--api-port", str(api_port), "--enrich-workers", "2"],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(lambda: "newsflow is up" in log_path.read_text(errors="replace"), "up")
            text = _wait(
                lambda: (t := log_path.read_text(errors="replace")).count("/metrics") >= 3 and t,
                "the worker URLs",
            )
            urls = re.findall(r"(sink|enrich): (http://127\.0\.0\.1:\d+)/metrics", text)
            # Enrich workers count up from the base, skipping ports already taken on
            # this machine (the test's own free ports are not reserved).
            enrich_ports = sorted(int(u.rsplit(":", 1)[1]) for s, u in urls if s == "enrich")
            assert ("sink", f"http://127.0.0.1:{sink_port}") in urls, text
            assert len(urls) == 3 and len(set(enrich_ports)) == 2, text
            assert enrich_ports[0] >= enrich_base, text
            consumers = set()
            for service, base in urls:
                _wait(lambda b=base: _status(f"{b}/readyz") == 200, f"{service} at {base}")
                samples = _scrape(base)
                (info,) = [
                    dict(labels)
                    for (name, labels), _ in samples.items()
                    if name == "newsflow_worker_info"
                ]
                assert info["stage"] == service
                consumers.add(info["consumer"])
            assert len(consumers) == 3  # three processes, three ports, no collision
            up.send_signal(signal.SIGINT)
            code = up.wait(60)
        finally:
            if up.poll() is None:
                up.kill()
                up.wait(10)
    assert code == 0, log_path.read_text(errors="replace")[-3000:]
