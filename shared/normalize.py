"""ArticleIn -> Article: canonical URL, deterministic id, clean text, UTC times."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from shared.html import PageArticle, extract_page
from shared.models import Article, ArticleIn

_LANGUAGE_TAG_RE = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{2,8}){0,2}")

# Query parameters that identify a campaign or a click, not the page.
_TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "yclid",
        "_ga",
        "ref",
        "ref_src",
        "cmpid",
        "ocid",
        "smid",
    }
)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_MAX_URL_CHARS = 2048

_BLANK_LINES_RE = re.compile(r"\n{3,}")
_WORD_RE = re.compile(r"\w+(?:[-'’]\w+)*")
# C0/C1 control characters other than tab and newline, and zero-width marks
# that only break tokenization. ZWNJ (U+200C) and ZWJ (U+200D) stay: Persian,
# Urdu and Indic scripts spell words with them, and emoji sequences need ZWJ.
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u2060\ufeff]")
_URL_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# A numeric character reference past U+10FFFF (or with thousands of digits, which
# Python refuses to convert): HTML reads it as U+FFFD.
_HUGE_CHARREF_RE = re.compile(r"&#(?:[xX]0*[0-9a-fA-F]{7,}|0*[0-9]{8,});?")
_LONE_LT_RE = re.compile(r"<(?![A-Za-z/!?])")
# Characters that show nothing on their own: format controls (bidi marks, soft
# hyphen), spaces, combining marks without a base, and the blank "letters" used to
# fake an empty name (Hangul fillers, Braille blank, Khmer inherent vowels).
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zs", "Zl", "Zp", "Mn", "Me", "Co", "Cn"})
_INVISIBLE_CHARS = frozenset("\u115f\u1160\u17b4\u17b5\u2800\u3164\uffa0\u034f\u180e")
# A published_at further ahead of the time of receipt than this is kept as sent,
# but articles are ordered by their time of receipt instead (``sort_time``): such
# a date would otherwise lead every newest-first listing until it comes.
MAX_FUTURE_PUBLISHED = timedelta(days=1)
# A tag cut off by the end of the input ("... <script src="): HTML drops it.
_PARTIAL_TAG_RE = re.compile(r"<[A-Za-z/!?]")


def canonical_url(url: str) -> str:
    """The URL with tracking parameters, fragment, credentials and default port removed.

    Raises ``ValueError`` naming the problem when the URL is not absolute http(s)
    or holds a line break, tab or other control character.
    """
    url = url.strip()
    if len(url) > _MAX_URL_CHARS:
        raise ValueError(f"url is longer than {_MAX_URL_CHARS} characters")
    if _URL_CONTROL_RE.search(url):
        raise ValueError("url must not contain line breaks, tabs or other control characters")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise ValueError("url must be an absolute http:// or https:// URL")
    if not parts.hostname:
        raise ValueError("url has no host")
    host = parts.hostname.lower().rstrip(".")
    if ":" in host:
        host = f"[{host}]"  # an IPv6 address keeps its brackets
    try:
        port = parts.port
    except ValueError as exc:
        raise ValueError("url has an invalid port") from exc
    netloc = host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"
    path = re.sub(r"/{2,}", "/", parts.path or "/")
    if len(path) > 1:
        path = path.rstrip("/")
    query = urlencode(
        sorted(
            (k, v)
            for k, v in parse_qsl(parts.query, keep_blank_values=True)
            if not k.lower().startswith("utm_") and k.lower() not in _TRACKING_PARAMS
        )
    )
    return urlunsplit((scheme, netloc, path, query, ""))


class _TextExtractor(HTMLParser):
    """Visible text of an HTML document, one paragraph per block element."""

    _SKIP = frozenset({"script", "style", "noscript", "template", "svg", "iframe"})
    # What may appear inside <head>; any other start tag ends an unclosed head
    # (HTML5 makes </head> optional, so "<head><title>T</title><p>text" is valid).
    _HEAD_CONTENT = frozenset(
        {"base", "link", "meta", "title", "style", "script", "noscript", "template"}
    )
    _BLOCK = frozenset(
        {
            "p",
            "div",
            "br",
            "li",
            "ul",
            "ol",
            "h1",
            "h2",
            "h3",
            "h4",
            "h5",
            "h6",
            "blockquote",
            "section",
            "article",
            "header",
            "footer",
            "tr",
            "table",
            "pre",
            "figcaption",
            "dd",
            "dt",
        }
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skip_depth = 0
        self._in_head = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "head":
            self._in_head = True
        elif tag not in self._HEAD_CONTENT:
            self._in_head = False
        if tag in self._SKIP:
            self._skip_depth += 1
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag == "head":
            self._in_head = False
        elif tag in self._SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in self._BLOCK:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self._skip_depth and not self._in_head:
            self.parts.append(data)

    def close(self) -> None:
        # HTMLParser would emit an unfinished trailing tag ("<script src=") as text.
        if _PARTIAL_TAG_RE.match(self.rawdata):
            self.rawdata = ""
        super().close()


def html_to_text(html: str) -> str:
    """The visible text of an HTML fragment or page (scripts and styles dropped)."""
    parser = _TextExtractor()
    # A "<" that cannot open a tag is text; spelt "&lt;" it is text the parser takes
    # in one step instead of one loop turn per character ("<<<<..." was 5 us a char).
    html = _LONE_LT_RE.sub("&lt;", _HUGE_CHARREF_RE.sub("\ufffd", html))
    parser.feed(html)
    parser.close()
    return clean_text("".join(parser.parts))


def clean_text(text: str) -> str:
    """NFC, no control characters, single spaces, at most one blank line between paragraphs."""
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    # Controls go before NFC: removing one can bring a letter and its accent together.
    text = _CONTROL_RE.sub("", text)
    text = unicodedata.normalize("NFC", text)
    # str.split() splits on exactly the characters \s matches in a str pattern
    # (str.isspace()): each line's whitespace runs become one space, ends stripped.
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return _BLANK_LINES_RE.sub("\n\n", "\n".join(lines)).strip()


def has_visible_text(text: str) -> bool:
    """True when ``text`` holds at least one character that shows something."""
    return any(
        c not in _INVISIBLE_CHARS and unicodedata.category(c) not in _INVISIBLE_CATEGORIES
        for c in text
    )


def strip_credentials(url: str) -> str:
    """``url`` without its ``user:password@`` part, if it has one."""
    parts = urlsplit(url.strip())
    if "@" not in parts.netloc:
        return url.strip()
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def sort_time(published_at: datetime | None, received_at: datetime) -> datetime:
    """When an article sorts in newest-first order: its ``published_at``, unless absent
    or more than ``MAX_FUTURE_PUBLISHED`` after it was received (then ``received_at``)."""
    if published_at is None or published_at > received_at + MAX_FUTURE_PUBLISHED:
        return received_at
    return published_at


def word_count(text: str) -> int:
    return len(_WORD_RE.findall(text))


def _digest(*parts: str) -> str:
    h = hashlib.blake2b(digest_size=16)
    for part in parts:
        h.update(part.encode("utf-8", "surrogatepass"))
        h.update(b"\x1f")
    return h.hexdigest()


def article_id(canonical: str | None, source: str | None, title: str, body: str) -> str:
    """Deterministic: the canonical URL's hash, else the hash of source, title and body."""
    if canonical:
        return _digest("url", canonical)
    return _digest("text", source or "", title, body)


