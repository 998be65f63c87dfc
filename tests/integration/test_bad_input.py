"""Bad input through every entry point of the ingest service, on a real Redis.

The promise: bad input gets a clear error naming the field or limit, nothing
valid is lost, and the readers never crash or stall on one bad message.

One table of article payloads (``CASES``) goes through ``POST /v1/articles``,
``POST /v1/articles/batch`` (NDJSON and JSON array, interleaved with valid
articles) and the inbox stream (``json`` field, interleaved likewise). Each case
is either rejected with an exact status, machine code and a message naming the
field or limit, or accepted and checked field by field on ``articles:raw``. The
flat-field inbox form has its own table; searches with injection strings go
through ``GET /v1/search`` and ``newsflow search``. The same cases also run end
to end, with real worker processes, in ``tests/e2e/test_bad_input_e2e.py``.
"""

# The case tables read one case per line, whatever its length.
# ruff: noqa: E501

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis.asyncio as aioredis

from services import cli, tools
from services.ingest.core import parse_article
from shared.models import Article, DeadLetter, EnrichedArticle, Entity, Provenance, Topic
from shared.normalize import normalize
from shared.redis import encode_fields
from shared.settings import Settings
from shared.storage import open_storage
from shared.streams import GROUP_INGEST, StreamNames
from tests.integration.test_ingest import _raw, serve

pytestmark = pytest.mark.integration

MiB = 1024 * 1024
ARTICLE_LIMIT = Settings().max_article_bytes  # NEWSFLOW_MAX_ARTICLE_BYTES, 2 MiB


# --- the table ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Rejected:
    """What a producer is told: HTTP status and code, and text the message must hold.

    ``names`` is the field (``"title: "``) or limit (``NEWSFLOW_MAX_ARTICLE_BYTES``)
    the message must name; ``detail`` says what is wrong with it.
    """

    status: int
    code: str
    names: str
    detail: str = ""

    @property
    def error_class(self) -> str:
        return "TooLarge" if self.code == "too_large" else "InvalidMessage"


@dataclass(frozen=True)
class Case:
    id: str
    payload: bytes
    # None: accepted, and every attribute in ``stored`` is what articles:raw holds.
    rejected: Rejected | None = None
    stored: dict[str, Any] = field(default_factory=dict)
    # An NDJSON line cannot be empty; a JSON array cannot hold undecodable items.
    in_ndjson: bool = True
    in_array: bool = True


def _doc(case_id: str, **fields: Any) -> dict[str, Any]:
    """An article unique to the case, with ``fields`` replacing or adding to it."""
    data: dict[str, Any] = {
        "title": f"Case {case_id}",
        "body": f"Body text of the {case_id} case.",
    }
    data.update(fields)
    return {k: v for k, v in data.items() if v is not _DROP}


_DROP = object()


def ok(case_id: str, stored: dict[str, Any] | None = None, **fields: Any) -> Case:
    return Case(case_id, orjson.dumps(_doc(case_id, **fields)), None, stored or {})


def bad(case_id: str, rejected: Rejected, **fields: Any) -> Case:
    return Case(case_id, orjson.dumps(_doc(case_id, **fields)), rejected)


def raw(case_id: str, payload: bytes, rejected: Rejected, **flags: bool) -> Case:
    return Case(case_id, payload, rejected, in_array=False, **flags)


def invalid_json(detail: str) -> Rejected:
    return Rejected(400, "invalid_json", "not valid JSON", detail)


def invalid(names: str, detail: str = "") -> Rejected:
    return Rejected(422, "invalid_article", names, detail)


TOO_LARGE = Rejected(413, "too_large", "NEWSFLOW_MAX_ARTICLE_BYTES", "limit is 2097152")

AR_TITLE = "العراق يطلب من الولايات المتحدة إرسال فريق"
AR_BODY = "قالت وزارة الخارجية العراقية يوم الجمعة إن بغداد طلبت من واشنطن إرسال وفد."
HE_TITLE = "\u200fירושלים\u200f: הממשלה אישרה את התקציב"
FA_TITLE = "ایران می\u200cخواهد مذاکره کند"  # the ZWNJ is part of the spelling
ZH_TITLE = "北京宣布新的经济刺激计划"
ZH_BODY = "国家发展和改革委员会周五表示，将加大基础设施投资。"
RU_TITLE = "Правительство России объявило о новых мерах"
EMOJI_TITLE = "Markets 📈 rally 🚀 after 👨\u200d👩\u200d👧 family policy 🇺🇦"
SCRIPT_TEXT = "Researchers showed how <script>alert('x')</script> runs in old browsers."
T2020 = datetime(2020, 1, 10, 12, 0, tzinfo=UTC)

