"""Fit the relevance calibration of the topic classifier on the dev sets (Platt scaling).

Usage::

    python scripts/calibrate_topics.py ../data/topics/*-dev.jsonl

For every article, every top-level topic the classifier gives (at threshold 0.01)
is a candidate: right when it is in the article's gold topics. Its raw score is
recovered from its relevance under the current constants, and
``sigmoid(a * ln(score) + b)`` is fitted to "right" by logistic regression, each
dev set weighing the same. Prints the new ``CALIBRATION_SLOPE`` and
``CALIBRATION_INTERCEPT`` for services/enrich/topics.py, then, per relevance bin,
the share of right candidates under the new constants. The article's best
top-level topic gets ``CALIBRATION_BEST`` more in the sigmoid: the best topic is
right far more often than a second one of the same score.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from services.enrich import topics as T  # noqa: E402


def candidates(path: Path, taxonomy: T.TopicTaxonomy) -> list[tuple[float, bool, bool]]:
    """(ln score, right, is the article's best topic) of every top-level candidate."""
    top = {t.slug for t in taxonomy.topics if t.top_level}
    found = []
    for line in path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        gold = set(row.get("topics") or [row["label"]])
        first = True
        for topic in taxonomy.classify(row["title"], row["body"], 0.01):
            if topic.slug not in top:
                continue
            r = min(max(topic.relevance, 1e-4), 1 - 1e-4)
            logit = math.log(r / (1 - r)) - (T.CALIBRATION_BEST if first else 0.0)
            ln_score = (logit - T.CALIBRATION_INTERCEPT) / T.CALIBRATION_SLOPE
            found.append((ln_score, topic.slug in gold, first))
            first = False
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("dev", type=Path, nargs="+")
    args = parser.parse_args()
    taxonomy = T.TopicTaxonomy.load()
    sets = {path.name: candidates(path, taxonomy) for path in args.dev}
    x = np.concatenate([[c[0] for c in v] for v in sets.values()])
    best = np.concatenate([[float(c[2]) for c in v] for v in sets.values()])
    y = np.concatenate([[float(c[1]) for c in v] for v in sets.values()])
    w = np.concatenate([[1.0 / len(v)] * len(v) for v in sets.values()])
    w = w / w.sum()
    a, b, c = 1.0, 0.0, 0.0
    for _ in range(30000):
        p = 1 / (1 + np.exp(-(a * x + b + c * best)))
        g = (p - y) * w
        a -= 2.0 * float((g * x).sum())
        b -= 2.0 * float(g.sum())
        c -= 2.0 * float((g * best).sum())
    print(f"CALIBRATION_SLOPE = {a:.3f}")
    print(f"CALIBRATION_INTERCEPT = {b:.3f}")
    print(f"CALIBRATION_BEST = {c:.3f}")
    relevance = 1 / (1 + np.exp(-(a * x + b + c * best)))
    edges = [0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.01]
    print("bin        count  mean   right (set-weighted)")
    for low, high in itertools.pairwise(edges):
        mask = (relevance >= low) & (relevance < high)
        if mask.any():
            right = float((y[mask] * w[mask]).sum() / w[mask].sum())
            mean = float(relevance[mask].mean())
            print(f"{low:.1f}-{min(high, 1):.1f}  {int(mask.sum()):6d}  {mean:.3f}  {right:.3f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
