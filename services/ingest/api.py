"""The HTTP API: accept articles, read stored ones, health.

Errors are JSON ``{"error": {"code", "message", "fields"?}}`` with the field or
limit named. A 202 means the article is in Redis.
"""

from __future__ import annotations

import asyncio
import hmac
import logging
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Annotated, Any, Literal, cast

import orjson
from fastapi import FastAPI, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.utils import get_openapi
from fastapi.responses import JSONResponse
from prometheus_client import CollectorRegistry
from pydantic import ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.ingest import tokens
from services.ingest.core import Ingestor, decode_json, describe, field_errors, parse_article
from services.ingest.metrics import ApiMetrics, metrics_router
from services.observability import readiness_response
from services.topic_names import UnknownTopicError, topic_names
from shared.errors import InvalidMessage, RetryableError, TooLarge
from shared.redis import raw_backlog
from shared.settings import Settings
from shared.storage import SearchQuery, Storage, open_storage
from shared.streams import GROUP_ENRICH, GROUP_SINK, StreamNames

log = logging.getLogger(__name__)

_JSON_TYPES = ("application/json",)
_NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")
_OPEN_PATHS = frozenset({"/healthz", "/readyz"})
# The API's description: the same for every install (no data), and a browser must be
# able to open it to enter a key ("Authorize" in Swagger UI sends it as X-API-Key).
_DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json"})
# Where a short-lived ?token= (POST /v1/tokens) stands in for the key: event streams.
_TOKEN_PATHS = ("/v1/streams/",)
# The error codes Redis puts first in an error reply ("WRONGTYPE Operation against...").
_REDIS_ERROR_CODE_RE = re.compile(
    r"\b(WRONGTYPE|OOM|READONLY|NOPERM|NOSCRIPT|BUSY|MISCONF|NOGROUP|LOADING|MASTERDOWN"
    r"|EXECABORT|NOAUTH|CROSSSLOT|MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b"
)


class ApiError(Exception):
    """An error answer: HTTP status, machine-readable code, a sentence for people."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        fields: list[dict[str, str]] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.fields, self.headers = fields, headers

    def response(self) -> JSONResponse:
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return JSONResponse({"error": body}, status_code=self.status, headers=self.headers)


def _media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


def _check_declared_size(request: Request, limit: int) -> None:
    """413 before reading, when the declared Content-Length is over ``limit``."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise ApiError(
            413,
            "too_large",
            f"request body is {declared} bytes; the limit is {limit} (NEWSFLOW_MAX_REQUEST_BYTES)",
        )


def _over_limit(limit: int) -> ApiError:
    return ApiError(
        413,
        "too_large",
        f"request body is over the limit of {limit} bytes (NEWSFLOW_MAX_REQUEST_BYTES)",
    )


