"""The short wire-item view of the topic dev sets (eval/convert_short.py)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "eval" / "convert_short.py"


@pytest.fixture(scope="module")
def convert_short() -> ModuleType:
    spec = importlib.util.spec_from_file_location("convert_short", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    ("body", "first"),
    [
        (
            "Two men were wounded in Leeds late on Saturday, police said. Both are in hospital.",
            "Two men were wounded in Leeds late on Saturday, police said.",
        ),
        # Initials and abbreviations do not end a sentence.
        (
            "YARMOUTH, N.S. A ransomware attack forced the hospital to divert ambulances on "
            "Tuesday. Police are investigating.",
            "YARMOUTH, N.S. A ransomware attack forced the hospital to divert ambulances on "
            "Tuesday.",
        ),
        (
            "The U.S. Senate passed the bill on Jan. 5 by a wide margin, Sen. Smith said. "
            "It now goes to the House.",
            "The U.S. Senate passed the bill on Jan. 5 by a wide margin, Sen. Smith said.",
        ),
        # A one-line question runs on to the next sentence.
        (
            "What happened? The regulator cut the price of the drug by a third on Monday. More.",
            "What happened? The regulator cut the price of the drug by a third on Monday.",
        ),
        # No sentence end: the whole text, white space folded.
        ("Results:  Rovers 2 City 1", "Results: Rovers 2 City 1"),
    ],
)
def test_first_sentence(convert_short: ModuleType, body: str, first: str) -> None:
    assert convert_short.first_sentence(body) == first


def test_view_keeps_title_and_gold_and_names_the_set(
    convert_short: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = tmp_path / "modern-dev.jsonl"
    source.write_text(
        '{"id": "a", "title": "Storm closes ports", "body": "Gales shut three ports on '
        'Monday, officials said. Ferries were cancelled.", "label": "weather", '
        '"topics": ["weather", "economy-business-and-finance"]}\n',
        encoding="utf-8",
    )
    monkeypatch.setattr("sys.argv", ["convert_short.py", str(source)])
    convert_short.main()
    out = (tmp_path / "modern-short-dev.jsonl").read_text(encoding="utf-8")
    assert '"body": "Gales shut three ports on Monday, officials said."' in out
    assert '"title": "Storm closes ports"' in out
    assert '"topics": ["weather", "economy-business-and-finance"]' in out
