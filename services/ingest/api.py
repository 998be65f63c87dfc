"""The HTTP API: accept articles, read stored ones, follow topics, health.

``create_api`` assembles the app from one router per resource, with its state on
``app.state`` (``services.ingest.deps``):

- ``articles_api``: ``POST /v1/articles``, ``POST /v1/articles/batch``, ``GET /v1/articles/{id}``
- ``query_api``: ``GET /v1/search``, ``/v1/entities/top``, ``/v1/topics/counts``
- ``subscriptions_api``: ``/v1/subscriptions`` (saved filters)
- ``webhooks_api``: ``/v1/webhooks`` (signed webhooks) and their deliveries
- ``sse``: ``GET /v1/streams/topics/{slug}``, ``/v1/streams/subscriptions/{name}``
- ``tokens``: ``POST /v1/tokens``
- ``health``: ``GET /healthz``, ``/readyz``, ``/metrics``

Errors are JSON ``{"error": {"code", "message", "fields"?}}`` with the field or
limit named (``services.api_errors``, ``services.ingest.errors``). A 202 means the
article is in Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from services.ingest import (
    articles_api,
    health,
    query_api,
    sse,
    subscriptions_api,
    tokens,
    webhooks_api,
)
from services.ingest.auth import install_key_auth
from services.ingest.core import Ingestor
from services.ingest.deps import LazyStorage
from services.ingest.errors import install_error_handlers
from services.ingest.metrics import ApiMetrics
from shared import __version__
from shared.settings import Settings
from shared.streams import StreamNames


def create_api(
    settings: Settings,
    ingestor_factory: Callable[[], Ingestor],
    redis_factory: Callable[[], Any],
    lifespan: Callable[[FastAPI], Any] | None = None,
    metrics_registries: Sequence[CollectorRegistry] = (),
    stream_redis_factory: Callable[[], Any] | None = None,
) -> FastAPI:
    """The FastAPI app. ``ingestor_factory``/``redis_factory`` return live objects once started.

    Event streams read through ``stream_redis_factory``'s client when given (a pool of
    their own), else through ``redis_factory``'s.
    """
    storage = LazyStorage(settings)

    @asynccontextmanager
    async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Storage opens on the first read, not here: accepting articles does not need
        # it, so a read-only data directory or a database that is down leaves ingestion up.
        try:
            if lifespan is not None:
                async with lifespan(app):
                    yield
            else:
                yield
        finally:
            await storage.close()

    app = FastAPI(
        title="newsflow",
        version=__version__,
        lifespan=_lifespan,
        description="Streaming news enrichment: submit articles, read enriched ones.",
    )
    state = app.state
    state.settings = settings
    state.names = StreamNames(settings.prefix)
    state.storage = storage
    state.ingestor_factory = ingestor_factory
    state.redis_factory = redis_factory
    state.stream_redis_factory = stream_redis_factory or redis_factory
    state.api_metrics = ApiMetrics()
    state.metrics_registries = list(metrics_registries)
    state.backlog = articles_api.BacklogGate()
    state.sse_open = [0]

    install_error_handlers(app)
    install_key_auth(app, settings.api_key)
    for module in (tokens, articles_api, query_api, health, sse, subscriptions_api, webhooks_api):
        app.include_router(module.router)
    return app
