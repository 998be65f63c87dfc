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

CLASSIFIER = "newsflow-lexicon"
CLASSIFIER_VERSION = "3"
TITLE_WEIGHT = 2.0
LEAD_WEIGHT = 1.5  # a body term in the first LEAD_WORDS words counts this much more
LEAD_WORDS = 50
PHRASE_BONUS = 1.0
BODY_REPEAT_WEIGHT = 0.5
LENGTH_NORM_WORDS = 150
MIN_TERMS = 2  # distinct terms a top-level topic other than the best one needs
CHILD_SHARE = 0.15  # a narrower topic needs this share of its parent's terms score
DOMINANCE = 0.55  # a top-level topic under this share of the best one's score is dropped
# relevance = 1 / (1 + exp(-(CALIBRATION_SLOPE * ln(score) + CALIBRATION_INTERCEPT))),
# fitted (Platt scaling on ln(score)) on the pooled dev sets: see scripts/calibrate_topics.py.
CALIBRATION_SLOPE = 1.414
CALIBRATION_INTERCEPT = -3.159
CALIBRATION_BEST = 1.783  # added for the article's best top-level topic
MAX_TERMS_SHOWN = 10
# The learned model: its probability for a topic, above MODEL_FLOOR, adds up to
# MODEL_WEIGHT to the topic's score; from MODEL_GATE on it also counts as plain
# evidence (so the topic's context terms count).
MODEL_WORDS = 120  # the model reads the title and this many words of the body
MODEL_WEIGHT = 6.0
MODEL_FLOOR = 0.1
MODEL_GATE = 0.5
MODEL_CONTEXT_GATE = 0.9  # from this probability on, the model lets context terms count
# ... and from MODEL_CONTEXT_SUPPORT on when the topic has CONTEXT_QUORUM distinct
# context terms: several ambiguous words that the model agrees with are evidence
# ("revenue", "sales" and "company" in a two-line results item).
MODEL_CONTEXT_SUPPORT = 0.2
CONTEXT_QUORUM = 2
MODEL_REASONS = 3  # words shown as the reason of a topic that only the model found
MODEL_MIN_FEATURES = 3  # the model speaks only when it knows this many features of the text

PACKAGED_TAXONOMY = "data/taxonomy.json"
PACKAGED_MODEL = "data/topic_model"


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
    "premiere dose booking booked starring"
)
_SIBILANT_ENDINGS = ("s", "x", "z", "ch", "sh")


# The caches below hold short keys only: a word or chunk longer than this is almost
# always unique (a code, a URL, junk), so caching it would only cost memory, and the
# caches stay bounded in bytes (about 100,000 x 64 characters at most), not just in
# entries.
CACHED_CHARS = 64


def stem(word: str) -> str:
    """``_stem``, cached for words of at most ``CACHED_CHARS`` characters."""
    return _stem_cached(word) if len(word) <= CACHED_CHARS else _stem(word)


@functools.lru_cache(maxsize=65_536)
def _stem_cached(word: str) -> str:
    return _stem(word)


def _stem(word: str) -> str:
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


# --- the learned model -------------------------------------------------------------

_STOP = _words(
    "the and for that with from this have has had was were are been will would could "
    "should their there they them than then into over after before about also said says "
    "its his her she him our out not but who what when where which while more most some "
    "such only other new one two three first last year years can may just like get got "
    "all any each very much many how why you your yes now off per via upon amid"
)


def _chunk_words(chunk: str) -> tuple[str, ...]:
    """The model's words of a whitespace-free chunk; "" for a stop word or number."""
    return _chunk_words_cached(chunk) if len(chunk) <= CACHED_CHARS else _words_of(chunk)


@functools.lru_cache(maxsize=100_000)
def _chunk_words_cached(chunk: str) -> tuple[str, ...]:
    return _words_of(chunk)


def _words_of(chunk: str) -> tuple[str, ...]:
    return tuple(
        "" if len(w) < 3 or w in _STOP or not w.isalpha() else w
        for w in (stem(t) for t in _TOKEN_RE.findall(chunk.lower()))
    )


