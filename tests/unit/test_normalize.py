"""Normalization: what a producer's article becomes before it enters the pipeline."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.models import ArticleIn
from shared.normalize import canonical_url, clean_text, html_to_text, normalize, word_count


def test_canonical_url_drops_tracking_fragment_default_port_and_sorts_query() -> None:
    url = "HTTPS://Example.COM:443/world//iraq/?utm_source=x&b=2&a=1&fbclid=zz#top"
    assert canonical_url(url) == "https://example.com/world/iraq?a=1&b=2"


def test_canonical_url_keeps_meaningful_port_and_query() -> None:
    assert canonical_url("http://news.test:8080/a?id=7") == "http://news.test:8080/a?id=7"


@pytest.mark.parametrize(
    "bad",
    ["ftp://x.test/a", "/relative/path", "javascript:alert(1)", "http://", "https://x.test:99999/"],
)
def test_canonical_url_rejects_non_http_urls(bad: str) -> None:
    with pytest.raises(ValueError, match="url"):
        canonical_url(bad)


def test_same_url_with_tracking_gives_same_id() -> None:
    a = normalize(ArticleIn(title="T", body="B", url="https://x.test/a?utm_medium=rss"))
    b = normalize(ArticleIn(title="Other title", body="Other", url="https://X.test/a"))
    assert a.id == b.id
    assert a.content_hash != b.content_hash


def test_without_url_id_depends_on_source_title_and_body() -> None:
    base = normalize(ArticleIn(title="T", body="B", source="s"))
    assert base.id == normalize(ArticleIn(title="T", body="B", source="s")).id
    assert base.id != normalize(ArticleIn(title="T", body="B", source="other")).id
    assert base.id != normalize(ArticleIn(title="T", body="B2", source="s")).id


def test_whitespace_and_control_characters_are_cleaned() -> None:
    art = normalize(ArticleIn(title="  Big\t news \n", body="a  b\r\n\r\n\r\n\r\nc\u200b d\x07"))
    assert art.title == "Big news"
    assert art.body == "a b\n\nc d"
    assert art.word_count == 2 + 4


def test_timestamps_become_utc() -> None:
    paris = timezone(timedelta(hours=1))
    art = normalize(
        ArticleIn(title="T", body="B", published_at=datetime(2020, 1, 10, 13, 0, tzinfo=paris))
    )
    assert art.published_at == datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
    naive = ArticleIn.model_validate(
        {"title": "T", "body": "B", "published_at": "2020-01-10T12:00:00"}
    )
    assert normalize(naive).published_at == datetime(2020, 1, 10, 12, 0, tzinfo=UTC)
    assert art.received_at.tzinfo is not None


def test_html_only_article_gets_visible_text_without_scripts() -> None:
    html = (
        "<html><head><title>x</title><style>p{}</style></head><body><h1>Head</h1>"
        "<p>First &amp; second.</p><script>alert('no')</script><p>Third</p></body></html>"
    )
    art = normalize(ArticleIn(title="T", html=html))
    assert art.body == "Head\n\nFirst & second.\n\nThird"


def test_html_that_leaves_no_text_is_an_error_naming_body() -> None:
    with pytest.raises(ValueError, match="body"):
        normalize(ArticleIn(title="T", html="<script>x()</script>"))


def test_source_defaults_to_url_host() -> None:
    assert (
        normalize(ArticleIn(title="T", body="B", url="https://www.ex.test/a")).source
        == "www.ex.test"
    )


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"body": "no title"}, "title"),
        ({"title": "T"}, "body"),
        ({"title": "T", "body": "   "}, "body"),
        ({"title": "T", "body": "B", "titel": "typo"}, "titel"),
        ({"title": "T", "body": "B", "url": "not a url"}, "url"),
        ({"title": "T", "body": "B", "published_at": "yesterday"}, "published_at"),
        ({"title": "T" * 1001, "body": "B"}, "title"),
        ({"title": "T\x00", "body": "B"}, "title"),
        ({"title": "T", "body": "B", "authors": "one"}, "authors"),
        ({"title": "T", "body": "B", "language": "english!"}, "language"),
    ],
)
def test_invalid_input_names_the_field(data: dict[str, object], field: str) -> None:
    with pytest.raises(ValidationError) as info:
        ArticleIn.model_validate(data)
    assert field in str(info.value)


def test_clean_text_examples() -> None:
    assert clean_text("a\u00a0b") == "a b"
    assert html_to_text("<p>x</p><p>y</p>") == "x\n\ny"
    assert word_count("Don't stop-me now, 2020!") == 4


@given(st.text(), st.text())
def test_normalize_never_crashes_and_is_deterministic(title: str, body: str) -> None:
    try:
        article_in = ArticleIn(title=title, body=body)
    except ValidationError:
        return
    try:
        first = normalize(article_in)
    except ValueError:
        return
    second = normalize(article_in)
    assert first.id == second.id
    assert first.content_hash == second.content_hash
    assert first.body == clean_text(first.body)
    assert "\x00" not in first.body
