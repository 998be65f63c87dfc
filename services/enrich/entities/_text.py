"""Text helpers: trimming a span to a name, cleaning, junk, word boundaries."""

from __future__ import annotations

import re
from collections.abc import Iterator, Set

from . import _lexicon as lexicon

_EDGE_CHARS = " \t\r\n\"'“”‘’«»„‚()[]{}<>,;:!?*•·|/\\-–—_"
_POSSESSIVE_RE = re.compile(r"(?:['’]s|(?<=s)['’])$")
_LETTER_RE = re.compile(r"[^\W\d_]")
_SPACE_RE = re.compile(r"\s+")
_ARTICLE_RE = re.compile(r"^the\s+", re.IGNORECASE)
_WORD_SPLIT_RE = re.compile(r"[-'’]")
_LEADING_ARTICLE_RE = re.compile(r"(?:the|The|THE)\s+")
_EDGE_NUMBER_END_RE = re.compile(r"\s+[^\s\w]*\d[^\s]*$")
_EDGE_NUMBER_START_RE = re.compile(r"[^\s\w]*\d[^\s]*\s+")
# Where one span holds two names: a line break, a spaced dash, a parenthesis, a
# "v" between two sides ("Lithuania - Danius Gleveckas", "Scott Draper
# (Australia)", "Montrose v Ross County").
_BREAK_CHAR_RE = re.compile(r"[\n()\[\]\-–—,\d]| v")
_ORG_BREAK = r"\s*\n\s*|\s+[-–—]+\s+|\s*[()\[\]]\s*|\s+vs?\.?(?:\s+|$)|\s+\d+\s+"
_ORG_BREAK_RE = re.compile(_ORG_BREAK)
_SPAN_BREAK_RE = re.compile(_ORG_BREAK + r"|,\s+(?!(?i:inc|corp|co|ltd|llc|plc|jr|sr)\b)")


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` past surrounding punctuation, quotes and possessives."""
    for _ in range(3):  # a possessive may sit inside a closing quote and vice versa
        before = start, end
        while start < end and text[start] in _EDGE_CHARS:
            start += 1
        while end > start and text[end - 1] in _EDGE_CHARS:
            end -= 1
        match = _POSSESSIVE_RE.search(text, start, end)
        if match and match.start() > start:
            end = match.start()
        # A final period is sentence punctuation unless the name is an
        # abbreviation ("U.S.", "Inc."): keep it when the last word is short or
        # already dotted.
        if end > start and text[end - 1] == ".":
            last_word = text[start:end].rsplit(None, 1)[-1]
            if len(last_word) > 5 and "." not in last_word[:-1]:
                end -= 1
        # The article is not part of the name ("the United States").
        article = _LEADING_ARTICLE_RE.match(text, start, end)
        if article and article.end() < end:
            start = article.end()
        # Scores and counts beside a name ("Kersey 63", "Mexico 2-0", "64 Bob Estes").
        while (match := _EDGE_NUMBER_END_RE.search(text, start, end)) and match.start() > start:
            end = match.start()
        while (match := _EDGE_NUMBER_START_RE.match(text, start, end)) and match.end() < end:
            start = match.end()
        if (start, end) == before:
            break
    return start, end


def _word_before(text: str, start: int) -> str | None:
    """The word before ``text[start]`` when only white space separates them."""
    end = start
    while end > 0 and text[end - 1].isspace():
        end -= 1
    if end in (start, 0):
        return None
    begin = max(text.rfind(" ", 0, end), text.rfind("\n", 0, end), text.rfind("\t", 0, end))
    return text[begin + 1 : end]


def _clean_name(surface: str, label: str) -> str:
    name = _SPACE_RE.sub(" ", surface)
    stripped = _ARTICLE_RE.sub("", name)
    if stripped:
        name = stripped
    if label == "PERSON":
        words = name.split(" ")
        while len(words) > 1 and words[0].rstrip(".").casefold() in lexicon.HONORIFICS:
            words = words[1:]
        name = " ".join(words)
    return name


def _is_junk(name: str) -> bool:
    if len(name) < 2 or not _LETTER_RE.search(name):
        return True
    first = name.split(" ", 1)[0]
    if first.islower() and _WORD_SPLIT_RE.split(first)[0] not in lexicon.PARTICLES:
        return True
    key = name.casefold()
    return (" " not in name and key in lexicon.GENERIC_WORDS) or key in lexicon.COMMON_NOUNS


def _is_all_caps(name: str) -> bool:
    return name.isupper() and len(_LETTER_RE.findall(name)) > 1


def _contains_word(text: str, phrase: str) -> bool:
    """Whether ``phrase`` occurs in ``text`` with no word character either side."""
    start = text.find(phrase)
    while start >= 0:
        end = start + len(phrase)
        before = text[start - 1] if start else " "
        after = text[end] if end < len(text) else " "
        if not (before.isalnum() or before == "_") and not (after.isalnum() or after == "_"):
            return True
        start = text.find(phrase, start + 1)
    return False


def _in_longer_name(text: str, start: int, end: int, allowed_before: Set[str]) -> bool:
    """Whether a capitalised word sits right beside ``text[start:end]`` ("Trump
    Tower", "Ivanka Trump"), so the word may name something else."""
    after = text[end : end + 2]
    if len(after) == 2 and after[0] == " " and after[1].isupper():
        return True
    prev = _word_before(text, start)
    if prev is None:
        return False
    if not prev[:1].isupper() or not prev[-1].isalnum():
        return False  # lower-case word, or punctuation ends the previous phrase
    return prev.rstrip(".").casefold() not in allowed_before


def _trim_plain(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start] in _EDGE_CHARS:
        start += 1
    while end > start and text[end - 1] in _EDGE_CHARS:
        end -= 1
    return start, end


def _find_all(text: str, word: str) -> Iterator[int]:
    """The start of each occurrence of ``word`` in ``text``."""
    start = text.find(word)
    while start != -1:
        yield start
        start = text.find(word, start + 1)


def _is_word_char(char: str) -> bool:
    return char.isalnum() or char == "_"


def _free_standing(text: str, start: int, end: int) -> bool:
    """Whether ``text[start:end]`` is not part of a longer word, name or
    abbreviation ("Lebed" but not "Lebedev", "U.S" of "U.S.A")."""
    if start > 0 and (_is_word_char(before := text[start - 1]) or before in "'’&.-"):
        return False
    if end < len(text):
        after = text[end]
        if _is_word_char(after) or after in "&-":
            return False
        if after == "." and end + 1 < len(text) and _is_word_char(text[end + 1]):
            return False
    return True
