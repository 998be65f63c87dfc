"""How the HTTP API turns failures into its one error shape (``services.api_errors``).

``install_error_handlers`` maps what a route may raise to an answer: ``ApiError`` as it
is; FastAPI's parameter errors to 422 ``invalid_parameter`` (not FastAPI's own
``{"detail": [...]}``); 404/405 naming the method and path; storage away
(``RetryableError``) and Redis away or refusing to 503 with ``Retry-After``.
"""

from __future__ import annotations

import logging
import re
from typing import TypeVar

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ValidationError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError
from starlette.exceptions import HTTPException as StarletteHTTPException

from services.api_errors import RETRY_AFTER, ApiError
from services.ingest.bodies import read_body
from services.ingest.core import decode_json, describe, field_errors
from shared.errors import InvalidMessage, RetryableError

log = logging.getLogger(__name__)

ModelT = TypeVar("ModelT", bound=BaseModel)

# The error codes Redis puts first in an error reply ("WRONGTYPE Operation against...").
_REDIS_ERROR_CODE_RE = re.compile(
    r"\b(WRONGTYPE|OOM|READONLY|NOPERM|NOSCRIPT|BUSY|MISCONF|NOGROUP|LOADING|MASTERDOWN"
    r"|EXECABORT|NOAUTH|CROSSSLOT|MOVED|ASK|TRYAGAIN|CLUSTERDOWN)\b"
)


def invalid_json(exc: InvalidMessage) -> ApiError:
    """400: a body (or an NDJSON line) that is not JSON."""
    return ApiError(400, "invalid_json", str(exc))


def invalid_parameter(message: str, field: str | None = None) -> ApiError:
    """422 for a query or path parameter, naming it in ``fields`` when ``field`` is given."""
    fields = [{"field": field, "message": message}] if field else None
    return ApiError(422, "invalid_parameter", f"{field}: {message}" if field else message, fields)


def invalid_model(code: str, exc: ValidationError, **wording: str) -> ApiError:
    """422 ``code`` listing each field of a pydantic ``exc``; ``wording`` is the
    ``root``/``unknown`` of ``core.field_errors``."""
    fields = [e.as_dict() for e in field_errors(exc, **wording)]
    return ApiError(422, code, describe(exc, **wording), fields)


def unavailable(exc: Exception) -> ApiError:
    """503: Redis did not answer; nothing was accepted."""
    return ApiError(
        503,
        "unavailable",
        f"Redis is unreachable ({type(exc).__name__}); nothing was accepted, retry later",
        headers=RETRY_AFTER,
    )


async def _api_error(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    return exc.response()


async def _bad_parameter(_: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
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


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    message = str(exc.detail)
    if exc.status_code in (404, 405):
        message = f"{message}: {request.method} {request.url.path}"
    headers = dict(exc.headers) if exc.headers else None
    return ApiError(exc.status_code, code, message, headers=headers).response()


async def _storage_down(_: Request, exc: Exception) -> JSONResponse:
    return ApiError(503, "unavailable", f"{exc}; retry later", headers=RETRY_AFTER).response()


async def _redis_refused(_: Request, exc: Exception) -> JSONResponse:
    # A key of the wrong type, a full memory, a read-only replica: the server
    # refused the command. The JSON error shape, not a plain-text 500.
    log.error("Redis refused a command while serving a request: %s", exc)
    codes = _REDIS_ERROR_CODE_RE.findall(str(exc))
    return ApiError(
        503,
        "unavailable",
        f"Redis refused the command ({codes[0] if codes else 'ERR'}); nothing was changed",
        headers=RETRY_AFTER,
    ).response()


async def _redis_down(_: Request, exc: Exception) -> JSONResponse:
    log.warning("Redis unreachable while serving a request: %s", exc)
    return unavailable(exc).response()


def install_error_handlers(app: FastAPI) -> None:
    """Answer every failure of ``app``'s routes in the one error shape."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _bad_parameter)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(RetryableError, _storage_down)
    app.add_exception_handler(ResponseError, _redis_refused)
    app.add_exception_handler(RedisConnectionError, _redis_down)
    app.add_exception_handler(RedisTimeoutError, _redis_down)


async def read_model(
    request: Request, model: type[ModelT], *, limit: int, what: str, code: str
) -> ModelT:
    """The request body as ``model`` (a saved filter, a webhook): 413 over ``limit``
    bytes ("a ``what`` is at most ..."), 400 when it is no JSON, 422 ``code`` naming
    each bad field."""
    try:
        body = await read_body(request, limit)
    except ApiError as exc:
        raise ApiError(413, "too_large", f"a {what} is at most {limit} bytes") from exc
    try:
        data = decode_json(body, "request body")
    except InvalidMessage as exc:
        raise invalid_json(exc) from exc
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise invalid_model(code, exc, root=what, unknown="unknown field") from exc
