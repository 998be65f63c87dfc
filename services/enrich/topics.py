"""IPTC Media Topics for an article, from a versioned lexicon file.

The taxonomy is a JSON document (the packaged ``data/taxonomy.json`` unless
``Settings.taxonomy_path`` names another)::

    {"name": "iptc-mediatopic", "version": "2025-10-09+newsflow.1",
     "attribution": "...",
     "topics": [{"qcode": "medtop:11000000", "label": "politics and government",
                 "slug": "politics-and-government", "broader": null,
                 "terms": ["government", "prime minister", ...]}, ...]}

``slug`` may be left out (it is derived from ``label``); ``broader`` is ``null`` for
a top-level topic, else the QCode of a topic in the same file. Users add topics of
their own (any QCode, label and terms) by editing the file; no code changes.

Matching is case-insensitive and whole-word; both the text and the terms are
reduced by a light suffix stemmer, so "vote" matches "votes", "voted" and
"voting", and "economy" matches "economies". At each position the longest term
wins across all topics, so "drone strike" counts for conflict and not as a labour
"strike", and "clinical trial" counts for health and not as a court "trial".

Scoring, per topic: each distinct matched term adds ``(1 + ln(body count) / 2)``
for the body and ``TITLE_WEIGHT`` when it is in the title, times ``1 + PHRASE_BONUS``
per extra word of a phrase (a two-word phrase weighs as much as two matched words:
phrases are more specific). The sum is divided by ``sqrt(words / 150)`` for
articles over 150 words, so long articles do not collect every topic, and mapped
to ``relevance = 1 - exp(-score / SCALE)``.

Speed: every stem that occurs in some term gets a one-character code, and a text
is matched as the string of its words' codes (a blank for any other word), built
from a bounded per-taxonomy cache of whitespace-separated chunks, so each word
costs a dictionary look-up and phrases are found with a regular expression over
that string. ``classify`` keeps no per-call state outside its locals: the cache
only ever maps a chunk to the same codes, so sharing it between threads is safe.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.models import Topic
from shared.streams import slugify

TITLE_WEIGHT = 2.0
PHRASE_BONUS = 1.0
BODY_REPEAT_WEIGHT = 0.5
SCALE = 6.0
LENGTH_NORM_WORDS = 150
MAX_TERMS_SHOWN = 10

PACKAGED_TAXONOMY = "data/taxonomy.json"


class TaxonomyError(ValueError):
    """The taxonomy file cannot be read or is not a valid taxonomy."""


# --- stemming ------------------------------------------------------------------


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


_TOKEN_RE = re.compile(r"[^\W_]+")
# Words the stemmer must leave alone because their stem is another common word:
# "news" is not "new", "arms" not "arm", "boxing" not "box", "wine" not "win",
# "pope" not "pop", "dating" not "date". Their plain plurals still match them.
_NO_STEM = _words(
    "news series species arms goods boxing unions politics physics economics aids means "
    "glasses analysis crisis basis thesis bus gas lens wine pope rape mars dating hamas "
    "premiere dose"
)
_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


@functools.lru_cache(maxsize=65_536)
def stem(word: str) -> str:
    """A light English suffix stemmer applied to both terms and text.

    It need not produce real words, only the same stem for a word's plural,
    past tense and -ing form: "votes", "voted", "voting" -> "vot".
    """
    if len(word) <= 3 or word in _NO_STEM or not word.isalpha():
        return word
    if word.endswith(("ies", "ied")) and len(word) > 4:
        return word[:-3] + "y"
    for suffix in ("ing", "ed"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            base = word[: -len(suffix)]
            if len(base) >= 4 and base[-1] == base[-2] and base[-1] not in "aeiouylsz":
                base = base[:-1]  # "stopped" -> "stop"; "called", "agreed" keep theirs
            return _drop_e(base)
    if word.endswith("es") and word[:-2].endswith(_SIBILANT_ENDINGS):
        return word[:-2]
    if word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
        if word in _NO_STEM:
            return word
    return _drop_e(word)


def _drop_e(word: str) -> str:
    return word[:-1] if word.endswith("e") and len(word) > 3 else word


def stems(text: str) -> list[str]:
    """The stemmed lower-case words of ``text``."""
    return [stem(w) for w in _TOKEN_RE.findall(text.lower())]


# --- the file ------------------------------------------------------------------


class _TopicEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qcode: str = Field(min_length=1)
    label: str = Field(min_length=1)
    slug: str | None = None
    broader: str | None = None
    terms: list[str] = Field(default_factory=list)

    @field_validator("terms")
    @classmethod
    def _normalise_terms(cls, terms: list[str]) -> list[str]:
        seen: dict[str, None] = {}
        for term in terms:
            cleaned = " ".join(term.lower().split())
            if cleaned and not _TOKEN_RE.search(cleaned):
                raise ValueError(f"term {term!r} has no letters or digits")
            if cleaned:
                seen.setdefault(cleaned)
        return list(seen)


class _TaxonomyFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1)
    version: str = Field(min_length=1)
    attribution: str = ""
    language: str | None = None
    license: str | None = None
    source: str | None = None
    topics: list[_TopicEntry] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class TaxonomyTopic:
    """One topic of a taxonomy: QCode, label, slug, parent QCode and match terms."""

    qcode: str
    label: str
    slug: str
    broader: str | None
    terms: tuple[str, ...]

    @property
    def top_level(self) -> bool:
        return self.broader is None


# --- matching ------------------------------------------------------------------


_FILLER = " "  # stands for a word that is in no term
_FIRST_CODE = 0x100  # a stem's code: one character from here on, surrogates skipped
_CHUNK_CACHE_SIZE = 100_000


def _code_char(number: int) -> str:
    code = _FIRST_CODE + number
    return chr(code + 0x800 if code >= 0xD800 else code)


class _Entry(NamedTuple):
    """What one matched term adds to one topic."""

    topic: int
    term: str
    weight: float  # 1 + PHRASE_BONUS per extra word of the phrase


@dataclass(frozen=True, slots=True)
class _Index:
    """The terms, with every stem that occurs in a term written as one character.

    An article is matched as a string of such characters, one per word, and
    ``_FILLER`` for a word that is in no term: a term is a substring, and the
    longest one starting at each position wins.
    """

    codes: dict[str, str]  # stem -> its character
    entries: dict[str, tuple[_Entry, ...]]  # coded term -> topics it counts for
    phrases: dict[str, tuple[str, ...]]  # first two characters -> phrases, longest first
    phrase_start: re.Pattern[str] | None  # a word that may start a phrase, then one of a phrase
    single_word: re.Pattern[str]  # a one-word term

    def find(self, coded: str) -> dict[str, int]:
        """Coded term -> times it matched, in the order of its first match."""
        spans: list[tuple[int, str]] = []
        if self.phrase_start is not None:
            phrases = self.phrases
            end = 0
            for found in self.phrase_start.finditer(coded):
                start = found.start()
                if start < end:
                    continue  # inside the phrase just matched
                for key in phrases.get(coded[start : start + 2], ()):
                    if coded.startswith(key, start):
                        spans.append((start, key))
                        end = start + len(key)
                        break
        findall = self.single_word.findall
        if not spans:
            return Counter(findall(coded))
        matched: list[str] = []  # words inside a phrase do not count on their own
        end = 0
        for start, key in spans:
            matched += findall(coded, end, start)
            matched.append(key)
            end = start + len(key)
        matched += findall(coded, end)
        return Counter(matched)  # keys in the order of their first match


class _ChunkCodes(dict[str, str]):
    """Whitespace-free chunk of text -> the codes of its words; bounded."""

    __slots__ = ("codes",)

    def __init__(self, codes: dict[str, str]) -> None:
        super().__init__()
        self.codes = codes

    def __missing__(self, chunk: str) -> str:
        codes = self.codes
        coded = "".join([codes.get(stem(w), _FILLER) for w in _TOKEN_RE.findall(chunk.lower())])
        if len(self) >= _CHUNK_CACHE_SIZE:
            self.clear()
        self[chunk] = coded
        return coded


class TopicTaxonomy:
    """A topic vocabulary with match terms, and the classifier that uses it.

    Load it with ``TopicTaxonomy.load(path)`` (``None``: the packaged IPTC Media
    Topics file); ``classify`` is pure and safe to call from several threads.
    """

    def __init__(
        self,
        name: str,
        version: str,
        attribution: str,
        topics: Sequence[TaxonomyTopic],
        language: str | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.attribution = attribution
        self.language = language
        self.topics: tuple[TaxonomyTopic, ...] = tuple(topics)
        self._levels = _levels(self.topics)
        self._index = _build_index(self.topics)
        self._chunk_codes = _ChunkCodes(self._index.codes)

    @property
    def provenance(self) -> str:
        """``"<name> <version>"``, as recorded in ``Provenance.taxonomy``."""
        return f"{self.name} {self.version}"

    def topic(self, qcode: str) -> TaxonomyTopic:
        """The topic with this QCode; ``KeyError`` when there is none."""
        for topic in self.topics:
            if topic.qcode == qcode:
                return topic
        raise KeyError(qcode)

    @classmethod
    def load(cls, path: Path | str | None = None) -> TopicTaxonomy:
        """Read a taxonomy file; ``None`` reads the packaged one.

        Raises ``TaxonomyError`` naming the file and the problem: unreadable,
        not JSON, unknown or missing fields, duplicate QCodes or slugs, a slug that
        is not the label's slug, or a ``broader`` QCode that is not in the file.
        """
        if path is None:
            resource = importlib.resources.files(__package__ or "services.enrich")
            where = f"packaged {PACKAGED_TAXONOMY}"
            try:
                raw = resource.joinpath(PACKAGED_TAXONOMY).read_text(encoding="utf-8")
            except OSError as exc:
                raise TaxonomyError(f"cannot read {where}: {exc}") from exc
        else:
            where = str(path)
            try:
                raw = Path(path).read_text(encoding="utf-8")
            except OSError as exc:
                raise TaxonomyError(f"cannot read taxonomy file {where}: {exc}") from exc
        return cls.from_json(raw, where=where)

    @classmethod
    def from_json(cls, raw: str | bytes, *, where: str = "taxonomy") -> TopicTaxonomy:
        """Parse and validate a taxonomy document; see ``load`` for what raises."""
        try:
            data: Any = json.loads(raw)
            document = _TaxonomyFile.model_validate(data)
        except json.JSONDecodeError as exc:
            raise TaxonomyError(f"{where} is not valid JSON: {exc}") from exc
        except ValidationError as exc:
            raise TaxonomyError(f"{where} is not a valid taxonomy: {_describe(exc)}") from exc
        topics = [_to_topic(entry, where) for entry in document.topics]
        _check_links(topics, where)
        language = document.language.lower() if document.language else None
        return cls(document.name, document.version, document.attribution, topics, language)

    def classify(self, title: str, body: str, threshold: float) -> list[Topic]:
        """Topics of one article with ``relevance >= threshold``, best first.

        Every top-level topic that reaches the threshold is returned, and so is
        any narrower topic that does. Each ``Topic.terms`` lists the distinct
        matched terms, most frequent first, at most ten. No term matched, or none
        reaching the threshold: an empty list.
        """
        index = self._index
        chunk_codes = self._chunk_codes
        # Lower-casing chunk by chunk is lower-casing the text: no rule looks across
        # white space.
        title_coded = "".join(map(chunk_codes.__getitem__, title.split()))
        body_coded = "".join(map(chunk_codes.__getitem__, body.split()))
        in_title = index.find(title_coded)
        in_body = index.find(body_coded)
        if not in_title and not in_body:
            return []
        # Matched terms in the order of their first match, title first; each topic
        # sums its terms in that order.
        entries = index.entries
        scores = [0.0] * len(self.topics)  # every matched term adds more than 0
        counts: dict[str, int] = {}  # matched term -> title and body count, in that order
        for key, title_count in in_title.items():
            body_count = in_body.get(key, 0)
            counts[key] = title_count + body_count
            value = TITLE_WEIGHT + _body_value(body_count) if body_count else TITLE_WEIGHT
            for topic_index, _, weight in entries[key]:
                scores[topic_index] += value * weight
        for key, body_count in in_body.items():
            if key not in in_title:
                counts[key] = body_count
                value = _body_value(body_count)
                for topic_index, _, weight in entries[key]:
                    scores[topic_index] += value * weight
        words = len(title_coded) + len(body_coded)
        norm = math.sqrt(max(words, LENGTH_NORM_WORDS) / LENGTH_NORM_WORDS)
        # A score under ``floor`` cannot round up to the threshold: skip the exp.
        floor = 0.0
        if 0.001 < threshold < 1.0:
            floor = -math.log1p(0.001 - threshold) * norm * SCALE * 0.999
        relevant: dict[int, float] = {}
        for topic_index, score in enumerate(scores):
            if score <= floor:
                continue
            relevance = round(1.0 - math.exp(-score / norm / SCALE), 3)
            if not (relevance < threshold or relevance <= 0.0):
                relevant[topic_index] = relevance
        if not relevant:
            return []
        terms: dict[int, list[tuple[int, str]]] = {topic_index: [] for topic_index in relevant}
        for key, count in counts.items():
            for topic_index, term, _ in entries[key]:
                if topic_index in terms:
                    terms[topic_index].append((-count, term))
        found: list[Topic] = []
        for topic_index, relevance in relevant.items():
            topic = self.topics[topic_index]
            ordered = sorted(terms[topic_index], key=_by_count)  # stable: first match first
            found.append(
                Topic(
                    qcode=topic.qcode,
                    label=topic.label,
                    slug=topic.slug,
                    relevance=relevance,
                    terms=[term for _, term in ordered[:MAX_TERMS_SHOWN]],
                    level=self._levels[topic_index],
                    broader=topic.broader,
                )
            )
        found.sort(key=lambda t: (-t.relevance, t.qcode))
        return found


@functools.lru_cache(maxsize=256)
def _body_value(count: int) -> float:
    """What a term found ``count`` times in the body adds (before its phrase weight)."""
    return 1.0 + BODY_REPEAT_WEIGHT * math.log(count)


def _by_count(hit: tuple[int, str]) -> int:
    return hit[0]


def _ancestors(topics: Sequence[TaxonomyTopic]) -> list[list[int]]:
    """For each topic, its own index and those of its broader topics, nearest first."""
    position = {topic.qcode: i for i, topic in enumerate(topics)}
    chains: list[list[int]] = []
    for i, topic in enumerate(topics):
        chain = [i]
        parent = topic.broader
        while parent is not None and position[parent] not in chain:
            chain.append(position[parent])
            parent = topics[position[parent]].broader
        chains.append(chain)
    return chains


def _levels(topics: Sequence[TaxonomyTopic]) -> list[int]:
    return [len(chain) for chain in _ancestors(topics)]


def _build_index(topics: Sequence[TaxonomyTopic]) -> _Index:
    """Each term counts for its topic and for every broader topic above it, so a
    top-level topic collects the evidence of its narrower ones."""
    codes: dict[str, str] = {}
    entries: dict[str, list[_Entry]] = {}
    for topic_index, chain in enumerate(_ancestors(topics)):
        for term in topics[topic_index].terms:
            words = stems(term)
            if not words:
                continue
            for word in words:
                if word not in codes:
                    codes[word] = _code_char(len(codes))
            key = "".join(codes[word] for word in words)
            weight = 1.0 + PHRASE_BONUS * term.count(" ")
            targets = entries.setdefault(key, [])
            for target in chain:
                if all(existing.topic != target for existing in targets):
                    targets.append(_Entry(target, term, weight))
    phrases: dict[str, list[str]] = {}
    for key in entries:
        if len(key) > 1:
            phrases.setdefault(key[:2], []).append(key)
    singles = "".join(sorted(key for key in entries if len(key) == 1))
    phrase_start = None
    if phrases:
        firsts = "".join(sorted({pair[0] for pair in phrases}))
        seconds = "".join(sorted({pair[1] for pair in phrases}))
        phrase_start = re.compile(f"[{re.escape(firsts)}](?=[{re.escape(seconds)}])")
    return _Index(
        codes=codes,
        entries={key: tuple(targets) for key, targets in entries.items()},
        phrases={
            pair: tuple(sorted(keys, key=len, reverse=True)) for pair, keys in phrases.items()
        },
        phrase_start=phrase_start,
        single_word=re.compile(f"[{re.escape(singles)}]" if singles else "(?!)"),
    )


def _to_topic(entry: _TopicEntry, where: str) -> TaxonomyTopic:
    slug = slugify(entry.label)
    if entry.slug is not None and entry.slug != slug:
        raise TaxonomyError(
            f"{where}: topic {entry.qcode} has slug {entry.slug!r}, but the slug of its "
            f"label {entry.label!r} is {slug!r} (leave 'slug' out to derive it)"
        )
    if not slug:
        raise TaxonomyError(f"{where}: topic {entry.qcode} has a label without letters or digits")
    return TaxonomyTopic(entry.qcode, entry.label, slug, entry.broader, tuple(entry.terms))


def _check_links(topics: list[TaxonomyTopic], where: str) -> None:
    qcodes: set[str] = set()
    slugs: dict[str, str] = {}
    for topic in topics:
        if topic.qcode in qcodes:
            raise TaxonomyError(f"{where}: QCode {topic.qcode} appears more than once")
        qcodes.add(topic.qcode)
        if topic.slug in slugs:
            raise TaxonomyError(
                f"{where}: topics {slugs[topic.slug]} and {topic.qcode} share the slug "
                f"{topic.slug!r}; their topic streams would collide"
            )
        slugs[topic.slug] = topic.qcode
    for topic in topics:
        if topic.broader is not None and topic.broader not in qcodes:
            raise TaxonomyError(
                f"{where}: topic {topic.qcode} has broader {topic.broader!r}, "
                "which is not a QCode in this file"
            )


def _describe(exc: ValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        location = ".".join(str(p) for p in error["loc"]) or "document"
        parts.append(f"{location}: {error['msg']}")
    return "; ".join(parts)
