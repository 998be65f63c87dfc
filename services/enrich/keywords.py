"""Keywords of an article: YAKE! through ``yake-rust``, cleaned against its entities.

YAKE! is unsupervised and per document (no model, no corpus statistics). The
Rust implementation is used because the reference ``yake`` package costs about
66 ms on a 1,000-word article, two thirds of what NER costs on it, while
``yake-rust`` does the same in about 8 ms on the whole text and 3-4 ms on the
``MAX_CHARS`` that are read here (title and start of the body, where news puts
what matters). Its stop-word lists cover ``SUPPORTED_LANGUAGES``; an article in
another language, or of unknown language, gets English stop words when it is
English-like (unknown) and no keywords otherwise.

A keyword that shares a word with a better one is dropped (YAKE! offers
"interest rates", "raises interest" and "interest"), and so is one that cuts a
name in two ("State Mike" out of "Secretary of State Mike Pompeo", "Prime
Minister Adel"); one that holds whole names ("Mike Pompeo") is kept.

Keywords are noun phrases. spaCy's NER-only pipeline has no tagger, so a cheap
rule stands in for one (word lists in ``data/keyword_words.json``): no weekday
or month names ("Friday", "early January"); no keyword that starts or ends with
a verb ("Alcaraz beats", "prepare troop", "weaken Iraqi", "trains cancelled");
none that ends with a verb form of a noun after a name or alone ("Reeves holds",
"hits", "deaths rise"),
with an -ing word that is not a noun ("cut class", "admitting"), an adverb in
"-ly" or an adjective ("Italian civil", "pop biggest"). English only: other
languages keep YAKE!'s phrases as they are.
"""

from __future__ import annotations

import importlib.metadata
import json
import re
from collections.abc import Sequence
from pathlib import Path

from shared.models import Entity

TOP_KEYWORDS = 10
NGRAMS = 2
MAX_CHARS = 1200
# Languages with a stop-word list in yake-rust 1.2 (others make it panic).
SUPPORTED_LANGUAGES = frozenset(
    (
        *("ar", "bg", "br", "cz", "da", "de", "el", "en", "es", "et", "fa", "fi", "fr"),
        *("hi", "hr", "hu", "hy", "id", "it", "ja", "lt", "lv", "nl", "no", "pl", "pt"),
        *("ro", "ru", "sk", "sl", "sv", "tr", "uk", "zh"),
    )
)
_ALIASES = {"cs": "cz", "nb": "no", "nn": "no"}
_WORD_RE = re.compile(r"[^\W_]+(?:['’.-][^\W_]+)*")


def _words(text: str) -> list[str]:
    return _WORD_RE.findall(text.casefold())


def _word_lists() -> dict[str, frozenset[str]]:
    path = Path(__file__).parent / "data" / "keyword_words.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return {key: frozenset(value["words"]) for key, value in data.items() if key != "about"}


_LISTS = _word_lists()
_DATES = _LISTS["dates"]
_VERBS = _LISTS["verbs"]
_VERB_FORMS_OF_NOUNS = _LISTS["verb_forms_of_nouns"]
_EDGE_MODIFIERS = _LISTS["edge_modifiers"]
_ING_NOUNS = _LISTS["ing_nouns"]
_NOUN_VERBS = _LISTS["noun_verbs"]
_ED_NOT_VERBS = frozenset(
    ["hundred", "red", "bed", "need", "speed", "seed", "feed", "shed", "breed", "greed", "weed"]
)


def is_noun_phrase(keyword: str) -> bool:
    """Whether an English keyword reads as a noun phrase by the rules of the
    module docstring (no tagger: word lists and suffixes)."""
    written = keyword.split()
    words = [w.casefold() for w in written]
    if not words or any(w.strip(".,") in _DATES for w in words):
        return False
    # Verb rules read words written in lower case only: "Met Office", "Prophet
    # Mohammed" and "Reading" are names.
    first = words[0] if written[0].islower() else ""
    last = words[-1] if written[-1].islower() else ""
    if (first in _VERBS and first not in _ING_NOUNS) or (last in _VERBS and last not in _ING_NOUNS):
        return False
    if last in _VERB_FORMS_OF_NOUNS and (
        not last.endswith("s") or len(words) == 1 or written[-2][:1].isupper()
    ):
        return False  # "hits", "Reeves holds"; "armed forces" and "budget cuts" stay
    if len(words) > 1 and (
        (first in _VERB_FORMS_OF_NOUNS and first.endswith("s"))  # "signs chip"
        or (last in _NOUN_VERBS and words[-2].endswith("s") and not words[-2].endswith("ss"))
    ):
        return False  # "deaths rise"
    if last in _EDGE_MODIFIERS or _is_adverb(written[0]) or _is_adverb(written[-1]):
        return False
    if last.endswith("ing") and last not in _ING_NOUNS:
        return False
    return not (len(last) > 4 and last.endswith("ed") and last not in _ED_NOT_VERBS)


