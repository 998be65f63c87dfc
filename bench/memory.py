"""Enrich memory over many hostile articles: is RSS flat?

``python -m bench.memory [--articles N] [--ner on|off]`` enriches N articles whose
text is made of words never seen before (random letters and digits, long unspaced
runs, symbols), in batches as the worker does, and prints the process's RSS every
10% of the way, with the growth over the second half. Words that are all new are
the worst case for every cache and for spaCy's string store.
"""

from __future__ import annotations

import argparse
import random
import string
import time

import psutil

from shared.models import ArticleIn
from shared.normalize import normalize
from shared.settings import Settings

ALPHABET = string.ascii_letters + string.digits


PROSE = (
    "The government said on Monday that talks with union leaders would resume in {w}.",
    "Shares of {W} Corp rose after the company reported a quarterly profit of {n} million.",
    "Prime Minister {W} told reporters the budget would come in March, citing {w} data.",
    "Officials said heavy rain had closed roads near {W} for days; code {w}/{w} applied.",
)


def hostile_article(rng: random.Random, n: int, size: int = 1500) -> ArticleIn:
    """English news sentences full of words never seen before: names, codes, long
    unspaced runs, so that the language is English and every step runs."""

    def new_word() -> str:
        k = rng.choice((4, 6, 9, 14, 40, 200))
        return "".join(rng.choices(ALPHABET, k=k))

    parts: list[str] = []
    length = 0
    while length < size:
        sentence = rng.choice(PROSE).format(
            w=new_word(), W=new_word().capitalize(), n=rng.randint(1, 999)
        )
        parts.append(sentence)
        length += len(sentence) + 1
    # Declared English, as most feeds do: the detector may call text this odd "zxx"
    # and skip NER, which would hide what NER costs.
    return ArticleIn(
        title=f"Report {n}: {new_word().capitalize()} talks resume",
        body=" ".join(parts),
        language="en",
    )


def main(argv: list[str] | None = None) -> int:
    from services.enrich.pipeline import Enricher

    parser = argparse.ArgumentParser(prog="bench.memory", description=__doc__.split("\n")[0])
    parser.add_argument("--articles", type=int, default=100_000)
    parser.add_argument("--ner", choices=("on", "off"), default="on")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--size", type=int, default=1500, help="characters per article")
    args = parser.parse_args(argv)
    rng = random.Random(1)
    enricher = Enricher(Settings(ner=args.ner))
    process = psutil.Process()
    step = max(1, args.articles // 10)
    samples: list[tuple[int, float]] = []
    started = time.perf_counter()
    for start in range(0, args.articles, args.batch):
        batch = [
            normalize(hostile_article(rng, n, size=args.size))
            for n in range(start, min(start + args.batch, args.articles))
        ]
        enricher.enrich_batch(batch)
        done = start + len(batch)
        if done // step != start // step or done == args.articles:
            rss = process.memory_info().rss / 2**20
            samples.append((done, rss))
            print(f"{done:>8} articles  RSS {rss:7.1f} MB  {time.perf_counter() - started:6.0f} s",
                  flush=True)  # fmt: skip
    print(f"model loaded again {enricher.model_reloads} times (NEWSFLOW_NER_MAX_NEW_WORDS)")
    half = samples[len(samples) // 2 - 1]
    last = samples[-1]
    per_k = (last[1] - half[1]) / max(1, (last[0] - half[0]) / 1000)
    print(f"growth over the second half: {last[1] - half[1]:+.1f} MB ({per_k:+.2f} MB per 1,000)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
