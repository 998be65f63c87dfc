"""The HTTP API's own counters (served by ``GET /metrics``, ``services.ingest.health``)."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter


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