CASES: list[Case] = [
    # Undecodable documents: 400.
    raw("truncated-json", b'{"title": "T", "body": ', invalid_json("line 1")),
    raw("form-encoded", b"title=T&body=B", invalid_json("line 1 column 1")),
    raw("empty-document", b"", invalid_json("empty document"), in_ndjson=False),
    raw("latin1-not-utf8", b'{"title": "Caf\xe9", "body": "B"}', invalid_json("UTF-8")),
    raw("utf8-bom", b'\xef\xbb\xbf{"title": "T", "body": "B"}', invalid_json("byte order mark")),
    raw("lone-surrogate", b'{"title": "\\ud800", "body": "B"}', invalid_json("surrogate")),
    raw("nan", b'{"title": "T", "body": "B", "schema_version": NaN}', invalid_json("line 1")),
    raw("number-overflow", b'{"title": "T", "body": "B", "schema_version": 1e400}', invalid_json("infinity")),
    raw("nesting-bomb", b'{"title": "T", "body": "B", "x": ' + b"[" * 5000 + b"]" * 5000 + b"}", invalid_json("depth limit")),
    # Decodable but not an object: 422 naming what was sent.
    Case("array", b'[{"title": "T", "body": "B"}]', invalid("article must be a JSON object", "not an array")),
    Case("null", b"null", invalid("article must be a JSON object", "not null")),
    Case("string", b'"Title and body"', invalid("article must be a JSON object", "not a string")),
    Case("number", b"42", invalid("article must be a JSON object", "not a number")),
    # Wrong or missing fields: 422 naming each field.
    bad("missing-title", invalid("title: ", "field required"), title=_DROP),
    bad("title-null", invalid("title: ", "valid string"), title=None),
    bad("title-number", invalid("title: ", "valid string"), title=42),
    bad("title-list", invalid("title: ", "valid string"), title=["a", "b"]),
    bad("title-empty", invalid("title: ", "at least 1 character"), title=""),
    bad("title-whitespace", invalid("title: ", "at least 1 character"), title=" \t\n "),
    bad("title-invisible", invalid("title: ", "no text left"), title="\u200b\u2060\x07"),
    bad("title-1001-chars", invalid("title: ", "at most 1000 characters"), title="T" * 1001),
    bad("title-5mb", invalid("title: ", "at most 1000 characters"), title="T" * (5 * MiB)),
    bad("title-nul", invalid("title: ", "NUL"), title="Breaking\x00news"),
    bad("missing-body", invalid("body: ", "one of 'body' or 'html' is required"), body=_DROP),
    bad("body-empty", invalid("body: ", "must not be empty"), body=""),
    bad("body-whitespace", invalid("body: ", "must not be empty"), body=" \n\t\r\n "),
    bad("body-number", invalid("body: ", "valid string"), body=3.14),
    bad("body-object", invalid("body: ", "valid string"), body={"text": "nested"}),
    bad("body-nul", invalid("body: ", "NUL"), body="Line one\x00line two"),
    bad("body-10mb", TOO_LARGE, body="x" * (10 * MiB)),
    bad("html-10mb", TOO_LARGE, body=_DROP, html="<p>" + "y" * (10 * MiB) + "</p>"),
    bad("html-script-only", invalid("body: ", "no text left after removing markup"), body=_DROP, html="<script>alert(1)</script><style>p{}</style>"),
    bad("html-comments-only", invalid("body: ", "no text left"), body=_DROP, html="<!-- nothing --> <br> &#8203;"),
    bad("html-nul", invalid("html: ", "NUL"), body=_DROP, html="<p>a\x00b</p>"),
    bad("unknown-field-typo", invalid("titel: ", "unknown field"), titel="typo"),
    bad("unknown-internal-fields", invalid("id: ", "unknown field"), id="f" * 32, entities=[]),
    Case("several-errors", orjson.dumps({"titel": "x", "bdy": "y"}), invalid("title: field required", "titel: unknown field")),
    # Dates: impossible, out of range, or not dates at all.
    bad("date-feb-30", invalid("published_at: ", "day value is outside expected range"), published_at="2020-02-30"),
    bad("date-feb-29-non-leap", invalid("published_at: ", "day value"), published_at="2021-02-29"),
    bad("date-year-0", invalid("published_at: ", "year 0 is out of range"), published_at="0000-01-01"),
    bad("date-year-1-east-of-utc", invalid("published_at: ", "outside years 0001-9999"), published_at="0001-01-01T00:00:00+01:00"),
    bad("date-year-9999-west-of-utc", invalid("published_at: ", "outside years 0001-9999"), published_at="9999-12-31T23:59:59-01:00"),
    bad("date-year-10000", invalid("published_at: ", "valid datetime"), published_at="10000-01-01"),
    bad("date-word", invalid("published_at: ", "valid datetime"), published_at="yesterday"),
    bad("date-hour-25", invalid("published_at: ", "valid datetime"), published_at="2020-01-10T25:00:00Z"),
    bad("date-offset-24h", invalid("published_at: ", "valid datetime"), published_at="2020-01-10T12:00:00+24:00"),
    bad("date-epoch-too-big", invalid("published_at: ", "after 9999"), published_at=1e20),
    bad("date-boolean", invalid("published_at: ", "valid datetime"), published_at=True),
    # URLs, lists, codes.
    bad("url-javascript", invalid("url: ", "http:// or https://"), url="javascript:alert(document.cookie)"),
    bad("url-file", invalid("url: ", "http:// or https://"), url="file:///etc/passwd"),
    bad("url-relative-traversal", invalid("url: ", "http:// or https://"), url="../../etc/passwd"),
    bad("url-no-host", invalid("url: ", "no host"), url="http://"),
    bad("url-bad-port", invalid("url: ", "invalid port"), url="https://news.test:99999/a"),
    bad("url-600-chars", invalid("url: ", "at most 500 characters"), url="https://news.test/" + "a" * 600),
    bad("authors-string", invalid("authors: ", "valid list"), authors="A. One, B. Two"),
    bad("authors-numbers", invalid("authors.0: ", "valid string"), authors=[1, 2]),
    bad("authors-101", invalid("authors: ", "at most 100 items"), authors=["A"] * 101),
    bad("authors-nul", invalid("authors.1: ", "NUL"), authors=["Ok", "Bad\x00name"]),
    bad("language-word", invalid("language: ", "should match pattern"), language="english"),
    bad("language-traversal", invalid("language: ", "should match pattern"), language="../../etc/passwd"),
    bad("source-501-chars", invalid("source: ", "at most 500 characters"), source="s" * 501),
    bad("source-nul", invalid("source: ", "NUL"), source="wire\x00"),
    bad("schema-version-word", invalid("schema_version: ", "valid integer"), schema_version="one"),
    # Accepted, and stored exactly as a reader expects.
    ok("arabic", {"title": AR_TITLE, "body": AR_BODY, "language": "ar", "word_count": 7 + 13}, title=AR_TITLE, body=AR_BODY, language="ar"),
    ok("hebrew-with-bidi-marks", {"title": HE_TITLE}, title=HE_TITLE, language="he_IL"),
    ok("persian-zwnj", {"title": FA_TITLE}, title=FA_TITLE, language="fa"),
    ok("chinese", {"title": ZH_TITLE, "body": ZH_BODY}, title=ZH_TITLE, body=ZH_BODY, language="zh-Hans"),
    ok("russian", {"title": RU_TITLE, "language": "ru"}, title=RU_TITLE, language="RU"),
    ok("emoji", {"title": EMOJI_TITLE}, title=EMOJI_TITLE),
    ok("script-tag-in-plain-body", {"body": SCRIPT_TEXT}, body=SCRIPT_TEXT),
    ok("script-tag-in-html", {"body": "Visible\n\nAlso visible"}, body=_DROP, html="<p>Visible</p><script>steal(document.cookie)</script><p>Also visible</p>"),
    ok("html-attributes-and-entities", {"body": "Tom & Jerry <script> is text"}, body=_DROP, html='<p onclick="steal()" style="x">Tom &amp; Jerry &lt;script&gt; is text</p>'),
    ok("html-unclosed-head", {"body": "Kept paragraph"}, body=_DROP, html="<html><head><title>Page</title><body><p>Kept paragraph</p>"),
    ok("html-truncated-mid-tag", {"body": "Story"}, body=_DROP, html="<p>Story</p><script src='https://evil.test/x.js'"),
    ok("html-rtl", {"body": "שלום עולם\n\nمرحبا"}, body=_DROP, html="<p dir='rtl'>שלום עולם</p><p>مرحبا</p>"),
    ok("body-wins-over-html", {"body": "Plain body"}, body="Plain body", html="<p>Ignored</p>"),
    ok("title-1000-chars", {"title": "T" * 1000}, title="T" * 1000),
    ok("control-characters-cleaned", {"title": "Big news today", "body": "Line one\n\nLine two"}, title="Big\u200b news\x07 today", body="Line one\r\n\r\n\r\nLine two\x0c"),
    ok("sql-in-title", {"title": "'; DROP TABLE articles; --"}, title="'; DROP TABLE articles; --"),
    ok("path-in-title-and-url", {"title": "../../etc/passwd", "canonical_url": "https://news.test/a/../../etc/passwd"}, title="../../etc/passwd", url="https://news.test/a/../../etc/passwd"),
    ok("ipv6-url-tracking", {"canonical_url": "http://[2001:db8::1]:8080/a?id=7", "source": "2001:db8::1"}, url="http://[2001:DB8::1]:8080/a?utm_source=x&id=7#frag"),
    Case("duplicate-keys", b'{"title": "First", "title": "Second", "body": "Duplicate keys"}', None, {"title": "Second"}),
    ok("explicit-nulls", {"url": None, "published_at": None, "authors": []}, url=None, published_at=None, authors=[], section=None),
    ok("empty-url-is-none", {"url": None, "canonical_url": None}, url=""),
    ok("authors-unicode", {"authors": ["محمد علي", "José Álvarez"]}, authors=["محمد علي", " José Álvarez ", "  "]),
    ok("date-year-1", {"published_at": datetime(1, 1, 1, tzinfo=UTC)}, published_at="0001-01-01T00:00:00Z"),
    ok("date-year-9999", {"published_at": datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=UTC)}, published_at="9999-12-31T23:59:59.999999Z"),
    ok("date-offset-plus-0530", {"published_at": datetime(2020, 1, 10, 6, 30, tzinfo=UTC)}, published_at="2020-01-10T12:00:00+05:30"),
    ok("date-offset-crosses-year", {"published_at": datetime(2020, 1, 1, 7, tzinfo=UTC)}, published_at="2019-12-31T23:00:00-08:00"),
    ok("date-naive-is-utc", {"published_at": T2020}, published_at="2020-01-10T12:00:00"),
    ok("date-only-leap-day", {"published_at": datetime(2020, 2, 29, tzinfo=UTC)}, published_at="2020-02-29"),
    ok("date-epoch-seconds", {"published_at": T2020}, published_at=1578657600),
    ok("date-epoch-milliseconds", {"published_at": T2020}, published_at=1578657600000),
    ok("date-epoch-string", {"published_at": T2020}, published_at="1578657600"),
    ok("date-epoch-negative", {"published_at": datetime(1969, 12, 31, tzinfo=UTC)}, published_at=-86400),
    ok("body-just-under-limit", {"word_count": 2 + 1}, body="b" * (ARTICLE_LIMIT - 100)),
    # 1M Chinese characters as Python's json.dumps writes them (\\uXXXX, 6 MB):
    # within the limit, so no entry point may refuse it.
    Case("cjk-1m-chars-ascii-escaped", json.dumps(_doc("cjk-1m", body="新闻" * 500_000)).encode(), None, {"word_count": 2 + 1}),
]  # fmt: skip

