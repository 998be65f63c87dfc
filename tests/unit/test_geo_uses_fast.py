"""The shortcuts of the place-use rules read exactly what the plain reading did.

The rules look at the words before a mention with patterns anchored at the end
("... in\\s+$"); they now search from the last few words only, skip a pattern
whose closing word is absent, and read back from a position instead of copying
the text before it. Each shortcut is checked against the plain reading on
random text made of the characters that matter.
"""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from services.enrich.geo import _uses

# Words and punctuation, joined by white space of several kinds or by nothing.
_VOCABULARY = (
    "in at on the of and v vs vs. to with beat for village town eastern north-west "
    "Paris Kent Mr a Z 3 _ ' ’ . - -- ( “ \" ; : ! ? É (in the Canadian Scottish city"
)
_WORDS = st.sampled_from(_VOCABULARY.split())
_SPACES = st.sampled_from(["", " ", " ", " ", "  ", "\t", "\n", " \n", "\u00a0"])
_TEXT = st.lists(st.tuples(_WORDS, _SPACES), max_size=12).map(
    lambda pairs: "".join(word + space for word, space in pairs)
)


def _plain_sentence_start(text: str, index: int) -> bool:
    before = text[:index].rstrip(" \t\"“‘'(")
    return not before or before[-1] in ".!?:;\n" or before.endswith("--")


@settings(max_examples=600, deadline=None)
@given(_TEXT, st.integers(min_value=0, max_value=60))
def test_sentence_start_reads_back_as_the_copy_did(text: str, index: int) -> None:
    index = min(index, len(text))
    assert _uses._is_sentence_start(text, index) == _plain_sentence_start(text, index)


@settings(max_examples=600, deadline=None)
@given(_TEXT)
@example("fighting in the eastern ")
@example("shelling (in the north-west \n")
@example("the village of ")
@example("on the  ")
@example("Millwall v ")
@example("Leeds beat\t")
@example("in\u00a0")
def test_patterns_ending_at_the_end_find_the_same_from_the_last_words(window: str) -> None:
    whole = _uses._WORD_BEFORE.search(window)
    short = _uses._WORD_BEFORE.search(window, _uses._last_words_at(window, 1))
    assert (whole and whole.group(1)) == (short and short.group(1))
    located = bool(_uses._LOCATED_BEFORE.search(window))
    assert located == bool(
        window[-1:].isspace()
        and _uses._LOCATED_BEFORE.search(window, _uses._last_words_at(window, 3))
    )
    if _uses._RESULT_BEFORE.search(window):
        assert _uses._ends_with_word(window, _uses._RESULT_WORDS)
    if _uses._RESULT_BEFORE_FIXTURE.search(window):
        assert _uses._ends_with_word(window, _uses._VERSUS)


@settings(max_examples=400, deadline=None)
@given(_TEXT, st.integers(min_value=0, max_value=40))
def test_a_text_without_a_kind_phrase_gives_none_anywhere(text: str, end: int) -> None:
    if not _uses.has_kind_phrase(text):
        assert _uses.kind_phrase(text, min(end, len(text))) is None


def test_kind_phrase_still_reads_the_next_sentence_only() -> None:
    text = "Crowds gathered in London. Officials in the Canadian city said. The Irish town"
    assert _uses.has_kind_phrase(text)
    assert _uses.kind_phrase(text, text.index(".")) == "Canadian"
    assert _uses.kind_phrase("In London. One. Two. The the Irish town", 9) is None
