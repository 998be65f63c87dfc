"""Read-side aggregates of the HTTP API: top entities and topic counts.

``GET /v1/entities/top`` and ``GET /v1/topics/counts`` read through the same
``Storage`` as ``GET /v1/search``; bad parameters are 422 naming the parameter,
in the API's one error format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response

from services.ingest.api import ApiError
from shared.storage import Storage

MAX_TOP_ENTITIES = 500


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


def build_query_router(storage_holder: dict[str, Storage]) -> APIRouter:
    """The routes; ``storage_holder["s"]`` is the open storage once the app started."""
    router = APIRouter()

    @router.get("/v1/entities/top", summary="Most-mentioned entities (articles per entity)")
    async def top_entities(
        since: datetime | None = None,
        limit: Annotated[int, Query(ge=1, le=MAX_TOP_ENTITIES)] = 20,
    ) -> Response:
        try:
            rows = await storage_holder["s"].top_entities(since, limit)
        except ValueError as exc:
            raise ApiError(422, "invalid_parameter", str(exc)) from exc
        items = [{"name": name, "type": type_, "articles": n} for name, type_, n in rows]
        return _json({"items": items})

    @router.get("/v1/topics/counts", summary="Articles per topic, optionally per hour or day")
    async def topic_counts(
        since: datetime | None = None,
        interval: Literal["hour", "day"] | None = None,
    ) -> Response:
        storage = storage_holder["s"]
        try:
            if interval is None:
                items: list[dict[str, Any]] = [
                    {"slug": slug, "label": label, "articles": n}
                    for slug, label, n in await storage.topic_counts(since)
                ]
            else:
                items = [
                    {"bucket": bucket, "slug": slug, "label": label, "articles": n}
                    for bucket, slug, label, n in await storage.topic_counts_by_interval(
                        since, interval
                    )
                ]
        except ValueError as exc:
            raise ApiError(422, "invalid_parameter", str(exc)) from exc
        return _json({"items": items})

    return router
