"""``GET /metrics``: Prometheus text with the pipeline's state as Redis sees it.

Gauges are read from Redis at scrape time (stream lengths, consumer-group pending
and lag, dead letters), so any one API replica reports the whole pipeline;
counters are this process's API answers by status.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    generate_latest,
)
from redis.exceptions import ResponseError

from shared.streams import StreamNames


class ApiMetrics:
    """This process's counters, in their own registry (no global state between apps)."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.articles = Counter(
            "newsflow_api_articles",
            "Articles answered by the HTTP API, by status (accepted, duplicate, rejected).",
            ["status"],
            registry=self.registry,
        )

    def count(self, status: str, n: int = 1) -> None:
        if n:
            self.articles.labels(status=status).inc(n)


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def metrics_router(
    names: StreamNames, redis_factory: Callable[[], Any], api_metrics: ApiMetrics
) -> APIRouter:
    router = APIRouter()

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        registry = CollectorRegistry()
        length = Gauge(
            "newsflow_stream_length", "Entries in a stream.", ["stream"], registry=registry
        )
        pending = Gauge(
            "newsflow_group_pending",
            "Entries delivered to a consumer group and not yet acknowledged.",
            ["stream", "group"],
            registry=registry,
        )
        lag = Gauge(
            "newsflow_group_lag",
            "Entries not yet delivered to a consumer group (Redis 7+).",
            ["stream", "group"],
            registry=registry,
        )
        consumers = Gauge(
            "newsflow_group_consumers",
            "Consumers in a group.",
            ["stream", "group"],
            registry=registry,
        )
        dlq = Gauge("newsflow_dlq_entries", "Entries in the dead-letter stream.", registry=registry)
        client = redis_factory()
        for stream in (names.inbox, names.raw, names.enriched):
            length.labels(stream=stream).set(await client.xlen(stream))
            try:
                infos = await client.xinfo_groups(stream)
            except ResponseError:  # the stream does not exist yet
                infos = []
            for info in infos:
                labels = {"stream": stream, "group": _text(info["name"])}
                pending.labels(**labels).set(int(info["pending"]))
                consumers.labels(**labels).set(int(info["consumers"]))
                if info.get("lag") is not None:
                    lag.labels(**labels).set(int(info["lag"]))
        dlq.set(await client.xlen(names.dlq))
        body = generate_latest(registry) + generate_latest(api_metrics.registry)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
