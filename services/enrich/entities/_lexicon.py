"""The word lists of the passes, read once from ``data/words.json``.

Each list there has an ``about`` line saying what its words do; the passes name
the lists, never the words. Matching is on lower-case words.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


def _load(name: str) -> dict[str, Any]:
    text = (Path(__file__).parent / "data" / name).read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


_WORDS = _load("words.json")


def words(name: str) -> frozenset[str]:
    """The list ``name`` of ``data/words.json``; ``KeyError`` for an unknown one."""
    return frozenset(_WORDS[name]["words"])


PARTICLES = words("particles")
HONORIFICS = words("honorifics")
TITLES = words("titles")
PERSON_TITLES = words("person_titles")
GENERIC_WORDS = words("generic_words")
COMMON_NOUNS = words("common_nouns")
ORG_LAST_WORDS = words("org_last_words")
ORG_LAST_WORDS_WEAK = words("org_last_words_weak")
ORG_FIRST_WORDS = words("org_first_words")
ORG_HEAD_WORDS = words("org_head_words")
EVENT_LAST_WORDS = words("event_last_words")
INITIAL_STOPWORDS = words("initial_stopwords")
NOT_A_NAME_BEFORE = words("not_a_name_before")
HOME_NATIONS = words("home_nations")
SLOGAN_WORDS = words("slogan_words")

HONORIFIC_RE = re.compile(r"(?:" + "|".join(sorted(HONORIFICS)) + r")\.?\s+(?=\S)", re.IGNORECASE)
