"""Convert the HuffPost "News Category Dataset" (Misra 2022) to newsflow dev sets.

Source: https://www.kaggle.com/datasets/rmisra/news-category-dataset (licence
CC BY 4.0: training a shipped model on it is allowed, with attribution). One JSON
object a line: ``headline``, ``short_description``, ``category``, ``date``.
Articles become headline (title) + short description (body): short items.

Only the HuffPost sections that map onto one IPTC top-level topic are kept; mixed
sections (U.S. NEWS, WORLD NEWS, WEIRD NEWS, IMPACT, PARENTING, the "VOICES"
sections, ...) are dropped, because their articles may be about anything.

Usage::

    python eval/convert_huffpost.py News_Category_Dataset_v3.json [--out ../data/topics]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from _common import DATA_DIR, write_splits

SECTIONS = {
    "POLITICS": "politics-and-government",
    "ENTERTAINMENT": "arts-culture-entertainment-and-media",
    "COMEDY": "arts-culture-entertainment-and-media",
    "MEDIA": "arts-culture-entertainment-and-media",
    "CULTURE & ARTS": "arts-culture-entertainment-and-media",
    "ARTS": "arts-culture-entertainment-and-media",
    "ARTS & CULTURE": "arts-culture-entertainment-and-media",
    "SPORTS": "sport",
    "CRIME": "crime-law-and-justice",
    "ENVIRONMENT": "environment",
    "GREEN": "environment",
    "WELLNESS": "health",
    "HEALTHY LIVING": "health",
    "BUSINESS": "economy-business-and-finance",
    "MONEY": "economy-business-and-finance",
    "TECH": "science-and-technology",
    "SCIENCE": "science-and-technology",
    "RELIGION": "religion",
    "EDUCATION": "education",
    "COLLEGE": "education",
    "STYLE & BEAUTY": "lifestyle-and-leisure",
    "STYLE": "lifestyle-and-leisure",
    "HOME & LIVING": "lifestyle-and-leisure",
    "FOOD & DRINK": "lifestyle-and-leisure",
    "TASTE": "lifestyle-and-leisure",
    "TRAVEL": "lifestyle-and-leisure",
    "WEDDINGS": "lifestyle-and-leisure",
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("--out", type=Path, default=DATA_DIR)
    args = parser.parse_args()
    rows = []
    for number, line in enumerate(args.source.read_text(encoding="utf-8").splitlines()):
        if not line.strip():
            continue
        item = json.loads(line)
        slug = SECTIONS.get(item["category"])
        title = " ".join(item["headline"].split())
        body = " ".join(item["short_description"].split())
        if slug is None or not title:
            continue
        rows.append(
            {
                "id": f"huffpost-{number}",
                "title": title,
                "body": body,
                "label": slug,
                "topics": [slug],
                "source": "huffpost",
                "section": item["category"],
                "year": int(item["date"][:4]),
            }
        )
    write_splits("huffpost", rows, args.out, trainable=True)


if __name__ == "__main__":
    main()
