"""Convert OntoNotes 5.0 ``*.gold_conll`` files (CoNLL-2012 layout: word in
column 4, named entities in column 11 as ``(PERSON*``, ``*``, ``*)``) to the
column format ``newsflow eval ner`` reads, with CoNLL-2003 types:

    PERSON -> PER; ORG -> ORG; GPE, LOC, FAC -> LOC;
    NORP, EVENT, PRODUCT, WORK_OF_ART, LAW, LANGUAGE -> MISC; the rest -> O.

A leading "the" is dropped from every gold span ("the Senate" -> "Senate"),
as the CoNLL-2003 guidelines and the newsflow rules have it. Each document part
becomes one document (``-DOCSTART-``). Only the genres named by ``--genre``
(default ``nw/wsj nw/xinhua``, the newswire) are kept. Never convert the
CoNLL-2012 test split: it is held out.

    python eval/convert_ontonotes.py DIR OUT.txt [--genre nw/wsj --genre nw/xinhua]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

TYPES = {
    "PERSON": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    **dict.fromkeys(("NORP", "EVENT", "PRODUCT", "WORK_OF_ART", "LAW", "LANGUAGE"), "MISC"),
}


# Treebank escapes back to the characters a writer types.
WORDS = {"-LRB-": "(", "-RRB-": ")", "-LCB-": "{", "-RCB-": "}", "``": '"', "''": '"', "/.": "."}


def _sentence_tags(rows: list[list[str]]) -> list[str]:
    tags: list[str] = []
    current: str | None = None
    first = False
    for row in rows:
        word, column = row[3], row[10]
        if column.startswith("("):
            current = TYPES.get(column[1:].rstrip("*)"))
            first = True
        tag = "O"
        if current is not None:
            if first and word.casefold() == "the":
                tag = "O"  # a leading "the" is not part of the name; the next word begins it
            else:
                tag = ("B-" if first else "I-") + current
                first = False
        tags.append(tag)
        if column.endswith(")"):
            current = None
    return tags


def _join_hyphens(tokens: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """OntoNotes splits hyphenated words ("Marie - Louise"); the writer wrote
    "Marie-Louise". Parts inside one name, or outside any, are joined; a name
    beside another word ("U.S. - Japan") stays apart, spans unchanged."""
    joined: list[tuple[str, str]] = []
    i = 0
    while i < len(tokens):
        word, tag = tokens[i]
        while i + 2 < len(tokens) and tokens[i + 1][0] == "-":
            following_word, following_tag = tokens[i + 2]
            inside = tokens[i + 1][1].startswith("I-") and following_tag.startswith("I-")
            if not inside and not (tag == tokens[i + 1][1] == following_tag == "O"):
                break  # "U.S.-Japan", "Chicago-based": a name beside a word, kept apart
            word = f"{word}-{following_word}"
            i += 2
        joined.append((word, tag))
        i += 1
    return joined


def convert(paths: list[Path]) -> list[str]:
    out: list[str] = []
    for path in paths:
        rows: list[list[str]] = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("#begin"):
                out.extend(["-DOCSTART- O", ""])
                continue
            if line.startswith("#end"):
                continue
            if not line.strip():
                if rows:
                    tokens = [
                        (WORDS.get(r[3], r[3]), t)
                        for r, t in zip(rows, _sentence_tags(rows), strict=True)
                    ]
                    out.extend(f"{word} {tag}" for word, tag in _join_hyphens(tokens))
                    out.append("")
                    rows = []
                continue
            rows.append(line.split())
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--genre", action="append", default=None)
    args = parser.parse_args(argv)
    genres = args.genre or ["nw/wsj", "nw/xinhua"]
    paths = sorted(
        p
        for p in args.source.rglob("*.gold_conll")
        if any(f"/{genre}/" in p.as_posix() for genre in genres)
        and "conll-2012-test" not in p.as_posix()
    )
    lines = convert(paths)
    args.target.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(paths)} files, {lines.count('-DOCSTART- O')} documents -> {args.target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
