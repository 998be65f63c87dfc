"""Server-Sent Events: follow one topic stream (or saved filter stream) over HTTP.

``GET /v1/streams/topics/{slug}`` answers ``text/event-stream``. Each entry of
``<prefix>topics:<slug>`` becomes one event::

    id: 1732690000000-0
    event: article
    data: {"id": "...", "title": "...", ...}      (the EnrichedArticle JSON)

The ``id`` is the Redis stream entry id, so a client that reconnects with the
``Last-Event-ID`` header (browsers' ``EventSource`` does this by itself), or
``?last_event_id=``, gets every entry after it: nothing missed, nothing twice,
as long as the stream still holds it (topic streams are trimmed after
``NEWSFLOW_TOPIC_RETENTION_HOURS``). Without one the stream starts at the
entries written after the request (``?from=start``: everything the stream
holds). ``GET /v1/streams/subscriptions/{name}`` does the same for
``<prefix>subs:<name>``, the articles matching a saved filter (404 when there is
no such filter). A ``: keepalive`` comment is sent after ``NEWSFLOW_SSE_KEEPALIVE_SECONDS``
without entries so proxies keep the connection open; the server stops reading
Redis as soon as the client goes away.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import StreamingResponse
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.api_errors import RETRY_AFTER, ApiError
from services.ingest.deps import NamesDep, RedisDep, SettingsDep, StreamRedisDep
from services.topic_names import SLUG_PATTERN, UnknownTopicError, topic_names
from shared.codec import entry_json
from shared.settings import Settings
from shared.subscriptions import NAME_PATTERN, get

log = logging.getLogger(__name__)

_ENTRY_ID = re.compile(r"^\d{1,20}(-\d{1,20})?$")
_READ_COUNT = 100


def format_event(entry_id: str, data: bytes | str, event: str = "article") -> bytes:
    """One SSE event; a ``data`` value with line breaks becomes several ``data:`` lines."""
    text = data.decode("utf-8", "replace") if isinstance(data, bytes) else data
    lines = [f"id: {entry_id}", f"event: {event}"]
    lines += [f"data: {line}" for line in text.splitlines() or [""]]
    return ("\n".join(lines) + "\n\n").encode("utf-8")


async def last_entry_id(client: Any, stream: str) -> str:
    """The id of the newest entry of ``stream``, ``0-0`` when it is empty or missing."""
    newest = await client.xrevrange(stream, count=1)
    if not newest:
        return "0-0"
    entry_id = newest[0][0]
    return entry_id.decode() if isinstance(entry_id, bytes) else str(entry_id)


# Set when the server begins to shut down: open streams end so the server can stop
# without waiting out its graceful timeout (clients reconnect with Last-Event-ID).
STOPPING = threading.Event()


_MAX_ID_PART = 2**64 - 1


def valid_entry_id(text: str) -> bool:
    """True for a stream entry id Redis accepts: ``ms`` or ``ms-seq``, each part < 2**64."""
    if not _ENTRY_ID.match(text):
        return False
    return all(int(part) <= _MAX_ID_PART for part in text.split("-"))


class _Slot:
    """One open event stream in the count: taken when the request is accepted, given
    back when its generator ends or, if it never ran, when it is collected."""

    def __init__(self, counter: list[int]) -> None:
        self._counter = counter
        self._held = True
        counter[0] += 1

    def release(self) -> None:
        if self._held:
            self._held = False
            self._counter[0] -= 1

    def __del__(self) -> None:
        self.release()


async def _events(
    request: Request, client: Any, stream: str, start: str, keepalive_ms: int
) -> AsyncIterator[bytes]:
    last = start
    # Tells the client the subscription is live (and EventSource to wait 1 s to reconnect).
    yield b"retry: 1000\n: connected\n\n"
    quiet_since = time.monotonic()
    try:
        while not STOPPING.is_set() and not await request.is_disconnected():
            # Short blocks, so a shutdown or a disconnect is noticed within a second.
            reply = await client.xread(
                {stream: last}, block=min(keepalive_ms, 1000), count=_READ_COUNT
            )
            if not reply:
                if (time.monotonic() - quiet_since) * 1000 >= keepalive_ms:
                    quiet_since = time.monotonic()
                    yield b": keepalive\n\n"
                continue
            quiet_since = time.monotonic()
            for _, entries in reply:
                for raw_id, fields in entries:
                    entry_id = raw_id.decode() if isinstance(raw_id, bytes) else str(raw_id)
                    last = entry_id
                    data = entry_json(fields)
                    if data is None:
                        log.warning("SSE: %s entry %s has no json field", stream, entry_id)
                        continue
                    yield format_event(entry_id, data)
    except (RedisConnectionError, RedisTimeoutError) as exc:
        # The response has started: end it; the client reconnects with Last-Event-ID.
        log.warning("SSE on %s ended, Redis unreachable: %s", stream, exc)
    finally:
        log.debug("SSE on %s closed at %s", stream, last)


async def _released(chunks: AsyncIterator[bytes], slot: _Slot) -> AsyncIterator[bytes]:
    try:
        async for chunk in chunks:
            yield chunk
    finally:
        slot.release()


async def _respond(
    request: Request,
    settings: Settings,
    client: Any,
    stream: str,
    where: Resume,
) -> StreamingResponse:
    """The event stream of ``stream`` from the entry after ``where``, the start or now.

    Open streams read Redis through ``client``, from a pool of their own (followers
    never take the connections ingestion needs); at most ``NEWSFLOW_SSE_MAX_STREAMS``
    are open at once (``app.state.sse_open``), and a request beyond that is 429.
    """
    resume, from_ = where.entry_id, where.from_
    if resume is not None and not valid_entry_id(resume.strip()):
        raise ApiError(
            422,
            "invalid_parameter",
            f"last_event_id: must be a stream entry id like 1732690000000-0 (each part "
            f"below 2^64), not {resume[:60]!r}",
            fields=[{"field": "last_event_id", "message": "must be a stream entry id"}],
        )
    open_streams: list[int] = request.app.state.sse_open
    if open_streams[0] >= settings.sse_max_streams:
        raise ApiError(
            429,
            "too_many_streams",
            f"{open_streams[0]} event streams are open; the limit is "
            f"{settings.sse_max_streams} (NEWSFLOW_SSE_MAX_STREAMS); retry later",
            headers=RETRY_AFTER,
        )
    slot = _Slot(open_streams)
    if resume is not None:
        start = resume.strip()
    elif from_ == "start":
        start = "0-0"
    else:
        # Pin "$" now, so entries written between this answer and the first XREAD count.
        start = await last_entry_id(client, stream)
    keepalive_ms = max(1, int(settings.sse_keepalive_seconds * 1000))
    return StreamingResponse(
        _released(_events(request, client, stream, start, keepalive_ms), slot),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@dataclass(frozen=True, slots=True)
class Resume:
    """Where a follower starts: after ``entry_id`` when given, else ``from_``."""

    entry_id: str | None
    from_: str


def _resume(
    last_event_id_header: Annotated[str | None, Header(alias="last-event-id")] = None,
    last_event_id: str | None = None,
    from_: Annotated[Literal["start", "now"], Query(alias="from")] = "now",
) -> Resume:
    return Resume(last_event_id_header or last_event_id, from_)


ResumeDep = Annotated[Resume, Depends(_resume)]

router = APIRouter()


@router.get(
    "/v1/streams/topics/{slug}",
    summary="Follow a topic live (Server-Sent Events, resumable with Last-Event-ID)",
    response_class=StreamingResponse,
)
async def follow_topic(
    request: Request,
    slug: Annotated[str, Path(pattern=SLUG_PATTERN)],
    settings: SettingsDep,
    names: NamesDep,
    stream_client: StreamRedisDep,
    resume: ResumeDep,
) -> StreamingResponse:
    try:
        topic_names(settings.taxonomy_path).check(slug)
    except UnknownTopicError as exc:
        raise ApiError(404, "not_found", str(exc)) from exc
    return await _respond(request, settings, stream_client, names.topic(slug), resume)


@router.get(
    "/v1/streams/subscriptions/{name}",
    summary="Follow a saved filter live (Server-Sent Events, resumable with Last-Event-ID)",
    response_class=StreamingResponse,
)
async def follow_subscription(
    request: Request,
    name: Annotated[str, Path(pattern=NAME_PATTERN)],
    settings: SettingsDep,
    names: NamesDep,
    client: RedisDep,
    stream_client: StreamRedisDep,
    resume: ResumeDep,
) -> StreamingResponse:
    if await get(client, names, name) is None:
        raise ApiError(404, "not_found", f"no subscription called {name!r}")
    return await _respond(request, settings, stream_client, names.subs(name), resume)