async def read_body(request: Request, limit: int) -> bytes:
    """The request body, or 413 as soon as it passes ``limit`` bytes."""
    _check_declared_size(request, limit)
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _over_limit(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def _read_ndjson(request: Request, limit: int, max_items: int) -> list[tuple[int, bytes]]:
    """The non-blank lines of an NDJSON body with their line numbers, undecoded.

    413 as soon as the body passes ``limit`` bytes, or at its end when it holds more
    than ``max_items`` non-blank lines. Lines past the limit are counted, not kept,
    and nothing is parsed before the count is known: a body of millions of tiny
    lines costs no more than its bytes.
    """
    _check_declared_size(request, limit)
    lines: list[tuple[int, bytes]] = []
    number = 0
    size = 0
    rest = b""
    chunks = request.stream().__aiter__()
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            raise _over_limit(limit)
        pieces = (rest + chunk).split(b"\n")
        rest = pieces.pop()
        for line in pieces:
            number += 1
            if line.strip():
                lines.append((number, line))
        if len(lines) > max_items:
            # Stop here: the rest of the body is neither read nor counted, unless this
            # was its last chunk (then the count is exact).
            if await anext(chunks, b"") == b"":
                if rest.strip():
                    lines.append((number + 1, rest))
                raise _too_many(max_items, len(lines))
            raise _too_many(max_items, None)
    if rest.strip():
        lines.append((number + 1, rest))
    if len(lines) > max_items:
        raise _too_many(max_items, len(lines))
    return lines


def _too_many(max_items: int, count: int | None) -> ApiError:
    has = f"{count} articles" if count is not None else f"more than {max_items} articles"
    return ApiError(
        413,
        "too_many_items",
        f"batch has {has}; the limit is {max_items} (NEWSFLOW_MAX_BATCH_ITEMS)",
    )


def _unavailable(exc: Exception) -> ApiError:
    return ApiError(
        503,
        "unavailable",
        f"Redis is unreachable ({type(exc).__name__}); nothing was accepted, retry later",
        headers={"Retry-After": "5"},
    )


class _LazyStorage:
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


def create_api(
    settings: Settings,
    ingestor_factory: Callable[[], Ingestor],
    redis_factory: Callable[[], Any],
    lifespan: Callable[[FastAPI], Any] | None = None,
    metrics_registries: Sequence[CollectorRegistry] = (),
    stream_redis_factory: Callable[[], Any] | None = None,
) -> FastAPI:
    """The FastAPI app. ``ingestor_factory``/``redis_factory`` return live objects once started."""
    names = StreamNames(settings.prefix)
    api_metrics = ApiMetrics()
    backlog_cache = {"value": 0, "at": -1.0}

    async def check_backlog() -> None:
        """429 when enrichment is too far behind (checked at most once a second)."""
        now = time.monotonic()
        if now - backlog_cache["at"] >= 1.0:
            backlog_cache["value"] = await raw_backlog(redis_factory(), names.raw)
            backlog_cache["at"] = now
        if backlog_cache["value"] > settings.max_raw_backlog:
            raise ApiError(
                429,
                "backlog_full",
                f"{backlog_cache['value']} articles are waiting for enrichment; the limit is "
                f"{settings.max_raw_backlog} (NEWSFLOW_MAX_RAW_BACKLOG); retry later",
                headers={"Retry-After": "5"},
            )

    storage_holder: dict[str, Storage] = {"s": cast("Storage", _LazyStorage(settings))}

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
            await storage_holder["s"].close()

    app = FastAPI(
        title="newsflow",
        version="0.1.0",
        lifespan=_lifespan,
        description="Streaming news enrichment: submit articles, read enriched ones.",
    )

    if settings.api_key:

        def _openapi_with_key() -> dict[str, Any]:
            # Swagger UI's "Authorize" asks for the key and sends it as X-API-Key.
            if app.openapi_schema is None:
                schema = get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
                schema.setdefault("components", {})["securitySchemes"] = {
                    "ApiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}
                }
                schema["security"] = [{"ApiKey": []}]
                app.openapi_schema = schema
            return app.openapi_schema

        app.openapi = _openapi_with_key  # type: ignore[method-assign]

    @app.exception_handler(ApiError)
    async def _api_error(_: Request, exc: ApiError) -> JSONResponse:
        return exc.response()

    @app.exception_handler(RequestValidationError)
    async def _bad_parameter(_: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own {"detail": [...]} would break the one error format clients parse.
        fields = [
            {
                "field": ".".join(str(p) for p in err.get("loc", ())[1:]) or "request",
                "message": str(err.get("msg", "invalid")),
            }
            for err in exc.errors()
        ]
        message = "; ".join(f"{f['field']}: {f['message']}" for f in fields)
        return ApiError(422, "invalid_parameter", message, fields).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        message = str(exc.detail)
        if exc.status_code in (404, 405):
            message = f"{message}: {request.method} {request.url.path}"
        headers = dict(exc.headers) if exc.headers else None
        return ApiError(exc.status_code, code, message, headers=headers).response()

    @app.exception_handler(RetryableError)
    async def _storage_down(_: Request, exc: RetryableError) -> JSONResponse:
        return ApiError(
            503, "unavailable", f"{exc}; retry later", headers={"Retry-After": "5"}
        ).response()

    @app.exception_handler(ResponseError)
    async def _redis_refused(_: Request, exc: ResponseError) -> JSONResponse:
        # A key of the wrong type, a full memory, a read-only replica: the server
        # refused the command. The JSON error shape, not a plain-text 500.
        log.error("Redis refused a command while serving a request: %s", exc)
        codes = _REDIS_ERROR_CODE_RE.findall(str(exc))
        return ApiError(
            503,
            "unavailable",
            f"Redis refused the command ({codes[0] if codes else 'ERR'}); nothing was changed",
            headers={"Retry-After": "5"},
        ).response()

    @app.exception_handler(RedisConnectionError)
    @app.exception_handler(RedisTimeoutError)
    async def _redis_down(_: Request, exc: Exception) -> JSONResponse:
        log.warning("Redis unreachable while serving a request: %s", exc)
        return _unavailable(exc).response()

    @app.middleware("http")
    async def _auth(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        path = request.url.path
        if settings.api_key and path not in _OPEN_PATHS and path not in _DOCS_PATHS:
            token = request.query_params.get("token")
            if (
                token is not None
                and request.method == "GET"
                and path.startswith(_TOKEN_PATHS)
                and tokens.valid(settings.api_key, token)
            ):
                return await call_next(request)
            supplied = request.headers.get("x-api-key")
            auth = request.headers.get("authorization", "")
            if auth.lower().startswith("bearer "):
                supplied = auth[7:].strip()
            if not supplied or not hmac.compare_digest(
                supplied.encode(), settings.api_key.encode()
            ):
                return ApiError(
                    401,
                    "unauthorized",
                    "missing or wrong API key: send "
                    "'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
                ).response()
        return await call_next(request)

    @app.post("/v1/tokens", summary="A short-lived token for event streams in a browser")
    async def create_token() -> JSONResponse:
        if not settings.api_key:
            raise ApiError(
                409,
                "no_key",
                "the API is open (NEWSFLOW_API_KEY is unset): streams need no token",
            )
        token, expires = tokens.issue(settings.api_key, settings.token_ttl_s)
        return JSONResponse(
            {
                "token": token,
                "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
                "use": "GET /v1/streams/...?token=<token> (read only, until it expires)",
            }
        )

    @app.post("/v1/articles", status_code=202, summary="Submit one article (ArticleIn JSON)")
    async def submit_article(request: Request) -> JSONResponse:
        if _media_type(request) not in _JSON_TYPES:
            raise ApiError(
                415,
                "unsupported_media_type",
                "send the article as JSON with 'Content-Type: application/json'",
            )
        body = await read_body(request, settings.max_request_bytes)
        # Decoding, HTML extraction and normalization run on a thread: the event loop
        # (health checks, other requests) never waits for one large or hostile body.
        article = await asyncio.to_thread(_decode_one, body)
        await check_backlog()
        (result,) = await ingestor_factory().submit_many([article])
        api_metrics.count(result.status)
        return JSONResponse({"id": result.id, "status": result.status}, status_code=202)

    def _decode_one(body: bytes) -> Any:
        try:
            data = decode_json(body, "request body")
        except InvalidMessage as exc:
            raise ApiError(400, "invalid_json", str(exc)) from exc
        return _validate(data)

    def _validate(data: Any) -> Any:
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

    def _decode_batch(
        media: str, body: bytes | None, lines: list[tuple[int, bytes]]
    ) -> tuple[list[dict[str, Any]], list[tuple[int, Any]]]:
        """Per-item results (rejections filled in) and the valid articles by index."""
        parsed: list[Any]
        if body is not None:
            try:
                items = decode_json(body, "request body")
            except InvalidMessage as exc:
                raise ApiError(400, "invalid_json", str(exc)) from exc
            if not isinstance(items, list):
                raise ApiError(422, "invalid_batch", "a JSON batch must be an array of articles")
            if len(items) > settings.max_batch_items:
                raise _too_many(settings.max_batch_items, len(items))
            parsed = items
        else:
            parsed = []
            for number, line in lines:
                try:
                    parsed.append(decode_json(line, f"line {number}"))
                except InvalidMessage as exc:
                    parsed.append(exc)
        results: list[dict[str, Any]] = [{} for _ in parsed]
        valid: list[tuple[int, Any]] = []
        for index, item in enumerate(parsed):
            results[index]["index"] = index
            if body is None:
                # NDJSON: the line number too, the one error messages cite (blank
                # lines are skipped by ``index`` but counted by ``line``).
                results[index]["line"] = lines[index][0]
            try:
                if isinstance(item, InvalidMessage):
                    raise ApiError(400, "invalid_json", str(item))
                valid.append((index, _validate(item)))
            except ApiError as exc:
                results[index].update(
                    status="rejected",
                    error={
                        "code": exc.code,
                        "message": exc.message,
                        **({"fields": exc.fields} if exc.fields else {}),
                    },
                )
        return results, valid

    @app.post("/v1/articles/batch", summary="Submit many articles (NDJSON or a JSON array)")
    async def submit_batch(request: Request) -> JSONResponse:
        media = _media_type(request)
        body: bytes | None = None
        lines: list[tuple[int, bytes]] = []
        if media in _JSON_TYPES:
            body = await read_body(request, settings.max_request_bytes)
        elif media in _NDJSON_TYPES:
            lines = await _read_ndjson(
                request, settings.max_request_bytes, settings.max_batch_items
            )
        else:
            raise ApiError(
                415,
                "unsupported_media_type",
                "send 'Content-Type: application/x-ndjson' (one article per line) or a JSON array",
            )
        results, valid = await asyncio.to_thread(_decode_batch, media, body, lines)
        if valid:
            await check_backlog()
        accepted = await ingestor_factory().submit_many([a for _, a in valid])
        for (index, _), res in zip(valid, accepted, strict=True):
            results[index].update(id=res.id, status=res.status)
        counts = {
            s: sum(1 for r in results if r["status"] == s)
            for s in ("accepted", "duplicate", "rejected")
        }
        for status, n in counts.items():
            api_metrics.count(status, n)
        return JSONResponse({**counts, "results": results})

    @app.get("/v1/articles/{article_id}", summary="One stored, enriched article")
    async def get_article(article_id: str, format: str = "json") -> Response:
        if format not in ("json", "ninjs"):
            raise ApiError(
                422,
                "invalid_parameter",
                f"format: must be 'json' (newsflow's model) or 'ninjs' (IPTC ninjs 3.1),"
                f" not {format!r}",
                fields=[{"field": "format", "message": "must be 'json' or 'ninjs'"}],
            )
        doc = await storage_holder["s"].get(article_id)
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

    @app.get("/v1/search", summary="Search stored articles")
    async def search(
        topic: str | None = None,
        entity: str | None = None,
        q: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        source: str | None = None,
        language: str | None = None,
        limit: Annotated[int, Query(ge=1, le=500)] = 20,
        cursor: str | None = None,
        sort: Literal["time", "relevance"] = "time",
    ) -> Response:
        if topic is not None:
            try:
                topic_names(settings.taxonomy_path).check(topic)
            except UnknownTopicError as exc:
                fields = [{"field": "topic", "message": str(exc)}]
                raise ApiError(422, "invalid_parameter", f"topic: {exc}", fields) from exc
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
            page = await storage_holder["s"].search(query)
        except ValidationError as exc:
            fields = [e.as_dict() for e in field_errors(exc)]
            raise ApiError(422, "invalid_parameter", describe(exc), fields) from exc
        except ValueError as exc:
            raise ApiError(422, "invalid_parameter", str(exc)) from exc
        return Response(orjson.dumps(page.model_dump(mode="json")), media_type="application/json")

    from services.ingest.query_api import build_query_router  # imports ApiError from here

    app.include_router(build_query_router(storage_holder))
    app.include_router(metrics_router(names, redis_factory, api_metrics, extra=metrics_registries))

    @app.get("/healthz", summary="The process is alive")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", summary="Redis reachable and every consumer group present")
    async def readyz() -> JSONResponse:
        client = redis_factory()
        problems: list[str] = []
        try:
            await client.ping()
            for stream, group in ((names.raw, GROUP_ENRICH), (names.enriched, GROUP_SINK)):
                groups = await client.xinfo_groups(stream)
                if not any(g["name"] in (group, group.encode()) for g in groups):
                    problems.append(f"group {group} missing on {stream}")
        except (RedisConnectionError, RedisTimeoutError) as exc:
            problems.append(f"Redis unreachable: {exc}")
        except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
            problems.append(f"{type(exc).__name__}: {exc}")
        return readiness_response(problems)

    from services.ingest.sse import topic_stream_router

    app.include_router(topic_stream_router(settings, redis_factory, stream_redis_factory))
    from services.ingest.subscriptions_api import subscriptions_router

    app.include_router(subscriptions_router(settings, redis_factory))
    from services.ingest.webhooks_api import webhooks_router

    app.include_router(webhooks_router(settings, redis_factory))
    return app
