"""Properties of normalization and the codec, over generated input.

``test_normalize.py`` and ``test_codec.py`` hold the worked examples; these
tests state what must hold for every input: canonical forms are fixed points,
a normalized article is a valid ``Article`` that survives a trip through a
stream entry, and no markup that runs in a browser survives ``html_to_text``.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, datetime, timedelta, timezone
from urllib.parse import quote

import orjson
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from services.ingest.core import parse_article
from shared.codec import dumps, entry_json, loads, to_fields
from shared.errors import InvalidMessage
from shared.models import Article, ArticleIn
from shared.normalize import (
    article_id,
    canonical_url,
    clean_text,
    html_to_text,
    normalize,
    word_count,
)
from shared.redis import decode_fields, encode_fields
from shared.settings import Settings

HEX32 = re.compile(r"[0-9a-f]{32}")

# Text as it can arrive: JSON and UTF-8 cannot carry lone surrogates.
texts = st.text(alphabet=st.characters(exclude_categories=("Cs",)))
# Scripts a news feed carries, right-to-left ones included, plus emoji and the
# invisible marks that clean_text has to treat with care.
WORLD = (
    "Bagdad Ирак ظریف می\u200cخواهد العراق ירושלים 北京 東京 서울 "
    "😀👨\u200d👩\u200d👧🇺🇦 e\u0301 \u200b\u200e\u200f\u2066\u2069\t\u00a0\u3000"
)
world_texts = st.text(alphabet=st.sampled_from(WORLD) | st.characters(exclude_categories=("Cs",)))


# --- canonical_url ---------------------------------------------------------------------------

labels = st.from_regex(r"[A-Za-z0-9]([A-Za-z0-9-]{0,10}[A-Za-z0-9])?", fullmatch=True)
hosts = st.one_of(
    st.lists(labels, min_size=1, max_size=4).map(".".join).map(lambda h: h + ".test"),
    st.sampled_from(["[::1]", "[2001:DB8::1]", "127.0.0.1", "EXAMPLE.COM."]),
)
segment = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="/?#%\\ "),
    max_size=6,
)
query_keys = st.one_of(
    st.sampled_from(["utm_source", "UTM_Medium", "fbclid", "gclid", "ref", "id", "page", "q"]),
    st.text(alphabet="abcxyz_", min_size=1, max_size=6),
)
query_values = st.text(
    alphabet=st.characters(exclude_categories=("Cs", "Cc"), exclude_characters="&#"), max_size=6
)


@st.composite
def http_urls(draw: st.DrawFn) -> str:
    scheme = draw(st.sampled_from(["http", "https", "HTTP", "Https"]))
    host = draw(hosts)
    port = draw(st.sampled_from(["", ":80", ":443", ":8080", ":1"]))
    path = "/".join(quote(s, safe="") for s in draw(st.lists(segment, max_size=4)))
    slashes = draw(st.sampled_from(["/", "//", "/./"]))
    query = "&".join(
        f"{quote(k)}={quote(v)}"
        for k, v in draw(st.lists(st.tuples(query_keys, query_values), max_size=3))
    )
    fragment = draw(st.sampled_from(["", "#top", "#a?b=c"]))
    trailing = draw(st.sampled_from(["", "/"]))
    return (
        f"{scheme}://{host}{port}{slashes}{path}{trailing}"
        + (f"?{query}" if query else "")
        + fragment
    )


@given(http_urls())
@example("http://[::1]:8080/a?b=1")
@example("HTTPS://Example.COM:443//a//b/?utm_source=x&a=%20b#frag")
def test_canonical_url_is_a_fixed_point(url: str) -> None:
    canonical = canonical_url(url)
    assert canonical_url(canonical) == canonical
    assert canonical.startswith(("http://", "https://"))
    assert "#" not in canonical
    assert "utm_" not in canonical.lower()
    assert not re.search(r"[?&](fbclid|gclid|ref)=", canonical)


@given(http_urls(), st.sampled_from(["utm_campaign=x", "fbclid=1", "gclid=2", "ref=rss"]))
def test_tracking_parameters_and_fragments_do_not_change_the_id(url: str, tracking: str) -> None:
    base = url.split("#", maxsplit=1)[0]
    tracked = f"{base}{'&' if '?' in base else '?'}{tracking}#section-2"
    a = normalize(ArticleIn(title="T", body="B", url=url))
    b = normalize(ArticleIn(title="Other", body="Other body", url=tracked))
    assert a.id == b.id
    assert a.canonical_url == b.canonical_url


# --- clean_text, html_to_text, word_count -----------------------------------------------------


@given(world_texts)
@example("e\u200b\u0301")  # removing the mark brings the accent onto the e
@example("\u1100\u2060\u1161")  # and two Hangul jamo together into one syllable
def test_clean_text_is_a_fixed_point_in_nfc(text: str) -> None:
    cleaned = clean_text(text)
    assert clean_text(cleaned) == cleaned
    assert unicodedata.is_normalized("NFC", cleaned)
    assert cleaned == cleaned.strip()
    assert "\n\n\n" not in cleaned
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]", cleaned)


@given(world_texts)
def test_clean_text_keeps_every_visible_character(text: str) -> None:
    """Nothing but control characters and whitespace is dropped: no script is lost."""
    kept = re.sub(r"\s", "", clean_text(text))
    visible = re.sub(r"[\s\x00-\x1f\x7f-\x9f\u200b\u2060\ufeff]", "", text)
    assert unicodedata.normalize("NFC", kept) == unicodedata.normalize("NFC", visible)


@pytest.mark.parametrize(
    "text",
    [
        "العراق يطلب من الولايات المتحدة",
        "ירושלים היא בירת ישראל",
        "\u200fשלום\u200f and \u2067عربي\u2069 mixed",
        "وزير الخارجية الإيراني می\u200cخواهد",  # Persian spells with ZWNJ
        "北京市政府宣布新政策",
        "Правительство России",
        "Family 👨\u200d👩\u200d👧 and flag 🇺🇦 🏳️\u200d🌈",
    ],
)
def test_clean_text_preserves_scripts_and_emoji_exactly(text: str) -> None:
    assert clean_text(text) == text


@given(world_texts)
def test_word_count_is_never_negative_and_counts_words(text: str) -> None:
    count = word_count(text)
    assert count >= 0
    assert count <= len(text)
    assert (count == 0) == (re.search(r"\w", text) is None)


# HTML built from parts, then cut anywhere: a page that was truncated in transit.
text_nodes = st.text(
    alphabet=st.characters(exclude_categories=("Cs",), exclude_characters="<&"), max_size=20
)
SECRET = "SECRETJS"


@st.composite
def html_fragments(draw: st.DrawFn, depth: int = 0) -> str:
    kind = draw(st.sampled_from(["text", "block", "inline", "script", "style", "attr", "head"]))
    if kind == "text" or depth > 3:
        return draw(text_nodes)
    inner = "".join(draw(st.lists(html_fragments(depth + 1), max_size=3)))
    if kind == "block":
        tag = draw(st.sampled_from(["p", "div", "h1", "li", "blockquote", "section"]))
        return f"<{tag}>{inner}</{tag}>"
    if kind == "inline":
        tag = draw(st.sampled_from(["b", "i", "a", "span", "em"]))
        return f"<{tag}>{inner}</{tag}>"
    if kind == "script":
        opener = draw(st.sampled_from(["<script>", "<SCRIPT type='module'>", "<script src=x>"]))
        # Always closed: a cut anywhere below leaves some scripts unclosed.
        return f"{opener}{SECRET}('<script>', '<p>')</script>"
    if kind == "style":
        return f"<style>{SECRET} {{ color: red }}</style>"
    if kind == "attr":
        return f'<a title="<script>{SECRET}</script>" onclick="{SECRET}()">{inner}</a>'
    return f"<head><title>{SECRET}</title><meta charset=utf-8>{inner}"


@given(st.lists(html_fragments(), max_size=6).map("".join), st.integers(min_value=0))
@example("<p>Hello</p><script", 100)
@example("<html><head><title>x</title><body><p>text</p></body></html>", 100)
def test_html_to_text_never_keeps_scripts_or_markup(html: str, cut: int) -> None:
    page = html[: cut % (len(html) + 1)]
    text = html_to_text(page)
    assert "<script" not in text.lower()
    assert SECRET not in text
    assert clean_text(text) == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # </head> and </body> are optional in HTML5.
        ("<html><head><title>Title</title><body><p>Kept text</p>", "Kept text"),
        (
            "<head><meta charset=utf-8><title>T</title><p>After an unclosed head</p>",
            "After an unclosed head",
        ),
        ("<p>Truncated page</p><script src='https://evil.test/x.js'", "Truncated page"),
        # An escaped tag is text the article is about, not markup: it stays, as text.
        ("<p>Writers use &lt;script&gt; tags</p>", "Writers use <script> tags"),
        ("<p dir='rtl'>שלום עולם</p><p>مرحبا</p>", "שלום עולם\n\nمرحبا"),
    ],
)
def test_html_to_text_examples(html: str, text: str) -> None:
    assert html_to_text(html) == text


# --- normalize and the codec --------------------------------------------------------------------

SETTINGS = Settings(log_format="text")

zones = st.sampled_from(
    [None, UTC, timezone(timedelta(hours=5, minutes=30)), timezone(timedelta(hours=-11))]
)


@st.composite
def article_inputs(draw: st.DrawFn) -> dict[str, object]:
    data: dict[str, object] = {"title": draw(world_texts), "body": draw(world_texts)}
    if draw(st.booleans()):
        data["url"] = draw(http_urls())
    if draw(st.booleans()):
        data["source"] = draw(
            st.text(max_size=20, alphabet=st.characters(exclude_categories=("Cs",)))
        )
    if draw(st.booleans()):
        moment = draw(st.datetimes(min_value=datetime(1, 1, 2), max_value=datetime(9999, 12, 30)))
        zone = draw(zones)
        data["published_at"] = (moment if zone is None else moment.replace(tzinfo=zone)).isoformat()
    if draw(st.booleans()):
        data["authors"] = draw(st.lists(world_texts, max_size=3))
    if draw(st.booleans()):
        data["language"] = draw(st.sampled_from(["en", "AR", "he_IL", "zh-Hans", "ru"]))
    return data


@settings(max_examples=300)
@given(article_inputs())
def test_normalized_article_is_valid_and_round_trips_through_a_stream_entry(
    data: dict[str, object],
) -> None:
    # What a producer sends goes through JSON first, as over HTTP or the inbox.
    try:
        article = parse_article(orjson.loads(orjson.dumps(data)), SETTINGS)
    except InvalidMessage as exc:
        # Rejections name a field of ArticleIn.
        assert re.match(r"(title|body|url|source|authors(\.\d+)?|published_at|language):", str(exc))
        return
    assert Article.model_validate(article.model_dump()) == article
    fields = to_fields(article)
    payload = entry_json({k.encode(): v for k, v in fields.items()})
    assert payload is not None
    assert loads(Article, payload) == article
    assert loads(Article, dumps(article)) == article
    assert HEX32.fullmatch(article.id)
    assert HEX32.fullmatch(article.content_hash)
    assert article.word_count >= 0
    assert article.title and "\n" not in article.title
    assert article.body == clean_text(article.body)
    assert article.title == clean_text(article.title)
    assert article.received_at.tzinfo is not None
    assert article.published_at is None or article.published_at.utcoffset() == timedelta(0)
    assert article.language is None or article.language == article.language.lower()
    if article.canonical_url:
        assert article.id == article_id(article.canonical_url, None, "", "")


@given(st.text(min_size=1, alphabet=st.characters(exclude_categories=("Cs",))))
def test_article_without_url_gets_an_id_from_its_text(title: str) -> None:
    try:
        first = normalize(ArticleIn(title=title, body="Body text."))
    except (ValidationError, ValueError):
        return
    assert HEX32.fullmatch(first.id)
    again = normalize(ArticleIn(title=first.title, body=first.body))
    # Normalizing normalized text changes nothing, so a re-sent article is a duplicate.
    assert (again.id, again.content_hash) == (first.id, first.content_hash)


@given(
    st.dictionaries(
        st.text(min_size=1, max_size=8, alphabet=st.characters(exclude_categories=("Cs",))),
        st.binary(max_size=40),
        min_size=1,
        max_size=5,
    )
)
def test_dead_letter_payload_gives_back_the_original_entry_bytes(raw: dict[str, bytes]) -> None:
    """Replaying a dead letter re-sends exactly what the producer wrote, bytes included."""
    fields = {k.encode(): v for k, v in raw.items()}
    payload = orjson.loads(orjson.dumps(decode_fields(fields)))
    assert encode_fields(payload) == raw


EAST, WEST = timezone(timedelta(hours=14)), timezone(timedelta(hours=-12))


@given(st.datetimes(timezones=st.sampled_from([EAST, WEST, timezone(timedelta(hours=5.5))])))
@example(datetime(1, 1, 1, 0, 0, tzinfo=EAST))  # 0000-12-31 in UTC
@example(datetime(9999, 12, 31, 23, 0, tzinfo=WEST))  # 10000-01-01 in UTC
@example(datetime(1, 1, 1, 14, 0, tzinfo=EAST))  # exactly the first moment in UTC
def test_any_offset_date_is_stored_in_utc_or_rejected_naming_the_field(moment: datetime) -> None:
    data = {"title": "T", "body": "B", "published_at": moment.isoformat()}
    try:
        article = parse_article(data, SETTINGS)
    except InvalidMessage as exc:
        assert str(exc) == (
            "published_at: Value error, is outside years 0001-9999 once converted to UTC"
        )
        assert moment.year in (1, 9999)
        return
    assert article.published_at == moment
    assert article.published_at is not None and article.published_at.tzinfo == UTC
