"""Make short wire-item views of converted dev sets: the title and the first sentence.

A wire item is often a headline and one sentence. Each input ``<set>-<split>.jsonl``
becomes ``<set>-short-<split>.jsonl`` beside it (or under ``--out``), every article
cut to its title and the first sentence of its body (at least ``MIN_WORDS`` words:
a dateline or a one-line question such as "What happened?" runs on to the next
sentence). Gold topics are kept: an editor tags the item as the article.

Usage::

    python eval/convert_short.py ../data/topics/modern-dev.jsonl \
        ../data/topics/outlets-dev.jsonl ../data/topics/wikinews-dev.jsonl
"""

from __future__ import annotations

import argparse
import json
import re
from pathlib import Path

MIN_WORDS = 8
# Where a sentence may end: . ! or ? (and a closing quote) before white space and a
# capital, a digit or a quote, or at the end of the text.
_END = re.compile(r"[.!?][\"'”’)]?(?=\s+[\"'“‘(]?[A-Z0-9]|\s*$)")
# Words whose full stop ends an abbreviation, not a sentence.
_ABBREVIATIONS = frozenset(
    [
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "mr",
        "mrs",
        "ms",
        "dr",
        "st",
        "mt",
        "no",
        "vs",
        "gov",
        "gen",
        "sen",
        "rep",
        "lt",
        "col",
        "sgt",
        "capt",
        "prof",
        "inc",
        "corp",
        "co",
        "ltd",
    ]
)


def _ends_sentence(text: str, end: int) -> bool:
    if text[end] != ".":
        return True
    word = text[:end].rsplit(" ", 1)[-1].lstrip("(\"'“‘")
    # "U.S.", "N.S.", "A." are initials; "Jan." and "Dr." abbreviations.
    return not (re.fullmatch(r"(?:[A-Za-z]\.)*[A-Za-z]", word) or word.lower() in _ABBREVIATIONS)


def first_sentence(body: str, min_words: int = MIN_WORDS) -> str:
    """The opening of ``body`` up to the end of the first sentence of ``min_words``."""
    text = " ".join(body.split())
    for match in _END.finditer(text):
        if not _ends_sentence(text, match.start()):
            continue
        head = text[: match.end()]
        if len(head.split()) >= min_words:
            return head
    return text


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("inputs", type=Path, nargs="+")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    for path in args.inputs:
        name, _, split = path.stem.rpartition("-")
        target = (args.out or path.parent) / f"{name}-short-{split}.jsonl"
        target.parent.mkdir(parents=True, exist_ok=True)
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]
        with target.open("w", encoding="utf-8") as handle:
            for row in rows:
                row["body"] = first_sentence(row["body"])
                handle.write(json.dumps(row, ensure_ascii=False) + "\n")
        print(f"{target}: {len(rows)} items")


if __name__ == "__main__":
    main()
