"""Articles over HTTP: submit one, submit a batch, read one stored.

``POST /v1/articles`` (one ``ArticleIn`` JSON) answers 202 ``{"id", "status"}``: the
article is in Redis. ``POST /v1/articles/batch`` (NDJSON or a JSON array) answers 200
with a result per item, rejected ones with their error. ``GET /v1/articles/{id}``
returns the stored ``EnrichedArticle`` (``?format=ninjs`` for IPTC ninjs). 429 with
``Retry-After`` while more than ``NEWSFLOW_MAX_RAW_BACKLOG`` articles wait for
enrichment.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from services.api_errors import RETRY_AFTER, ApiError
from services.ingest.bodies import (
    JSON_TYPES,
    NDJSON_TYPES,
    media_type,
    read_body,
    read_ndjson,
    too_many,
)
from services.ingest.core import Accepted, Ingestor, decode_json, field_errors, parse_article
from services.ingest.deps import (
    ApiMetricsDep,
    IngestorDep,
    NamesDep,
    RedisDep,
    SettingsDep,
    StorageDep,
)
from services.ingest.errors import invalid_json
from services.ingest.metrics import ApiMetrics
from shared.errors import InvalidMessage, TooLarge
from shared.models import Article
from shared.redis import group_backlog
from shared.settings import Settings
from shared.streams import GROUP_ENRICH, GROUP_SINK, StreamNames

router = APIRouter()


class BacklogGate:
    """429 when the pipeline is too far behind: accepted articles not yet stored, waiting
    for enrichment or for the sink (a storage outage backs up there). Redis is asked at
    most once a second."""

    def __init__(self) -> None:
        self.value = 0
        self.at = -1.0

    async def check(self, client: Any, names: StreamNames, settings: Settings) -> None:
        now = time.monotonic()
        if now - self.at >= 1.0:
            self.value = await group_backlog(client, names.raw, GROUP_ENRICH) + (
                await group_backlog(client, names.enriched, GROUP_SINK)
            )
            self.at = now
        if self.value > settings.max_raw_backlog:
            raise ApiError(
                429,
                "backlog_full",
                f"{self.value} accepted articles are not yet stored; the limit is "
                f"{settings.max_raw_backlog} (NEWSFLOW_MAX_RAW_BACKLOG); retry later",
                headers=RETRY_AFTER,
            )


@dataclass(frozen=True, slots=True)
class Intake:
    """Where a request's articles go: the backlog gate, the ingestor, the API's counters."""

    settings: Settings
    names: StreamNames
    redis: Any
    ingestor: Ingestor
    gate: BacklogGate
    metrics: ApiMetrics

    async def submit(self, articles: list[Article]) -> list[Accepted]:
        """Enqueue ``articles``; 429 before anything is enqueued while the backlog is full."""
        if articles:
            await self.gate.check(self.redis, self.names, self.settings)
        return await self.ingestor.submit_many(articles)


def _intake(
    request: Request,
    settings: SettingsDep,
    names: NamesDep,
    redis: RedisDep,
    ingestor: IngestorDep,
    metrics: ApiMetricsDep,
) -> Intake:
    return Intake(settings, names, redis, ingestor, request.app.state.backlog, metrics)


IntakeDep = Annotated[Intake, Depends(_intake)]


def _validate(data: Any, settings: Settings) -> Article:
    try:
        return parse_article(data, settings)
    except TooLarge as exc:
        raise ApiError(413, "too_large", str(exc)) from exc
    except InvalidMessage as exc:
        cause = exc.__cause__
        fields = (
            [e.as_dict() for e in field_errors(cause)]
            if isinstance(cause, ValidationError)
            else None
        )
        raise ApiError(422, "invalid_article", str(exc), fields) from exc


def _decode_one(body: bytes, settings: Settings) -> Article:
    try:
        data = decode_json(body, "request body")
    except InvalidMessage as exc:
        raise invalid_json(exc) from exc
    return _validate(data, settings)


def _parse_array(body: bytes, settings: Settings) -> list[Any]:
    """The items of a JSON-array batch; 400/422/413 for the body as a whole."""
    try:
        items = decode_json(body, "request body")
    except InvalidMessage as exc:
        raise invalid_json(exc) from exc
    if not isinstance(items, list):
        raise ApiError(422, "invalid_batch", "a JSON batch must be an array of articles")
    if len(items) > settings.max_batch_items:
        raise too_many(settings.max_batch_items, len(items))
    return items


def _parse_lines(lines: list[tuple[int, bytes]]) -> list[Any]:
    """Each NDJSON line decoded, or the ``InvalidMessage`` saying why it is not JSON."""
    parsed: list[Any] = []
    for number, line in lines:
        try:
            parsed.append(decode_json(line, f"line {number}"))
        except InvalidMessage as exc:
            parsed.append(exc)
    return parsed


def _decode_batch(
    body: bytes | None, lines: list[tuple[int, bytes]], settings: Settings
) -> tuple[list[dict[str, Any]], list[tuple[int, Article]]]:
    """Per-item results (rejections filled in) and the valid articles by index.

    ``body`` is a JSON array; when it is None, ``lines`` are the NDJSON lines.
    """
    parsed = _parse_array(body, settings) if body is not None else _parse_lines(lines)
    results: list[dict[str, Any]] = [{} for _ in parsed]
    valid: list[tuple[int, Article]] = []
    for index, item in enumerate(parsed):
        results[index]["index"] = index
        if body is None:
            # NDJSON: the line number too, the one error messages cite (blank
            # lines are skipped by ``index`` but counted by ``line``).
            results[index]["line"] = lines[index][0]
        try:
            if isinstance(item, InvalidMessage):
                raise invalid_json(item)
            valid.append((index, _validate(item, settings)))
        except ApiError as exc:
            results[index].update(status="rejected", error=exc.body())
    return results, valid


@router.post("/v1/articles", status_code=202, summary="Submit one article (ArticleIn JSON)")
async def submit_article(request: Request, intake: IntakeDep) -> JSONResponse:
    if media_type(request) not in JSON_TYPES:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send the article as JSON with 'Content-Type: application/json'",
        )
    body = await read_body(request, intake.settings.max_request_bytes)
    # Decoding, HTML extraction and normalization run on a thread: the event loop
    # (health checks, other requests) never waits for one large or hostile body.
    article = await asyncio.to_thread(_decode_one, body, intake.settings)
    (result,) = await intake.submit([article])
    intake.metrics.count(result.status)
    return JSONResponse({"id": result.id, "status": result.status}, status_code=202)


@router.post("/v1/articles/batch", summary="Submit many articles (NDJSON or a JSON array)")
async def submit_batch(request: Request, intake: IntakeDep) -> JSONResponse:
    settings = intake.settings
    media = media_type(request)
    body: bytes | None = None
    lines: list[tuple[int, bytes]] = []
    if media in JSON_TYPES:
        body = await read_body(request, settings.max_request_bytes)
    elif media in NDJSON_TYPES:
        lines = await read_ndjson(request, settings.max_request_bytes, settings.max_batch_items)
    else:
        raise ApiError(
            415,
            "unsupported_media_type",
            "send 'Content-Type: application/x-ndjson' (one article per line) or a JSON array",
        )
    results, valid = await asyncio.to_thread(_decode_batch, body, lines, settings)
    accepted = await intake.submit([a for _, a in valid])
    for (index, _), res in zip(valid, accepted, strict=True):
        results[index].update(id=res.id, status=res.status)
    counts = {
        s: sum(1 for r in results if r["status"] == s)
        for s in ("accepted", "duplicate", "rejected")
    }
    for status, n in counts.items():
        intake.metrics.count(status, n)
    return JSONResponse({**counts, "results": results})


@router.get("/v1/articles/{article_id}", summary="One stored, enriched article")
async def get_article(article_id: str, storage: StorageDep, format: str = "json") -> Response:
    if format not in ("json", "ninjs"):
        raise ApiError(
            422,
            "invalid_parameter",
            f"format: must be 'json' (newsflow's model) or 'ninjs' (IPTC ninjs 3.1),"
            f" not {format!r}",
            fields=[{"field": "format", "message": "must be 'json' or 'ninjs'"}],
        )
    doc = await storage.get(article_id)
    if doc is None:
        raise ApiError(
            404,
            "not_found",
            f"no stored article with id {article_id!r} (it may still be in the pipeline)",
        )
    if format == "ninjs":
        from shared.ninjs import to_ninjs

        return Response(orjson.dumps(to_ninjs(doc)), media_type="application/json")
    return Response(orjson.dumps(doc.model_dump(mode="json")), media_type="application/json")
