"""Body extraction from news pages: precision, recall and F1 of the text newsflow
keeps from a page (``shared.normalize``) against hand-checked article bodies.

Usage::

    python eval/html/score.py DIR        # DIR holds ground-truth.json and html/*.html.gz

``DIR`` is a checkout of the Zyte (Scrapinghub) article-extraction benchmark
(github scrapinghub/article-extraction-benchmark, MIT; 181 pages of news sites and
blogs with their article bodies checked by hand). The metric is the benchmark's own:
4-word shingles of ``\\w+`` tokens, true and false positives and negatives counted per
page, normalised per page and averaged over the pages. Both of newsflow's paths are
scored: the page's main text (``shared.html.extract_page``, with the fallback that
``normalize`` applies) and every visible text block (``html_to_text``, the
extraction before trafilatura).
"""

from __future__ import annotations

import gzip
import json
import re
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

from shared.html import extract_page
from shared.normalize import clean_text, html_to_text

_TOKEN_RE = re.compile(r"\w+")


def _shingles(text: str, n: int = 4) -> Counter[tuple[str, ...]]:
    tokens = _TOKEN_RE.findall(text)
    return Counter(tuple(tokens[i : i + n]) for i in range(max(1, len(tokens) - n + 1)))


def _counts(true: str, pred: str) -> tuple[float, float, float]:
    gold, found = _shingles(true), _shingles(pred)
    tp = sum((gold & found).values())
    fp = sum((found - gold).values())
    fn = sum((gold - found).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def _precision(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else (tp / (tp + fp) if tp + fp else 0.0)


def _recall(tp: float, fp: float, fn: float) -> float:
    return 1.0 if fp == fn == 0 else (tp / (tp + fn) if tp + fn else 0.0)


def score(pairs: list[tuple[str, str]]) -> dict[str, float]:
    counts = [_counts(true, pred) for true, pred in pairs]
    precision = statistics.mean(_precision(*c) for c in counts if c[0] + c[1] > 0)
    recall = statistics.mean(_recall(*c) for c in counts if c[0] + c[2] > 0)
    return {
        "pages": len(pairs),
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "f1": round(2 * precision * recall / (precision + recall), 3),
    }


def main(folder: Path) -> None:
    truth = json.loads((folder / "ground-truth.json").read_text(encoding="utf-8"))
    main_text: list[tuple[str, str]] = []
    visible: list[tuple[str, str]] = []
    seconds = 0.0
    for key, item in sorted(truth.items()):
        html = gzip.decompress((folder / "html" / f"{key}.html.gz").read_bytes()).decode(
            "utf-8", "replace"
        )
        started = time.perf_counter()
        page = extract_page(html)
        text = clean_text(page.text) or html_to_text(html)
        seconds += time.perf_counter() - started
        main_text.append((item["articleBody"], text))
        visible.append((item["articleBody"], html_to_text(html)))
    print(json.dumps({"newsflow (trafilatura)": score(main_text), "visible text": score(visible)}))
    print(f"extraction: {1000 * seconds / len(main_text):.1f} ms a page on average")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
