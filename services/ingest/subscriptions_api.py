"""Saved filter subscriptions over HTTP: create, list, read and delete.

``POST /v1/subscriptions`` takes a ``SavedFilter`` JSON (201; 409 when the name
is taken, unless ``?replace=true``; 422 naming the field), ``GET
/v1/subscriptions`` lists them, ``GET``/``DELETE /v1/subscriptions/{name}``
read or remove one (404 when there is none). Articles that match a filter are
written to ``<prefix>subs:<name>`` by the enrich worker; follow them with
``GET /v1/streams/subscriptions/{name}`` or ``subscribe(subscription=name)``.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Request, Response

from services.api_errors import ApiError
from services.ingest.deps import NamesDep, RedisDep, SettingsDep
from services.ingest.errors import read_model
from services.topic_names import UnknownTopicError, topic_names
from shared.settings import Settings
from shared.subscriptions import NAME_PATTERN, SavedFilter, delete, get, key, list_all, save

_MAX_BODY = 64 * 1024
Name = Annotated[str, Path(pattern=NAME_PATTERN)]

router = APIRouter()


def unknown_topics(topics: list[str], settings: Settings) -> list[tuple[int, str]]:
    """(index, message) of each name in ``topics`` that is no topic of the taxonomy."""
    names = topic_names(settings.taxonomy_path)
    found = []
    for index, topic in enumerate(topics):
        try:
            names.check(topic)
        except UnknownTopicError as exc:
            found.append((index, str(exc)))
    return found


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


@router.post("/v1/subscriptions", status_code=201, summary="Save a filter subscription")
async def create_subscription(
    request: Request,
    settings: SettingsDep,
    names: NamesDep,
    client: RedisDep,
    replace: bool = False,
) -> Response:
    sub = await read_model(
        request, SavedFilter, limit=_MAX_BODY, what="subscription", code="invalid_subscription"
    )
    unknown = unknown_topics(sub.topics, settings)
    if unknown:
        fields = [{"field": f"topics.{i}", "message": m} for i, m in unknown]
        raise ApiError(422, "invalid_subscription", "; ".join(f["message"] for f in fields), fields)
    count = int(await client.hlen(key(names)))
    if count >= settings.max_subscriptions and await get(client, names, sub.name) is None:
        # Every saved filter costs the enrich worker a match per article.
        raise ApiError(
            409,
            "too_many_subscriptions",
            f"{count} subscriptions exist; the limit is {settings.max_subscriptions} "
            "(NEWSFLOW_MAX_SUBSCRIPTIONS): delete one first",
        )
    if not await save(client, names, sub, replace=replace):
        raise ApiError(
            409,
            "exists",
            f"a subscription called {sub.name!r} exists; delete it or POST with ?replace=true",
        )
    return _json({**sub.model_dump(mode="json"), "stream": names.subs(sub.name)}, status=201)


@router.get("/v1/subscriptions", summary="Every saved filter subscription")
async def list_subscriptions(names: NamesDep, client: RedisDep) -> Response:
    subs = await list_all(client, names)
    return _json(
        {"items": [{**s.model_dump(mode="json"), "stream": names.subs(s.name)} for s in subs]}
    )


@router.get("/v1/subscriptions/{name}", summary="One saved filter subscription")
async def get_subscription(name: Name, names: NamesDep, client: RedisDep) -> Response:
    sub = await get(client, names, name)
    if sub is None:
        raise ApiError(404, "not_found", f"no subscription called {name!r}")
    return _json({**sub.model_dump(mode="json"), "stream": names.subs(sub.name)})


@router.delete(
    "/v1/subscriptions/{name}", status_code=204, summary="Delete a saved filter subscription"
)
async def delete_subscription(name: Name, names: NamesDep, client: RedisDep) -> Response:
    if not await delete(client, names, name):
        raise ApiError(404, "not_found", f"no subscription called {name!r}")
    return Response(status_code=204)
