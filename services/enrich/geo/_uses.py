"""How an article uses a place name at one mention, read from the text around it.

Every rule looks at a few words on each side of the mention: a name the article
uses for a person ("Haaland had equalised"), a team ("Liverpool beat Newcastle
3-1"), a party or company ("Reform UK leader", "Nova Scotia Health") or a work
("Not Like Us") is not a place there. The same words also say where a place is:
"London, Ontario", "YARMOUTH, N.S.", "the Canadian city", "the Englewood
neighbourhood".
"""

from __future__ import annotations

import re
from collections.abc import Callable


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that may stand before a place name without making it part of another
# name: sentence openers, prepositions, compass and size qualifiers, titles.
FREE_BEFORE = _words(
    """
    a an the and or but nor so yet for of in on at to from by with into onto upon via
    across after against along amid among around as before behind below beneath beside
    between beyond despite during except inside near off outside over past since through
    throughout toward towards under underneath unlike until up within without both
    either neither each every all some many most much more few while when where whence
    whereas though although if unless because once then than also even only just still
    this that these those its his her their our your my we they he she it there here
    north south east west northern southern eastern western central northeast northwest
    southeast southwest greater upper lower inner outer downtown metro metropolitan rural
    coastal mainland suburban new old historic rest about like including neighbouring
    neighboring nearby landlocked tiny mr mrs ms dr sir president prime minister mayor
    governor gov premier king queen monday tuesday wednesday thursday friday saturday
    sunday january february march april may june july august september october november
    december
    """
)
# Words after a place name that make it part of an organisation's or team's name.
NAME_AFTER = _words(
    """
    health hydro water energy power gas electric airways airlines air bank capital times
    post herald telegraph journal gazette tribune chronicle standard fc afc united city
    town rovers wanderers athletic albion hotspur rangers indians kings super sixers
    scorchers strikers heat pillars warriors tigers lions bulls giants knights titans
    capitals royals stars thunder renegades hurricanes sundowns chiefs pirates blues
    reds sharks stormers party group holdings motors university pharmacare
    """
)
# Endings of adjectives that open a sentence before a place ("Neighbouring Uganda").
_ADJECTIVE_END = re.compile(r"(?:ing|ed|ern|al|ic|ful|less|ous|ish|ive|ian|ese|ly|-\w+)$")
_FICTIONAL_BEFORE = re.compile(
    r"\bfictional\s+(?:\w+\s+)?(?:town|city|village|country|kingdom|island|world|land)"
    r"\s+of\s+$",
    re.IGNORECASE,
)
_SPORT_WORDS = re.compile(
    r"\b(?:wickets?|innings|overs|runs|goals?|points|penalt(?:y|ies)|tries|sets?|"
    r"half-time|full-time|match|test|final|semi-final|fixture|league|cup)\b",
    re.IGNORECASE,
)
_CRICKET = re.compile(r"\b(?:wickets?|innings|overs)\b")
_SPORT_VERB_AFTER = re.compile(
    r"\s+(?:took|take|takes|scored|score|scores|won|win|wins|lost|beat|drew|reached|"
    r"declared|batted|bowled|led|trailed|conceded|equalised|equalized|claimed|collapsed|"
    r"chased|needed|need|needs|were|are|finished|ended|lead|leads|resume|resumed)\b"
)
# "Australia 246-4", "India 183/6": a side and its score, in a results line.
_SIDE_SCORE_AFTER = re.compile(r"\s+\d{1,3}(?:-\d{1,2}|/\d{1,2}| for \d{1,2})\b")
_RESULT_AFTER = re.compile(
    r"^\s+(?:beat|beats|drew|draw|draws|lost|lose|loses|edged|edge|thrashed|thrash|"
    r"defeated|defeat|hammered|overcame|routed|stunned|v|vs\.?)\b"
)
_RESULT_BEFORE = re.compile(
    r"\b(?:beat|beating|beats|v|vs\.?|against|defeated|thrashed|edged|hammered|routed|"
    r"stunned|to|with)\s+$"
)
_SCORE = re.compile(
    r"\b\d{1,3}\s*-\s*\d{1,3}\b|\bby \w+ (?:wickets?|runs?|points?|goals?)\b"
    r"|\b\d{1,3} for \d{1,2}\b"
)
# "South Africa v India", "Melbourne City v Auckland FC": a fixture.
_FIXTURE_AFTER = re.compile(r"\s+(?:v|vs\.?)\s+[A-Z]")
_PLAYERS_ACTION_AFTER = re.compile(
    r"['’]s\s+(?:(?:first|second|late|early|low|long|fine|superb)\s+)?(?:pass|shot|goal|"
    r"header|cross|free-kick|penalty|corner|tackle|strike|volley|save|century|innings|"
    r"wicket|serve|backhand|forehand|lap|brace|hat-trick|assist)\b"
)
_PLAYER_STATS = re.compile(
    r"\b\d+ (?:points|rebounds|assists|goals|runs|wickets|saves|tackles|yards|touchdowns)\b"
)
_RESULT_BEFORE_FIXTURE = re.compile(r"[A-Z][\w'’.-]*\s+(?:v|vs\.?)\s+$")
# The words those two patterns end with, checked before either is searched.
_VERSUS = ("v", "vs", "vs.")
_RESULT_WORDS = (
    *_VERSUS,
    *[
        "beat",
        "beating",
        "beats",
        "against",
        "defeated",
        "thrashed",
        "edged",
        "hammered",
        "routed",
        "stunned",
        "to",
        "with",
    ],
)
# "Denver Nuggets 108": a side's nickname, then its points.
_NICKNAME_SCORE_AFTER = re.compile(r" ([A-Z][a-z]+)(?: [A-Z][a-z]+)? \d{1,3}\b")

