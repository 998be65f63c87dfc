"""``Article`` batches -> ``EnrichedArticle`` batches: language, entities, places,
topics, keywords, dates, provenance.

``Enricher.enrich_batch`` is the one enrichment function: the enrich worker, the
offline ``newsflow enrich`` command and ``newsflow eval`` all call it. It does no
I/O; the spaCy model, the taxonomy, the gazetteer, the keyword extractor and the
language detector are loaded once, in ``Enricher.__init__``.

Language routing: an article keeps the ``language`` its producer gave; without
one, the detected language is set (``None`` when the detector is unsure). NER
runs when the language is the model's, or unknown in Latin script, and is skipped otherwise
(entities and dates empty, the reason in ``provenance.ner_skipped``): an English
model on French text finds garbage. Topics follow the taxonomy's ``language``
the same way (``provenance.topics_skipped``); keywords are extracted for every
language the extractor has stop words for, when ``NEWSFLOW_KEYWORDS`` is ``on``,
or ``auto`` (the default) and NER is on: with ``NEWSFLOW_NER=off`` the worker is
the high-volume mode, language and lexicon topics only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any, NamedTuple

import shared
from services.enrich.entities import SEPARATOR, extract, extract_dates, ner_text
from services.enrich.geo import Gazetteer
from services.enrich.keywords import KeywordExtractor
from services.enrich.language import SAMPLE_CHARS, LanguageDetector, latin_script
from services.enrich.nlp import load_model, model_id
from services.enrich.topics import TopicTaxonomy
from shared.models import Article, EnrichedArticle, Entity, Mention, Provenance
from shared.normalize import tokenizer_text
from shared.settings import Settings

logger = logging.getLogger(__name__)


def _base_language(code: str | None) -> str | None:
    return code.replace("_", "-").split("-")[0].lower() if code else None


class Enricher:
    """Entities, places, topics, keywords and dates for batches of articles.

    ``settings.ner == "off"`` skips the model: entities are then empty and topics
    still come from the taxonomy. Construction raises ``RuntimeError`` when NER is
    on and no spaCy model is installed, and ``TaxonomyError`` (a ``ValueError``)
    when the taxonomy file is unreadable or invalid, so a misconfigured worker
    stops at start-up rather than on its first message.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.nlp: Any = None if settings.ner == "off" else load_model(settings.spacy_model)
        self.ner_model: str | None = None if self.nlp is None else model_id(self.nlp)
        self.ner_language: str | None = None if self.nlp is None else str(self.nlp.lang)
        self.taxonomy = TopicTaxonomy.load(settings.taxonomy_path)
        self.gazetteer = Gazetteer.default()
        self.keywords = KeywordExtractor()
        self.extract_keywords = settings.keywords == "on" or (
            settings.keywords == "auto" and self.nlp is not None
        )
        self.languages = LanguageDetector()
        # spaCy keeps every word it has read (a lexeme in its vocabulary, its strings,
        # its tokenizer's cache; none of them shrinks): the model is loaded again once
        # its vocabulary has grown by NEWSFLOW_NER_MAX_NEW_WORDS.
        self._words_at_load = 0 if self.nlp is None else len(self.nlp.vocab)
        self.model_reloads = 0
        # Entity passes left out (``newsflow eval ner --ablate`` sets this).
        self.entity_passes_off: frozenset[str] = frozenset()
        # YAKE! runs on this thread while the model runs on the caller's: yake-rust
        # releases the GIL, so keywords cost next to nothing beside NER.
        self._keyword_thread = (
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="keywords")
            if self.extract_keywords
            else None
        )

    def enrich_batch(self, articles: Sequence[Article]) -> list[EnrichedArticle]:
        """Enrich ``articles``, returning one ``EnrichedArticle`` per article, in order.

        The NER model runs once over the articles of the batch it applies to
        (``nlp.pipe``). All articles of a batch share one ``enriched_at``.
        """
        if not articles:
            return []
        started = time.perf_counter()
        languages = [self._language(a) for a in articles]
        pending = (
            self._keyword_thread.submit(self._keyword_candidates, articles, languages)
            if self._keyword_thread is not None
            else None
        )
        annotations = self._annotations(articles, languages)
        candidates = self._keyword_results(pending, len(articles))
        enriched_at = datetime.now(UTC)
        threshold = self.settings.topic_threshold
        enriched: list[EnrichedArticle] = []
        for article, language, (entities, dates, degraded, ner_limited), found in zip(
            articles, languages, annotations, candidates, strict=True
        ):
            keywords = self._keywords(article, language, found, entities, degraded)
            ner_skipped = self._ner_skip_reason(language, article)
            topics_skipped = self._topics_skip_reason(language)
            topics = (
                []
                if topics_skipped
                # The whole body, with runs no tokenizer handles well masked.
                else self.taxonomy.classify(article.title, tokenizer_text(article.body), threshold)
            )
            provenance = Provenance(
                newsflow_version=shared.__version__,
                ner_model=None if ner_skipped else self.ner_model,
                taxonomy=self.taxonomy.provenance,
                enriched_at=enriched_at,
                language_detector=None if article.language else self.languages.version,
                keyword_extractor=self.keywords.version if self.extract_keywords else None,
                gazetteer=self.gazetteer.version if entities else None,
                ner_skipped=ner_skipped,
                ner_limited=ner_limited,
                topics_skipped=topics_skipped,
                degraded=degraded,
            )
            fields = article.model_dump()
            fields["language"] = language
            enriched.append(
                EnrichedArticle(
                    **fields,
                    entities=entities,
                    topics=topics,
                    keywords=keywords,
                    dates=dates,
                    provenance=provenance,
                )
            )
        logger.debug(
            "enriched %d articles: %d entities, %d topics in %.1f ms",
            len(enriched),
            sum(len(a.entities) for a in enriched),
            sum(len(a.topics) for a in enriched),
            (time.perf_counter() - started) * 1000,
        )
        return enriched

    def _keyword_results(
        self, pending: Future[list[list[tuple[str, float]]]] | None, count: int
    ) -> list[list[tuple[str, float]] | None]:
        """YAKE!'s candidates per article; ``None`` for each when extraction failed."""
        if pending is None:
            return [[] for _ in range(count)]
        try:
            return list(pending.result())
        except Exception:
            logger.exception("keyword extraction failed on a batch of %d articles", count)
            return [None] * count

    def _keywords(
        self,
        article: Article,
        language: str | None,
        found: list[tuple[str, float]] | None,
        entities: list[Entity],
        degraded: list[str],
    ) -> list[str]:
        """The keywords of one article; none, and "keywords" in ``degraded``, on a failure."""
        if found is not None:
            try:
                return self.keywords.select(found, entities, language)
            except Exception:
                logger.exception("keywords failed on article %s", article.id)
        degraded.append("keywords")
        return []

    def _keyword_candidates(
        self, articles: Sequence[Article], languages: Sequence[str | None]
    ) -> list[list[tuple[str, float]]]:
        return [
            self.keywords.candidates(a.title, a.body, lang)
            for a, lang in zip(articles, languages, strict=True)
        ]

    def _language(self, article: Article) -> str | None:
        if article.language:
            return article.language
        code, _confidence = self.languages.detect(article.title, article.body)
        return code

    def _ner_skip_reason(self, language: str | None, article: Article) -> str | None:
        if self.nlp is None:
            return "NER is off (NEWSFLOW_NER=off)"
        base = _base_language(language)
        if base == self.ner_language:
            return None
        if base is None:
            # Too short or too tabular to tell: a Latin-script results table or
            # name list still gets the model; text in another script does not.
            if latin_script(article.title + "\n" + article.body[:SAMPLE_CHARS]):
                return None
            return "language unknown and the text is not in Latin script"
        return f"language {language!r} is not the NER model's ({self.ner_language})"

    def _topics_skip_reason(self, language: str | None) -> str | None:
        base = _base_language(language)
        lexicon = self.taxonomy.language
        if base is None or lexicon is None or base == lexicon:
            return None
        return f"language {language!r} is not the taxonomy lexicon's ({lexicon})"

    def _annotations(
        self, articles: Sequence[Article], languages: Sequence[str | None]
    ) -> list[tuple[list[Entity], list[Mention], list[str], str | None]]:
        results: list[tuple[list[Entity], list[Mention], list[str], str | None]] = [
            ([], [], [], None) for _ in articles
        ]
        chosen = [
            i
            for i, lang in enumerate(languages)
            if self._ner_skip_reason(lang, articles[i]) is None
        ]
        if not chosen:
            return results
        # Bounded work per article: the model and the rules read at most
        # NEWSFLOW_NER_MAX_CHARS, with pathological runs masked (same offsets).
        limit = min(int(self.nlp.max_length), self.settings.ner_max_chars)
        inputs = [ner_input(articles[i].title, articles[i].body, limit) for i in chosen]
        texts = [ner_text(title, body) for title, body, _ in inputs]
        pieces = [(k, at, piece) for k, text in enumerate(texts) for at, piece in text_pieces(text)]
        batch_size = max(1, min(len(pieces), self.settings.ner_batch_size))
        docs = self.nlp.pipe((piece for _, _, piece in pieces), batch_size=batch_size)
        spans_of: list[list[_Span]] = [[] for _ in texts]
        for (k, at, _), doc in zip(pieces, docs, strict=True):
            spans_of[k].extend(
                _Span(at + e.start_char, at + e.end_char, e.label_) for e in doc.ents
            )
        self._bound_words()
        for index, (title, body, cut), spans in zip(chosen, inputs, spans_of, strict=True):
            article = articles[index]
            limited = (
                f"NER read the first {cut} of {len(article.body)} body characters "
                "(NEWSFLOW_NER_MAX_CHARS)"
                if cut is not None
                else None
            )
            results[index] = (*self.read_spans(article, spans, title, body), limited)
        return results

    def _bound_words(self) -> None:
        """Load the model again when its vocabulary has grown past the limit
        (``NEWSFLOW_NER_MAX_NEW_WORDS``): text full of words never seen before would
        otherwise grow the worker's memory without end. Called between batches,
        when no ``Doc`` of the old model is left."""
        grown = len(self.nlp.vocab) - self._words_at_load
        if grown <= self.settings.ner_max_new_words:
            return
        logger.info(
            "the NER model read %d words new to it (NEWSFLOW_NER_MAX_NEW_WORDS %d): "
            "loading the model again to free the memory they hold",
            grown,
            self.settings.ner_max_new_words,
        )
        self.nlp = load_model(self.settings.spacy_model)
        self._words_at_load = len(self.nlp.vocab)
        self.model_reloads += 1

    def read_spans(
        self,
        article: Article,
        spans: list[Any],
        title: str | None = None,
        body: str | None = None,
    ) -> tuple[list[Entity], list[Mention], list[str]]:
        """Entities, places and dates from the model's spans over ``title`` and ``body``
        (the text the model read: the article's fields, masked and cut by
        ``ner_input``; its own fields when not given). Every mention kept points into
        the stored fields. A step that raises costs this article that step only
        (named in the returned list, logged), never the batch: an optional
        enrichment is not worth a dead letter."""
        title = article.title if title is None else title
        body = article.body if body is None else body
        degraded: list[str] = []
        entities: list[Entity] = []
        dates: list[Mention] = []
        try:
            found = extract(title, body, spans, self.gazetteer, self.entity_passes_off)
            entities = _in_fields(found.entities, article.title, article.body)
            degraded.extend(f"entities:{name}" for name in found.degraded)
        except Exception:
            logger.exception("entities failed on article %s", article.id)
            degraded.append("entities")
        try:
            entities = self.gazetteer.resolve(entities, article.title, article.body)
        except Exception:
            logger.exception("places failed on article %s", article.id)
            degraded.append("places")
        try:
            dates = [
                d
                for d in extract_dates(title, body, spans)
                if _field_text(d.field, article.title, article.body)[d.start : d.end] == d.text
            ]
        except Exception:
            logger.exception("dates failed on article %s", article.id)
            degraded.append("dates")
        return entities, dates, degraded


