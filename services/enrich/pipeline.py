"""``Article`` batches -> ``EnrichedArticle`` batches: entities, topics, provenance.

``Enricher.enrich_batch`` is the one enrichment function: the enrich worker and
the offline ``newsflow enrich`` command both call it. It does no I/O; the spaCy
model and the taxonomy are loaded once, in ``Enricher.__init__``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import shared
from services.enrich.entities import extract_entities, ner_text
from services.enrich.nlp import load_model, model_id
from services.enrich.topics import TopicTaxonomy
from shared.models import Article, EnrichedArticle, Entity, Provenance
from shared.settings import Settings

logger = logging.getLogger(__name__)


class Enricher:
    """Entities and topics for batches of articles.

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
        self.taxonomy = TopicTaxonomy.load(settings.taxonomy_path)

    def enrich_batch(self, articles: Sequence[Article]) -> list[EnrichedArticle]:
        """Enrich ``articles``, returning one ``EnrichedArticle`` per article, in order.

        The NER model runs once over the whole batch (``nlp.pipe``). Keywords are
        left empty. All articles of a batch share one ``enriched_at``.
        """
        if not articles:
            return []
        started = time.perf_counter()
        entity_lists = self._entities(articles)
        provenance = Provenance(
            newsflow_version=shared.__version__,
            ner_model=self.ner_model,
            taxonomy=self.taxonomy.provenance,
            enriched_at=datetime.now(UTC),
        )
        threshold = self.settings.topic_threshold
        enriched = [
            EnrichedArticle(
                **article.model_dump(),
                entities=entities,
                topics=self.taxonomy.classify(article.title, article.body, threshold),
                keywords=[],
                provenance=provenance,
            )
            for article, entities in zip(articles, entity_lists, strict=True)
        ]
        logger.debug(
            "enriched %d articles: %d entities, %d topics in %.1f ms",
            len(enriched),
            sum(len(a.entities) for a in enriched),
            sum(len(a.topics) for a in enriched),
            (time.perf_counter() - started) * 1000,
        )
        return enriched

    def _entities(self, articles: Sequence[Article]) -> list[list[Entity]]:
        if self.nlp is None:
            return [[] for _ in articles]
        # Texts past spaCy's length limit are cut rather than failing the batch;
        # names beyond the cut are not annotated.
        limit: int = self.nlp.max_length
        texts = [ner_text(a.title, a.body)[:limit] for a in articles]
        batch_size = max(1, min(len(articles), self.settings.enrich_batch_size))
        docs = self.nlp.pipe(texts, batch_size=batch_size)
        return [
            extract_entities(article.title, article.body, doc.ents)
            for article, doc in zip(articles, docs, strict=True)
        ]
