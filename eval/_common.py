"""Shared helpers of the dev-set conversion scripts: hashing splits, writing JSONL.

Every converted article is one JSON line::

    {"id": ..., "title": ..., "body": ..., "label": <main top-level slug>,
     "topics": [<every gold top-level slug>], "source": ..., "year": ...,
     "trainable": true|false}

``split_of`` puts an article into ``train``, ``dev`` or ``check`` by a hash of its
text, so the split does not depend on the order of the source file and an article
never moves between splits when the source grows. Sources whose licence does not
allow shipping a derived model have no ``train`` part: those hash buckets go to
``dev``.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any

# Beside the checkout, outside the repository: ../data/topics.
DATA_DIR = Path(__file__).resolve().parents[2] / "data" / "topics"


def split_of(text: str, *, trainable: bool) -> str:
    """``train`` (60 %), ``dev`` (20 %) or ``check`` (20 %) by the SHA-1 of ``text``."""
    bucket = int(hashlib.sha1(" ".join(text.split()).encode()).hexdigest()[:8], 16) % 10
    if bucket >= 8:
        return "check"
    if bucket >= 6 or not trainable:
        return "dev"
    return "train"


def write_splits(
    name: str, rows: Iterable[dict[str, Any]], out_dir: Path, *, trainable: bool
) -> None:
    """Write ``<name>-train.jsonl``, ``<name>-dev.jsonl`` and ``<name>-check.jsonl``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    parts: dict[str, list[dict[str, Any]]] = {"train": [], "dev": [], "check": []}
    seen: set[str] = set()
    for row in rows:
        key = " ".join(f"{row['title']} {row['body']}".split()).lower()
        if key in seen:
            continue
        seen.add(key)
        row["trainable"] = trainable
        parts[split_of(key, trainable=trainable)].append(row)
    for part, items in parts.items():
        if not items:
            continue
        path = out_dir / f"{name}-{part}.jsonl"
        with path.open("w", encoding="utf-8") as handle:
            for item in items:
                handle.write(json.dumps(item, ensure_ascii=False) + "\n")
        labels = Counter(item["label"] for item in items)
        print(f"{path}: {len(items)} articles; {dict(labels.most_common())}")
