"""Reading request bodies under their limits: 413 as soon as a limit is passed.

A body is refused on its declared ``Content-Length`` before a byte is read, and again
while it streams, so a client that lies about (or omits) its length costs no more
than the limit.
"""

from __future__ import annotations

from fastapi import Request

from services.api_errors import ApiError

JSON_TYPES = ("application/json",)
NDJSON_TYPES = ("application/x-ndjson", "application/ndjson", "application/jsonl")


def media_type(request: Request) -> str:
    """The request's content type, lower case, without parameters."""
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


def too_many(max_items: int, count: int | None) -> ApiError:
    """413: a batch of ``count`` (or, when not counted to the end, more) articles."""
    has = f"{count} articles" if count is not None else f"more than {max_items} articles"
    return ApiError(
        413,
        "too_many_items",
        f"batch has {has}; the limit is {max_items} (NEWSFLOW_MAX_BATCH_ITEMS)",
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


async def read_ndjson(request: Request, limit: int, max_items: int) -> list[tuple[int, bytes]]:
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
                raise too_many(max_items, len(lines))
            raise too_many(max_items, None)
    if rest.strip():
        lines.append((number + 1, rest))
    if len(lines) > max_items:
        raise too_many(max_items, len(lines))
    return lines
