"""``make bench-scale``: search latency and sink rate as the store grows.

Loads N synthetic articles straight into a store (``Storage.upsert_many`` in
batches, as the sink writes them: no Redis, no enrichment) and, at 10%, 50% and
100% of N, times the searches users make: ``topic=``, ``topic=&since=`` (the same
window of the newest articles at every size), ``entity=``, ``q=<common word>``,
20 consecutive pages of a topic, ``sort=relevance`` and the topic counts (without
and with ``interval``). Prints p50/p95 per size and the ratio last/first, and the
write rate of each loading window; writes ``bench/results/scale-<backend>-<time>.json``.

The articles are built from varied text: sentences drawn with a Zipf law from the
words of the project's own hand-written articles (``eval/modern``, ``seeds``) and
made-up words, so the full-text index has a realistic vocabulary. Topics come from
the IPTC taxonomy newsflow ships, entities from a pool of made-up names; both are
Zipf-distributed. Times advance 30 s per article with hours of jitter.

Bounded in time: ``--max-minutes`` stops loading early (the sizes measured are
then fractions of what was loaded), and each query shape stops repeating after
``--shape-seconds``. It measures; it never asserts a time.

    python -m bench.scale --n 200000                       # SQLite in a temporary file
    python -m bench.scale --n 20000 --database-url postgresql://127.0.0.1:5432/test \
        --pg-schema bench_scale                            # its own schema, dropped first
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import hashlib
import itertools
import random
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

import orjson

from shared.models import EnrichedArticle, Entity, Mention, Provenance, Topic
from shared.storage import SearchQuery, Storage, open_storage

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
T0 = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
STEP = dt.timedelta(seconds=30)
SINCE_WINDOW = dt.timedelta(days=2)  # about 5,800 articles at 30 s apart
SIZES = (0.1, 0.5, 1.0)
PAGES = 20

# --- corpus -------------------------------------------------------------------------------


def _source_words() -> list[str]:
    """Words of the project's own hand-written articles, most frequent first."""
    texts: list[str] = []
    for path in sorted((REPO / "eval" / "modern").glob("*.jsonl")):
        for line in path.read_bytes().splitlines():
            if line.strip():
                item = orjson.loads(line)
                texts += [item.get("title", ""), item.get("body", "")]
    texts += [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    counts: dict[str, int] = {}
    for text in texts:
        for raw in text.split():
            word = raw.strip(".,;:!?\"'()[]")
            if word.isalpha():
                counts[word] = counts.get(word, 0) + 1
    return sorted(counts, key=lambda w: -counts[w])


def _made_up_words(rng: random.Random, n: int) -> list[str]:
    syllables = [c + v for c in "bcdfghklmnprstvz" for v in "aeiou"] + ["ä", "é", "ø", "ñ"]
    return ["".join(rng.choices(syllables, k=rng.randint(2, 4))) for _ in range(n)]


class Corpus:
    """A deterministic generator of synthetic enriched articles."""

    def __init__(self, seed: int = 17) -> None:
        rng = random.Random(seed)
        self.rng = rng
        self.vocab = _source_words() + _made_up_words(rng, 20_000)
        weights = [1.0 / (rank + 1) for rank in range(len(self.vocab))]
        sentences = []
        for _ in range(6_000):
            words = rng.choices(self.vocab, cum_weights=list(itertools.accumulate(weights)), k=14)
            sentences.append(" ".join(words).capitalize() + ".")
        self.sentences = sentences
        taxonomy = orjson.loads(
            (REPO / "services" / "enrich" / "data" / "taxonomy.json").read_bytes()
        )
        self.topics = [(t["qcode"], t["label"], t["slug"]) for t in taxonomy["topics"]]
        firsts = _made_up_words(rng, 400)
        lasts = _made_up_words(rng, 1_500)
        self.people = [
            f"{first.title()} {last.title()}"
            for first, last in zip(firsts * 8, lasts * 2, strict=False)
        ]
        self.places = [w.title() for w in _made_up_words(rng, 600)]
        self.sources = [f"Wire {w.title()}" for w in _made_up_words(rng, 60)]
        self._topic_weights = list(
            itertools.accumulate(1.0 / (r + 1) for r in range(len(self.topics)))
        )
        self._people_weights = list(
            itertools.accumulate(1.0 / (r + 1) for r in range(len(self.people)))
        )
        self._place_weights = list(
            itertools.accumulate(1.0 / (r + 1) for r in range(len(self.places)))
        )

    def common_words(self) -> list[str]:
        """Frequent words (ranks 10-40) that a user might search for."""
        return [w for w in self.vocab[10:60] if len(w) > 3][:12]

    def article(self, i: int) -> EnrichedArticle:
        rng = random.Random(i * 7919 + 1)
        body = " ".join(rng.choices(self.sentences, k=rng.randint(25, 45)))
        title = rng.choice(self.sentences)[:-1]
        people = rng.choices(self.people, cum_weights=self._people_weights, k=rng.randint(1, 4))
        places = rng.choices(self.places, cum_weights=self._place_weights, k=rng.randint(1, 3))
        body = f"{' and '.join(people)} spoke in {' and '.join(places)}. {body}"
        entities = []
        for rank, (name, kind) in enumerate(
            dict.fromkeys([(p, "PERSON") for p in people] + [(p, "GPE") for p in places])
        ):
            start = body.find(name)
            entities.append(
                Entity(
                    name=name,
                    type=kind,
                    salience=round(1 / (rank + 1), 3),
                    mention_count=1,
                    surface_forms=[name],
                    mentions=[Mention(field="body", start=start, end=start + len(name), text=name)],
                )
            )
        chosen = dict.fromkeys(
            rng.choices(self.topics, cum_weights=self._topic_weights, k=rng.randint(1, 4))
        )
        topics = [
            Topic(qcode=q, label=label, slug=slug, relevance=round(rng.uniform(0.3, 1), 3))
            for q, label, slug in chosen
        ]
        published = T0 + STEP * i + dt.timedelta(seconds=rng.randint(-6 * 3600, 6 * 3600))
        received = published + dt.timedelta(minutes=rng.randint(1, 30))
        return EnrichedArticle(
            id=hashlib.blake2b(f"scale-{i}".encode(), digest_size=16).hexdigest(),
            title=title,
            body=body,
            url=f"https://scale.bench/{i}",
            canonical_url=f"https://scale.bench/{i}",
            source=rng.choice(self.sources),
            language=rng.choices(["en", "en", "en", "de", "fr", "es"])[0],
            published_at=published,
            received_at=received,
            content_hash=hashlib.sha256(body.encode()).hexdigest(),
            word_count=len(body.split()),
            entities=entities,
            topics=topics,
            keywords=[],
            provenance=Provenance(
                newsflow_version="bench",
                ner_model=None,
                taxonomy="iptc-mediatopic",
                enriched_at=received + dt.timedelta(seconds=1),
            ),
        )


# --- measuring ----------------------------------------------------------------------------


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


async def _timed(
    call: Callable[[], Awaitable[Any]], reps: int, budget_s: float
) -> tuple[list[float], Any]:
    samples: list[float] = []
    spent = 0.0
    result: Any = None
    for _ in range(reps):
        started = time.perf_counter()
        result = await call()
        elapsed = time.perf_counter() - started
        samples.append(elapsed * 1000)
        spent += elapsed
        if spent > budget_s and len(samples) >= 3:
            break
    return samples, result


async def measure(
    store: Storage, corpus: Corpus, newest: dt.datetime, reps: int, budget_s: float
) -> dict[str, dict[str, float]]:
    """p50/p95 in ms of every query shape on the store as it is."""
    top_topics = [slug for _, _, slug in corpus.topics[:4]]
    people = corpus.people[:6]
    words = corpus.common_words()
    since = newest - SINCE_WINDOW
    shapes: dict[str, Callable[[int], Awaitable[Any]]] = {
        "topic=": lambda k: store.search(SearchQuery(topic=top_topics[k % 4])),
        "topic=&since=": lambda k: store.search(SearchQuery(topic=top_topics[k % 4], since=since)),
        "entity=": lambda k: store.search(SearchQuery(entity=people[k % len(people)])),
        "q=<common word>": lambda k: store.search(SearchQuery(q=words[k % len(words)])),
        "sort=relevance": lambda k: store.search(
            SearchQuery(q=words[k % len(words)], sort="relevance")
        ),
        "counts": lambda k: store.topic_counts(None),
        "counts&since=": lambda k: store.topic_counts(since),
        "counts?interval=day": lambda k: store.topic_counts_by_interval(None, "day"),
        "counts?interval=hour&since=": lambda k: store.topic_counts_by_interval(since, "hour"),
    }
    out: dict[str, dict[str, float]] = {}
    for name, make in shapes.items():
        counter = itertools.count()
        samples, _ = await _timed(lambda m=make, c=counter: m(next(c)), reps, budget_s)
        out[name] = {"p50": _pct(samples, 0.5), "p95": _pct(samples, 0.95), "n": len(samples)}
    # 20 consecutive pages of the broadest topic, each page timed.
    pages: list[float] = []
    cursor: str | None = None
    for _ in range(PAGES):
        started = time.perf_counter()
        page = await store.search(SearchQuery(topic=top_topics[0], cursor=cursor))
        pages.append((time.perf_counter() - started) * 1000)
        cursor = page.next_cursor
        if cursor is None:
            break
    out["20 pages (each)"] = {"p50": _pct(pages, 0.5), "p95": _pct(pages, 0.95), "n": len(pages)}
    out["20 pages (total)"] = {"p50": sum(pages), "p95": sum(pages), "n": 1}
    return out


def _schema_url(url: str, schema: str) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    query["options"] = f"{query.get('options', '')} -c search_path={schema}".strip()
    return urlunsplit(parts._replace(query=urlencode(query, quote_via=quote)))


def _drop_pg_schema(url: str, schema: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))


