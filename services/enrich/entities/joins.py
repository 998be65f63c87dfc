"""Passes that join the groups of one thing written several ways."""

from __future__ import annotations

import re

from . import _lexicon as lexicon
from ._base import _Article, _Mention
from ._mentions import _plurality
from ._text import _find_all, _free_standing, _in_longer_name


def _join_plural_nationalities(groups: dict[str, list[_Mention]]) -> None:
    for key in [k for k in groups if k.endswith("s")]:
        singular = key[:-1]
        if (
            singular in groups
            and _plurality(groups[key]) == "NORP"
            and _plurality(groups[singular]) == "NORP"
        ):
            groups[singular].extend(groups.pop(key))


def _join_qualified_orgs(groups: dict[str, list[_Mention]]) -> None:
    """ "State Department" joins "US State Department" when a place or nationality
    qualifies the only longer form of the same organisation in the article."""
    labels = {k: _plurality(ms) for k, ms in groups.items()}
    qualifiers = {k for k, label in labels.items() if label in ("GPE", "LOC", "NORP")} | {
        m.name.casefold() for ms in groups.values() for m in ms if m.label in ("GPE", "NORP")
    }
    orgs = [k for k, label in labels.items() if label == "ORG"]
    for short in orgs:
        longer = [k for k in orgs if k.endswith(" " + short) and k[: -len(short) - 1] in qualifiers]
        if len(longer) == 1 and short in groups:
            groups[longer[0]].extend(groups.pop(short))


_CORPORATE_SUFFIX_RE = re.compile(
    r",?\s+(?:inc|corp|corporation|co|ltd|llc|plc|ag|sa|nv|gmbh|se|spa)\.?$", re.IGNORECASE
)


def _join_corporate_suffixes(groups: dict[str, list[_Mention]]) -> None:
    """ "Apple Inc." joins "Apple" when the article also names it without the
    suffix; "Magna International Inc" then takes in the company's first word alone
    ("Magna"), which is the company too unless it is a place or a nationality."""
    for key in list(groups):
        bare = _CORPORATE_SUFFIX_RE.sub("", key)
        if bare == key or _plurality(groups[key]) != "ORG":
            continue
        home = key
        if bare in groups:
            groups[bare].extend(groups.pop(key))
            home = bare
        first = bare.split(" ", 1)[0]
        if (
            first != bare
            and first in groups
            and _plurality(groups[first]) not in ("GPE", "LOC", "NORP")
        ):
            for m in groups[first]:
                m.label = "ORG"
            groups[home].extend(groups.pop(first))


_WORD_BREAK_RE = re.compile(r"[\s-]+")
# What stands in parentheses right after a name: "Kurdistan Democratic Party (KDP)".
_PARENTHESISED_RE = re.compile(r"\s*\(\s*([^\s()]+)\s*\)")


def _initials(name: str) -> str:
    words = [w for w in _WORD_BREAK_RE.split(name) if w]
    letters = [w[0] for w in words if w.casefold() not in lexicon.INITIAL_STOPWORDS]
    return "".join(letters).upper() if all(c.isalpha() for c in letters) else ""


def _join_acronyms(
    groups: dict[str, list[_Mention]], display: dict[str, str], article: _Article
) -> None:
    """An acronym written in parentheses after a name ("Kurdistan Democratic
    Party (KDP)") is that name: its group joins, and the parenthesised acronym
    becomes a mention so that its later uses are found too."""
    for key in list(groups):
        group = groups.get(key)
        if group is None or " " not in display[key]:
            continue
        initials = _initials(display[key])
        if len(initials) < 2:
            continue
        for m in list(group):
            text = article.field_text(m.field)
            # One pattern for every name, not one compiled per name: a new pattern
            # per article is a cache miss in ``re`` and cost more than the pass.
            match = _PARENTHESISED_RE.match(text, m.end)
            if match is None or match.group(1) != initials:
                continue
            short = initials.casefold()
            if short in groups and short != key:
                group.extend(groups.pop(short))
            elif not any(o.start == match.start(1) and o.field == m.field for o in group):
                group.append(
                    _Mention(
                        m.field,
                        match.start(1),
                        match.end(1),
                        initials,
                        initials,
                        m.label,
                        article.offset(m.field, match.start(1)),
                    )
                )
            break


def _propagatable(form: str) -> bool:
    if not form[:1].isupper() or "\n" in form:
        return False
    if " " in form:
        return True
    return len(form) >= 3 or (len(form) == 2 and form.isupper())


def _propagate_names(
    groups: dict[str, list[_Mention]], article: _Article, covered: bytearray
) -> None:
    """Add the occurrences of an entity's written forms that no span covers: the
    model tags "Lebed" in one sentence and misses it in the next. A form that two
    entities share is left alone; in an all-capital line (a headline) the
    capitalised form is looked for too."""
    owner: dict[str, str] = {}
    shared: set[str] = set()
    known: dict[tuple[str, str], int] = {}  # mentions per field and written form
    for key, group in groups.items():
        for m in group:
            known[m.field, m.text] = known.get((m.field, m.text), 0) + 1
            offset = m.offset
            covered[offset : offset + m.end - m.start] = b"\x01" * (m.end - m.start)
            for form in {m.text, m.text.upper()}:
                if not _propagatable(form):
                    continue
                if owner.setdefault(form, key) != key:
                    shared.add(form)
    forms = sorted((f for f in owner if f not in shared), key=len, reverse=True)
    if not forms:
        return
    labels = {key: _plurality(group) for key, group in groups.items()}
    for field in ("title", "body"):
        text = article.field_text(field)
        base = article.offset(field, 0)
        taken = covered[base : base + len(text)]  # also the occurrences looked at
        for form in forms:
            if text.count(form) <= known.get((field, form), 0):
                continue  # no occurrence but those already found
            key = owner[form]
            for start in _find_all(text, form):
                end = start + len(form)
                if not _free_standing(text, start, end):
                    continue
                seen = taken.find(1, start, end) != -1
                taken[start:end] = b"\x01" * (end - start)  # no shorter form inside it
                if seen:
                    continue
                line_start = text.rfind("\n", 0, start) + 1
                line_end = text.find("\n", end)
                caps_line = text[line_start : len(text) if line_end < 0 else line_end].isupper()
                if form.isupper() and not caps_line and form not in {m.text for m in groups[key]}:
                    continue  # the capitalised form only in headlines
                if not caps_line and _in_longer_name(text, start, end, lexicon.NOT_A_NAME_BEFORE):
                    continue
                offset = base + start
                covered[offset : offset + end - start] = b"\x01" * (end - start)
                groups[key].append(_Mention(field, start, end, form, form, labels[key], offset))
