"""The article in a web page: main text and metadata, through ``trafilatura``.

A scraper that sends a whole page (``ArticleIn.html``) gets the article's own text
(menus, share bars, related links, cookie notices and footers removed) and, where
the submitter gave none, the page's title without the site's suffix, publication
date, authors, canonical URL, language and section, from its ``<meta>`` tags,
JSON-LD and markup. The submitter's fields always win (``normalize`` decides).

trafilatura (Apache-2.0) is the extractor with the best article-body F1 among the
open-source libraries of the Zyte article-extraction benchmark; what newsflow
measures with it is in ``eval/html/README.md``. A page in which it finds no main
text (a fragment, a list, a page of one paragraph) falls back to every visible
text block (``shared.normalize.html_to_text``), so nothing that has text is lost.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html import unescape
from typing import Any

logger = logging.getLogger(__name__)

# Titles often end with the site: "Storm hits coast | Example News",
# "Storm hits coast - Example News". Cut only a suffix that is the site's name.
_TITLE_SEPARATORS = (" | ", " - ", " – ", " — ", " :: ", " · ")
_AUTHOR_SPLIT_RE = re.compile(r"\s*(?:;|,|\band\b|&)\s*")
_BYLINE_PREFIX_RE = re.compile(r"^(?:by|von|par|por|di)\s+", re.IGNORECASE)
# The date the page gives for its first publication, with its time when it has one.
_DATE_PARAMS = {
    "outputformat": "%Y-%m-%dT%H:%M:%S%z",
    "original_date": True,
    "extensive_search": False,
}
_TITLE_TAG_RE = re.compile(r"<title[^>]{0,200}>([^<]{1,1000})</title>", re.IGNORECASE)
_HTML_LANG_RE = re.compile(
    r"<html\b[^>]{0,500}?\blang\s*=\s*[\"']?([A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?)", re.IGNORECASE
)


@dataclass
class PageArticle:
    """What a page says of its article; every field may be missing."""

    text: str = ""
    title: str | None = None
    published_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    url: str | None = None
    language: str | None = None
    section: str | None = None
    site: str | None = None


def extract_page(html: str) -> PageArticle:
    """The main text and metadata of ``html``; empty fields where none is found.

    Never raises for bad markup: a page trafilatura cannot read gives an empty
    ``PageArticle`` (the caller falls back to the visible text)."""
    from trafilatura import bare_extraction  # imported here: lxml is heavy at start-up

    try:
        document: Any = bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            include_tables=True,
            include_images=False,
            deduplicate=False,
            date_extraction_params=_DATE_PARAMS,
        )
    except Exception:  # a third-party parser on hostile input: fall back, never fail
        logger.debug("trafilatura could not read a page", exc_info=True)
        return PageArticle()
    if document is None:
        return PageArticle()
    fields = document.as_dict() if hasattr(document, "as_dict") else dict(document)
    site = _text(fields.get("sitename"))
    return PageArticle(
        # One paragraph a line in trafilatura's text; a blank line between them here.
        text=(_text(fields.get("text")) or "").replace("\n", "\n\n"),
        title=_title(_text(fields.get("title")), site, html),
        published_at=_date(fields.get("date")),
        authors=_authors(_text(fields.get("author"))),
        url=_text(fields.get("url")),
        language=_text(fields.get("language")) or _html_language(html),
        section=_section(fields.get("categories")),
        site=site,
    )


def _html_language(html: str) -> str | None:
    match = _HTML_LANG_RE.search(html, 0, 4096)
    return match.group(1) if match else None


def _text(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    value = value.strip()
    return value or None


def _title(title: str | None, site: str | None, html: str) -> str | None:
    """The headline without the site's name before or after it."""
    if site is None:
        return title
    folded_site = site.casefold()
    if title is None or title.casefold() == folded_site:
        # trafilatura kept the wrong half of "Site - Headline": cut <title> here.
        match = _TITLE_TAG_RE.search(html, 0, 65536)
        title = " ".join(unescape(match.group(1)).split()) if match else None
        if not title:
            return None
    for separator in _TITLE_SEPARATORS:
        head, found, tail = title.rpartition(separator)
        if found and head and tail.strip().casefold() == folded_site:
            return head.strip()
        head, found, rest = title.partition(separator)
        if found and rest and head.strip().casefold() == folded_site:
            return rest.strip()
    return None if title.casefold() == folded_site else title


def _date(value: Any) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _authors(value: str | None) -> list[str]:
    if not value:
        return []
    names = (_BYLINE_PREFIX_RE.sub("", part).strip() for part in _AUTHOR_SPLIT_RE.split(value))
    return list(dict.fromkeys(name for name in names if name))


def _section(value: Any) -> str | None:
    if isinstance(value, list) and value:
        return _text(value[0]) if isinstance(value[0], str) else None
    return _text(value)
