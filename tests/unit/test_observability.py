"""Worker metrics, batch reports, the health app without Redis, stats rates, `up` ports."""

from __future__ import annotations

import socket
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis
from prometheus_client import REGISTRY

from services.embedded import free_port
from services.observability import (
    END_TO_END_BUCKETS,
    HttpServer,
    WorkerMetrics,
    WorkerProbe,
    batch_report,
    build_http_app,
    note_dead_letters,
    observe_end_to_end,
)
from services.runtime import decode_entries
from services.tools import add_rates
from services.up import port_in_use, worker_ports
from shared.models import Article
from shared.settings import Settings

# --- metrics registry -------------------------------------------------------------------


def test_batches_are_counted_by_outcome_with_sizes_and_durations() -> None:
    metrics = WorkerMetrics("sink")
    metrics.batch_done(3, 0.02, "ok")
    metrics.batch_done(500, 1.5, "ok")
    metrics.batch_done(7, 0.3, "error")

    assert metrics.value("newsflow_entries_processed_total") == 503
    assert metrics.value("newsflow_entries_failed_total") == 7
    assert metrics.value("newsflow_batches_failed_total") == 1
    ok = {"outcome": "ok"}
    assert metrics.value("newsflow_batch_size_count", **ok) == 2
    assert metrics.value("newsflow_batch_size_sum", **ok) == 503
    assert metrics.value("newsflow_batch_size_bucket", le="5.0", **ok) == 1
    assert metrics.value("newsflow_batch_size_bucket", le="500.0", **ok) == 2
    assert metrics.value("newsflow_batch_size_sum", outcome="error") == 7
    assert metrics.value("newsflow_batch_duration_seconds_count", **ok) == 2
    assert metrics.value("newsflow_batch_duration_seconds_sum", **ok) == pytest.approx(1.52)
    assert metrics.value("newsflow_batch_duration_seconds_bucket", le="0.025", **ok) == 1
    assert metrics.value("newsflow_batch_duration_seconds_bucket", le="2.5", **ok) == 2


def test_every_process_has_its_own_registry_and_nothing_is_global() -> None:
    one, two = WorkerMetrics("sink"), WorkerMetrics("sink")
    one.batch_done(10, 0.1, "ok")
    assert one.value("newsflow_entries_processed_total") == 10
    assert two.value("newsflow_entries_processed_total") == 0
    assert REGISTRY.get_sample_value("newsflow_entries_processed_total", {"stage": "sink"}) is None


def test_counters_exist_at_zero_before_the_first_batch() -> None:
    text = _exposition(WorkerMetrics("enrich"))
    for line in (
        'newsflow_entries_processed_total{stage="enrich"} 0.0',
        'newsflow_entries_reclaimed_total{stage="enrich"} 0.0',
        'newsflow_batches_failed_total{stage="enrich"} 0.0',
        'newsflow_entries_dead_lettered_total{reason="max_deliveries",stage="enrich"} 0.0',
        'newsflow_batch_size_count{outcome="ok",stage="enrich"} 0.0',
    ):
        assert line in text


def test_end_to_end_buckets_span_10_ms_to_60_s() -> None:
    assert END_TO_END_BUCKETS[0] == 0.01
    assert END_TO_END_BUCKETS[-1] == 60.0
    assert list(END_TO_END_BUCKETS) == sorted(END_TO_END_BUCKETS)


# --- what a handler reports -------------------------------------------------------------


def test_reports_outside_a_batch_are_ignored() -> None:
    note_dead_letters(3)
    observe_end_to_end([datetime.now(UTC)])  # nothing to attach them to, and no error


def test_a_successful_batch_counts_its_dead_letters_and_latencies() -> None:
    metrics = WorkerMetrics("sink")
    now = datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC).timestamp()
    received = [
        datetime(2026, 11, 27, 9, 0, 0, tzinfo=UTC) - timedelta(seconds=s) for s in (0.005, 0.2, 3)
    ]
    with batch_report() as report:
        note_dead_letters(2, "invalid")
        observe_end_to_end(received, now=now)
        observe_end_to_end([datetime(2026, 11, 27, 9, 0, 1, tzinfo=UTC)], now=now)  # skewed clock
    metrics.batch_done(6, 0.01, "ok", report)

    assert metrics.value("newsflow_entries_dead_lettered_total", reason="invalid") == 2
    assert metrics.value("newsflow_end_to_end_latency_seconds_count") == 4
    assert metrics.value("newsflow_end_to_end_latency_seconds_sum") == pytest.approx(3.205)
    assert metrics.value("newsflow_end_to_end_latency_seconds_bucket", le="0.01") == 2
    assert metrics.value("newsflow_end_to_end_latency_seconds_bucket", le="0.25") == 3
    assert metrics.value("newsflow_end_to_end_latency_seconds_bucket", le="5.0") == 4