def model_features(title: str, body: str) -> list[str]:
    """The features the topic model reads: stemmed words of the title and of the
    first ``MODEL_WORDS`` words of the body (no stop words, no numbers), and the
    pairs of neighbouring ones ("interest rat")."""
    features: list[str] = []
    for chunks in (title.split(), body.split(maxsplit=MODEL_WORDS)[:MODEL_WORDS]):
        previous = ""
        for chunk in chunks:
            for word in _chunk_words(chunk):
                if word:
                    features.append(word)
                    if previous:
                        features.append(f"{previous} {word}")
                previous = word
    return features


class TopicModel:
    """Softmax regression over ``model_features``, trained offline by
    ``scripts/train_topic_model.py``; inference is a sum of weight rows."""

    def __init__(self, meta: dict[str, Any], matrix: Any) -> None:
        import numpy as np

        self.name = str(meta["name"])
        self.version = str(meta["version"])
        self.classes: tuple[str, ...] = tuple(meta["classes"])
        self.vocabulary: tuple[str, ...] = tuple(meta["vocabulary"])
        self._position = {feature: i for i, feature in enumerate(self.vocabulary)}
        weights = np.asarray(matrix, dtype=np.float32)
        if weights.shape != (len(self.vocabulary) + 1, len(self.classes)):
            raise TaxonomyError(f"topic model weights have shape {weights.shape}")
        self._weights = weights[:-1]
        self._bias = weights[-1]

    @classmethod
    def load_packaged(cls) -> TopicModel:
        """The packaged model (``data/topic_model.json`` and ``.npy``)."""
        import io

        import numpy as np

        resource = importlib.resources.files(__package__ or "services.enrich")
        try:
            meta = json.loads(resource.joinpath(PACKAGED_MODEL + ".json").read_text("utf-8"))
            raw = resource.joinpath(PACKAGED_MODEL + ".npy").read_bytes()
        except OSError as exc:
            raise TaxonomyError(f"cannot read the packaged topic model: {exc}") from exc
        return cls(meta, np.load(io.BytesIO(raw), allow_pickle=False))

    @property
    def provenance(self) -> str:
        return f"{self.name} {self.version}"

    def predict(self, title: str, body: str) -> tuple[list[float], list[int]]:
        """Class probabilities (in ``classes`` order) and the vocabulary rows read."""
        import numpy as np

        position = self._position
        rows = sorted(
            {i for f in model_features(title, body) if (i := position.get(f)) is not None}
        )
        logits = self._bias.copy()
        if rows:
            logits += self._weights[rows].sum(axis=0) / math.sqrt(len(rows))
        logits -= logits.max()
        p = np.exp(logits)
        p /= p.sum()
        return [float(x) for x in p], rows

    def reasons(self, rows: list[int], klass: int, count: int = MODEL_REASONS) -> list[str]:
        """The features among ``rows`` that speak most for class ``klass``."""
        if not rows:
            return []
        column = self._weights[rows, klass]
        best = sorted(range(len(rows)), key=lambda i: -float(column[i]))[:count]
        return [self.vocabulary[rows[i]] for i in best if column[i] > 0]


# --- the file ------------------------------------------------------------------


class _TopicEntry(BaseModel):
    model_config = ConfigDict(extra="forbid")

    qcode: str = Field(min_length=1)
    label: str = Field(min_length=1)
    slug: str | None = None
    broader: str | None = None
    terms: list[str] = Field(default_factory=list)
    context_terms: list[str] = Field(default_factory=list)
    negative_terms: list[str] = Field(default_factory=list)

    @field_validator("terms", "context_terms", "negative_terms")
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
    context_terms: tuple[str, ...] = ()  # count only beside one of ``terms``
    negative_terms: tuple[str, ...] = ()  # evidence against the topic

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


PLAIN, CONTEXT, NEGATIVE = 0, 1, 2


