"""Webhooks: HTTP endpoints that receive the articles of a topic or a saved filter.

A ``Webhook`` names a URL and exactly one source: a ``topic`` (its stream
``<prefix>topics:<slug>``) or a ``subscription`` (``<prefix>subs:<name>``).
Webhooks live in the Redis hash ``<prefix>webhooks`` (field: the id, value: the
webhook's JSON). Creating one also creates its consumer group ``webhook:<id>`` on
its stream, from ``$``: it receives the articles that arrive after it was made.
The deliver worker (``services/deliver``) reads that group and POSTs each article,
signed per the Standard Webhooks specification with the webhook's ``whsec_`` secret.

Errors::

    WebhookRejected(ValueError)   a field is invalid: .field names it
      UnsafeTarget                the URL resolves to a private, loopback, link-local,
                                  multicast, reserved or unspecified address
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import ipaddress
import logging
import secrets
import socket
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from redis.exceptions import ResponseError

from shared.streams import StreamNames
from shared.topology import WEBHOOK_DELIVERIES

log = logging.getLogger(__name__)

SECRET_PREFIX = "whsec_"
# Standard Webhooks: a secret is 24 to 64 random bytes, base64 after "whsec_".
SECRET_BYTES = (24, 64)
MAX_URL = 2048
DELIVERIES_MAXLEN = WEBHOOK_DELIVERIES.cap
Status = Literal["active", "failing", "disabled"]


class WebhookRejected(ValueError):
    """A webhook that cannot be made; ``field`` names the field at fault."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class UnsafeTarget(WebhookRejected):
    """The URL's host resolves to an address newsflow must not call."""


