"""``Article`` batches -> ``EnrichedArticle`` batches: language, entities, places,
topics, keywords, dates, provenance.

``Enricher.enrich_batch`` is the one enrichment function: the enrich worker, the
offline ``newsflow enrich`` command and ``newsflow eval`` all call it. It does no
I/O; the spaCy model, the taxonomy, the gazetteer, the keyword extractor and the
language detector are loaded once, in ``Enricher.__init__``.

Language routing: an article keeps the ``language`` its producer gave; without
one, the detected language is set (``None`` when the detector is unsure). NER
runs when the language is the model's or unknown, and is skipped otherwise
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
from typing import Any

import shared
from services.enrich.entities import extract, extract_dates, ner_text
from services.enrich.geo import Gazetteer
from services.enrich.keywords import KeywordExtractor
from services.enrich.language import LanguageDetector
from services.enrich.nlp import load_model, model_id
from services.enrich.topics import TopicTaxonomy
from shared.models import Article, EnrichedArticle, Entity, Mention, Provenance
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
        for article, language, (entities, dates, degraded), found in zip(
            articles, languages, annotations, candidates, strict=True
        ):
            keywords = self._keywords(article, language, found, entities, degraded)
            ner_skipped = self._ner_skip_reason(language)
            topics_skipped = self._topics_skip_reason(language)
            topics = (
                []
                if topics_skipped
                else self.taxonomy.classify(article.title, article.body, threshold)
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

    def _ner_skip_reason(self, language: str | None) -> str | None:
        if self.nlp is None:
            return "NER is off (NEWSFLOW_NER=off)"
        base = _base_language(language)
        if base is None or base == self.ner_language:
            return None
        return f"language {language!r} is not the NER model's ({self.ner_language})"

    def _topics_skip_reason(self, language: str | None) -> str | None:
        base = _base_language(language)
        lexicon = self.taxonomy.language
        if base is None or lexicon is None or base == lexicon:
            return None
        return f"language {language!r} is not the taxonomy lexicon's ({lexicon})"

    def _annotations(
        self, articles: Sequence[Article], languages: Sequence[str | None]
    ) -> list[tuple[list[Entity], list[Mention], list[str]]]:
        results: list[tuple[list[Entity], list[Mention], list[str]]] = [
            ([], [], []) for _ in articles
        ]
        chosen = [i for i, lang in enumerate(languages) if self._ner_skip_reason(lang) is None]
        if not chosen:
            return results
        # Texts past spaCy's length limit are cut rather than failing the batch;
        # names beyond the cut are not annotated.
        limit: int = self.nlp.max_length
        texts = [ner_text(articles[i].title, articles[i].body)[:limit] for i in chosen]
        batch_size = max(1, min(len(texts), self.settings.ner_batch_size))
        for index, doc in zip(chosen, self.nlp.pipe(texts, batch_size=batch_size), strict=True):
            article = articles[index]
            results[index] = self.read_spans(article, list(doc.ents))
        return results

    def read_spans(
        self, article: Article, spans: list[Any]
    ) -> tuple[list[Entity], list[Mention], list[str]]:
        """Entities, places and dates from the model's spans. A step that raises
        costs this article that step only (named in the returned list, logged),
        never the batch: an optional enrichment is not worth a dead letter."""
        degraded: list[str] = []
        entities: list[Entity] = []
        dates: list[Mention] = []
        try:
            found = extract(
                article.title, article.body, spans, self.gazetteer, self.entity_passes_off
            )
            entities = found.entities
            degraded.extend(f"entities:{name}" for name in found.degraded)
        except Exception:
            logger.exception("entities failed on article %s", article.id)
            degraded.append("entities")
        try:
            entities = self.gazetteer.resolve(entities)
        except Exception:
            logger.exception("places failed on article %s", article.id)
            degraded.append("places")
        try:
            dates = extract_dates(article.title, article.body, spans)
        except Exception:
            logger.exception("dates failed on article %s", article.id)
            degraded.append("dates")
        return entities, dates, degraded