class _Entry(NamedTuple):
    """What one matched term adds to one topic."""

    topic: int
    term: str
    weight: float  # 1 + PHRASE_BONUS per extra word of the phrase
    kind: int  # PLAIN, CONTEXT (counts only beside a plain term) or NEGATIVE


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
        if len(chunk) > CACHED_CHARS:
            return coded
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
        model: TopicModel | None = None,
    ) -> None:
        self.name = name
        self.version = version
        self.attribution = attribution
        self.language = language
        self.topics: tuple[TaxonomyTopic, ...] = tuple(topics)
        self._levels = _levels(self.topics)
        self._roots = [chain[-1] for chain in _ancestors(self.topics)]
        self._index = _build_index(self.topics)
        self._chunk_codes = _ChunkCodes(self._index.codes)
        # The model's classes that are top-level topics of this taxonomy (by slug): a
        # user taxonomy without them is classified by its terms alone.
        by_slug = {t.slug: i for i, t in enumerate(self.topics) if t.top_level}
        self._model_map: tuple[tuple[int, int], ...] = ()
        if model is not None:
            self._model_map = tuple(
                (k, by_slug[slug]) for k, slug in enumerate(model.classes) if slug in by_slug
            )
        self.model = model if self._model_map else None
        known = {topic_index for _, topic_index in self._model_map}
        self._model_known = [i in known for i in range(len(self.topics))]

    @property
    def provenance(self) -> str:
        """``"<name> <version> (<classifier>)"``, as recorded in ``Provenance.taxonomy``."""
        return f"{self.name} {self.version} ({self.classifier})"

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
        # The packaged model reads English: it joins a taxonomy of English terms.
        model = _packaged_model() if language in (None, "en") else None
        return cls(document.name, document.version, document.attribution, topics, language, model)

    @property
    def classifier(self) -> str:
        """The scoring code that ``classify`` runs, and the model it uses, if any."""
        lexicon = f"{CLASSIFIER} {CLASSIFIER_VERSION}"
        return lexicon if self.model is None else f"{lexicon} + {self.model.provenance}"

    def classify(self, title: str, body: str, threshold: float) -> list[Topic]:
        """Topics of one article with ``relevance >= threshold``, best first.

        Evidence, per topic: each distinct matched term adds ``TITLE_WEIGHT`` when it
        is in the title and ``1 + BODY_REPEAT_WEIGHT * ln(body count)`` for the body
        (times ``LEAD_WEIGHT`` when it is in the first ``LEAD_WORDS`` words), times
        its phrase weight. A context term (``context_terms``: an ambiguous word such
        as "team" or "forces") counts only when the topic also has a plain term, or
        the model gives the topic ``MODEL_CONTEXT_GATE``, or ``MODEL_CONTEXT_SUPPORT``
        with ``CONTEXT_QUORUM`` distinct context terms. The
        sum is divided by ``sqrt(words / 150)`` for articles over 150 words. A
        top-level topic under ``DOMINANCE`` times the best top-level score is
        dropped, and a narrower topic is returned only with its top-level topic.
        Relevance is the calibrated ``sigmoid(a * ln(score) + b)``.

        Each ``Topic.terms`` lists the distinct matched terms, most frequent first,
        at most ten. No term matched, or none reaching the threshold: an empty list.
        """
        index = self._index
        chunk_codes = self._chunk_codes
        # Lower-casing chunk by chunk is lower-casing the text: no rule looks across
        # white space.
        title_coded = "".join(map(chunk_codes.__getitem__, title.split()))
        body_coded = "".join(map(chunk_codes.__getitem__, body.split()))
        in_title = index.find(title_coded)
        in_body = index.find(body_coded)
        model = self.model
        if not in_title and not in_body and model is None:
            return []
        in_lead = index.find(body_coded[:LEAD_WORDS]) if in_body else {}
        # Matched terms in the order of their first match, title first; each topic
        # sums its terms in that order.
        entries = index.entries
        size = len(self.topics)
        plain = [0.0] * size
        context = [0.0] * size
        negative = [0.0] * size
        in_title_plain = [False] * size
        plain_terms = [0] * size  # distinct plain terms matched
        context_terms = [0] * size
        counts: dict[str, int] = {}  # matched term -> title and body count, in that order
        for key in (*in_title, *(k for k in in_body if k not in in_title)):
            title_count = in_title.get(key, 0)
            body_count = in_body.get(key, 0)
            counts[key] = title_count + body_count
            value = TITLE_WEIGHT if title_count else 0.0
            if body_count:
                value += _body_value(body_count) * (LEAD_WEIGHT if key in in_lead else 1.0)
            for topic_index, _, weight, kind in entries[key]:
                if kind == PLAIN:
                    plain[topic_index] += value * weight
                    plain_terms[topic_index] += 1
                    if title_count:
                        in_title_plain[topic_index] = True
                elif kind == CONTEXT:
                    context[topic_index] += value * weight
                    context_terms[topic_index] += 1
                else:
                    negative[topic_index] += value * weight
        words = len(title_coded) + len(body_coded)
        norm = math.sqrt(max(words, LENGTH_NORM_WORDS) / LENGTH_NORM_WORDS)
        roots = self._roots
        boost = [0.0] * size
        gate = [False] * size
        probabilities: list[float] = []
        rows: list[int] = []
        if model is not None:
            probabilities, rows = model.predict(title, body)
            if len(rows) < MODEL_MIN_FEATURES:
                probabilities = []
            for klass, topic_index in self._model_map if probabilities else ():
                p = probabilities[klass]
                # Alone (no term of the topic matched), the model must be sure.
                alone = plain[topic_index] == 0.0 and context[topic_index] == 0.0
                if p > (MODEL_GATE if alone else MODEL_FLOOR):
                    boost[topic_index] = MODEL_WEIGHT * (p - MODEL_FLOOR) / (1.0 - MODEL_FLOOR)
                    gate[topic_index] = p >= MODEL_CONTEXT_GATE or (
                        p >= MODEL_CONTEXT_SUPPORT and context_terms[topic_index] >= CONTEXT_QUORUM
                    )
        # Only the topics some evidence touched are scored.
        touched = [
            i
            for i in range(size)
            if plain[i] > 0.0 or context[i] > 0.0 or negative[i] > 0.0 or boost[i] > 0.0
        ]
        # A context term counts when the topic's top-level topic has a plain term (or
        # the model is sure of it).
        scores: dict[int, float] = {}
        lexical: dict[int, float] = {}
        for i in touched:
            p, c, b = plain[i], context[i], boost[i]
            root = roots[i]
            ok = plain[root] > 0.0 or gate[root]
            if p > 0.0 or b > 0.0 or (c > 0.0 and ok):
                lex = (p + (c if ok else 0.0) - negative[i]) / norm
                scores[i] = max(0.0, lex + b)
                lexical[i] = scores[i] - b
        levels = self._levels
        best = max((sc for i, sc in scores.items() if levels[i] == 1), default=0.0)
        if best <= 0.0:
            return []
        # Dominance: a top-level topic under DOMINANCE times the best one's score is
        # dropped, unless one of its plain terms is in the title. A topic the model
        # does not know (labour) is judged on terms alone against the best terms
        # score, so the model's evidence for another topic (economy) cannot push
        # it out.
        lexical_floor = DOMINANCE * max(
            (sc for i, sc in lexical.items() if levels[i] == 1), default=0.0
        )
        floor = DOMINANCE * best
        known = self._model_known
        relevant: dict[int, float] = {}
        for topic_index, score in scores.items():
            root = roots[topic_index]
            if score <= 0.0 or root not in scores:
                continue
            if not in_title_plain[root] and (
                scores[root] < floor if known[root] else lexical[root] < lexical_floor
            ):
                continue
            if levels[topic_index] != 1 and score < CHILD_SHARE * lexical[root]:
                continue  # a narrower topic must carry much of its parent's evidence
            if (
                levels[topic_index] == 1
                and score < best
                and not in_title_plain[topic_index]
                and plain_terms[topic_index]
                + (context_terms[topic_index] if plain[topic_index] > 0.0 else 0)
                < MIN_TERMS
            ):
                continue  # a second topic needs independent evidence
            relevance = round(_relevance(score, scores[root] >= best), 3)
            if not (relevance < threshold or relevance <= 0.0):
                relevant[topic_index] = relevance
        # A narrower topic only with its top-level topic.
        relevant = {i: r for i, r in relevant.items() if roots[i] in relevant}
        if not relevant:
            return []
        terms: dict[int, list[tuple[int, str]]] = {topic_index: [] for topic_index in relevant}
        for key, count in counts.items():
            for topic_index, term, _, kind in entries[key]:
                if topic_index in terms and kind != NEGATIVE:
                    terms[topic_index].append((-count, term))
        if model is not None:
            for klass, topic_index in self._model_map:
                if topic_index in terms and not terms[topic_index]:
                    reasons = _surface_words(model.reasons(rows, klass), title, body)
                    terms[topic_index] = [(0, w) for w in reasons]
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
                    level=levels[topic_index],
                    broader=topic.broader,
                )
            )
        found.sort(key=lambda t: (-t.relevance, t.qcode))
        return found


