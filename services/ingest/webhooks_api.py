"""Webhooks over HTTP: create, list, read, delete, and recent delivery attempts.

``POST /v1/webhooks`` takes ``url``, ``topic`` or ``subscription``, optional
``secret``, ``batch_size`` and ``batch_interval_s`` (201 with the secret, shown this
once; 422 naming the field: unknown topic or subscription, bad or private URL).
``GET /v1/webhooks`` lists them, ``GET``/``DELETE /v1/webhooks/{id}`` read or remove
one (404 when there is none), ``GET /v1/webhooks/{id}/deliveries`` shows the latest
attempts, newest first. The deliver worker (``newsflow worker deliver``) sends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Path, Query, Request, Response
from pydantic import ValidationError

from services.ingest.api import ApiError, read_body
from services.ingest.core import decode_json
from shared import webhooks
from shared.errors import InvalidMessage
from shared.settings import Settings
from shared.streams import StreamNames
from shared.webhooks import WebhookIn, WebhookRejected

_MAX_BODY = 16 * 1024
WebhookId = Annotated[str, Path(pattern=r"^wh_[0-9a-f]{16}$")]


def _json(data: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(data), status_code=status, media_type="application/json")


def _rejected(exc: WebhookRejected) -> ApiError:
    fields = [{"field": exc.field, "message": exc.message}]
    return ApiError(422, "invalid_webhook", str(exc), fields)


def webhooks_router(settings: Settings, redis_factory: Callable[[], Any]) -> APIRouter:
    """The router with the ``/v1/webhooks`` endpoints (auth comes from the middleware)."""
    names = StreamNames(settings.prefix)
    router = APIRouter()

    async def _found(webhook_id: str) -> webhooks.Webhook:
        webhook = await webhooks.get(redis_factory(), names, webhook_id)
        if webhook is None:
            raise ApiError(404, "not_found", f"no webhook {webhook_id!r}")
        return webhook

    @router.post("/v1/webhooks", status_code=201, summary="Create a signed webhook")
    async def create_webhook(request: Request) -> Response:
        try:
            body = await read_body(request, _MAX_BODY)
        except ApiError as exc:
            raise ApiError(413, "too_large", f"a webhook is at most {_MAX_BODY} bytes") from exc
        try:
            data = decode_json(body, "request body")
        except InvalidMessage as exc:
            raise ApiError(400, "invalid_json", str(exc)) from exc
        try:
            spec = WebhookIn.model_validate(data)
            webhook = await webhooks.create(
                redis_factory(),
                names,
                spec,
                allow_private=settings.webhook_allow_private,
                taxonomy_path=settings.taxonomy_path,
            )
        except ValidationError as exc:
            raise _rejected(webhooks.field_of(exc)) from exc
        except WebhookRejected as exc:
            raise _rejected(exc) from exc
        return _json(webhook.public(names, with_secret=True), status=201)

    @router.get("/v1/webhooks", summary="Every webhook (without secrets)")
    async def list_webhooks() -> Response:
        found = await webhooks.list_all(redis_factory(), names)
        return _json({"items": [w.public(names) for w in found]})

    @router.get("/v1/webhooks/{webhook_id}", summary="One webhook (without its secret)")
    async def get_webhook(webhook_id: WebhookId) -> Response:
        return _json((await _found(webhook_id)).public(names))

    @router.delete("/v1/webhooks/{webhook_id}", status_code=204, summary="Delete a webhook")
    async def delete_webhook(webhook_id: WebhookId) -> Response:
        if not await webhooks.delete(redis_factory(), names, webhook_id):
            raise ApiError(404, "not_found", f"no webhook {webhook_id!r}")
        return Response(status_code=204)

    @router.get(
        "/v1/webhooks/{webhook_id}/deliveries",
        summary="The latest delivery attempts of a webhook, newest first",
    )
    async def webhook_deliveries(
        webhook_id: WebhookId, limit: Annotated[int, Query(ge=1, le=1000)] = 100
    ) -> Response:
        await _found(webhook_id)
        key = webhooks.deliveries_key(names, webhook_id)
        return _json({"items": await _latest(redis_factory(), key, limit)})

    return router


async def _latest(client: Any, key: str, limit: int) -> list[Any]:
    """The JSON records of the last ``limit`` entries of ``key``, newest first."""
    return [orjson.loads(f[b"json"]) for _, f in await client.xrevrange(key, count=limit)]
