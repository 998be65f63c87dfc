"""One signed delivery attempt, per the Standard Webhooks specification.

The body is signed with ``standardwebhooks.Webhook(secret).sign``: the
``webhook-signature`` header is ``v1,<base64 HMAC-SHA256 of "id.timestamp.body">``,
so any Standard Webhooks library verifies it.
"""

from __future__ import annotations

import asyncio
import email.utils
import random
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import standardwebhooks

from shared.settings import Settings

# The response is read (so the connection can be reused) but never more than this.
MAX_RESPONSE_BYTES = 64 * 1024
BACKOFF_BASE_S = 1.0
BACKOFF_CAP_S = 600.0
USER_AGENT = "newsflow-webhooks/1"


def message_id(webhook_id: str, first_entry: str, last_entry: str | None = None) -> str:
    """The ``webhook-id`` of a delivery: the same for every retry of the same entries."""
    entries = first_entry if last_entry in (None, first_entry) else f"{first_entry}-{last_entry}"
    return f"msg_{webhook_id}_{entries}"


def signed_headers(secret: str, msg_id: str, body: bytes, now: datetime) -> dict[str, str]:
    """The three Standard Webhooks headers (and the content type) for ``body``."""
    signature = standardwebhooks.Webhook(secret).sign(msg_id, now, body.decode())
    return {
        "content-type": "application/json",
        "user-agent": USER_AGENT,
        "webhook-id": msg_id,
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
    }


def backoff(attempt: int, rng: random.Random | None = None) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): full jitter over
    1 s doubling, capped at 10 minutes."""
    ceiling = min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** min(attempt - 1, 30))
    return (rng or random).uniform(0, ceiling)


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


@dataclass(frozen=True, slots=True)
class Attempt:
    """What one POST came to: a status code, or an error; how long it took."""

    status: int | None
    error: str | None
    latency_ms: float
    retry_after_s: float | None = None

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300

    @property
    def gone(self) -> bool:
        return self.status == 410


def client(settings: Settings) -> httpx.AsyncClient:
    """The HTTP client of the deliver worker: no redirects (a redirect could lead to a
    private address), no proxies from the environment, the connect timeout of
    ``NEWSFLOW_WEBHOOK_CONNECT_TIMEOUT_S``."""
    timeout = httpx.Timeout(settings.webhook_timeout_s, connect=settings.webhook_connect_timeout_s)
    # No cap on connections: each webhook has at most one request in flight, and a cap
    # would let slow receivers hold every connection and delay the others.
    limits = httpx.Limits(max_connections=None, max_keepalive_connections=100)
    return httpx.AsyncClient(
        timeout=timeout, limits=limits, follow_redirects=False, trust_env=False
    )


async def post(
    http: httpx.AsyncClient,
    url: str,
    body: bytes,
    headers: dict[str, str],
    total_timeout_s: float,
    address: str | None = None,
) -> Attempt:
    """POST ``body`` once; never raises for the receiver's faults (they are the result).

    With ``address`` (what ``check_target`` checked), connect there rather than resolve
    the host again; the ``Host`` header and TLS (SNI, certificate) keep the URL's name."""
    target = httpx.URL(url)
    extensions: dict[str, Any] = {}
    if address is not None:
        headers = {**headers, "host": target.netloc.decode("ascii")}
        if target.scheme == "https":
            extensions["sni_hostname"] = target.host
        target = target.copy_with(host=address)
    started = time.perf_counter()
    try:
        async with asyncio.timeout(total_timeout_s):
            async with http.stream(
                "POST", target, content=body, headers=headers, extensions=extensions
            ) as response:
                read = 0
                async for chunk in response.aiter_raw():
                    read += len(chunk)
                    if read >= MAX_RESPONSE_BYTES:
                        break
                status = response.status_code
                wait = retry_after(response.headers.get("retry-after"))
    except TimeoutError:
        return Attempt(None, f"timed out after {total_timeout_s:g} s", _ms(started))
    except httpx.HTTPError as exc:
        return Attempt(None, f"{type(exc).__name__}: {exc}"[:500], _ms(started))
    return Attempt(status, None, _ms(started), wait)


def _ms(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)