CASE_IDS = [c.id for c in CASES]
assert len(set(CASE_IDS)) == len(CASES)
REJECTED = [c for c in CASES if c.rejected]
ACCEPTED = [c for c in CASES if not c.rejected]


def _utf8(fields: Mapping[bytes, bytes]) -> bool:
    try:
        for key, value in fields.items():
            key.decode("utf-8")
            value.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# Inbox entries holding bytes that are not UTF-8 stall their whole batch (see
# test_inbox_non_utf8_entry_does_not_hold_back_its_batch); they are tested apart.
INBOX_CASES = [c for c in CASES if _utf8({b"json": c.payload})]


def _valid(n: int, tag: str) -> dict[str, Any]:
    """An ordinary article sent alongside the bad ones; every one must be stored."""
    return {
        "title": f"Valid article {tag} {n}",
        "body": f"The central bank of country {n} cut interest rates on day {n}.",
        "url": f"https://valid.test/{tag}/{n}",
    }


# --- helpers -----------------------------------------------------------------------------------


# Each app fixture takes redis_client so that the app stops before the test's keys
# are deleted: a consumer that finds its group gone stops the whole process.
@pytest.fixture
async def api(settings: Settings, redis_client: aioredis.Redis) -> AsyncIterator[httpx.AsyncClient]:
    async with serve(settings, ready=False) as client:
        yield client