_LY_NOUNS = frozenset(
    ["family", "supply", "assembly", "rally", "ally", "anomaly", "monopoly", "reply", "belly"]
)


def _is_adverb(word: str) -> bool:
    """A lower-case word in "-ly" ("overnight" is listed apart); "Connolly" is a name."""
    return word.islower() and len(word) > 5 and word.endswith("ly") and word not in _LY_NOUNS


class KeywordExtractor:
    """Keywords of one article at a time; one instance per worker."""

    def __init__(self, top: int = TOP_KEYWORDS) -> None:
        from yake_rust import Yake

        self._yake = Yake
        self.top = top
        self.version = f"yake-rust-{importlib.metadata.version('yake-rust')}"
        self._extractors: dict[str, object] = {}

    def language_supported(self, language: str | None) -> bool:
        code = _code(language)
        return code in SUPPORTED_LANGUAGES

    def extract(
        self, title: str, body: str, language: str | None, entities: Sequence[Entity] = ()
    ) -> list[str]:
        """Up to ``top`` keywords, best first; empty for an unsupported language."""
        return self.select(self.candidates(title, body, language), entities, language)

    def candidates(self, title: str, body: str, language: str | None) -> list[tuple[str, float]]:
        """YAKE!'s scored phrases, best first, before the clean-up against entities.

        This is the costly half and needs no entities, so the enrich worker runs it
        on a thread while the NER model works (yake-rust releases the GIL). Calls
        must not overlap on one instance.
        """
        code = _code(language)
        if code not in SUPPORTED_LANGUAGES:
            return []
        extractor = self._extractors.get(code)
        if extractor is None:
            extractor = self._extractors[code] = self._yake(language=code, ngrams=NGRAMS)
        text = (title + "\n\n" + body)[:MAX_CHARS]
        if not text.strip():
            return []
        found: list[tuple[str, float]] = extractor.get_n_best(text, n=self.top * 3)  # type: ignore[attr-defined]
        return found

    def select(
        self,
        found: list[tuple[str, float]],
        entities: Sequence[Entity] = (),
        language: str | None = "en",
    ) -> list[str]:
        """Up to ``top`` of ``found``: one per idea, none cutting an entity's name,
        and for English (or unknown) text only noun phrases (``is_noun_phrase``)."""
        names = [_name_forms([_words(n) for n in {e.name, *e.surface_forms}]) for e in entities]
        english = _code(language) == "en"
        keywords: list[str] = []
        taken: set[str] = set()
        for raw, _score in found:
            # YAKE! keeps a possessive plural's apostrophe ("Iraqi forces'"): it is not
            # part of the keyword, but it does say the last word is a noun.
            keyword = raw.rstrip("'’")
            if english and keyword == raw and not is_noun_phrase(keyword):
                continue
            words = _words(keyword)
            # One keyword per idea: "bank raises" and "interest" add nothing to
            # "interest rates" and "central bank".
            if not words or taken.intersection(words) or _cuts_a_name(words, names):
                continue
            taken.update(words)
            keywords.append(keyword)
            if len(keywords) >= self.top:
                break
        return keywords


def _code(language: str | None) -> str:
    code = (language or "en").split("-")[0].split("_")[0].lower()
    return _ALIASES.get(code, code)


def _name_forms(forms: list[list[str]]) -> tuple[list[str], set[str]]:
    """An entity's written forms as " word word " strings, and the words of its
    multi-word forms: what ``_cuts_a_name`` looks for, worked out once per article."""
    joined = [" " + " ".join(form) + " " for form in forms if form]
    inner = {word for form in forms if len(form) > 1 for word in form}
    return joined, inner


def _cuts_a_name(words: list[str], entities: list[tuple[list[str], set[str]]]) -> bool:
    """Whether the keyword starts or ends inside a multi-word name of an entity
    without holding any whole written form of that entity ("State Mike Pompeo"
    beside "US State Department"; "Prime Minister Adel")."""
    if not words:
        return True
    text = " " + " ".join(words) + " "
    first, last = words[0], words[-1]
    for joined, inner in entities:
        if (first in inner or last in inner) and not any(form in text for form in joined):
            return True
    return False