def _fresh_pg_schema(url: str, schema: str) -> str:
    import psycopg
    from psycopg import sql

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema)))
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
    return _schema_url(url, schema)


async def run(args: argparse.Namespace) -> dict[str, Any]:
    corpus = Corpus()
    with tempfile.TemporaryDirectory(prefix="newsflow-scale-") as tmp:
        if args.database_url:
            url = _fresh_pg_schema(args.database_url, args.pg_schema)
            backend = "postgresql"
        else:
            url = f"sqlite:///{tmp}/scale.db"
            backend = "sqlite"
        store = open_storage(url)
        await store.open()
        deadline = time.monotonic() + args.max_minutes * 60
        loaded, windows, sizes = 0, [], []
        try:
            for fraction in SIZES:
                target = round(args.n * fraction)
                build_s = write_s = 0.0
                start = loaded
                for first in range(loaded, target, args.batch):
                    if time.monotonic() > deadline:
                        break
                    t = time.perf_counter()
                    batch = [
                        corpus.article(i) for i in range(first, min(target, first + args.batch))
                    ]
                    build_s += time.perf_counter() - t
                    t = time.perf_counter()
                    await store.upsert_many(batch)
                    write_s += time.perf_counter() - t
                    loaded += len(batch)
                if loaded > start:
                    windows.append(
                        {"from": start, "to": loaded, "rate": (loaded - start) / write_s}
                    )
                    print(
                        f"loaded {loaded:,} ({(loaded - start) / write_s:,.0f} articles/s written,"
                        f" {build_s:.0f} s building)",
                        flush=True,
                    )
                newest = T0 + STEP * loaded
                result = await measure(store, corpus, newest, args.reps, args.shape_seconds)
                sizes.append({"stored": loaded, "latency_ms": result})
                if time.monotonic() > deadline:
                    break
        finally:
            await store.close()
            if args.database_url and not args.keep:
                _drop_pg_schema(args.database_url, args.pg_schema)
    return {"backend": backend, "n": args.n, "windows": windows, "sizes": sizes}


