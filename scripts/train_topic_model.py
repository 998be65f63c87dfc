"""Train the packaged topic model: softmax regression over word and bigram features.

Usage::

    python scripts/train_topic_model.py ../data/topics/huffpost-train.jsonl \
        ../data/topics/wikinews-train.jsonl [--output services/enrich/data/topic_model]

Reads converted dev-set JSONL (see eval/README.md) and uses only lines marked
``"trainable": true`` (sources whose licence allows shipping a derived model).
Features are ``services.enrich.topics.model_features`` (the same code the worker
runs): stemmed words of the title and the first ``MODEL_WORDS`` words of the body,
and their bigrams, kept when they occur in at least ``--min-df`` training articles.
Training: multinomial logistic regression, class-balanced, L2, plain numpy
mini-batch gradient descent with a fixed seed, so a rerun gives the same model.

Writes ``<output>.json`` (classes, vocabulary, training data record) and
``<output>.npy`` (float16 weights, vocabulary x classes, then one bias row).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.enrich.topics import MODEL_WORDS, model_features  # noqa: E402

DEFAULT_OUTPUT = ROOT / "services/enrich/data/topic_model"
MIN_CLASS = 30  # a topic with fewer training articles is left to the lexicon


def load(paths: list[Path]) -> list[dict[str, object]]:
    rows = []
    for path in paths:
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            if row.get("trainable"):
                rows.append(row)
    return rows


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", type=Path, nargs="+")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    parser.add_argument("--min-df", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--l2", type=float, default=1e-4)
    parser.add_argument("--rate", type=float, default=0.5)
    args = parser.parse_args()
    rows = load(args.inputs)
    labels = Counter(str(r["label"]) for r in rows)
    classes = sorted(c for c, n in labels.items() if n >= MIN_CLASS)
    rows = [r for r in rows if r["label"] in classes]
    docs = [model_features(str(r["title"]), str(r["body"])) for r in rows]
    df = Counter(f for d in docs for f in set(d))
    vocab = sorted(f for f, n in df.items() if n >= args.min_df)
    position = {f: i for i, f in enumerate(vocab)}
    ids = [
        np.array(sorted({position[f] for f in d if f in position}), dtype=np.int64) for d in docs
    ]
    y = np.array([classes.index(str(r["label"])) for r in rows])
    counts = np.bincount(y, minlength=len(classes))
    sample_weight = (len(y) / (len(classes) * counts))[y]
    rng = np.random.default_rng(0)
    weights = np.zeros((len(vocab), len(classes)))
    bias = np.zeros(len(classes))
    for epoch in range(args.epochs):
        rate = args.rate / (1 + epoch * 0.2)
        loss = 0.0
        for n in rng.permutation(len(ids)):
            x = ids[n]
            scale = 1.0 / np.sqrt(max(len(x), 1))
            logits = weights[x].sum(axis=0) * scale + bias
            logits -= logits.max()
            p = np.exp(logits)
            p /= p.sum()
            loss -= np.log(p[y[n]] + 1e-12) * sample_weight[n]
            grad = p.copy()
            grad[y[n]] -= 1.0
            grad *= sample_weight[n] * rate
            weights[x] -= scale * grad + args.l2 * rate * weights[x]
            bias -= grad * 0.1
        print(f"epoch {epoch}: loss {loss / len(ids):.4f}", file=sys.stderr)
    matrix = np.vstack([weights, bias[None, :]]).astype(np.float16)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    np.save(args.output.with_suffix(".npy"), matrix)
    sources = Counter(str(r["source"]) for r in rows)
    meta = {
        "name": "newsflow-topic-model",
        "version": datetime.now(UTC).strftime("%Y%m%d"),
        "classes": classes,
        "max_words": MODEL_WORDS,
        "vocabulary": vocab,
        "training": {
            "articles": len(rows),
            "per_source": dict(sources),
            "per_class": {c: int(counts[i]) for i, c in enumerate(classes)},
            "sources": {
                "huffpost": "HuffPost News Category Dataset (R. Misra 2022), 2018-2022 part; "
                "CC BY 4.0",
                "wikinews": "English Wikinews articles (WikinewsSum sample), 2004-2005; "
                "CC BY 2.5, (c) Wikinews contributors",
            },
            "method": f"softmax regression, min_df {args.min_df}, epochs {args.epochs}, "
            f"l2 {args.l2}, class-balanced; scripts/train_topic_model.py",
        },
    }
    args.output.with_suffix(".json").write_text(
        json.dumps(meta, ensure_ascii=False, indent=0) + "\n", encoding="utf-8"
    )
    print(f"{len(rows)} articles, {len(vocab)} features, classes {classes}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