def _page_language(code: str | None) -> str | None:
    """A page's ``lang`` when it is a language tag ("en", "en-GB"), else ``None``."""
    return code if code and _LANGUAGE_TAG_RE.fullmatch(code) else None


def _page_url(url: str | None) -> str | None:
    """A page's own canonical URL, when it is an absolute http(s) URL."""
    if not url or len(url) > 2048 or "\n" in url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    return url if parts.scheme in ("http", "https") and parts.hostname else None


def normalize(article: ArticleIn, received_at: datetime | None = None) -> Article:
    """The normalized ``Article`` for a validated ``ArticleIn``.

    Raises ``ValueError`` when no text is left once HTML and whitespace are removed.
    """
    title = clean_text(article.title).replace("\n", " ")
    page = PageArticle()
    if article.body and article.body.strip():
        body = clean_text(article.body)
    else:
        # A page: its article's text and metadata; the submitter's fields win.
        page = extract_page(article.html or "")
        body = clean_text(page.text) or html_to_text(article.html or "")
    if not body:
        raise ValueError("body: no text left after removing markup and whitespace")
    if not title:
        raise ValueError("title: no text left after removing whitespace")
    if not has_visible_text(title):
        raise ValueError("title: only invisible characters (format controls, fillers, blanks)")
    received = received_at or datetime.now(UTC)
    url = article.url or _page_url(page.url)
    canonical = canonical_url(url) if url else None
    source = article.source or page.site or (urlsplit(canonical).hostname if canonical else None)
    language = article.language or _page_language(page.language)
    return Article(
        id=article_id(canonical, source, title, body),
        title=title,
        body=body,
        url=strip_credentials(url) if url else None,
        canonical_url=canonical,
        source=source,
        authors=[a for a in (clean_text(x) for x in article.authors or page.authors) if a],
        language=language.lower().replace("_", "-") if language else None,
        section=article.section or page.section,
        external_id=article.external_id,
        published_at=article.published_at or page.published_at,
        received_at=received,
        content_hash=_digest("content", title, body),
        word_count=word_count(title) + word_count(body),
    )


