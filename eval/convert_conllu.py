"""Convert an index-token-tag NER file (Babelscape/wikineural's ``.conllu``
layout: ``0<TAB>token<TAB>tag``) to the column format ``newsflow eval ner`` reads
(``token tag``, a blank line between sentences, ``-DOCSTART-`` between documents).

Files without ``-DOCSTART-`` lines (WikiNEuRal) are grouped into documents of
``--group`` consecutive sentences, so that the rules that look across an article
have an article to look at.

    python eval/convert_conllu.py IN.conllu OUT.txt [--group 8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def convert(lines: list[str], group: int) -> list[str]:
    out: list[str] = []
    has_docstart = any("-DOCSTART-" in line for line in lines)
    sentences = 0
    in_sentence = False
    for raw in lines:
        columns = raw.rstrip("\n").split("\t")
        if len(columns) < 3:
            if in_sentence:
                out.append("")
                in_sentence = False
            continue
        token, tag = columns[1], columns[-1]
        if token == "-DOCSTART-":
            out.extend(["-DOCSTART- O", ""])
            continue
        if not in_sentence:
            if not has_docstart and sentences % group == 0:
                out.extend(["-DOCSTART- O", ""])
            sentences += 1
            in_sentence = True
        out.append(f"{token} {tag}")
    if in_sentence:
        out.append("")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("source", type=Path)
    parser.add_argument("target", type=Path)
    parser.add_argument("--group", type=int, default=8)
    args = parser.parse_args(argv)
    lines = args.source.read_text(encoding="utf-8").splitlines()
    args.target.write_text("\n".join(convert(lines, args.group)) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
