"""Webhooks over HTTP: create, list, read, delete, and recent delivery attempts.

``POST /v1/webhooks`` takes ``url``, ``topic`` or ``subscription``, optional
``secret``, ``batch_size`` and ``batch_interval_s`` (201 with the secret, shown this
once; 422 naming the field: unknown topic or subscription, bad or private URL).
``GET /v1/webhooks`` lists them, ``GET``/``DELETE /v1/webhooks/{id}`` read or remove
one (404 when there is none), ``GET /v1/webhooks/{id}/deliveries`` shows the latest
attempts, newest first. The deliver worker (``newsflow worker deliver``) sends.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response

from services.api_errors import ApiError
from services.ingest.deps import NamesDep, RedisDep, SettingsDep
from services.ingest.errors import read_model
from shared import webhooks
from shared.streams import StreamNames
from shared.webhooks import WebhookIn, WebhookRejected

_MAX_BODY = 16 * 1024
WebhookId = Annotated[str, Path(pattern=r"^wh_[0-9a-f]{16}$")]

router = APIRouter()


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _rejected(exc: WebhookRejected) -> ApiError:
    fields = [{"field": exc.field, "message": exc.message}]
    return ApiError(422, "invalid_webhook", str(exc), fields)


async def _found(client: Any, names: StreamNames, webhook_id: str) -> webhooks.Webhook:
    webhook = await webhooks.get(client, names, webhook_id)
    if webhook is None:
        raise ApiError(404, "not_found", f"no webhook {webhook_id!r}")
    return webhook


@router.post("/v1/webhooks", status_code=201, summary="Create a signed webhook")
async def create_webhook(
    request: Request, settings: SettingsDep, names: NamesDep, client: RedisDep
) -> Response:
    spec = await read_model(
        request, WebhookIn, limit=_MAX_BODY, what="webhook", code="invalid_webhook"
    )
    try:
        webhook = await webhooks.create(
            client,
            names,
            spec,
            allow_private=settings.webhook_allow_private,
            taxonomy_path=settings.taxonomy_path,
        )
    except WebhookRejected as exc:
        raise _rejected(exc) from exc
    return _json(webhook.public(names, with_secret=True), status=201)


@router.get("/v1/webhooks", summary="Every webhook (without secrets)")
async def list_webhooks(names: NamesDep, client: RedisDep) -> Response:
    found = await webhooks.list_all(client, names)
    return _json({"items": [w.public(names) for w in found]})


@router.get("/v1/webhooks/{webhook_id}", summary="One webhook (without its secret)")
async def get_webhook(webhook_id: WebhookId, names: NamesDep, client: RedisDep) -> Response:
    return _json((await _found(client, names, webhook_id)).public(names))


@router.delete("/v1/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook")
async def delete_webhook(webhook_id: WebhookId, names: NamesDep, client: RedisDep) -> Response:
    if not await webhooks.delete(client, names, webhook_id):
        raise ApiError(404, "not_found", f"no webhook {webhook_id!r}")
    return Response(status_code=204)


@router.get(
    "/v1/webhooks/{webhook_id}/deliveries",
    summary="The latest delivery attempts of a webhook, newest first",
)
async def webhook_deliveries(
    webhook_id: WebhookId,
    names: NamesDep,
    client: RedisDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> Response:
    await _found(client, names, webhook_id)
    key = webhooks.deliveries_key(names, webhook_id)
    entries = await client.xrevrange(key, count=limit)
    return _json({"items": [orjson.loads(fields[b"json"]) for _, fields in entries]})