# --- text for tokenizers ------------------------------------------------------------
# spaCy's tokenizer strips prefixes and suffixes from a whitespace-delimited token
# one at a time, re-searching the rest each time: a token made of many punctuation
# marks, symbols or emoji ("((((...", "'s's's...", "<<<<...") costs time quadratic
# (worse for some characters) in its length and becomes one token per character.
# ``tokenizer_text`` masks such runs with spaces, one character for one, so every
# offset into it is an offset into the original text.

# A run of more than this many characters that are neither word characters nor
# space keeps its first ones; the rest become spaces ("?!?!" and "..." stay whole).
TOKENIZER_MAX_RUN = 4
# A whitespace-delimited token keeps its characters up to the one before its
# TOKENIZER_MAX_MARKS + 1-th punctuation mark or symbol, and at most
# TOKENIZER_MAX_TOKEN of them; the rest of it becomes spaces (one space token for
# the model, and no long string kept in its vocabulary).
TOKENIZER_MAX_MARKS = 16
TOKENIZER_MAX_TOKEN = 200

# More than this many tokens in a row made only of marks ("( ( ( ...", emoji
# between spaces): the later ones become spaces.
TOKENIZER_MAX_MARK_TOKENS = 8

_TOKENIZER_SEGMENT = 32_768
_MARK_RUN_RE = re.compile(rf"[^\w\s]{{{TOKENIZER_MAX_RUN + 1},}}")
_MARK_TOKENS_RE = re.compile(
    rf"(?<!\S)((?:[^\w\s]++\s++){{{TOKENIZER_MAX_MARK_TOKENS}}})(?:[^\w\s]++(?:\s++|$))++"
)
_LONG_TOKEN_RE = re.compile(rf"(?<!\S)\S{{{TOKENIZER_MAX_MARKS + 1},}}")
_MARK_RE = re.compile(r"[^\w\s]")


def tokenizer_text(text: str) -> str:
    """``text`` with pathological runs masked by spaces, for a tokenizer; same length.

    Ordinary prose comes back unchanged. Runs of more than ``TOKENIZER_MAX_RUN``
    punctuation marks, symbols or emoji keep their first ``TOKENIZER_MAX_RUN``, and of
    more than ``TOKENIZER_MAX_MARK_TOKENS`` tokens in a row made only of them the
    first ``TOKENIZER_MAX_MARK_TOKENS`` are kept; a
    token keeps what comes before its ``TOKENIZER_MAX_MARKS + 1``-th mark, and at
    most ``TOKENIZER_MAX_TOKEN`` characters. Linear in the length of ``text``: every
    pattern is one character class repeated, anchored so that no position is
    scanned more than a bounded number of times.
    """
    if len(text) > _TOKENIZER_SEGMENT:
        # In segments, so that no single regex call holds the GIL for long (the
        # enrich worker's event loop shares it); a run cut in two keeps a bit more.
        return "".join(
            tokenizer_text(text[start : start + _TOKENIZER_SEGMENT])
            for start in range(0, len(text), _TOKENIZER_SEGMENT)
        )
    text = _MARK_RUN_RE.sub(_keep_run_start, text)
    text = _MARK_TOKENS_RE.sub(_keep_first_group, text)
    parts: list[str] = []
    position = 0
    for match in _LONG_TOKEN_RE.finditer(text):
        token = match.group()
        cut = min(len(token), TOKENIZER_MAX_TOKEN)
        for count, mark in enumerate(_MARK_RE.finditer(token, 0, cut), start=1):
            if count > TOKENIZER_MAX_MARKS:
                cut = mark.start()
                break
        if cut == len(token):
            continue
        parts.append(text[position : match.start() + cut])
        parts.append(" " * (len(token) - cut))
        position = match.end()
    if not parts:
        return text
    parts.append(text[position:])
    return "".join(parts)


def _keep_first_group(match: re.Match[str]) -> str:
    kept = match.group(1)
    return kept + " " * (match.end() - match.start() - len(kept))


def _keep_run_start(match: re.Match[str]) -> str:
    run = match.group()
    return run[:TOKENIZER_MAX_RUN] + " " * (len(run) - TOKENIZER_MAX_RUN)