def _relevance(score: float, best: bool) -> float:
    """The calibrated relevance of a score above 0; ``best``: the article's best
    top-level topic (or a narrower topic of the same score)."""
    z = CALIBRATION_SLOPE * math.log(score) + CALIBRATION_INTERCEPT
    if best:
        z += CALIBRATION_BEST
    return 1.0 / (1.0 + math.exp(-z)) if z > -40.0 else 0.0


def _surface_words(features: list[str], title: str, body: str) -> list[str]:
    """The model's features as the article writes them: "forc" -> "forces",
    "interest rat" -> "interest rates" (the first word of the text with that stem)."""
    if not features:
        return []
    wanted = {part for feature in features for part in feature.split()}
    surface: dict[str, str] = {}
    for text in (title, " ".join(body.split(maxsplit=MODEL_WORDS)[:MODEL_WORDS])):
        for word in _TOKEN_RE.findall(text.lower()):
            found = stem(word)
            if found in wanted and found not in surface:
                surface[found] = word
    return [" ".join(surface.get(part, part) for part in f.split()) for f in features]


@functools.lru_cache(maxsize=1)
def _packaged_model() -> TopicModel:
    return TopicModel.load_packaged()


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
    chains = _ancestors(topics)
    # Plain terms first, so that a term that is plain for a topic and a context term
    # of another (or of one of its narrower topics) stays plain for the first.
    # A term that a topic lists as a context term stays one for that topic even when
    # a narrower topic lists it as plain ("students" under education).
    own_context = [{tuple(stems(term)) for term in topic.context_terms} for topic in topics]
    for kind in (PLAIN, CONTEXT, NEGATIVE):
        for topic_index, chain in enumerate(chains):
            topic = topics[topic_index]
            targets_of = chain[:1] if kind == NEGATIVE else chain  # against itself only
            for term in (topic.terms, topic.context_terms, topic.negative_terms)[kind]:
                words = stems(term)
                if not words:
                    continue
                for word in words:
                    if word not in codes:
                        codes[word] = _code_char(len(codes))
                key = "".join(codes[word] for word in words)
                weight = 1.0 + PHRASE_BONUS * term.count(" ")
                targets = entries.setdefault(key, [])
                for target in targets_of:
                    if kind == PLAIN and tuple(words) in own_context[target]:
                        continue  # added as a context term of the target
                    if all(existing.topic != target for existing in targets):
                        targets.append(_Entry(target, term, weight, kind))
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
    return TaxonomyTopic(
        entry.qcode,
        entry.label,
        slug,
        entry.broader,
        tuple(entry.terms),
        tuple(t for t in entry.context_terms if t not in entry.terms),
        tuple(entry.negative_terms),
    )


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
