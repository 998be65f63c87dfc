"""What 1,000 saved filters cost the enrich worker.

Two measures, both printed by ``make bench``:

- in process: the time to find the matching filters of one enriched article, with
  the index (``FilterIndex``) and, for comparison, checking every filter in turn,
  next to the time NER-off enrichment itself takes for that article;
- end to end: the NER-off pipeline rate with 1,000 saved filters stored, against
  the same run without (``bench.bench`` runs both).

The filters are a mix a newsroom might save: topics (some of them with a language),
entities, keywords, sources, in the proportions 4:3:2:1.
"""

from __future__ import annotations

import random
import timeit
from typing import Any

import redis

from shared.streams import StreamNames
from shared.subscriptions import FilterIndex, SavedFilter, key

FILTERS = 1000


def saved_filters(n: int = FILTERS, seed: int = 7) -> list[SavedFilter]:
    from services.topic_names import topic_names

    rng = random.Random(seed)
    slugs = sorted(topic_names(None).slugs)
    # Most saved filters name broad topics; the rest any topic of the taxonomy.
    broad = ["politics", "sport", "economy-business-and-finance", "health",
             "crime-law-and-justice", "science-and-technology", "conflict-war-and-peace",
             "environment", "weather"]  # fmt: skip
    names = [
        "Iraq", "United States", "Iran", "Baghdad", "Donald Trump", "European Union",
        "China", "Apple", "Reuters", "NATO", "Ukraine", "Russia", "Microsoft", "Gaza",
        "Taylor Swift", "Manchester United", "OpenAI", "Brazil", "India", "Tesla",
    ]  # fmt: skip
    words = ["troop withdrawal", "election", "strike", "interest rates", "wildfire",
             "vaccine", "transfer", "earnings", "ceasefire", "hurricane"]  # fmt: skip
    sources = ["Reuters", "AP", "AFP", "BBC", "Bloomberg"]
    found: list[SavedFilter] = []
    for number in range(n):
        kind = number % 10
        name = f"filter-{number}"
        if kind < 4:
            found.append(
                SavedFilter(
                    name=name,
                    topics=rng.sample(rng.choice([broad, slugs]), rng.randint(1, 3)),
                    language=rng.choice([None, "en", "fr"]),
                )
            )
        elif kind < 7:
            found.append(SavedFilter(name=name, entities=rng.sample(names, rng.randint(1, 2))))
        elif kind < 9:
            found.append(SavedFilter(name=name, keywords=rng.sample(words, rng.randint(1, 2))))
        else:
            found.append(
                SavedFilter(name=name, source=rng.choice(sources), topics=rng.sample(slugs, 1))
            )
    return found


def store_filters(client: redis.Redis, names: StreamNames, filters: list[SavedFilter]) -> None:
    """Save ``filters`` as ``newsflow subscriptions add`` would."""
    client.hset(key(names), mapping={f.name: f.model_dump_json() for f in filters})


def bench_matching(corpus: list[dict[str, Any]], articles: int = 200) -> dict[str, float]:
    """Milliseconds per article: matching 1,000 filters (indexed, and one by one) and
    NER-off enrichment, over the first ``articles`` of ``corpus``; best of 3."""
    from services.enrich.pipeline import Enricher
    from shared.models import ArticleIn
    from shared.normalize import normalize
    from shared.settings import Settings

    enricher = Enricher(Settings(ner="off"))
    items = [normalize(ArticleIn.model_validate(a)) for a in corpus[:articles]]
    enricher.enrich_batch(items[:5])  # warm
    docs = enricher.enrich_batch(items)
    filters = saved_filters()
    index = FilterIndex(filters)

    def per_article(run: Any) -> float:
        return min(timeit.repeat(run, number=1, repeat=3)) / len(items) * 1000

    return {
        "filters": len(filters),
        "indexed_ms": per_article(lambda: [index.matching(d) for d in docs]),
        "linear_ms": per_article(lambda: [[f for f in filters if f.matches(d)] for d in docs]),
        "enrich_ms": per_article(lambda: enricher.enrich_batch(items)),
        "matched_per_article": sum(len(index.matching(d)) for d in docs) / len(docs),
    }