_LOCATIVE_BEFORE = re.compile(r"\b(?:in|near|outside|across|around|into)\s+$")
_NEIGHBOURHOOD_AFTER = re.compile(
    r"\s+(?:neighbou?rhoods?|district|suburb|borough|quarter|area|section|estate|ward)\b",
    re.IGNORECASE,
)
# "the Canadian city", "the Scottish town": a nationality that places the name.
_KIND_PHRASE = re.compile(
    r"\bthe\s+([A-Z][a-z]+(?:\s[A-Z][a-z]+)?)\s+(?:city|town|capital|port|village|"
    r"province|state|region|county|island|suburb|resort|municipality)\b"
)
_QUOTES = {'"': '"', "“": "”", "‘": "’"}
_ATTACHED = re.compile(r",[ \t]+((?:[A-Z][\w'’.-]*)(?:[ \t]+[A-Z][\w'’.-]*){0,3})")
_WORD_BEFORE = re.compile(r"([A-Za-z][\w'’.-]*)\s$")
_WORD_AFTER = re.compile(r"^\s([A-Za-z][\w'’-]*)")
_SENTENCE_END = re.compile(r"(?:[.!?:;]['\"”’)]?\s+|\n)")


def _paragraph(text: str, start: int, end: int) -> tuple[int, int]:
    left = text.rfind("\n", 0, start) + 1
    right = text.find("\n", end)
    return left, len(text) if right < 0 else right


def _sentence(text: str, start: int, end: int) -> str:
    left, right = _paragraph(text, start, end)
    ends = [m.end() for m in _SENTENCE_END.finditer(text, left, start)]
    left = ends[-1] if ends else left
    after = _SENTENCE_END.search(text, end, right)
    return text[left : after.start() if after else right]


def _last_words_at(window: str, count: int) -> int:
    """Where the last ``count`` words of ``window`` start (0 when it has fewer).

    A pattern that must end at the end of ``window`` ("... in\\s+$") can only match
    in its last few words: searching from here instead of from 0 finds the same
    match (``search(window, pos)`` still sees the characters before ``pos`` for
    ``\\b``) without trying every earlier position."""
    head = window.rstrip()
    parts = head.rsplit(None, count)
    if len(parts) <= count:
        return 0
    return window.find(parts[1], len(parts[0]))


def _ends_with_word(window: str, words: tuple[str, ...]) -> bool:
    """Whether ``window`` ends with white space after one of ``words``: what a
    pattern "(?:word|...)\\s+$" needs before it can match."""
    return window[-1:].isspace() and window.rstrip().endswith(words)


def _is_sentence_start(text: str, index: int) -> bool:
    # Read back from ``index`` rather than strip a copy of everything before it:
    # this runs for every place mention, and a copy costs the article's length.
    while index > 0 and text[index - 1] in " \t\"“‘'(":
        index -= 1
    return (
        index == 0
        or text[index - 1] in ".!?:;\n"
        or (index >= 2 and text.startswith("--", index - 2))
    )


