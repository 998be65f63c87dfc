"""What the API's routes depend on, read from ``app.state`` (set once by ``create_api``).

``app.state`` holds ``settings``, ``names`` (the stream names), ``storage`` (opened by
the first read), ``api_metrics``, ``backlog`` (the 429 gate) and ``sse_open`` (the
count of open event streams), and the factories ``redis_factory``,
``stream_redis_factory`` and ``ingestor_factory``, which return live objects once the
app has started. Routes take them as parameters (``settings: SettingsDep``), so no
route closes over state and every router is a plain module-level ``APIRouter``.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import Depends, Request

from services.ingest.core import Ingestor
from services.ingest.metrics import ApiMetrics
from shared.errors import RetryableError
from shared.settings import Settings
from shared.storage import Storage, open_storage
from shared.streams import StreamNames

log = logging.getLogger(__name__)


class LazyStorage:
    """The storage, opened by the first call that needs it (and again after a
    failed open); every method may raise ``RetryableError`` while it cannot open."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._storage: Storage | None = None
        self._lock = asyncio.Lock()

    async def _open(self) -> Storage:
        async with self._lock:
            if self._storage is None:
                storage = open_storage(self._settings.resolved_database_url)
                try:
                    await storage.open()
                except RetryableError:
                    raise
                except Exception as exc:
                    log.warning("storage could not be opened: %s", exc)
                    raise RetryableError(
                        f"storage could not be opened ({type(exc).__name__})"
                    ) from exc
                self._storage = storage
            return self._storage

    async def close(self) -> None:
        if self._storage is not None:
            await self._storage.close()
            self._storage = None

    def __getattr__(self, name: str) -> Callable[..., Awaitable[Any]]:
        async def call(*args: Any, **kwargs: Any) -> Any:
            storage = await self._open()
            return await getattr(storage, name)(*args, **kwargs)

        return call


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _names(request: Request) -> StreamNames:
    names: StreamNames = request.app.state.names
    return names


def _redis(request: Request) -> Any:
    return request.app.state.redis_factory()


def _stream_redis(request: Request) -> Any:
    return request.app.state.stream_redis_factory()


def _storage(request: Request) -> Storage:
    storage: Storage = request.app.state.storage
    return storage


def _ingestor(request: Request) -> Ingestor:
    ingestor: Ingestor = request.app.state.ingestor_factory()
    return ingestor


def _api_metrics(request: Request) -> ApiMetrics:
    metrics: ApiMetrics = request.app.state.api_metrics
    return metrics


SettingsDep = Annotated[Settings, Depends(_settings)]
NamesDep = Annotated[StreamNames, Depends(_names)]
RedisDep = Annotated[Any, Depends(_redis)]
# Event streams read through a pool of their own (see services.ingest.sse).
StreamRedisDep = Annotated[Any, Depends(_stream_redis)]
StorageDep = Annotated[Storage, Depends(_storage)]
IngestorDep = Annotated[Ingestor, Depends(_ingestor)]
ApiMetricsDep = Annotated[ApiMetrics, Depends(_api_metrics)]
