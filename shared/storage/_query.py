"""The full-text query language of ``q``, parsed once and written for each backend.

What a user may type (web-search style; anything else is plain words)::

    climate bill          both words (any order, anywhere in title or body)
    climate OR weather    either word ("OR" in capitals; binds tighter than the
                          space: "bill climate OR weather" is bill AND (climate OR weather))
    climate -football     climate, and not football ("NOT football" too)
    "climate bill"        the words in this order, next to each other
    elect*                any word that starts with "elect"

Words are case- and accent-insensitive, and a plain word also finds its English
inflections: "hurricanes" finds "hurricane", "vote" finds "votes", "voted" and
"voting", "policy" finds "policies". Inflections are expanded in the query (the
index keeps words as written), so prefixes stay exact and nothing is re-indexed.
A phrase and a prefix are taken as written.

Quotes, brackets, colons, ``NEAR``, ``AND`` and other operators of FTS5 or
``tsquery`` are never syntax: they are dropped or taken as words, so no input can
change the query's shape. ``ValueError`` for a query that only excludes.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

MAX_FORMS = 8
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_TOKEN = re.compile(r'(-)?"([^"]*)"?|(\S+)')
_VOWEL = re.compile(r"[aeiouy]")
# One syllable ending consonant-vowel-consonant doubles its consonant: drop -> dropped.
_CVC = re.compile(r"[^aeiou]*[aeiou][^aeiouwxy]")


@dataclass(frozen=True)
class Term:
    """A word (with its inflections), a prefix, or a phrase."""

    words: tuple[str, ...]
    prefix: bool = False

    @property
    def phrase(self) -> bool:
        return len(self.words) > 1


@dataclass(frozen=True)
class Query:
    """``all of`` clauses (each ``any of`` its terms), ``none of`` the excluded terms."""

    clauses: tuple[tuple[Term, ...], ...]
    excluded: tuple[Term, ...]


def parse(q: str, words_of: Callable[[str], list[str]]) -> Query | None:
    """``q`` as a ``Query``, with ``words_of`` splitting text into index words.

    None when ``q`` holds no searchable word; ``ValueError`` when it only excludes.
    """
    text = _CONTROL.sub(" ", q)
    clauses: list[list[Term]] = []
    excluded: list[Term] = []
    pending_or = False
    negate_next = False
    for match in _TOKEN.finditer(text):
        minus, quoted, raw = match.group(1), match.group(2), match.group(3)
        if raw == "OR":
            pending_or = bool(clauses)
            continue
        if raw == "AND":
            continue
        if raw == "NOT":
            negate_next = True
            continue
        negate = negate_next or bool(minus)
        negate_next = False
        if quoted is not None:
            term = _phrase(quoted, words_of)
        else:
            assert raw is not None
            if raw.startswith("-") and len(raw) > 1:
                negate, raw = True, raw.lstrip("-")
            term = _word(raw, words_of)
        if term is None:
            pending_or = False
            continue
        if negate:
            excluded.append(term)
        elif pending_or:
            clauses[-1].append(term)
        else:
            clauses.append([term])
        pending_or = False
    if not clauses:
        if excluded:
            raise ValueError("q: needs at least one word to find, besides the excluded ones")
        return None
    return Query(tuple(tuple(c) for c in clauses), tuple(excluded))


def _phrase(text: str, words_of: Callable[[str], list[str]]) -> Term | None:
    words = tuple(words_of(text))
    return Term(words) if words else None


def _word(raw: str, words_of: Callable[[str], list[str]]) -> Term | None:
    core = raw.strip("*^()[]{}'\"")
    prefix = raw.rstrip(")]}\"';,.!?").endswith("*") and bool(core)
    words = tuple(words_of(core))
    if not words:
        return None
    return Term(words, prefix=prefix)


def inflections(word: str) -> list[str]:
    """``word`` and its likely English inflections (plural/singular, -ed, -ing), at
    most ``MAX_FORMS``; ``word`` first. Short words and words with digits stay alone."""
    if len(word) < 3 or not word.isalpha() or not word.isascii():
        return [word]
    forms = [word]
    for stem in _stems(word):
        forms += [stem, *_forms_of(stem)]
    unique = list(dict.fromkeys(f for f in forms if len(f) >= 2))
    return unique[:MAX_FORMS]


def _stems(word: str) -> list[str]:
    """Base forms ``word`` may be an inflection of (best first)."""
    stems: list[str] = []
    if word.endswith("ies") and len(word) > 4:
        stems.append(word[:-3] + "y")
    elif word.endswith(("ches", "shes", "sses", "xes", "zes")):
        stems.append(word[:-2])
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        stems.append(word[:-1])
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if not _VOWEL.search(base):
                continue
            if len(base) >= 2 and base[-1] == base[-2] and base[-1] not in "lsz":
                stems.append(base[:-1])  # stopped -> stop
            stems += [base, base + "e"]  # voted -> vote, walked -> walk
            if suffix == "ed" and base.endswith("i"):
                stems.append(base[:-1] + "y")  # carried -> carry
    return stems or [word]


def _forms_of(stem: str) -> list[str]:
    doubled = [stem + stem[-1] + "ed", stem + stem[-1] + "ing"] if _CVC.fullmatch(stem) else []
    if stem.endswith("y") and len(stem) > 2 and stem[-2] not in "aeiou":
        plural, past = stem[:-1] + "ies", stem[:-1] + "ied"
    elif stem.endswith(("ch", "sh", "ss", "x", "z")):
        plural, past = stem + "es", stem + "ed"
    elif stem.endswith("e"):
        plural, past = stem + "s", stem + "d"
    else:
        plural, past = stem + "s", stem + "ed"
    gerund = stem[:-1] + "ing" if stem.endswith("e") and not stem.endswith("ee") else stem + "ing"
    return [plural, *doubled, past, gerund]


# --- backends ---------------------------------------------------------------------------


def fts5(query: Query) -> str:
    """The query as an FTS5 MATCH expression: every word quoted, operators ours."""

    def word(text: str) -> str:
        return '"' + text.replace('"', '""') + '"'

    def term(t: Term) -> str:
        if t.phrase:
            # FTS5 reads a quoted string of several words as a phrase.
            return word(" ".join(t.words)) + ("*" if t.prefix else "")
        (only,) = t.words
        if t.prefix:
            return word(only) + "*"
        forms = inflections(only)
        return word(only) if len(forms) == 1 else "(" + " OR ".join(map(word, forms)) + ")"

    positive = " AND ".join(_group([term(t) for t in clause], " OR ") for clause in query.clauses)
    if not query.excluded:
        return positive
    return f"({positive}) NOT " + _group([term(t) for t in query.excluded], " OR ")


def tsquery(query: Query, escape: Callable[[str], str]) -> str:
    """The query as a ``to_tsquery`` expression of quoted lexemes."""

    def term(t: Term) -> str:
        lexemes = [escape(w) for w in t.words]
        if t.phrase or len(lexemes) > 1:
            text = " <-> ".join(lexemes)
            return f"({text}:*)" if t.prefix else f"({text})"
        if t.prefix:
            return lexemes[0] + ":*"
        forms = [escape(f) for f in inflections(t.words[0])]
        return forms[0] if len(forms) == 1 else "(" + " | ".join(forms) + ")"

    positive = " & ".join(_group([term(t) for t in clause], " | ") for clause in query.clauses)
    negative = [f"!{term(t)}" for t in query.excluded]
    return " & ".join([positive, *negative]) if negative else positive


def _group(parts: Sequence[str], operator: str) -> str:
    return parts[0] if len(parts) == 1 else "(" + operator.join(parts) + ")"


def fts5_words(text: str) -> list[str]:
    """The words FTS5's ``unicode61 remove_diacritics 2`` tokenizer sees in ``text``."""
    words: list[str] = []
    current: list[str] = []
    for char in text:
        category = unicodedata.category(char)
        if category[0] in "LN" or category == "Co":
            current.append(char)
        elif current:
            words.append("".join(current))
            current = []
    if current:
        words.append("".join(current))
    return [_fold(w) for w in words]


def _fold(word: str) -> str:
    decomposed = unicodedata.normalize("NFKD", word.casefold())
    return "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
