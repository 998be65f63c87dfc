"""Text made of words never seen before must not grow the enrich worker for ever.

spaCy keeps every word it has read; the enricher loads its model again once its
vocabulary has grown past ``NEWSFLOW_NER_MAX_NEW_WORDS``. ``bench.memory``
measures RSS over 100,000 such articles; this checks the mechanism.
"""

from __future__ import annotations

import random

from bench.memory import hostile_article
from services.enrich.pipeline import Enricher
from shared.normalize import normalize
from shared.settings import Settings

MATCH_REPORT = normalize(
    hostile_article(random.Random(0), 0).model_copy(
        update={
            "title": "Hamilton wins British Grand Prix",
            "body": "Lewis Hamilton won the British Grand Prix at Silverstone on Sunday, "
            "ahead of Max Verstappen of Red Bull.",
        }
    )
)


def test_the_model_is_loaded_again_when_new_words_pile_up() -> None:
    enricher = Enricher(Settings(ner="on", ner_max_new_words=100, keywords="off"))
    loaded = len(enricher.nlp.vocab)
    rng = random.Random(5)
    articles = [normalize(hostile_article(rng, n, size=3_000)) for n in range(8)]
    enriched = enricher.enrich_batch(articles)
    assert all(doc.provenance.ner_model for doc in enriched)  # NER did read them
    assert enricher.model_reloads >= 1
    # A fresh model: none of the new words is left.
    assert len(enricher.nlp.vocab) == loaded

    # The model loaded again finds what the first one found.
    [report] = enricher.enrich_batch([MATCH_REPORT])
    names = {e.name for e in report.entities}
    assert {"Lewis Hamilton", "Max Verstappen", "Red Bull"} <= names, names


def test_ordinary_news_does_not_reload_the_model() -> None:
    enricher = Enricher(Settings(ner="on", keywords="off"))
    enricher.enrich_batch([MATCH_REPORT] * 20)
    assert enricher.model_reloads == 0


def test_topic_caches_keep_no_long_words() -> None:
    # Long unspaced runs are unique: caching them would grow memory with every article.
    from services.enrich import topics

    taxonomy = topics.TopicTaxonomy.load(None)
    rng = random.Random(9)
    junk = ["".join(rng.choices("abcdefghijklmnopqrstuvwxyz", k=300)) for _ in range(2_000)]
    before = (
        topics._stem_cached.cache_info().currsize,
        topics._chunk_words_cached.cache_info().currsize,
    )
    taxonomy.classify("Markets rally", "Stocks rose on Monday. " + " ".join(junk), 0.3)
    after = (
        topics._stem_cached.cache_info().currsize,
        topics._chunk_words_cached.cache_info().currsize,
    )
    assert after[0] - before[0] < 50 and after[1] - before[1] < 50, (before, after)
    assert all(len(chunk) <= topics.CACHED_CHARS for chunk in taxonomy._chunk_codes)