def in_title_quote(text: str, start: int, end: int) -> bool:
    """The mention is, or lies inside, a short quoted name in title case ("Not Like Us")."""
    left, right = _paragraph(text, start, end)
    for opening, closing in _QUOTES.items():
        open_at = text.rfind(opening, left, start)
        if open_at < 0:
            continue
        if opening == closing and text.count('"', left, start) % 2 == 0:
            continue
        if opening != closing and text.rfind(closing, open_at + 1, start) >= 0:
            continue
        close_at = text.find(closing, end, right)
        if close_at < 0:
            continue
        quoted = text[open_at + 1 : close_at].strip(" ,.!?")
        words = quoted.split()
        if quoted == text[start:end]:
            return True  # a place name alone in quotes is a title: "Varanasi"
        if not 1 < len(words) <= 8:
            continue
        if all(w[0].isupper() or not w[0].isalpha() or len(w) <= 3 for w in words):
            return True
    return False


def non_place_use(
    text: str,
    start: int,
    end: int,
    *,
    is_place: Callable[[str], bool],
    person_words: frozenset[str],
    title_case: bool = False,
) -> str | None:
    """Why the mention ``text[start:end]`` names something other than a place, or None.

    ``is_place`` tells whether a longer name ("Mexico City") is itself a place;
    ``person_words`` are the folded words of the article's person names;
    ``title_case`` is set for a headline in title case, where a capital says nothing.
    """
    name = text[start:end]
    before, after = text[max(0, start - 60) : start], text[end : end + 60]
    if name.casefold() in person_words and not _LOCATIVE_BEFORE.search(before):
        return "person"
    if _PLAYERS_ACTION_AFTER.match(after):
        return "person"  # "Valverde's pass", "Kohli's century"
    if in_title_quote(text, start, end):
        return "title"
    if "fictional" in before and _FICTIONAL_BEFORE.search(before):
        return "fiction"
    word_after = _WORD_AFTER.match(after)
    if word_after and word_after.group(1).casefold() in NAME_AFTER:
        following = word_after.group(1)
        if following[0].isupper() and not is_place(f"{name} {following}"):
            return "name"
    window = before[-30:]
    word_before = _WORD_BEFORE.search(window, _last_words_at(window, 1))
    if word_before and not title_case:
        previous = word_before.group(1)
        opening = _is_sentence_start(text, start - len(previous) - 1)
        if (
            previous[0].isupper()
            and not previous.isupper()
            and not previous.endswith((".", "!", "?"))  # "... in Ontario. Scotland had"
            and previous.casefold().rstrip(".") not in FREE_BEFORE
            and not (opening and _ADJECTIVE_END.search(previous.casefold()))
            and not is_place(f"{previous} {name}")
        ):
            return "name"
    opens_line = not before.rstrip(" \t") or before.rstrip(" \t")[-1] in ".!?:;\n-–—|"
    if _SIDE_SCORE_AFTER.match(after) and opens_line:
        return "team"
    near = before[-25:]
    if _FIXTURE_AFTER.match(after) or (
        _ends_with_word(near, _VERSUS) and _RESULT_BEFORE_FIXTURE.search(near)
    ):
        return "team"
    nickname = _NICKNAME_SCORE_AFTER.match(after)
    if (
        nickname
        and nickname.group(1).casefold() not in _CALENDAR
        and not is_place(f"{name} {nickname.group(1)}")
    ):
        return "team"
    # The rest needs the sentence: look at it only when the words next to the
    # mention could be a side's ("for Denver", "Liverpool beat", "Australia were").
    for_side = before.endswith("for ")
    result = bool(
        _RESULT_AFTER.match(after)
        or (_ends_with_word(near, _RESULT_WORDS) and _RESULT_BEFORE.search(near))
    )
    sport_verb = bool(_SPORT_VERB_AFTER.match(after))
    if not (for_side or result or sport_verb):
        return None
    sentence = _sentence(text, start, end)
    if for_side and _PLAYER_STATS.search(sentence):
        return "team"  # "31 points and 14 rebounds for Denver"
    if result and _SCORE.search(sentence):
        return "team"
    if (
        sport_verb
        and _SPORT_WORDS.search(sentence)
        and (_SCORE.search(sentence) or _CRICKET.search(sentence))
    ):
        return "team"
    return None


def attached_name(text: str, end: int) -> str | None:
    """The capitalised words after ", " that follow a mention ("London, Ontario"),
    unless they open a list ("Delhi, Haryana and Uttar Pradesh")."""
    found = _ATTACHED.match(text, end)
    if found is None:
        return None
    rest = text[found.end() : found.end() + 30]
    listed = _LIST_GOES_ON.match(rest)
    if listed and (listed.group(1) or listed.group(2)).casefold() not in _CALENDAR:
        return None
    return found.group(1)


