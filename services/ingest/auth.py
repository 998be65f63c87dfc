"""The API key in front of the HTTP API, and its place in the API description.

With ``NEWSFLOW_API_KEY`` set, every path but the health checks and the API's own
description needs the key (``services.api_errors.key_matches``); a GET of an event
stream may show a short-lived ``?token=`` instead (``services.ingest.tokens``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi import FastAPI, Request, Response
from fastapi.openapi.utils import get_openapi

from services.api_errors import key_matches, unauthorized
from services.ingest import tokens

OPEN_PATHS = frozenset({"/healthz", "/readyz"})
# The API's description: the same for every install (no data), and a browser must be
# able to open it to enter a key ("Authorize" in Swagger UI sends it as X-API-Key).
DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/openapi.json"})
# Where a short-lived ?token= (POST /v1/tokens) stands in for the key: event streams.
TOKEN_PATHS = ("/v1/streams/",)


def allowed(request: Request, api_key: str) -> bool:
    """True when ``request`` may pass with ``api_key`` in force."""
    path = request.url.path
    if path in OPEN_PATHS or path in DOCS_PATHS:
        return True
    token = request.query_params.get("token")
    if (
        token is not None
        and request.method == "GET"
        and path.startswith(TOKEN_PATHS)
        and tokens.valid(api_key, token)
    ):
        return True
    return key_matches(request, api_key)


async def _require_key(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    api_key: str | None = request.app.state.settings.api_key
    if api_key and not allowed(request, api_key):
        return unauthorized().response()
    return await call_next(request)


def install_key_auth(app: FastAPI, api_key: str | None) -> None:
    """The key check on ``app``; with a key, the description tells Swagger UI to ask for it."""
    app.middleware("http")(_require_key)
    if not api_key:
        return

    def openapi_with_key() -> dict[str, Any]:
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

    app.openapi = openapi_with_key  # type: ignore[method-assign]
