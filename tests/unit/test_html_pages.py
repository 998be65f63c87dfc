"""Web pages as articles: the article's own text and the page's metadata, never its
menus and footers (``shared.html``, through ``normalize`` and ``newsflow ingest``)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from services.ingest.files import read_paths
from shared.html import extract_page
from shared.models import ArticleIn
from shared.normalize import normalize

PAGE = (Path(__file__).resolve().parents[1] / "data" / "news-page.html").read_text()


def test_page_body_is_the_article_not_the_menus() -> None:
    article = normalize(ArticleIn(title="Storm closes schools across Yorkshire", html=PAGE))
    assert article.body.startswith("Hundreds of schools across Yorkshire stayed shut")
    assert article.body.endswith("closed overnight.")
    for chrome in ("Subscribe now", "Home", "Cookie settings", "Copyright", "Most read"):
        assert chrome not in article.body
    # Paragraphs stay paragraphs.
    assert article.body.count("\n\n") == 3


def test_page_metadata_fills_what_the_submitter_left_out() -> None:
    article = normalize(ArticleIn(title="Storm closes schools", html=PAGE))
    assert article.published_at == datetime(2026, 11, 28, 7, 45, tzinfo=UTC)
    assert article.authors == ["Jane Smith"]
    assert article.url == "https://news.example.com/uk/storm-closes-schools"
    assert article.canonical_url == "https://news.example.com/uk/storm-closes-schools"
    assert article.source == "Example News"
    assert article.section == "UK"
    assert article.language == "en-gb"


def test_the_submitters_fields_win() -> None:
    article = normalize(
        ArticleIn(
            title="Schools shut",
            html=PAGE,
            url="https://mirror.example.org/a/1",
            published_at=datetime(2026, 11, 29, tzinfo=UTC),
            authors=["Wire Desk"],
            source="Mirror",
            section="Education",
            language="en",
        )
    )
    assert article.url == "https://mirror.example.org/a/1"
    assert article.published_at == datetime(2026, 11, 29, tzinfo=UTC)
    assert article.authors == ["Wire Desk"]
    assert (article.source, article.section, article.language) == ("Mirror", "Education", "en")


def test_title_loses_the_site_suffix() -> None:
    assert extract_page(PAGE).title == "Storm closes schools across Yorkshire"
    reversed_page = PAGE.replace(
        "<title>Storm closes schools across Yorkshire | Example News</title>",
        "<title>Example News - Storm closes schools across Yorkshire</title>",
    ).replace("<h1>Storm closes schools across Yorkshire</h1>", "")
    assert extract_page(reversed_page).title == "Storm closes schools across Yorkshire"


def test_ingest_of_an_html_file_titles_it_by_its_headline(tmp_path: Path) -> None:
    path = tmp_path / "storm.html"
    path.write_text(PAGE, encoding="utf-8")
    [item] = list(read_paths([path]))
    assert item.data is not None
    assert item.data["title"] == "Storm closes schools across Yorkshire"


@pytest.mark.parametrize(
    "html",
    [
        "<p>Only a paragraph of text, with no page around it.</p>",
        "Plain words without any markup at all in this body.",
        "<table><tr><td>Leeds 2</td><td>York 1</td></tr></table>",
    ],
)
def test_fragments_keep_their_text(html: str) -> None:
    """Where no main text is found, every visible text block is kept: nothing is lost."""
    article = normalize(ArticleIn(title="Fragment", html=html))
    words = [w for w in html.replace("<", " <").split() if not w.startswith("<")]
    assert all(word.strip("</>") in article.body for word in words[:3])


def test_a_page_that_is_not_html_never_raises() -> None:
    assert extract_page("<" * 5000).text == ""
    assert extract_page("\x00\x01 binary").text == ""
