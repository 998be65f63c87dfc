"""``GET /metrics``: Prometheus text with the pipeline's state as Redis sees it.

Gauges are read from Redis at scrape time (stream lengths, consumer-group pending
and lag, dead letters), so any one API replica reports the whole pipeline;
counters are this process's API answers by status.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    generate_latest,
)

from services.observability import redis_metrics
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


def metrics_router(
    names: StreamNames,
    redis_factory: Callable[[], Any],
    api_metrics: ApiMetrics,
    extra: Sequence[CollectorRegistry] = (),
) -> APIRouter:
    """``GET /metrics``; ``extra`` registries (e.g. the inbox reader's
    ``BatchConsumer.metrics.registry``: its batch sizes and durations) are appended."""
    router = APIRouter()

    @router.get("/metrics", summary="Prometheus metrics", response_class=Response)
    async def metrics() -> Response:
        streams = [names.inbox, names.raw, names.enriched]
        body = await redis_metrics(redis_factory(), streams, names.dlq)
        body += generate_latest(api_metrics.registry)
        for more in extra:
            body += generate_latest(more)
        return Response(body, media_type=CONTENT_TYPE_LATEST)

    return router
