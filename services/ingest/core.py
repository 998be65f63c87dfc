"""Accepting articles: validate, normalize, drop exact duplicates, XADD to articles:raw.

Used by the HTTP API, the inbox reader and the file loader alike, so every entry
point applies the same rules and limits.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson
from pydantic import ValidationError
from redis.asyncio import Redis

from shared.codec import dumps
from shared.errors import InvalidMessage, TooLarge
from shared.models import Article, ArticleIn
from shared.normalize import normalize
from shared.settings import Settings
from shared.streams import JSON_FIELD, StreamNames

log = logging.getLogger(__name__)

# Atomic "enqueue unless already seen with the same content". Doing the check and
# the XADD in one script means an article is never marked seen without being
# enqueued (a crash between two commands would otherwise lose it).
_ENQUEUE_LUA = """
local prev = redis.call('GET', KEYS[1])
if prev == ARGV[1] then
  return false
end
local id = redis.call('XADD', KEYS[2], '*', 'json', ARGV[3])
redis.call('SET', KEYS[1], ARGV[1], 'EX', tonumber(ARGV[2]))
return id
"""

Status = Literal["accepted", "duplicate"]

# An upper bound on the JSON of every ArticleIn field but title, body and html.
_MAX_OTHER_FIELDS_BYTES = 1024 * 1024


@dataclass(frozen=True, slots=True)
class Accepted:
    id: str
    status: Status


@dataclass(frozen=True, slots=True)
class FieldError:
    """One validation problem: ``loc`` names the field, ``msg`` says what is wrong."""

    loc: str
    msg: str

    def as_dict(self) -> dict[str, str]:
        return {"field": self.loc, "message": self.msg}


_ARTICLE_UNKNOWN = "unknown field (not part of ArticleIn)"


def field_errors(
    exc: ValidationError, root: str = "article", unknown: str = _ARTICLE_UNKNOWN
) -> list[FieldError]:
    """Pydantic errors as (field, message) pairs a person can read.

    ``root`` names the whole object when an error has no field; ``unknown`` is said of
    a field the model does not have.
    """
    out: list[FieldError] = []
    for err in exc.errors(include_url=False):
        loc = ".".join(str(p) for p in err["loc"]) or root
        msg = err["msg"]
        if err["type"] == "extra_forbidden":
            msg = unknown
        elif err["type"] == "missing":
            msg = "field required"
        out.append(FieldError(loc, msg))
    return out


def describe(exc: ValidationError, root: str = "article", unknown: str = _ARTICLE_UNKNOWN) -> str:
    """``field: message; ...`` for every error of ``exc`` (see ``field_errors``)."""
    return "; ".join(f"{e.loc}: {e.msg}" for e in field_errors(exc, root, unknown))


def json_type(value: Any) -> str:
    """The JSON name of a decoded value's type, for error messages."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object" if isinstance(value, dict) else type(value).__name__


def parse_article(data: Any, settings: Settings) -> Article:
    """An ``Article`` from decoded JSON, or ``InvalidMessage``/``TooLarge`` saying why."""
    if not isinstance(data, dict):
        raise InvalidMessage(f"article must be a JSON object, not {json_type(data)}")
    try:
        article_in = ArticleIn.model_validate(data)
    except ValidationError as exc:
        raise InvalidMessage(describe(exc)) from exc
    except Exception as exc:
        # Validation is pure: whatever it raises will be raised again on every
        # retry, so the input is dead-lettered (or answered 422), never retried.
        log.exception("unexpected error validating an article")
        raise InvalidMessage(f"article could not be validated: {type(exc).__name__}") from exc
    size = len(article_in.title) + len(article_in.body or "") + len(article_in.html or "")
    if size > settings.max_article_bytes:
        raise TooLarge(
            f"article text is {size} characters; the limit is "
            f"{settings.max_article_bytes} (NEWSFLOW_MAX_ARTICLE_BYTES)"
        )
    try:
        return normalize(article_in)
    except ValueError as exc:
        raise InvalidMessage(str(exc)) from exc
    except Exception as exc:
        log.exception("unexpected error normalizing an article")
        raise InvalidMessage(f"article could not be normalized: {type(exc).__name__}") from exc


def decode_json(payload: bytes | str, what: str = "input") -> Any:
    """JSON text to Python, or ``InvalidMessage`` naming ``what`` and the problem."""
    try:
        return orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise InvalidMessage(f"{what}: not valid JSON (or not UTF-8): {exc}") from exc


def article_from_entry(fields: Mapping[bytes, bytes], settings: Settings) -> Article:
    """An article from an inbox entry: a ``json`` field, or flat field/value pairs.

    In the flat form ``authors`` may be a JSON array or a comma-separated list.
    """
    raw = fields.get(JSON_FIELD.encode())
    if raw is not None:
        others = sorted(k.decode("utf-8", "replace") for k in fields if k != JSON_FIELD.encode())
        if others:
            # One form or the other: a field beside `json` would be silently lost.
            raise InvalidMessage(
                f"entry has a '{JSON_FIELD}' field and also {', '.join(map(repr, others))}: "
                f"put every field of the article inside '{JSON_FIELD}', or send flat "
                "field/value pairs without it"
            )
        # Refused before decoding only when no article within the limit could be
        # this big: JSON may spell a character as a 6-byte \uXXXX escape (Python's
        # json.dumps does by default), and the other fields add up to about 1 MiB.
        # A tighter bound would dead-letter here what the HTTP API accepts.
        if len(raw) > settings.max_article_bytes * 6 + _MAX_OTHER_FIELDS_BYTES:
            raise TooLarge(
                f"entry is {len(raw)} bytes, too large for an article of at most "
                f"{settings.max_article_bytes} characters (NEWSFLOW_MAX_ARTICLE_BYTES)"
            )
        return parse_article(decode_json(raw, "entry field 'json'"), settings)
    data: dict[str, Any] = {}
    for key, value in fields.items():
        try:
            name, text = key.decode("utf-8"), value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidMessage(f"entry field {key!r} is not valid UTF-8") from exc
        data[name] = text
    if "authors" in data:
        authors = data["authors"]
        data["authors"] = (
            decode_json(authors, "authors")
            if authors.startswith("[")
            else [a.strip() for a in authors.split(",") if a.strip()]
        )
    return parse_article(data, settings)


class Ingestor:
    """Enqueues normalized articles on ``articles:raw``, dropping exact duplicates."""

    def __init__(self, client: Redis, settings: Settings) -> None:
        self._client = client
        self._settings = settings
        self._names = StreamNames(settings.prefix)
        # Articles enqueued by this process so far (the generation watch reads it).
        self.accepted_total = 0

    async def submit_many(self, articles: Sequence[Article]) -> list[Accepted]:
        """Enqueue in one pipeline; an article whose id and content were seen is a duplicate.

        Raises redis errors unchanged: nothing was accepted unless this returns.
        """
        if not articles:
            return []
        ttl = str(self._settings.dedup_ttl_seconds)
        async with self._client.pipeline(transaction=False) as pipe:
            # EVAL, not EVALSHA: the script is a few hundred bytes, and a Redis Cluster
            # pipeline cannot load a script that a node has not seen (NOSCRIPT).
            for article in articles:
                pipe.eval(
                    _ENQUEUE_LUA,
                    2,
                    self._names.seen(article.id),
                    self._names.raw,
                    article.content_hash,
                    ttl,
                    dumps(article),
                )
            results = await pipe.execute()
        self.accepted_total += sum(1 for r in results if r)
        return [
            Accepted(a.id, "accepted" if r else "duplicate")
            for a, r in zip(articles, results, strict=True)
        ]