def table(report: dict[str, Any]) -> str:
    sizes = report["sizes"]
    head = " | ".join(f"{s['stored']:,} p50 / p95" for s in sizes)
    lines = [
        f"### {report['backend']}: search latency (ms) by articles stored",
        "",
        f"| query | {head} | p50 last/first |",
        "|---|" + "---|" * (len(sizes) + 1),
    ]
    for shape in sizes[0]["latency_ms"]:
        cells = [
            f"{s['latency_ms'][shape]['p50']:.1f} / {s['latency_ms'][shape]['p95']:.1f}"
            for s in sizes
        ]
        first, last = sizes[0]["latency_ms"][shape]["p50"], sizes[-1]["latency_ms"][shape]["p50"]
        lines.append(f"| {shape} | {' | '.join(cells)} | {last / first:.2f}x |")
    lines += ["", "| window | articles/s written |", "|---|---|"]
    lines += [f"| {w['from']:,} -> {w['to']:,} | {w['rate']:,.0f} |" for w in report["windows"]]
    if len(report["windows"]) > 1:
        ratio = report["windows"][-1]["rate"] / report["windows"][0]["rate"]
        lines.append(f"| last / first | {ratio:.2f}x |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m bench.scale", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--n", type=int, default=200_000, help="articles to load (default 200,000)")
    parser.add_argument("--database-url", help="postgresql://... (default: SQLite in a temp dir)")
    parser.add_argument("--pg-schema", default="newsflow_bench_scale", help="schema to (re)create")
    parser.add_argument("--keep", action="store_true", help="keep the PostgreSQL schema after")
    parser.add_argument("--results", type=Path, default=RESULTS, help="where to write the report")
    parser.add_argument("--batch", type=int, default=1_000, help="articles per upsert_many")
    parser.add_argument("--reps", type=int, default=20, help="timed runs per query shape")
    parser.add_argument("--shape-seconds", type=float, default=10.0, help="time budget per shape")
    parser.add_argument("--max-minutes", type=float, default=30.0, help="stop loading after this")
    args = parser.parse_args(argv)
    if args.n < 10:
        parser.error("--n: at least 10 articles")
    report = asyncio.run(run(args))
    text = table(report)
    print(text)
    args.results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    (args.results / f"scale-{report['backend']}-{stamp}.json").write_bytes(
        orjson.dumps(report, option=orjson.OPT_INDENT_2)
    )
    (args.results / f"scale-{report['backend']}-{stamp}.md").write_text(
        text + "\n", encoding="utf-8"
    )


if __name__ == "__main__":
    main()
