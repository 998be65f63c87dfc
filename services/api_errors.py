"""The one error shape of every newsflow HTTP server, and the one API-key check.

An error answer is JSON ``{"error": {"code", "message", "fields"?}}``: ``code`` is
machine-readable, ``message`` a sentence naming the field or limit, ``fields`` (only
when there are any) a list of ``{"field", "message"}``. The ingest API and the enrich
and sink workers' small servers answer in this shape alike.
"""

from __future__ import annotations

import hmac
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse

# Sent with every 429 and 503: how long a client waits before it tries again.
RETRY_AFTER = {"Retry-After": "5"}


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

    def body(self) -> dict[str, Any]:
        """The inside of ``{"error": ...}``, as a batch result also carries it."""
        body: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.fields:
            body["fields"] = self.fields
        return body

    def response(self) -> JSONResponse:
        return JSONResponse({"error": self.body()}, status_code=self.status, headers=self.headers)


def unauthorized() -> ApiError:
    """401: the key is missing or wrong."""
    return ApiError(
        401,
        "unauthorized",
        "missing or wrong API key: send 'Authorization: Bearer <key>' or 'X-API-Key: <key>'",
    )


def key_matches(request: Request, api_key: str) -> bool:
    """True when the request carries ``api_key`` (``Authorization: Bearer`` or ``X-API-Key``)."""
    supplied = request.headers.get("x-api-key")
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        supplied = auth[7:].strip()
    return bool(supplied) and hmac.compare_digest((supplied or "").encode(), api_key.encode())
