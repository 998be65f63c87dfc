"""``newsflow eval places``: place accuracy on a hand-labelled JSONL file."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import pytest

from services import cli
from services.eval import EvalError, _occurrences, eval_places, read_place_file
from shared.models import Article, EnrichedArticle, Entity, EntityType, Mention, Provenance
from shared.settings import Settings

ARTICLES = [
    {
        "id": "p1",
        "title": "Ferry cancelled as storm reaches Toronto",
        "body": (
            "TORONTO, Ontario - Ferries to Maine were cancelled on Monday as the storm "
            "reached Toronto. In Ottawa, ministers promised help for Canada's east coast."
        ),
        "places": [
            {"text": "TORONTO", "country": "CA", "geonameid": 6167865},
            {"text": "Toronto", "country": "CA", "geonameid": 6167865},
            {"text": "Ontario", "country": "CA", "admin1": "08"},
            {"text": "Maine", "country": "US", "admin1": "ME"},
            {"text": "Ottawa", "country": "CA", "geonameid": 6094817},
            {"text": "Canada", "country": "CA"},
        ],
        "not_places": [],
    },
    {
        "id": "p2",
        "title": "Farage rally",
        "body": "Reform UK leader Nigel Farage spoke to supporters in Birmingham on Friday.",
        "entities": [{"text": "Reform UK", "type": "ORG"}],
        "places": [{"text": "Birmingham", "country": "GB", "geonameid": 2655603}],
        "not_places": ["Reform UK"],
    },
]


def write(tmp_path: Path, rows: list[dict[str, object]]) -> Path:
    path = tmp_path / "places.jsonl"
    path.write_text("\n".join(json.dumps(row) for row in rows) + "\n", encoding="utf-8")
    return path


def test_occurrences_are_whole_words_longest_first() -> None:
    text = "Sydney Sixers beat the Perth Scorchers in Sydney; North Sydney celebrated."

    found = _occurrences(text, ["Sydney", "Sydney Sixers", "North Sydney", "Perth Scorchers"])

    assert [(text[s:e], surface) for s, e, surface in found] == [
        ("Sydney Sixers", "Sydney Sixers"),
        ("Perth Scorchers", "Perth Scorchers"),
        ("Sydney", "Sydney"),
        ("North Sydney", "North Sydney"),
    ]


def test_read_place_file_finds_every_mention(tmp_path: Path) -> None:
    [first, second] = read_place_file(write(tmp_path, ARTICLES))

    assert [t for _, _, _, t in second.not_places] == ["Reform UK"]
    texts = [
        (first.title if field == "title" else first.body)[start:end]
        for field, start, end, _ in first.places
    ]
    assert texts == ["Toronto", "TORONTO", "Ontario", "Maine", "Toronto", "Ottawa", "Canada"]


class _Enricher:
    """Stands in for ``Enricher``: gives each article the entities a test chose, so
    the scoring is checked apart from the model."""

    nlp = object()
    settings = Settings(ner="on")

    def __init__(self, entities: dict[str, list[Entity]]) -> None:
        self.entities = entities

    def enrich_batch(self, articles: Sequence[Article]) -> list[EnrichedArticle]:
        provenance = Provenance(
            newsflow_version="0", ner_model="m", taxonomy="t", enriched_at=article_time()
        )
        return [
            EnrichedArticle(
                **a.model_dump(),
                entities=self.entities.get(a.title, []),
                provenance=provenance,
            )
            for a in articles
        ]


def article_time() -> datetime:
    return datetime(2026, 12, 1, tzinfo=UTC)


def placed(
    body: str, name: str, kind: EntityType, country: str | None, geonames_id: int | None = None
) -> Entity:
    start = body.index(name)
    return Entity(
        name=name,
        type=kind,
        salience=0.5,
        mention_count=1,
        mentions=[Mention(field="body", start=start, end=start + len(name), text=name)],
        country_code=country,
        geonames_id=geonames_id,
    )


def test_eval_places_scores_countries_cities_and_not_places(tmp_path: Path) -> None:
    toronto, farage = ARTICLES[0], ARTICLES[1]
    body, other = str(toronto["body"]), str(farage["body"])
    enricher = _Enricher(
        {
            str(toronto["title"]): [
                placed(body, "TORONTO", "GPE", "CA", 6167865),  # right
                placed(body, "Ontario", "ORG", None),  # found, typed ORG, no country
                placed(body, "Maine", "GPE", "US"),  # right, a region
                placed(body, "Ottawa", "GPE", "CA", 6094817),  # right
                placed(body, "Canada", "GPE", "CA"),  # right
                # "Toronto" twice more in the title and body: not found at all
            ],
            str(farage["title"]): [
                placed(other, "UK", "GPE", "GB"),  # inside "Reform UK": a not-place placed
                placed(other, "Birmingham", "GPE", "US", 4049979),  # the Alabama one
            ],
        }
    )

    report = eval_places(write(tmp_path, ARTICLES), enricher=enricher)  # type: ignore[arg-type]

    assert (report["articles"], report["mentions"], report["found"]) == (2, 8, 6)
    assert (report["country_right"], report["country_wrong"]) == (4, 1)
    assert report["country_accuracy"] == 0.5
    assert report["as_place"] == 5 and report["country_accuracy_as_place"] == 0.8
    assert (report["cities"], report["city_right"]) == (5, 2)  # 3 Toronto, Ottawa, Birmingham
    assert report["not_places_geocoded"] == 1
    assert report["geocoded_not_places"][0]["text"] == "Reform UK"


def test_eval_places_counts_a_not_place_that_was_given_a_place(tmp_path: Path) -> None:
    row = {
        "id": "p3",
        "title": "Talks in Paris",
        "body": "Ministers met in Paris on Monday.",
        "places": [],
        "not_places": ["Paris"],  # wrong on purpose: the evaluator must see it
    }

    report = eval_places(write(tmp_path, [row]))

    assert report["not_places_geocoded"] == 1
    assert report["geocoded_not_places"][0]["country"] == "FR"


def test_a_file_that_is_not_json_is_an_eval_error(tmp_path: Path) -> None:
    path = tmp_path / "bad.jsonl"
    path.write_text("{not json\n", encoding="utf-8")

    with pytest.raises(EvalError, match="not JSON"):
        read_place_file(path)
    assert cli.main(["eval", "places", str(path)]) == 2
