"""Which language an article is in: ``py3langid`` (langid.py's model, 97
languages, shipped inside the package, about 0.3 ms per article), made to work
on short news (a headline and one sentence) and to stay silent on tables.

The detector reads the title and the first ``SAMPLE_CHARS`` of the body, as one
text. Its answer, in order:

1. fewer than ``MIN_LETTERS`` letters (``MIN_LETTERS_WIDE`` in scripts that
   write a word in one or two characters: Chinese, Japanese, Korean, Thai...):
   unknown. A results line says nothing about its language.
2. the model's best guess at ``MIN_CONFIDENCE`` or more: that language.
3. a short text (under ``SHORT_LETTERS`` letters) whose guess is at least
   ``SHORT_CONFIDENCE`` and agrees with the English stop-word share (at least
   ``SHORT_EN_SHARE`` of the words for English, under it for any other
   language): that language. A two-sentence
   Spanish brief scores 0.55-0.7 with the model, and an English one of ten words
   as little as 0.2, though the guess itself is right.
4. Latin script with at least ``EN_STOPWORD_SHARE`` English stop words: English
   ("Modi meets Lula": the model hesitates over the names, the words "and",
   "in", "for" do not).
5. otherwise unknown.

The thresholds were set on ``eval/language/short.tsv`` (101 hand-written
headline-plus-sentence items in 29 languages, and 8 tables and lists that must
not get a language other than English) and checked on ``eval/language/check.tsv``;
see that folder's README.

``latin_script(text)`` tells whether a text is written mostly in Latin letters:
the enricher runs English NER on text of unknown language only when it is.
"""

from __future__ import annotations

import importlib.metadata
import re
import unicodedata
from functools import lru_cache
from typing import Any

SAMPLE_CHARS = 500
MIN_LETTERS = 20
MIN_LETTERS_WIDE = 6
MIN_CONFIDENCE = 0.8
SHORT_LETTERS = 200
SHORT_CONFIDENCE = 0.4
EN_STOPWORD_SHARE = 0.1
SHORT_EN_SHARE = 0.05

_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
# The commonest English function words: frequent in any English sentence, rare as
# whole words in other languages written in Latin letters ("a", "in", "is", "on",
# "an", "also", "was", "will", "over", "under", "all", "he" are left out: they are
# words of Italian, Dutch, German, Danish, Swedish or Spanish too).


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


ENGLISH_STOPWORDS = _word_set(
    """the of and to for with that this were are has have had been be by from at as
    it its his her their they she we you not but or which who would after said
    says than into about more new up out when what there our before during while
    against between"""
)
_WIDE_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR")


@lru_cache(maxsize=4096)
def _script(char: str) -> str:
    """The first word of the character's Unicode name: LATIN, CYRILLIC, CJK..."""
    name = unicodedata.name(char, "")
    return name.split(" ", 1)[0] if name else ""


def latin_script(text: str) -> bool:
    """True when at least 80% of the letters of ``text`` are Latin letters."""
    return _latin_letters([c for c in text if c.isalpha()])


def _latin_letters(letters: list[str]) -> bool:
    if not letters:
        return False
    # An ASCII letter is Latin: only the others need their Unicode name looked up.
    others = [c for c in letters if not c.isascii()]
    latin = len(letters) - len(others) + sum(1 for c in others if _script(c) == "LATIN")
    return latin >= 0.8 * len(letters)


def english_stopword_share(text: str) -> float:
    """The share of the words of ``text`` that are English function words."""
    words = _WORD_RE.findall(text.casefold())
    if not words:
        return 0.0
    return sum(1 for w in words if w in ENGLISH_STOPWORDS) / len(words)


def _wide_script(letters: list[str]) -> bool:
    # ASCII letters are Latin, never wide.
    wide = sum(1 for c in letters if not c.isascii() and _script(c) in _WIDE_SCRIPTS)
    return wide >= 0.5 * len(letters)


class LanguageDetector:
    """ISO 639-1 code of a text, or ``None`` when unsure; load once per worker."""

    def __init__(self) -> None:
        # py3langid ships no type information.
        from py3langid.langid import (  # type: ignore[import-untyped]
            MODEL_FILE,
            LanguageIdentifier,
        )

        self._identifier: Any = LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)
        self.version = f"py3langid-{importlib.metadata.version('py3langid')}+short.1"

    def detect(self, title: str, body: str) -> tuple[str | None, float]:
        """``(code, confidence)``; the code is ``None`` when the text is too short
        to tell or the evidence is too weak (see the module docstring)."""
        sample = (title + "\n" + body)[:SAMPLE_CHARS]
        letters = [c for c in sample if c.isalpha()]
        wide = _wide_script(letters) if letters else False
        if len(letters) < (MIN_LETTERS_WIDE if wide else MIN_LETTERS):
            return None, 0.0
        guess, confidence = self._identifier.classify(sample)
        code, confidence = str(guess), float(confidence)
        if confidence >= MIN_CONFIDENCE:
            return code, confidence
        latin = _latin_letters(letters)
        share = english_stopword_share(sample) if latin else 0.0
        if (wide or len(letters) < SHORT_LETTERS) and confidence >= SHORT_CONFIDENCE:
            agrees = share >= SHORT_EN_SHARE if code == "en" else share < SHORT_EN_SHARE
            if agrees:
                return code, confidence
        if latin and share >= EN_STOPWORD_SHARE:
            return "en", confidence if code == "en" else 0.0
        return None, confidence
