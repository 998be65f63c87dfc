"""One entity per person: surnames and first names join the full name."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from . import _lexicon as lexicon
from ._base import _Article, _Mention, _tokens
from ._mentions import _plurality
from ._text import _find_all, _in_longer_name, _is_word_char

# --- people --------------------------------------------------------------------


class _People:
    """Multi-token PERSON entities and the partial names that can join them."""

    def __init__(self, groups: dict[str, list[_Mention]], display: dict[str, str]) -> None:
        self.tokens = {
            key: _tokens(display[key])
            for key, mentions in groups.items()
            if len(_tokens(display[key])) >= 2 and _plurality(mentions) == "PERSON"
        }
        # A shorter full name inside a longer one ("Abdel Mahdi" in "Adel Abdel
        # Mahdi") belongs to the longer one when that is the only candidate.
        self.root = {key: key for key in self.tokens}
        for key in sorted(self.tokens, key=lambda k: -len(self.tokens[k])):
            toks = self.tokens[key]
            roots = {
                self.root[other]
                for other, other_toks in self.tokens.items()
                if len(other_toks) > len(toks)
                and (other_toks[: len(toks)] == toks or other_toks[-len(toks) :] == toks)
            }
            if len(roots) == 1:
                self.root[key] = roots.pop()

    def candidates(self, mention: _Mention) -> set[str]:
        """Roots of the people a one-word mention can be, as the first or the
        last word of the full name; the model also tags such words ORG ("the
        Trump administration", "Wang" of "Wang Donghai")."""
        if " " in mention.name or mention.label not in ("PERSON", "ORG"):
            return set()
        word = mention.name.casefold()
        found: set[str] = set()
        for key, toks in self.tokens.items():
            if toks[-1] == word or toks[0] == word:
                found.add(self.root[key])
        return found

    def surnames(self) -> dict[str, str]:
        """Surname (lower case) -> root, for surnames that belong to one person only."""
        owners: dict[str, set[str]] = defaultdict(set)
        for key, toks in self.tokens.items():
            owners[toks[-1]].add(self.root[key])
        return {word: next(iter(roots)) for word, roots in owners.items() if len(roots) == 1}


def _nearest_root(mention: _Mention, roots: set[str], groups: dict[str, list[_Mention]]) -> str:
    """Among several people, the one mentioned last before ``mention``, else the
    one mentioned first in the article."""
    best: tuple[int, str] | None = None
    for root in roots:
        before = [m.offset for m in groups[root] if m.offset < mention.offset]
        if before and (best is None or max(before) > best[0]):
            best = (max(before), root)
    if best is not None:
        return best[1]
    return min(roots, key=lambda r: (min(m.offset for m in groups[r]), r))


def _join_people(groups: dict[str, list[_Mention]], display: dict[str, str]) -> _People:
    """A longer full name takes in the shorter one inside it, and a one-word
    mention joins the one person whose first or last word it is (the nearest
    person before it when several fit)."""
    people = _People(groups, display)
    for key, root in people.root.items():
        if key != root:
            for m in groups.pop(key):
                m.joined = True
                groups[root].append(m)
    for key in [k for k in groups if k not in people.root]:
        stay: list[_Mention] = []
        for m in groups[key]:
            roots = people.candidates(m)
            if not roots:
                stay.append(m)
                continue
            root = roots.pop() if len(roots) == 1 else _nearest_root(m, roots, groups)
            m.joined = True
            groups[root].append(m)
        if stay:
            groups[key] = stay
        else:
            del groups[key]
    return people


@dataclass(slots=True)
class _Context:
    """One article and what the model found in it, for the joining steps."""

    article: _Article
    chars: bytearray  # 1 for each character of the NER text in a span or a mention
    places: set[str]

    def covered(self, start: int, end: int) -> bool:
        """Whether a span of the model, whatever its label, or a mention
        overlaps ``[start, end)`` of the NER text."""
        return self.chars.find(1, start, end) != -1


def _find_missed_surnames(
    groups: dict[str, list[_Mention]],
    display: dict[str, str],
    people: _People,
    context: _Context,
) -> None:
    """Add the occurrences of a known person's surname that no span covers
    ("Pompeo, speaking to reporters" at a sentence start)."""
    article = context.article
    other_names = {k for k in groups if k not in people.root}
    for word, root in people.surnames().items():
        if len(word) < 3 or word in context.places or word in other_names:
            continue
        written = display[root].split(" ")[-1]
        if not written[:1].isupper():
            continue
        allowed_before = set(people.tokens[root]) | lexicon.TITLES
        for field in ("title", "body"):
            text = article.field_text(field)
            for start in _find_all(text, written):
                end = start + len(written)
                if start > 0 and (_is_word_char(text[start - 1]) or text[start - 1] in "'’-"):
                    continue
                if end < len(text) and (_is_word_char(text[end]) or text[end] == "-"):
                    continue
                offset = article.offset(field, start)
                if context.covered(offset, offset + len(written)):
                    continue
                if _in_longer_name(text, start, end, allowed_before):
                    continue
                groups[root].append(
                    _Mention(field, start, end, written, written, "PERSON", offset, joined=True)
                )