def test_a_failed_batch_counts_nothing_it_reported() -> None:
    metrics = WorkerMetrics("sink")
    with batch_report() as report:
        note_dead_letters(1, "invalid")
        observe_end_to_end([datetime.now(UTC)])
    metrics.batch_done(1, 0.01, "error", report)
    assert metrics.value("newsflow_entries_dead_lettered_total", reason="invalid") == 0
    assert metrics.value("newsflow_end_to_end_latency_seconds_count") == 0
    assert metrics.value("newsflow_entries_failed_total") == 1


def test_decode_entries_returns_a_dead_letter_for_each_invalid_entry() -> None:
    good = Article(
        id="a1",
        title="t",
        body="b",
        received_at=datetime.now(UTC),
        content_hash="h",
        word_count=1,
    ).model_dump_json()
    entries: list[Any] = [(b"1-0", {b"json": good.encode()}), (b"2-0", {b"json": b"{bad"})]
    ok, bad = decode_entries(entries, Article, service="x", stream="s", group="g")
    assert (len(ok), len(bad)) == (1, 1)
    assert (bad[0].entry_id, bad[0].error_class) == ("2-0", "InvalidMessage")


# --- the HTTP app, Redis away ---------------------------------------------------------------


async def _get(app: Any, path: str, **headers: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://worker") as client:
        return await client.get(path, headers=headers)


@pytest.fixture
async def nowhere() -> Any:
    """A client of a port nothing listens on (no retries: fails at once)."""
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    yield client
    await client.aclose()


async def test_without_redis_healthz_is_ok_and_readyz_names_the_problems(
    nowhere: aioredis.Redis,
) -> None:
    metrics = WorkerMetrics("sink")
    probe = WorkerProbe("sink", "p:articles:enriched", "sink", nowhere, max_lag=10)
    app = build_http_app(probe, metrics, dlq="p:dlq")

    health = await _get(app, "/healthz")
    assert (health.status_code, health.json()) == (200, {"status": "ok"})

    ready = await _get(app, "/readyz")
    assert ready.status_code == 503
    body = ready.json()
    assert body["status"] == "not ready"
    assert any("starting" in p for p in body["problems"]), body
    assert any(p.startswith("Redis unreachable") for p in body["problems"]), body
    assert ready.headers["retry-after"] == "5"

    probe.phase = "running"
    probe.checks = [lambda: "spaCy model not loaded"]
    body = (await _get(app, "/readyz")).json()
    assert not any("starting" in p for p in body["problems"])
    assert "spaCy model not loaded" in body["problems"]

    scrape = await _get(app, "/metrics")
    assert scrape.status_code == 200
    assert scrape.headers["content-type"].startswith("text/plain")
    assert "newsflow_redis_up 0.0" in scrape.text
    assert 'newsflow_entries_processed_total{stage="sink"} 0.0' in scrape.text


async def test_metrics_need_the_api_key_when_one_is_set(nowhere: aioredis.Redis) -> None:
    probe = WorkerProbe("sink", "s", "sink", nowhere, max_lag=10)
    app = build_http_app(probe, WorkerMetrics("sink"), dlq="d", api_key="k3y")
    denied = await _get(app, "/metrics")
    assert denied.status_code == 401
    assert denied.json()["error"]["code"] == "unauthorized"
    assert (await _get(app, "/metrics", authorization="Bearer k3y")).status_code == 200
    assert (await _get(app, "/metrics", **{"x-api-key": "k3y"})).status_code == 200
    assert (await _get(app, "/healthz")).status_code == 200  # probes stay open


async def test_http_server_runs_in_the_loop_and_stops(nowhere: aioredis.Redis) -> None:
    probe = WorkerProbe("sink", "s", "sink", nowhere, max_lag=10)
    server = HttpServer(build_http_app(probe, WorkerMetrics("sink"), dlq="d"), "127.0.0.1", 0, "t")
    assert await server.start()
    assert server.url is not None and server.port != 0
    async with httpx.AsyncClient() as client:
        health = await client.get(f"{server.url}/healthz")
        assert (health.status_code, health.json()) == (200, {"status": "ok"})
        assert (await client.get(f"{server.url}/readyz")).status_code == 503
    await server.stop()
    async with httpx.AsyncClient() as client:
        with pytest.raises(httpx.ConnectError):
            await client.get(f"{server.url}/healthz")


async def test_a_port_in_use_is_reported_not_fatal(nowhere: aioredis.Redis) -> None:
    probe = WorkerProbe("sink", "s", "sink", nowhere, max_lag=10)
    first = HttpServer(build_http_app(probe, WorkerMetrics("sink"), dlq="d"), "127.0.0.1", 0, "a")
    assert await first.start()
    second = HttpServer(
        build_http_app(probe, WorkerMetrics("sink"), dlq="d"), "127.0.0.1", first.port, "b"
    )
    try:
        assert not await second.start()
        assert second.url is None
        await second.stop()  # nothing to stop, no error
    finally:
        await first.stop()


# --- stats rates ------------------------------------------------------------------------------


def _sample(added: int | None, read: int | None, pending: int, topic_added: int) -> dict[str, Any]:
    return {
        "streams": {
            "p:articles:raw": {
                "length": 5,
                "entries_added": added,
                "added_per_s": None,
                "groups": [
                    {
                        "name": "enrich",
                        "pending": pending,
                        "entries_read": read,
                        "read_per_s": None,
                        "acked_per_s": None,
                    }
                ],
            }
        },
        "topics": {"p:topics:sport": 1},
        "topics_added": {"p:topics:sport": topic_added},
        "topic_added_per_s": {"p:topics:sport": None},
    }


def test_rates_are_deltas_per_second() -> None:
    after = add_rates(_sample(100, 90, 10, 4), _sample(300, 250, 20, 8), 2.0)
    stream = after["streams"]["p:articles:raw"]
    assert stream["added_per_s"] == 100.0
    assert stream["groups"][0]["read_per_s"] == 80.0
    assert stream["groups"][0]["acked_per_s"] == 75.0  # (250 - 20 - (90 - 10)) / 2
    assert after["topic_added_per_s"]["p:topics:sport"] == 2.0


def test_rates_are_unknown_without_redis_7_counters_or_when_they_go_back() -> None:
    after = add_rates(_sample(None, None, 0, 4), _sample(None, None, 0, 2), 1.0)
    stream = after["streams"]["p:articles:raw"]
    assert stream["added_per_s"] is None
    assert stream["groups"][0]["read_per_s"] is None
    assert stream["groups"][0]["acked_per_s"] is None
    assert after["topic_added_per_s"]["p:topics:sport"] is None  # recreated stream


# --- newsflow up: one port per worker ---------------------------------------------------------


def test_up_gives_each_enrich_worker_its_own_port_after_the_base() -> None:
    settings = Settings(sink_http_port=9101, enrich_http_port=9102, api_port=8000)
    assert worker_ports(settings, 3, in_use=lambda host, port: False) == (9101, [9102, 9103, 9104])


def test_up_skips_ports_the_stack_already_uses() -> None:
    settings = Settings(sink_http_port=9102, enrich_http_port=9101, api_port=9103)
    assert worker_ports(settings, 3, in_use=lambda host, port: False) == (9102, [9101, 9104, 9105])


def test_up_skips_ports_something_else_listens_on() -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        taken = busy.getsockname()[1]
        assert port_in_use("127.0.0.1", taken)
        settings = Settings(sink_http_port=0, enrich_http_port=taken - 1, api_port=8000)
        _, enrich = worker_ports(settings, 2)
    assert taken not in enrich
    assert enrich[0] == taken - 1 or enrich[0] > taken


def test_up_leaves_the_servers_off_when_the_base_is_zero() -> None:
    settings = Settings(sink_http_port=0, enrich_http_port=0)
    assert worker_ports(settings, 2) == (0, [0, 0])


def _exposition(metrics: WorkerMetrics) -> str:
    from prometheus_client import generate_latest

    return generate_latest(metrics.registry).decode()