def new_secret() -> str:
    """A fresh secret as Standard Webhooks makes them: ``whsec_`` + base64 of 24 bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES[0])).decode()


def new_id() -> str:
    return "wh_" + secrets.token_hex(8)


class WebhookIn(BaseModel):
    """What a user gives to make a webhook."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    url: Annotated[str, Field(min_length=1, max_length=MAX_URL)]
    topic: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    subscription: Annotated[str, Field(min_length=1, max_length=64)] | None = None
    secret: str | None = None
    # Articles per POST: 1 sends each article as a JSON object, more a JSON array of
    # up to batch_size articles, sent when full or batch_interval_s after the first.
    batch_size: int = Field(default=1, ge=1, le=100)
    batch_interval_s: float = Field(default=1.0, ge=0.0, le=60.0)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https"):
            raise ValueError("must be an http:// or https:// URL")
        if not parts.hostname:
            raise ValueError("has no host")
        if parts.username or parts.password:
            raise ValueError("must not carry a user name or password")
        try:
            parts.port  # noqa: B018 - raises ValueError for a bad port
        except ValueError as exc:
            raise ValueError(f"has a bad port: {exc}") from None
        return value

    @field_validator("secret")
    @classmethod
    def _standard_secret(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(SECRET_PREFIX):
            raise ValueError(f"must start with {SECRET_PREFIX!r} (Standard Webhooks)")
        try:
            raw = base64.b64decode(value[len(SECRET_PREFIX) :], validate=True)
        except (binascii.Error, ValueError):
            raise ValueError(f"must be {SECRET_PREFIX!r} followed by base64") from None
        low, high = SECRET_BYTES
        if not low <= len(raw) <= high:
            raise ValueError(f"must hold {low} to {high} bytes after {SECRET_PREFIX!r}")
        return value

    @model_validator(mode="after")
    def _one_source(self) -> WebhookIn:
        if (self.topic is None) == (self.subscription is None):
            raise ValueError("give exactly one of 'topic' and 'subscription'")
        return self


class Webhook(WebhookIn):
    """A stored webhook."""

    id: str
    secret: str
    created_at: datetime
    status: Status = "active"

    def stream(self, names: StreamNames) -> str:
        """The stream this webhook's articles are read from."""
        if self.topic is not None:
            return names.topic(self.topic)
        return names.subs(str(self.subscription))

    def public(self, names: StreamNames, *, with_secret: bool = False) -> dict[str, Any]:
        """The webhook as the API and CLI show it (the secret only when just made)."""
        data = self.model_dump(mode="json", exclude=set() if with_secret else {"secret"})
        return {**data, "stream": self.stream(names)}


def group(webhook_id: str) -> str:
    """The consumer group of one webhook on its stream."""
    return f"webhook:{webhook_id}"


def key(names: StreamNames) -> str:
    """The Redis hash holding every webhook."""
    return f"{names.prefix}webhooks"


def deliveries_key(names: StreamNames, webhook_id: str) -> str:
    """The capped stream of one webhook's delivery attempts."""
    return f"{names.prefix}webhooks:{webhook_id}:deliveries"


def dlq_key(names: StreamNames, webhook_id: str) -> str:
    """The dead-letter stream of one webhook: entries it gave up on."""
    return f"{names.prefix}webhooks:{webhook_id}:dlq"


def lease_key(names: StreamNames, webhook_id: str) -> str:
    """Who delivers this webhook now (one deliver worker process at a time)."""
    return f"{names.prefix}webhooks:{webhook_id}:lease"


# --- the private-address rule --------------------------------------------------------


def _forbidden(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why newsflow must not call ``ip``, or None when it is a public address."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    for kind in ("loopback", "link_local", "multicast", "unspecified", "reserved", "private"):
        if getattr(ip, f"is_{kind}"):
            return kind.replace("_", "-")
    if not ip.is_global:  # shared address space (100.64/10) and the like
        return "non-global"
    return None


async def check_target(url: str, *, allow_private: bool) -> str | None:
    """Resolve ``url``'s host; raise ``UnsafeTarget`` when any address it resolves to is
    private, loopback, link-local, multicast, reserved or unspecified (unless
    ``allow_private``), or ``WebhookRejected`` when it does not resolve.

    Returns the first address, checked, for the caller to connect to (so that a name
    cannot resolve to a public address here and to a private one on connecting), or
    None for an IPv6 address with a zone."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise WebhookRejected("url", f"host {host!r} does not resolve: {exc}") from None
    first = str(infos[0][4][0])
    if not allow_private:
        for info in infos:
            address = str(info[4][0]).split("%")[0]  # drop an IPv6 zone
            reason = _forbidden(ipaddress.ip_address(address))
            if reason is not None:
                raise UnsafeTarget(
                    "url",
                    f"host {host!r} resolves to {address}, a {reason} address; webhooks may "
                    "only call public addresses unless NEWSFLOW_WEBHOOK_ALLOW_PRIVATE=true",
                )
    return None if "%" in first else first


# --- storage -------------------------------------------------------------------------


def field_of(exc: ValidationError) -> WebhookRejected:
    """The first problem of a ``WebhookIn`` validation, as a ``WebhookRejected``."""
    err = exc.errors(include_url=False)[0]
    where = ".".join(str(p) for p in err["loc"]) or "webhook"
    message = {"extra_forbidden": "unknown field", "missing": "field required"}.get(
        err["type"], err["msg"].removeprefix("Value error, ")
    )
    return WebhookRejected(where, message)


async def create(
    client: Any,
    names: StreamNames,
    spec: WebhookIn,
    *,
    allow_private: bool,
    taxonomy_path: Any = None,
) -> Webhook:
    """Check ``spec`` (topic known, subscription saved, URL public), store it as a new
    webhook and create its consumer group from ``$``. Raises ``WebhookRejected``."""
    from services.topic_names import UnknownTopicError, topic_names
    from shared import subscriptions

    if spec.topic is not None:
        known = topic_names(taxonomy_path)
        try:
            known.check(spec.topic)
        except UnknownTopicError as exc:
            raise WebhookRejected("topic", str(exc)) from None
        if spec.topic.casefold() not in known.slugs:
            raise WebhookRejected(
                "topic", f"{spec.topic!r} is a QCode; give the topic's slug, such as 'sport'"
            )
        spec = spec.model_copy(update={"topic": spec.topic.casefold()})
    elif await subscriptions.get(client, names, str(spec.subscription)) is None:
        raise WebhookRejected(
            "subscription",
            f"no subscription called {spec.subscription!r}; save it first "
            "(POST /v1/subscriptions or 'newsflow subscriptions add')",
        )
    await check_target(spec.url, allow_private=allow_private)
    webhook = Webhook(
        **spec.model_dump(exclude={"secret"}),
        secret=spec.secret or new_secret(),
        id=new_id(),
        created_at=datetime.now(UTC),
    )
    try:
        await client.xgroup_create(webhook.stream(names), group(webhook.id), "$", mkstream=True)
    except ResponseError as exc:
        if "BUSYGROUP" not in str(exc):
            raise
    await client.hset(key(names), webhook.id, webhook.model_dump_json())
    return webhook


def _parse(webhook_id: Any, raw: Any) -> Webhook | None:
    try:
        return Webhook.model_validate_json(raw)
    except ValidationError as exc:
        log.warning("webhook %r is unreadable; ignored: %s", webhook_id, exc)
        return None


async def get(client: Any, names: StreamNames, webhook_id: str) -> Webhook | None:
    """The webhook ``webhook_id``, or None."""
    raw = await client.hget(key(names), webhook_id)
    return None if raw is None else _parse(webhook_id, raw)


async def list_all(client: Any, names: StreamNames) -> list[Webhook]:
    """Every webhook, oldest first."""
    stored = await client.hgetall(key(names))
    found = [_parse(i, raw) for i, raw in stored.items()]
    return sorted((w for w in found if w is not None), key=lambda w: (w.created_at, w.id))


async def delete(client: Any, names: StreamNames, webhook_id: str) -> bool:
    """Remove the webhook, its consumer group, deliveries and dead letters; False when
    there was none. The stream it read is kept (others may read it)."""
    webhook = await get(client, names, webhook_id)
    if not await client.hdel(key(names), webhook_id):
        return False
    if webhook is not None:
        with contextlib.suppress(ResponseError):  # the stream is gone already
            await client.xgroup_destroy(webhook.stream(names), group(webhook_id))
    await client.delete(
        deliveries_key(names, webhook_id), dlq_key(names, webhook_id), lease_key(names, webhook_id)
    )
    return True


# Set the status only if the webhook still exists: the deliver worker must not bring
# back a webhook deleted while it was delivering.
_SET_STATUS = """
local raw = redis.call('HGET', KEYS[1], ARGV[1])
if not raw then return 0 end
local doc = cjson.decode(raw)
if doc['status'] == ARGV[2] then return 1 end
doc['status'] = ARGV[2]
redis.call('HSET', KEYS[1], ARGV[1], cjson.encode(doc))
return 1
"""


async def set_status(client: Any, names: StreamNames, webhook_id: str, status: Status) -> bool:
    """Mark the webhook ``status``; False when it no longer exists."""
    return bool(await client.eval(_SET_STATUS, 1, key(names), webhook_id, status))
