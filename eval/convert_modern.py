"""Split the hand-written modern sets (``eval/modern/set-*.jsonl``) into dev and check.

The files already have ``title``, ``body``, ``label`` and ``topics`` (see the
corpus branch); this adds ``source``/``trainable`` and splits by the text hash.

Usage::

    python eval/convert_modern.py set-a.jsonl set-b.jsonl [--out ../data/topics]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import DATA_DIR, write_splits


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("sources", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    rows = []
    for source in args.sources:
        for line in source.read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            item = json.loads(line)
            rows.append(
                {
                    "id": item["id"],
                    "title": item["title"],
                    "body": item["body"],
                    "label": item["label"],
                    "topics": item.get("topics") or [item["label"]],
                    "source": "modern",
                    "format": item.get("format"),
                    "year": int(str(item.get("published_at") or "2026")[:4]),
                }
            )
    # Hand-written for newsflow: a model may be trained on it, but it is kept for
    # measuring, so it has no train part.
    write_splits("modern", rows, args.out, trainable=False)


if __name__ == "__main__":
    main()