def _check_stored(case: Case, article: Article) -> None:
    got = {name: getattr(article, name) for name in case.stored}
    assert got == case.stored, case.id


def _check_message(rejected: Rejected, message: str) -> None:
    assert rejected.names in message
    assert rejected.detail in message


def _expected_result(case: Case) -> tuple[str, str | None]:
    return ("rejected", case.rejected.code) if case.rejected else ("accepted", None)


async def _wait_for(predicate: Any, what: str, timeout: float = 30.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


def _groups(items: list[bytes], max_bytes: int = 12 * MiB) -> Iterator[list[bytes]]:
    """Batches under the request limit (20 MiB), as ``newsflow ingest`` sends them."""
    group: list[bytes] = []
    size = 0
    for item in items:
        if group and size + len(item) > max_bytes:
            yield group
            group, size = [], 0
        group.append(item)
        size += len(item) + 1
    if group:
        yield group


# --- POST /v1/articles -------------------------------------------------------------------------


@pytest.mark.parametrize("case", CASES, ids=CASE_IDS)
async def test_http_single_article(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings, case: Case
) -> None:
    response = await api.post(
        "/v1/articles", content=case.payload, headers={"content-type": "application/json"}
    )
    raw_articles = await _raw(redis_client, settings)
    if case.rejected:
        assert response.status_code == case.rejected.status, response.text[:500]
        error = response.json()["error"]
        assert error["code"] == case.rejected.code
        _check_message(case.rejected, error["message"])
        if case.rejected.names.endswith(": "):
            # Field errors are also listed one by one, for programs.
            fields = error.get("fields") or [
                {"field": error["message"].split(":", 1)[0], "message": ""}
            ]
            assert case.rejected.names[:-2] in [f["field"] for f in fields]
        assert raw_articles == []
    else:
        assert response.status_code == 202, response.text[:500]
        assert response.json()["status"] == "accepted"
        (article,) = raw_articles
        assert article.id == response.json()["id"]
        _check_stored(case, article)


# --- POST /v1/articles/batch ---------------------------------------------------------------------


@pytest.mark.parametrize("media", ["application/x-ndjson", "application/json"])
async def test_http_batch_reports_each_item_and_keeps_every_valid_one(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings, media: str
) -> None:
    ndjson = media == "application/x-ndjson"
    cases = [c for c in CASES if (c.in_ndjson if ndjson else c.in_array)]
    # Each case follows a valid article, so a bad item is never first or last alone.
    items: list[tuple[str, bytes]] = []
    for n, case in enumerate(cases):
        items.append((f"valid-{n}", orjson.dumps(_valid(n, "batch"))))
        items.append((case.id, case.payload))
    expected = {
        **{name: ("accepted", None) for name, _ in items if name.startswith("valid-")},
        **{c.id: _expected_result(c) for c in cases},
    }
    got: dict[str, tuple[str, str | None]] = {}
    messages: dict[str, str] = {}
    sent = 0
    for group in _groups([payload for _, payload in items]):
        names = [name for name, _ in items[sent : sent + len(group)]]
        sent += len(group)
        body = b"\n".join(group) if ndjson else b"[" + b",".join(group) + b"]"
        response = await api.post(
            "/v1/articles/batch", content=body, headers={"content-type": media}
        )
        assert response.status_code == 200, response.text[:500]
        answer = response.json()
        assert [r["index"] for r in answer["results"]] == list(range(len(group)))
        for name, result in zip(names, answer["results"], strict=True):
            error = result.get("error")
            got[name] = (result["status"], error["code"] if error else None)
            if error:
                messages[name] = error["message"]
        assert answer["rejected"] == sum(1 for r in answer["results"] if r["status"] == "rejected")
    assert got == expected
    for case in cases:
        if case.rejected:
            _check_message(case.rejected, messages[case.id])
    stored = await _raw(redis_client, settings)
    assert len(stored) == len(cases) + sum(1 for c in cases if not c.rejected)
    by_title = {a.title: a for a in stored}
    for n in range(len(cases)):
        assert f"Valid article batch {n}" in by_title
    for case in cases:
        if not case.rejected:
            article = _by_id(stored)[_id_of(case, settings)]
            _check_stored(case, article)


def _by_id(articles: list[Article]) -> dict[str, Article]:
    by_id = {a.id: a for a in articles}
    assert len(by_id) == len(articles), "an article was enqueued twice"
    return by_id


def _id_of(case: Case, settings: Settings) -> str:
    return parse_article(orjson.loads(case.payload), settings).id


# --- the inbox stream --------------------------------------------------------------------------


async def _drain_inbox(
    redis_client: aioredis.Redis, settings: Settings, raw_count: int, dlq_count: int
) -> None:
    names = StreamNames(settings.prefix)

    async def done() -> bool:
        if await redis_client.xlen(names.raw) < raw_count:
            return False
        if await redis_client.xlen(names.dlq) < dlq_count:
            return False
        return (await redis_client.xpending(names.inbox, GROUP_INGEST))["pending"] == 0

    await _wait_for(done, f"{raw_count} raw articles and {dlq_count} dead letters")
    assert await redis_client.xlen(names.raw) == raw_count
    assert await redis_client.xlen(names.dlq) == dlq_count


async def _letters(redis_client: aioredis.Redis, settings: Settings) -> dict[str, DeadLetter]:
    entries = await redis_client.xrange(StreamNames(settings.prefix).dlq)
    letters = [DeadLetter.model_validate_json(f[b"json"]) for _, f in entries]
    return {str(letter.entry_id): letter for letter in letters}


async def test_inbox_json_entries_bad_ones_dead_lettered_valid_ones_all_ingested(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    names = StreamNames(settings.prefix)
    rejected = [c for c in INBOX_CASES if c.rejected]
    accepted = [c for c in INBOX_CASES if not c.rejected]
    entry_of: dict[str, str] = {}
    for n, case in enumerate(INBOX_CASES):
        await redis_client.xadd(names.inbox, {"json": orjson.dumps(_valid(n, "inbox"))})
        entry_of[case.id] = (await redis_client.xadd(names.inbox, {"json": case.payload})).decode()
    total = len(INBOX_CASES) + len(accepted)
    await _drain_inbox(redis_client, settings, total, len(rejected))

    letters = await _letters(redis_client, settings)
    assert set(letters) == {entry_of[c.id] for c in rejected}
    for case in rejected:
        assert case.rejected
        letter = letters[entry_of[case.id]]
        assert (letter.service, letter.source_stream, letter.group) == (
            "ingest",
            names.inbox,
            GROUP_INGEST,
        )
        assert letter.error_class == case.rejected.error_class, case.id
        _check_message(case.rejected, letter.error)
        # The original entry, byte for byte, for `newsflow dlq replay`.
        assert encode_fields(letter.payload) == {"json": case.payload}, case.id

    stored = await _raw(redis_client, settings)
    titles = {a.title for a in stored}
    assert {f"Valid article inbox {n}" for n in range(len(INBOX_CASES))} <= titles
    for case in accepted:
        article = _by_id(stored)[_id_of(case, settings)]
        _check_stored(case, article)

    # The reader is still running: a later entry goes through as well.
    await redis_client.xadd(names.inbox, {"title": "After the storm", "body": "Still reading."})
    await _drain_inbox(redis_client, settings, total + 1, len(rejected))
    assert (await _raw(redis_client, settings))[-1].title == "After the storm"


@dataclass(frozen=True)
class Flat:
    id: str
    fields: dict[bytes, bytes]
    error: str | None = None  # text the dead letter's reason must hold; None: accepted
    stored: dict[str, Any] = field(default_factory=dict)


def _flat(case_id: str, **fields: str | bytes) -> dict[bytes, bytes]:
    data: dict[str, str | bytes] = {"title": f"Flat {case_id}", "body": f"Flat body {case_id}."}
    data.update(fields)
    return {
        k.encode(): v if isinstance(v, bytes) else v.encode() for k, v in data.items() if v != "-"
    }


FLAT_CASES = [
    Flat("flat-arabic", _flat("ar", title=AR_TITLE, body=AR_BODY), None, {"title": AR_TITLE, "body": AR_BODY}),
    Flat("flat-emoji", _flat("emoji", title=EMOJI_TITLE), None, {"title": EMOJI_TITLE}),
    Flat("flat-authors-commas", _flat("ac", authors="A. One, B. Two,, "), None, {"authors": ["A. One", "B. Two"]}),
    Flat("flat-authors-json", _flat("aj", authors='["Smith, John", "محمد"]'), None, {"authors": ["Smith, John", "محمد"]}),
    Flat("flat-date-offset", _flat("do", published_at="2020-01-10T12:00:00+05:30"), None, {"published_at": datetime(2020, 1, 10, 6, 30, tzinfo=UTC)}),
    Flat("flat-epoch", _flat("ep", published_at="1578657600"), None, {"published_at": T2020}),
    Flat("flat-html-only", _flat("ho", body="-", html="<p>Text</p><script>x()</script>"), None, {"body": "Text"}),
    Flat("flat-script-in-body", _flat("sb", body=SCRIPT_TEXT), None, {"body": SCRIPT_TEXT}),
    Flat("flat-value-not-utf8", _flat("vu", title=b"Caf\xe9"), "entry field b'title' is not valid UTF-8"),
    Flat("flat-key-not-utf8", {b"title": b"T", b"body": b"B", b"\xff\xfe": b"x"}, "is not valid UTF-8"),
    Flat("flat-missing-title", _flat("mt", title="-"), "title: field required"),
    Flat("flat-empty-body", _flat("eb", body=""), "body: "),
    Flat("flat-unknown-field", _flat("uf", titel="typo"), "titel: unknown field"),
    Flat("flat-authors-broken-json", _flat("ab", authors='["unterminated'), "not valid JSON"),
    Flat("flat-authors-json-numbers", _flat("an", authors="[1, 2]"), "authors.0: "),
    Flat("flat-nul-in-body", _flat("nb", body="a\x00b"), "body: Value error, must not contain NUL"),
    Flat("flat-body-10mb", _flat("big", body="x" * (10 * MiB)), "NEWSFLOW_MAX_ARTICLE_BYTES"),
    Flat("flat-date-feb-30", _flat("f30", published_at="2020-02-30"), "published_at: "),
    Flat("flat-date-year-1-offset", _flat("y1", published_at="0001-01-01T00:00:00+01:00"), "published_at: Value error, is outside years 0001-9999"),
    Flat("flat-schema-version-word", _flat("sv", schema_version="one"), "schema_version: "),
    Flat("flat-empty-json-field", {b"json": b""}, "not valid JSON"),
    Flat("flat-json-field-not-utf8", {b"json": b'{"title": "\xff"}'}, "not valid JSON"),
    Flat("flat-json-and-more", {b"json": b'{"title": "T", "body": "B"}', b"title": b"Other"}, "has a 'json' field and also 'title'"),
    Flat("flat-oversized-json-entry", {b"json": b'{"title": "T", "body": "' + b"z" * (14 * MiB) + b'"}'}, "too large for an article of at most 2097152 characters (NEWSFLOW_MAX_ARTICLE_BYTES)"),
]  # fmt: skip


async def test_inbox_flat_entries(
    api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    await _check_flat_cases(redis_client, settings, [c for c in FLAT_CASES if _utf8(c.fields)])


async def _check_flat_cases(
    redis_client: aioredis.Redis, settings: Settings, cases: list[Flat]
) -> dict[str, DeadLetter]:
    """Send ``cases`` between valid entries; check what was stored and dead-lettered.

    Returns the dead letters by case id.
    """
    names = StreamNames(settings.prefix)
    entry_of: dict[str, str] = {}
    for n, case in enumerate(cases):
        await redis_client.xadd(names.inbox, {"title": f"Valid flat {n}", "body": "Valid flat."})
        entry_of[case.id] = (await redis_client.xadd(names.inbox, case.fields)).decode()
    bad_cases = [c for c in cases if c.error]
    good_cases = [c for c in cases if not c.error]
    await _drain_inbox(redis_client, settings, len(cases) + len(good_cases), len(bad_cases))
    letters = await _letters(redis_client, settings)
    assert set(letters) == {entry_of[c.id] for c in bad_cases}
    for case in bad_cases:
        letter = letters[entry_of[case.id]]
        assert case.error and case.error in letter.error, (case.id, letter.error[:300])
        assert letter.source_stream == names.inbox
        if case.id != "flat-key-not-utf8":  # a key that is not UTF-8 is kept as U+FFFD
            # The original entry, byte for byte, for `newsflow dlq replay`.
            original = {k.decode(): v for k, v in case.fields.items()}
            assert encode_fields(letter.payload) == original, case.id
    stored = {a.title: a for a in await _raw(redis_client, settings)}
    assert {f"Valid flat {n}" for n in range(len(cases))} <= set(stored)
    for case in good_cases:
        title = case.stored.get("title") or case.fields[b"title"].decode()
        article = stored[title]
        assert {k: getattr(article, k) for k in case.stored} == case.stored, case.id
    pending = await redis_client.xpending(names.inbox, GROUP_INGEST)
    assert pending["pending"] == 0
    return {c.id: letters[entry_of[c.id]] for c in bad_cases}


NOT_UTF8 = [
    Flat("json-not-utf8", {b"json": b'{"title": "Caf\xe9", "body": "B"}'}, "entry field 'json': not valid JSON (or not UTF-8)"),
    *[c for c in FLAT_CASES if not _utf8(c.fields)],
]  # fmt: skip


async def test_inbox_non_utf8_entries_are_dead_lettered_once_reclaimed(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    """Entries with bytes that are not UTF-8 reach the dead-letter stream, neighbours go on.

    Today they get there through the reclaim sweep (FastStream's parser fails the
    batch first), so this test shortens ``claim_idle_ms``.
    """
    quick = settings.model_copy(update={"claim_idle_ms": 300})
    async with serve(quick, ready=False):
        letters = await _check_flat_cases(redis_client, quick, NOT_UTF8)
    # Kept as base64, so that a replay sends the very same bytes.
    assert letters["json-not-utf8"].payload == {
        "json": {"base64": base64.b64encode(b'{"title": "Caf\xe9", "body": "B"}').decode()}
    }


async def test_inbox_non_utf8_entry_does_not_hold_back_its_batch(
    settings: Settings, redis_client: aioredis.Redis
) -> None:
    no_reclaim = settings.model_copy(update={"claim_idle_ms": 3_600_000})
    names = StreamNames(settings.prefix)
    async with serve(no_reclaim, ready=False):
        await redis_client.xadd(names.inbox, {"title": "Before", "body": "Valid."})
        await redis_client.xadd(names.inbox, {"title": b"Caf\xe9", "body": b"Not UTF-8."})
        await redis_client.xadd(names.inbox, {"title": "After", "body": "Valid."})

        async def done() -> bool:
            return await redis_client.xlen(names.raw) == 2

        await _wait_for(done, "the two valid entries", timeout=5)
    assert await redis_client.xlen(names.dlq) == 1


# --- HTTP limits and routes --------------------------------------------------------------------


@pytest.fixture
async def small_api(
    settings: Settings, redis_client: aioredis.Redis
) -> AsyncIterator[httpx.AsyncClient]:
    """The API with small limits: 4 KiB requests, 3 articles per batch."""
    small = settings.model_copy(update={"max_request_bytes": 4096, "max_batch_items": 3})
    async with serve(small, ready=False) as client:
        yield client


async def test_request_over_the_size_limit_is_413_naming_the_limit(
    small_api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    big = orjson.dumps({"title": "T", "body": "x" * 5000})

    async def chunked() -> AsyncIterator[bytes]:
        for start in range(0, len(big), 1000):
            yield big[start : start + 1000]

    declared = await small_api.post(
        "/v1/articles", content=big, headers={"content-type": "application/json"}
    )
    streamed = await small_api.post(
        "/v1/articles", content=chunked(), headers={"content-type": "application/json"}
    )
    batch = await small_api.post(
        "/v1/articles/batch", content=big, headers={"content-type": "application/x-ndjson"}
    )
    for response in (declared, streamed, batch):
        assert response.status_code == 413
        error = response.json()["error"]
        assert error["code"] == "too_large"
        assert "the limit is 4096" in error["message"] or "limit of 4096" in error["message"]
        assert "NEWSFLOW_MAX_REQUEST_BYTES" in error["message"]
    assert await _raw(redis_client, settings) == []


async def test_batch_over_the_item_limit_is_413_and_nothing_is_enqueued(
    small_api: httpx.AsyncClient, redis_client: aioredis.Redis, settings: Settings
) -> None:
    lines = b"\n".join(orjson.dumps({"title": f"T{i}", "body": "B"}) for i in range(4))
    response = await small_api.post(
        "/v1/articles/batch", content=lines, headers={"content-type": "application/x-ndjson"}
    )
    assert response.status_code == 413
    assert response.json()["error"] == {
        "code": "too_many_items",
        "message": "batch has 4 articles; the limit is 3 (NEWSFLOW_MAX_BATCH_ITEMS)",
    }
    assert await _raw(redis_client, settings) == []


@pytest.mark.parametrize(
    ("path", "content_type", "needle"),
    [
        ("/v1/articles", "text/plain", "application/json"),
        ("/v1/articles", "application/x-www-form-urlencoded", "application/json"),
        ("/v1/articles", "", "application/json"),
        ("/v1/articles", "application/x-ndjson", "application/json"),
        ("/v1/articles/batch", "text/csv", "application/x-ndjson"),
        ("/v1/articles/batch", "", "application/x-ndjson"),
    ],
)
async def test_wrong_content_type_is_415_naming_the_right_one(
    api: httpx.AsyncClient, path: str, content_type: str, needle: str
) -> None:
    headers = {"content-type": content_type} if content_type else {}
    response = await api.post(path, content=b'{"title": "T", "body": "B"}', headers=headers)
    assert response.status_code == 415
    error = response.json()["error"]
    assert error["code"] == "unsupported_media_type"
    assert needle in error["message"]


@pytest.mark.parametrize(
    ("content", "media", "status", "code", "message"),
    [
        (b'{"title": "T", "body": "B"}', "application/json", 422, "invalid_batch", "a JSON batch must be an array of articles"),
        (b"[]", "application/json", 200, None, None),
        (b"\n\n \n", "application/x-ndjson", 200, None, None),
        (b"[1, 2", "application/json", 400, "invalid_json", "not valid JSON"),
    ],
)  # fmt: skip
async def test_batch_shapes(
    api: httpx.AsyncClient,
    content: bytes,
    media: str,
    status: int,
    code: str | None,
    message: str | None,
) -> None:
    response = await api.post(
        "/v1/articles/batch", content=content, headers={"content-type": media}
    )
    assert response.status_code == status
    if code:
        error = response.json()["error"]
        assert (error["code"], message in error["message"]) == (code, True)
    else:
        assert response.json() == {"accepted": 0, "duplicate": 0, "rejected": 0, "results": []}


@pytest.mark.parametrize(
    ("path", "status", "code", "needle"),
    [
        ("/v1/articles/'; DROP TABLE articles; --", 404, "not_found", "no stored article with id \"'; DROP TABLE articles; --\""),
        ("/v1/articles/<script>alert(1)<%2Fscript>", 404, "not_found", "Not Found: GET /v1/articles/<script>alert(1)</script>"),
        ("/v1/articles/<script>alert(1)", 404, "not_found", "no stored article with id '<script>alert(1)'"),
        ("/v1/articles/..%2F..%2Fetc%2Fpasswd", 404, "not_found", "Not Found: GET /v1/articles/../../etc/passwd"),
        ("/v1/articles/%00", 404, "not_found", "no stored article with id '\\x00'"),
        ("/v1/articles/x?format=ninjs%27--", 422, "invalid_parameter", "format: must be 'json'"),
        ("/v1/nothing-here", 404, "not_found", "GET /v1/nothing-here"),
    ],
)  # fmt: skip
async def test_hostile_paths_get_json_errors(
    api: httpx.AsyncClient, path: str, status: int, code: str, needle: str
) -> None:
    response = await api.get(path)
    assert response.status_code == status
    error = response.json()["error"]
    assert error["code"] == code
    assert needle in error["message"]


async def test_wrong_method_is_405_in_the_error_format(api: httpx.AsyncClient) -> None:
    response = await api.delete("/v1/articles")
    assert response.status_code == 405
    assert response.json()["error"]["code"] == "method_not_allowed"
    assert "POST" in response.headers["allow"]


# --- search: GET /v1/search and newsflow search ------------------------------------------------

NOW = datetime(2024, 5, 1, 12, tzinfo=UTC)
SEARCH_DOCS = {
    "sql": {
        "title": "'; DROP TABLE articles; --",
        "body": "A story about SQL injection: the table articles survives.",
        "entity": ("Robert'); DROP TABLE students;--", "ORG"),
        "source": "wire",
    },
    "arabic": {
        "title": "العراق يطلب فريقاً أمريكياً",
        "body": "قالت بغداد إن الانسحاب سيبدأ قريباً",
        "entity": ("العراق", "GPE"),
        "source": "ar-news",
        "language": "ar",
    },
    "script": {
        "title": "Old browsers and scripts",
        "body": "Researchers showed <script>alert(1)</script> in old browsers.",
        "entity": ("Researchers Inc", "ORG"),
        "source": "' OR '1'='1",
    },
    "emoji": {
        "title": "Rocket 🚀 launch [/red] closing [bold]tags[/bold]",
        "body": "The rocket launched on time from the coast.",
        "entity": ("NASA", "ORG"),
        "source": "space",
    },
    "hebrew": {
        "title": "ירושלים: הממשלה אישרה את התקציב",
        "body": "הכנסת תצביע על התקציב בשבוע הבא",
        "entity": ("ירושלים", "GPE"),
        "source": "he-news",
        "language": "he",
    },
}


def _search_doc(key: str, n: int) -> EnrichedArticle:
    spec: dict[str, Any] = dict(SEARCH_DOCS[key])
    name, kind = spec.pop("entity")
    from shared.models import ArticleIn

    article = normalize(ArticleIn(**spec), received_at=NOW - timedelta(hours=n))
    return EnrichedArticle(
        **article.model_dump(),
        entities=[Entity(name=name, type=kind, salience=1.0, mention_count=1)],
        topics=[
            Topic(
                qcode="medtop:13000000",
                label="science and technology",
                slug="science-and-technology",
                relevance=0.9,
            )
        ]
        if key == "sql"
        else [],
        provenance=Provenance(
            newsflow_version="test", ner_model=None, taxonomy="test", enriched_at=NOW
        ),
    )


@pytest.fixture
def stored_ids(settings: Settings) -> dict[str, str]:
    """The search documents, stored in the test's SQLite file; key -> article id."""
    docs = {key: _search_doc(key, n) for n, key in enumerate(SEARCH_DOCS)}

    async def store() -> None:
        storage = open_storage(settings.resolved_database_url)
        await storage.open()
        try:
            assert await storage.upsert_many(list(docs.values())) == len(docs)
        finally:
            await storage.close()

    asyncio.run(store())
    return {key: doc.id for key, doc in docs.items()}


SEARCHES: list[tuple[dict[str, str], list[str]]] = [
    ({"q": "'; DROP TABLE articles; --"}, ["sql"]),
    ({"q": "Robert'); DROP TABLE students;--"}, []),
    ({"q": '" OR 1=1 --'}, []),
    ({"q": "title:drop OR body:*"}, []),
    ({"q": "NEAR(rocket launch) AND"}, []),
    ({"q": "<script>alert(1)</script>"}, ["script"]),
    ({"q": "العراق"}, ["arabic"]),
    ({"q": "התקציב"}, ["hebrew"]),
    ({"q": "🚀"}, []),
    ({"q": "rock*"}, ["emoji"]),
    ({"q": "%' OR 1=1; --"}, []),
    ({"entity": "Robert'); DROP TABLE students;--"}, ["sql"]),
    ({"entity": "' OR ''='"}, []),
    ({"entity": "العراق"}, ["arabic"]),
    ({"entity": "../../etc/passwd"}, []),
    ({"topic": "science-and-technology"}, ["sql"]),
    ({"source": "' OR '1'='1"}, ["script"]),
    ({"source": "wire' --"}, []),
    ({"language": "en' OR 1=1 --"}, []),
    ({"language": "AR"}, ["arabic"]),
]


@pytest.mark.parametrize(("params", "keys"), SEARCHES)
async def test_http_search_with_injection_strings_finds_exactly_the_right_articles(
    stored_ids: dict[str, str],
    api: httpx.AsyncClient,
    params: dict[str, str],
    keys: list[str],
) -> None:
    response = await api.get("/v1/search", params=params)
    assert response.status_code == 200, response.text
    assert [doc["id"] for doc in response.json()["items"]] == [stored_ids[k] for k in keys]
    # Every table is still there.
    everything = await api.get("/v1/search", params={"limit": 500})
    assert len(everything.json()["items"]) == len(SEARCH_DOCS)
    topics = await api.get("/v1/search", params={"topic": "science-and-technology"})
    assert [d["id"] for d in topics.json()["items"]] == [stored_ids["sql"]]


@pytest.mark.parametrize(
    ("query", "field_name", "needle"),
    [
        ("since=2020-02-30", "since", "day value is outside expected range"),
        ("until=yesterday", "until", "valid datetime"),
        ("since=0001-01-01T00:00:00%2B01:00", "since", "outside years 0001-9999"),
        ("limit=0", "limit", "greater than or equal to 1"),
        ("limit=501", "limit", "less than or equal to 500"),
        ("limit=1;DROP TABLE articles", "limit", "valid integer"),
        ("cursor=../../etc/passwd", "cursor", "not a next_cursor"),
        ("q=" + "a" * 501, "q", "at most 500 characters"),
        ("q=%00", "q", "NUL"),
        ("entity=a%00b", "entity", "NUL"),
        ("topic=..%2F..%2Fetc%2Fpasswd", "topic", "unknown topic '../../etc/passwd'"),
        ("topic=science and technology'; DROP TABLE article_topics; --", "topic", "unknown topic"),
        ("topic=sports", "topic", "did you mean 'sport'"),
    ],
)
async def test_http_search_bad_parameters_are_422_naming_the_parameter(
    api: httpx.AsyncClient, query: str, field_name: str, needle: str
) -> None:
    response = await api.get(f"/v1/search?{query}")
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "invalid_parameter"
    assert error["message"].startswith(f"{field_name}: ")
    assert needle in error["message"]


def _cli(
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    settings: Settings,
    *argv: str,
) -> tuple[int, bytes, str]:
    monkeypatch.setattr(tools, "get_settings", lambda: settings)
    code = cli.main(["search", *argv])
    captured = capsysbinary.readouterr()
    return code, captured.out, captured.err.decode()


FLAGS = {"q": "--q", "entity": "--entity", "topic": "--topic", "source": "--source", "language": "--language"}  # fmt: skip


@pytest.mark.parametrize(("params", "keys"), SEARCHES)
def test_cli_search_with_injection_strings_finds_exactly_the_right_articles(
    stored_ids: dict[str, str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    params: dict[str, str],
    keys: list[str],
) -> None:
    argv = [arg for name, value in params.items() for arg in (f"{FLAGS[name]}={value}",)]
    code, out, err = _cli(monkeypatch, capsysbinary, settings, *argv, "--json")
    assert (code, err) == (0, "")
    assert [orjson.loads(line)["id"] for line in out.splitlines()] == [stored_ids[k] for k in keys]


def test_cli_search_table_shows_titles_with_brackets_as_text(
    stored_ids: dict[str, str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
) -> None:
    code, out, err = _cli(monkeypatch, capsysbinary, settings, "--source", "space")
    assert (code, err) == (0, "")
    text = out.decode()
    assert "[/red]" in text
    assert "[bold]tags[/bold]" in text
    assert "1 article(s)" in text


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["--since", "2020-02-30"], "--since: '2020-02-30' is not an ISO date or datetime"),
        (["--until", "[/red]"], "--until: '[/red]' is not an ISO date or datetime"),
        (["--limit", "0"], "greater than or equal to 1"),
        (["--q", "[/x] " * 120], "String should have at most 500 characters"),
        (["--entity", "a\x01b\x00"], "must not contain NUL"),
        (["--since", "0001-01-01T00:00:00+01:00"], "outside years 0001-9999"),
    ],
)
def test_cli_search_bad_arguments_exit_2_naming_the_argument(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsysbinary: pytest.CaptureFixture[bytes],
    tmp_path: Path,
    argv: list[str],
    needle: str,
) -> None:
    code, out, err = _cli(monkeypatch, capsysbinary, settings, *argv)
    assert code == 2
    assert out == b""
    assert needle in " ".join(err.split())