# The model reads an article in pieces of at most this many characters, cut at a
# paragraph break (else at a space): one call into spaCy then holds the GIL for a
# bounded time, so the worker's event loop (claim heartbeat, /healthz) keeps running.
NER_PIECE_CHARS = 10_000


class _Span(NamedTuple):
    start_char: int
    end_char: int
    label_: str


def text_pieces(text: str, size: int = NER_PIECE_CHARS) -> list[tuple[int, str]]:
    """``text`` as (offset, piece) pairs of at most ``size`` characters, cut at the last
    paragraph break in the second half of each piece, else at its last space."""
    pieces: list[tuple[int, str]] = []
    start = 0
    while len(text) - start > size:
        end = text.rfind("\n\n", start + size // 2, start + size)
        if end < 0:
            end = text.rfind(" ", start + size // 2, start + size)
        if end <= start:
            end = start + size
        pieces.append((start, text[start:end]))
        start = end
    pieces.append((start, text[start:]))
    return pieces


def ner_input(title: str, body: str, limit: int) -> tuple[str, str, int | None]:
    """Title and body as the model and the entity rules read them, and where the body
    was cut (None: not cut).

    The text is at most ``limit`` characters (a body past it is cut at a space
    near the limit), and runs no tokenizer handles in linear time are masked by
    ``tokenizer_text`` one character for one, so offsets stay those of the stored fields.
    """
    title = tokenizer_text(title[:limit])
    room = max(0, limit - len(title) - len(SEPARATOR))
    cut: int | None = None
    if len(body) > room:
        space = body.rfind(" ", max(0, room - 200), room)
        cut = space if space > 0 else room
        body = body[:cut]
    return title, tokenizer_text(body), cut


def _field_text(field: str, title: str, body: str) -> str:
    return title if field == "title" else body


def _in_fields(entities: list[Entity], title: str, body: str) -> list[Entity]:
    """``entities`` with only the mentions whose text is that of the stored field at
    their offsets (a mention over a masked run is dropped, and an entity left without
    mentions)."""
    kept: list[Entity] = []
    for entity in entities:
        mentions = [
            m
            for m in entity.mentions
            if _field_text(m.field, title, body)[m.start : m.end] == m.text
        ]
        if len(mentions) == len(entity.mentions):
            kept.append(entity)
        elif mentions:
            kept.append(
                entity.model_copy(update={"mentions": mentions, "mention_count": len(mentions)})
            )
    return kept
