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
for the body and ``TITLE_WEIGHT`` when it is in the title, times ``1 + 0.25`` per
extra word of a phrase (phrases are more specific). The sum is divided by
``sqrt(words / 150)`` for articles over 150 words, so long articles do not collect
every topic, and mapped to ``relevance = 1 - exp(-score / SCALE)``.
"""

from __future__ import annotations

import functools
import importlib.resources
import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from shared.models import Topic
from shared.streams import slugify

TITLE_WEIGHT = 2.0
PHRASE_BONUS = 0.25
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


@dataclass(slots=True)
class _TermHits:
    title: int = 0
    body: int = 0
    first: int = 0  # position of the first hit, for a stable order of equal counts


@dataclass(slots=True)
class _Index:
    """Stemmed term -> the (topic index, term) pairs it stands for."""

    terms: dict[tuple[str, ...], list[tuple[int, str]]] = field(default_factory=dict)
    first_words: set[str] = field(default_factory=set)
    longest: int = 1


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
        title_stems = stems(title)
        body_stems = stems(body)
        hits: dict[int, dict[str, _TermHits]] = {}
        self._match(title_stems, hits, in_title=True)
        self._match(body_stems, hits, in_title=False)
        if not hits:
            return []
        words = len(title_stems) + len(body_stems)
        norm = math.sqrt(max(words, LENGTH_NORM_WORDS) / LENGTH_NORM_WORDS)
        found: list[Topic] = []
        for index, term_hits in hits.items():
            relevance = round(1.0 - math.exp(-_score(term_hits) / norm / SCALE), 3)
            if relevance < threshold or relevance <= 0.0:
                continue
            topic = self.topics[index]
            ordered = sorted(
                term_hits,
                key=lambda t: (-(term_hits[t].title + term_hits[t].body), term_hits[t].first),
            )
            found.append(
                Topic(
                    qcode=topic.qcode,
                    label=topic.label,
                    slug=topic.slug,
                    relevance=relevance,
                    terms=ordered[:MAX_TERMS_SHOWN],
                    level=self._levels[index],
                    broader=topic.broader,
                )
            )
        found.sort(key=lambda t: (-t.relevance, t.qcode))
        return found

    def _match(
        self, words: list[str], hits: dict[int, dict[str, _TermHits]], *, in_title: bool
    ) -> None:
        index = self._index
        position = 0
        end = len(words)
        base = 0 if in_title else 1_000_000  # title hits order before body hits
        while position < end:
            if words[position] not in index.first_words:
                position += 1
                continue
            for length in range(min(index.longest, end - position), 0, -1):
                entries = index.terms.get(tuple(words[position : position + length]))
                if entries is None:
                    continue
                for topic_index, term in entries:
                    term_hits = hits.setdefault(topic_index, {})
                    record = term_hits.get(term)
                    if record is None:
                        record = term_hits[term] = _TermHits(first=base + position)
                    if in_title:
                        record.title += 1
                    else:
                        record.body += 1
                position += length
                break
            else:
                position += 1


def _score(term_hits: dict[str, _TermHits]) -> float:
    score = 0.0
    for term, record in term_hits.items():
        value = TITLE_WEIGHT if record.title else 0.0
        if record.body:
            value += 1.0 + BODY_REPEAT_WEIGHT * math.log(record.body)
        score += value * (1.0 + PHRASE_BONUS * term.count(" "))
    return score


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
    index = _Index()
    for topic_index, chain in enumerate(_ancestors(topics)):
        for term in topics[topic_index].terms:
            key = tuple(stems(term))
            if not key:
                continue
            entries = index.terms.setdefault(key, [])
            for target in chain:
                if all(existing != target for existing, _ in entries):
                    entries.append((target, term))
            index.first_words.add(key[0])
            index.longest = max(index.longest, len(key))
    return index


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
