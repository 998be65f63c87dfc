"""Reading stored articles over HTTP: search, top entities and topic counts.

``GET /v1/search``, ``GET /v1/entities/top`` and ``GET /v1/topics/counts`` read
through the app's ``Storage``; bad parameters are 422 naming the parameter, in the
API's one error format.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

import orjson
from fastapi import APIRouter, Query, Response
from pydantic import ValidationError

from services.ingest.deps import SettingsDep, StorageDep
from services.ingest.errors import invalid_model, invalid_parameter
from services.topic_names import UnknownTopicError, topic_names
from shared.storage import SearchQuery
from shared.storage.base import MAX_SEARCH_LIMIT

MAX_TOP_ENTITIES = 500

router = APIRouter()


def _json(body: Any) -> Response:
    return Response(orjson.dumps(body), media_type="application/json")


@router.get("/v1/search", summary="Search stored articles")
async def search(
    settings: SettingsDep,
    storage: StorageDep,
    topic: str | None = None,
    entity: str | None = None,
    q: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    source: str | None = None,
    language: str | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_SEARCH_LIMIT)] = 20,
    cursor: str | None = None,
    sort: Literal["time", "relevance"] = "time",
) -> Response:
    if topic is not None:
        try:
            topic_names(settings.taxonomy_path).check(topic)
        except UnknownTopicError as exc:
            raise invalid_parameter(str(exc), field="topic") from exc
    try:
        query = SearchQuery(
            topic=topic,
            entity=entity,
            q=q,
            since=since,
            until=until,
            source=source,
            language=language,
            limit=limit,
            cursor=cursor,
            sort=sort,
        )
        page = await storage.search(query)
    except ValidationError as exc:
        raise invalid_model("invalid_parameter", exc) from exc
    except ValueError as exc:
        raise invalid_parameter(str(exc)) from exc
    return _json(page.model_dump(mode="json"))


@router.get("/v1/entities/top", summary="Most-mentioned entities (articles per entity)")
async def top_entities(
    storage: StorageDep,
    since: datetime | None = None,
    limit: Annotated[int, Query(ge=1, le=MAX_TOP_ENTITIES)] = 20,
) -> Response:
    try:
        rows = await storage.top_entities(since, limit)
    except ValueError as exc:
        raise invalid_parameter(str(exc)) from exc
    items = [{"name": name, "type": type_, "articles": n} for name, type_, n in rows]
    return _json({"items": items})


@router.get("/v1/topics/counts", summary="Articles per topic, optionally per hour or day")
async def topic_counts(
    storage: StorageDep,
    since: datetime | None = None,
    interval: Literal["hour", "day"] | None = None,
) -> Response:
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
        raise invalid_parameter(str(exc)) from exc
    return _json({"items": items})