# What follows the second name of a list: "and", "or", or a third capitalised name
# (a date after a dateline, "MANCHESTER, England, Nov 22", is no list).
_LIST_GOES_ON = re.compile(r"(?:\s+(?:and|or|&)\s+(\w+)|,\s+([A-Z]\w*))")
_CALENDAR = _words(
    """
    jan feb mar apr may jun jul aug sep sept oct nov dec january february march april
    june july august september october november december monday tuesday wednesday
    thursday friday saturday sunday mon tue tues wed thu thurs fri sat sun
    """
)


# The same words without the word boundaries: a match of ``_KIND_PHRASE`` in any part
# of a text is a match of this in the whole text.
_ANY_KIND_PHRASE = re.compile(_KIND_PHRASE.pattern.replace(r"\b", ""))


def has_kind_phrase(text: str) -> bool:
    """Whether ``kind_phrase`` can find anything anywhere in ``text``."""
    return _ANY_KIND_PHRASE.search(text) is not None


def kind_phrase(text: str, end: int) -> str | None:
    """The nationality of "the <Nationality> city" in the rest of the mention's
    sentence or the next one ("... in London. Officials in the Canadian city ...");
    not "the Canadian city of Toronto", which names another."""
    window = text[end : end + 200]
    stops = _SENTENCE_END.finditer(window)
    if next(stops, None) is not None and (second := next(stops, None)) is not None:
        window = window[: second.end()]
    found = _KIND_PHRASE.search(window)
    if found is None or window[found.end() :].startswith(" of "):
        return None
    return found.group(1)


def is_neighbourhood(text: str, start: int, end: int) -> bool:
    """The mention is followed by "neighbourhood", "district", "suburb" and the like."""
    return bool(_NEIGHBOURHOOD_AFTER.match(text, end))


_HYPHENATED = re.compile(r"-[A-Za-z][\w'’]*(?:-[A-Za-z][\w'’]*)*")


def hyphenated(text: str, start: int, end: int) -> str | None:
    """The whole hyphenated name a mention was cut from ("Weston-super-Mare")."""
    found = _HYPHENATED.match(text, end)
    if found is None:
        return None
    begin = start
    while begin > 0 and (text[begin - 1].isalnum() or text[begin - 1] == "-"):
        begin -= 1
    return text[begin : found.end()]


_LOCATED_BEFORE = re.compile(
    r"(?:\b(?i:in|at|near|outside|across|around|into|through|off|towards?)\s+(?:the\s+)?"
    r"(?:[a-z][a-z-]+\s+)?"  # "in the eastern Donbas", "in north-west Delhi"
    r"|\b(?i:village|town|suburb|township|city|district|province|region|state|county|"
    r"island|area)\s+(?:of\s+)?|\b(?i:on)\s+the\s+)$"
)
# "in Vredehoek and Oranjezicht": the second of two places
_LOCATED_PAIR_BEFORE = re.compile(
    r"\b(?:in|at|near|from)\s+[A-Z][\w'’-]*(?:\s+[A-Z][\w'’-]*){0,2}\s+and\s+$"
)
# "the Donbas region", "Gosaba island", "Mungeshpur in north-west Delhi"
_LOCATED_AFTER = re.compile(
    r"\s+(?:region|island|province|district|state|county|area|valley|coast|neighbou?rhood|"
    r"suburb|township|village|town|municipality|in\s+(?:the\s+)?(?:north|south|east|west|"
    r"central|[A-Z]))",
)
_PLACE_WORD = re.compile(
    r"\b(?:county|district|province|region|state|island|islands|isles|river|lake|valley|"
    r"hills?|heights|beach|bay|creek|coast|peninsula|plateau|delta|township|borough|"
    r"parish|village|park|square|street|road|estate|harbour|harbor|port|point|cape|"
    r"mount|mountain|forest|desert|reserve)\b",
    re.IGNORECASE,
)


def is_located(text: str, start: int, end: int) -> bool:
    """The mention says where something is: "in Kibera", "Fulton County"."""
    before = text[max(0, start - 60) : start]
    near = before[-25:]
    return bool(
        (near[-1:].isspace() and _LOCATED_BEFORE.search(near, _last_words_at(near, 3)))
        or (before.endswith(" and ") and _LOCATED_PAIR_BEFORE.search(before))
        or _PLACE_WORD.search(text[start:end])
        or _LOCATED_AFTER.match(text, end)
    )


# A dateline: "ROTTERDAM, Nov 3 -", "CAPE TOWN (Reuters) -", "KYIV —".
_DATELINE = re.compile(r"([A-Z][A-Z .'’-]*[A-Z])(?:,| \(| -| —| –)")


def dateline(body: str) -> str | None:
    """The place name a body opens with, in capitals, if it opens with a dateline."""
    found = _DATELINE.match(body)
    return found.group(1) if found else None
