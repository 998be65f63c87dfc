"""Reading article files for ``newsflow ingest`` and ``newsflow up --seed``.

``.txt``: first line is the title, the rest the body (the seed format).
``.json``: one article object or an array of them. ``.jsonl``/``.ndjson``: one
per line. ``.html``/``.htm``: the page, titled by its headline without the site's
name (``shared.html``), else by its ``<title>`` or first ``<h1>``.
Folders are walked recursively in name order; other files and hidden ones
(names starting with ``.``) are skipped.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from services.ingest.core import json_type
from shared.html import extract_page

_TITLE_RE = re.compile(r"<title[^>]*>(.*?)</title>|<h1[^>]*>(.*?)</h1>", re.I | re.S)
_TAG_RE = re.compile(r"<[^>]+>")


@dataclass(frozen=True, slots=True)
class FileItem:
    """One article read from a file (``data``), or why it could not be (``error``)."""

    origin: str
    data: dict[str, Any] | None = None
    error: str | None = None


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Each path as given; a folder as its article files in name order, hidden ones skipped."""
    for path in paths:
        if path.is_dir():
            yield from sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in SUFFIXES
                # .git, editor state, macOS "._name.txt" resource forks: not articles.
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
        else:
            yield path


def _read_text(path: Path) -> str:
    # utf-8-sig: editors on Windows start files with a BOM, which JSON parsers reject.
    return path.read_bytes().decode("utf-8-sig")


def read_file(path: Path) -> Iterator[FileItem]:
    """The articles in one file; unreadable content yields items with ``error`` set."""
    origin = str(path)
    suffix = path.suffix.lower()
    try:
        text = _read_text(path)
    except FileNotFoundError:
        yield FileItem(origin, error="no such file")
        return
    except UnicodeDecodeError as exc:
        yield FileItem(origin, error=f"not valid UTF-8 (byte {exc.start})")
        return
    except OSError as exc:
        yield FileItem(origin, error=f"cannot read: {exc.strerror}")
        return
    reader = _READERS.get(suffix)
    if reader is None:
        yield FileItem(
            origin,
            error=f"unsupported file type {suffix or '(none)'}; "
            f"use one of {', '.join(sorted(SUFFIXES))}",
        )
        return
    yield from reader(origin, text, path)


def _read_txt(origin: str, text: str, path: Path) -> Iterator[FileItem]:
    title, _, body = text.strip().partition("\n")
    yield FileItem(origin, {"title": title.strip(), "body": body.strip()})


def _read_json(origin: str, text: str, path: Path) -> Iterator[FileItem]:
    try:
        doc = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
        yield FileItem(origin, error=f"invalid JSON: {exc}")
        return
    items = doc if isinstance(doc, list) else [doc]
    for index, item in enumerate(items):
        yield _item(f"{origin}[{index}]" if isinstance(doc, list) else origin, item)


def _read_jsonl(origin: str, text: str, path: Path) -> Iterator[FileItem]:
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            yield _item(f"{origin}:{number}", orjson.loads(line))
        except orjson.JSONDecodeError as exc:
            yield FileItem(f"{origin}:{number}", error=f"invalid JSON: {exc}")


def _read_html(origin: str, text: str, path: Path) -> Iterator[FileItem]:
    # The page's own headline (og:title, h1...) without the site's name; the
    # server takes the text, date, authors and canonical URL from the same page.
    headline = extract_page(text).title
    if headline:
        title = headline
    else:
        match = _TITLE_RE.search(text)
        title = (
            html.unescape(_TAG_RE.sub("", (match.group(1) or match.group(2))))
            if match
            else path.stem
        )
    yield FileItem(origin, {"title": " ".join(title.split()) or path.stem, "html": text})


_READERS: dict[str, Callable[[str, str, Path], Iterator[FileItem]]] = {
    ".txt": _read_txt,
    ".json": _read_json,
    ".jsonl": _read_jsonl,
    ".ndjson": _read_jsonl,
    ".html": _read_html,
    ".htm": _read_html,
}
SUFFIXES = frozenset(_READERS)


def _item(origin: str, value: Any) -> FileItem:
    if not isinstance(value, dict):
        return FileItem(origin, error=f"expected a JSON object, got {json_type(value)}")
    return FileItem(origin, value)


def read_paths(paths: Iterable[Path]) -> Iterator[FileItem]:
    for path in iter_files(paths):
        yield from read_file(path)
