"""Short-lived read tokens for browsers, which cannot send an API key header.

A browser's ``EventSource`` sends no headers, so it cannot present the API key. An
authenticated client asks ``POST /v1/tokens`` for a token and hands it to the page,
which opens ``GET /v1/streams/...?token=...``. A token is stateless: its expiry and
an HMAC-SHA256 of it under the API key, so nothing is stored, every API replica
accepts it, and changing the key revokes every token. It opens only the event
streams (reading, never writing), and only until it expires, because a URL ends up
in browser history and proxy logs where a header does not.

``POST /v1/tokens`` (behind the key) issues one; ``services.ingest.auth`` checks it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import time
from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.api_errors import ApiError
from services.ingest.deps import SettingsDep

_SCOPE = b"streams"


def issue(key: str, ttl_s: int, now: float | None = None) -> tuple[str, int]:
    """A token for ``key`` valid ``ttl_s`` seconds, and its expiry (Unix seconds)."""
    expires = int((time.time() if now is None else now) + ttl_s)
    return f"{expires}.{_signature(key, expires)}", expires


def valid(key: str, token: str, now: float | None = None) -> bool:
    """True when ``token`` was issued under ``key`` and has not expired."""
    stamp, _, signature = token.partition(".")
    if not stamp.isdigit() or len(stamp) > 12 or not signature:
        return False
    expires = int(stamp)
    if expires < (time.time() if now is None else now):
        return False
    return hmac.compare_digest(signature, _signature(key, expires))


def _signature(key: str, expires: int) -> str:
    mac = hmac.new(key.encode(), _SCOPE + b":" + str(expires).encode(), hashlib.sha256)
    return base64.urlsafe_b64encode(mac.digest()).decode().rstrip("=")


router = APIRouter()


@router.post("/v1/tokens", summary="A short-lived token for event streams in a browser")
async def create_token(settings: SettingsDep) -> JSONResponse:
    if not settings.api_key:
        raise ApiError(
            409,
            "no_key",
            "the API is open (NEWSFLOW_API_KEY is unset): streams need no token",
        )
    token, expires = issue(settings.api_key, settings.token_ttl_s)
    return JSONResponse(
        {
            "token": token,
            "expires_at": datetime.fromtimestamp(expires, UTC).isoformat(),
            "use": "GET /v1/streams/...?token=<token> (read only, until it expires)",
        }
    )
