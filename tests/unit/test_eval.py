"""The evaluation harness on tiny CoNLL and JSONL files written here."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import pytest

from services.enrich.entities import PASS_NAMES
from services.enrich.pipeline import Enricher
from services.eval import (
    EvalError,
    _detokenize,
    _entity_runs,
    calibration_table,
    cmd_eval,
    eval_ner,
    eval_topics,
    multi_label_scores,
    read_conll,
    read_ner_file,
    score_spans,
)
from shared.settings import Settings

CONLL = """-DOCSTART- -X- -X- O

SOCCER NN B-NP O
- : O O
JAPAN NNP B-NP B-LOC
WIN VB B-VP O
. . O O

German JJ B-NP B-MISC
Chancellor NNP I-NP O
Angela NNP I-NP B-PER
Merkel NNP I-NP I-PER
met VBD B-VP O
Emmanuel NNP B-NP B-PER
Macron NNP I-NP I-PER
in IN B-PP O
Paris NNP B-NP B-LOC
on IN B-PP O
Monday NNP B-NP O
. . O O

Merkel NNP B-NP B-PER
's POS B-NP O
party NN I-NP O
, , O O
the DT B-NP O
CDU NNP I-NP B-ORG
, , O O
won VBD B-VP O
. . O O

-DOCSTART- -X- -X- O

Apple NNP B-NP B-ORG
sells VBZ B-VP O
phones NNS B-NP O
in IN B-PP O
the DT B-NP O
United NNP I-NP B-LOC
States NNP I-NP I-LOC
. . O O
"""


@pytest.fixture(scope="module")
def enricher() -> Enricher:
    return Enricher(Settings(ner="on", taxonomy_path=None))


@pytest.fixture
def conll_file(tmp_path: Path) -> Path:
    path = tmp_path / "tiny.conll"
    path.write_text(CONLL, encoding="utf-8")
    return path


def test_detokenize_keeps_token_offsets() -> None:
    tokens = ["Merkel", "'s", "party", "(", "CDU", ")", "said", '"', "no", '"', "."]
    text, offsets = _detokenize(tokens)
    assert text == 'Merkel\'s party (CDU) said "no".'
    assert [text[s:e] for s, e in offsets] == tokens


def test_entity_runs_read_iob1_iob2_and_iobes() -> None:
    assert list(_entity_runs(["I-PER", "I-PER", "O", "I-LOC"])) == [(0, 2, "PER"), (3, 4, "LOC")]
    assert list(_entity_runs(["B-PER", "B-PER", "I-PER"])) == [(0, 1, "PER"), (1, 3, "PER")]
    assert list(_entity_runs(["S-ORG", "B-LOC", "E-LOC", "I-ORG"])) == [
        (0, 1, "ORG"),
        (1, 3, "LOC"),
        (3, 4, "ORG"),
    ]


def test_read_conll_builds_articles_with_exact_gold_spans(conll_file: Path) -> None:
    first, second = read_conll(conll_file)
    assert first.title == "SOCCER - JAPAN WIN."
    assert first.body.startswith("German Chancellor Angela Merkel met")
    assert "\nMerkel's party, the CDU, won." in first.body
    texts = {
        ((first.title if f == "title" else first.body)[s:e], kind) for f, s, e, kind in first.gold
    }
    assert texts == {
        ("JAPAN", "LOC"),
        ("German", "MISC"),
        ("Angela Merkel", "PER"),
        ("Emmanuel Macron", "PER"),
        ("Paris", "LOC"),
        ("Merkel", "PER"),
        ("CDU", "ORG"),
    }
    assert second.body == "" and ("title", 0, 5, "ORG") in second.gold
    assert len(read_conll(conll_file, limit=1)) == 1


def test_score_spans_counts_exact_matches_only() -> None:
    gold = [{("body", 0, 5, "PER"), ("body", 10, 15, "LOC"), ("body", 20, 25, "MISC")}]
    predicted = [{("body", 0, 5, "PER"), ("body", 10, 14, "LOC"), ("body", 20, 25, "MISC")}]
    report = score_spans(gold, predicted)
    assert report["per_type"]["PER"]["f1"] == 1.0
    assert report["per_type"]["LOC"] == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "tp": 0,
        "fp": 1,
        "fn": 1,
        "support": 1,
    }
    assert report["per_org_loc"]["tp"] == 1 and report["per_org_loc"]["fp"] == 1
    assert report["all"]["tp"] == 2


def test_eval_ner_runs_the_worker_code(conll_file: Path, enricher: Enricher) -> None:
    report = eval_ner(conll_file, enricher=enricher)
    assert report["documents"] == 2
    per = report["per_type"]["PER"]
    assert per["support"] == 3 and per["tp"] >= 2
    assert 0.0 <= report["per_org_loc"]["f1"] <= 1.0
    assert report["bare"]["per_org_loc"]["support"] == report["per_org_loc"]["support"]
    assert report["provenance"]["ner_model"].startswith("en_core_web_sm")
    # Both runs are timed, so the report says what enrichment costs next to the model.
    assert report["enrich_seconds"] > 0 and report["bare_seconds"] > 0
    assert report["throughput_ratio"] > 0


def write_topics(path: Path, rows: list[dict[str, Any]]) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n", encoding="utf-8")
    return path


SPORT = (
    "Liverpool beat Chelsea to go top of the league",
    "Liverpool scored twice in the second half to beat Chelsea 2-1 at Anfield on Saturday. "
    "The striker curled in the winner and the fans celebrated at the final whistle as the "
    "team moved two points clear with eight matches of the season left.",
)
RATES = (
    "Central bank raises interest rates",
    "The central bank raised interest rates on Thursday as inflation stayed above target. "
    "Economists expect borrowing costs and mortgage rates to stay high, and shares fell on "
    "the stock market after the announcement.",
)


def test_eval_topics_accuracy_per_class_and_confusion(tmp_path: Path, enricher: Enricher) -> None:
    path = write_topics(
        tmp_path / "topics.jsonl",
        [
            {"mapping": {"sport": "medtop:15000000", "business": "medtop:04000000"}},
            {"title": SPORT[0], "body": SPORT[1], "label": "sport"},
            {"title": RATES[0], "body": RATES[1], "label": "business"},
            # A label given as the slug of the taxonomy, and one scored wrong on purpose.
            {"title": RATES[0], "body": RATES[1], "label": "sport", "qcode": "sport"},
        ],
    )
    report = eval_topics(path, enricher=enricher)
    assert report["articles"] == 3
    assert report["accuracy"] == pytest.approx(2 / 3, abs=1e-3)
    assert report["confusion"]["medtop:15000000"] == {"medtop:15000000": 1, "medtop:04000000": 1}
    sport = report["per_class"]["medtop:15000000"]
    assert (sport["precision"], sport["recall"], sport["support"]) == (1.0, 0.5, 2)
    assert report["per_class"]["medtop:04000000"]["precision"] == 0.5
    assert report["labels"]["medtop:15000000"] == "sport"


def test_eval_topics_rejects_unmapped_labels(tmp_path: Path, enricher: Enricher) -> None:
    path = write_topics(tmp_path / "t.jsonl", [{"title": "x", "body": "y", "label": "gardens"}])
    with pytest.raises(EvalError, match="'gardens'"):
        eval_topics(path, enricher=enricher)
    with pytest.raises(EvalError, match="cannot read"):
        eval_topics(tmp_path / "missing.jsonl", enricher=enricher)


def test_cmd_eval_prints_json_and_tables(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_topics(
        tmp_path / "t.jsonl", [{"title": SPORT[0], "body": SPORT[1], "label": "sport"}]
    )
    monkeypatch.setenv("NEWSFLOW_NER", "off")
    args = argparse.Namespace(task="topics", file=path, json=True, limit=None)
    assert cmd_eval(args) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["accuracy"] == 1.0
    args.json = False
    assert cmd_eval(args) == 0
    out = capsys.readouterr().out
    assert "accuracy 1.000" in out and "confusion" in out
    assert "exact-set match 1.000" in out and "calibration" in out and "per topic" in out
    args.file = tmp_path / "missing.jsonl"
    assert cmd_eval(args) == 2


def test_multi_label_scores_per_topic_exact_set_and_no_topic() -> None:
    gold = [{"sport"}, {"labour", "economy"}, {"politics"}, {"health"}]
    predicted = [{"sport"}, {"labour", "sport"}, set(), {"health"}]
    words = [120, 300, 12, 45]
    scores = multi_label_scores(gold, predicted, words)
    assert scores["exact_set_match"] == 0.5  # the sport and the health article
    assert scores["no_topic_rate"] == 0.25
    # Only the politics article has no topic, and it is under 40 words.
    assert (scores["long_articles"], scores["no_topic_rate_long"]) == (3, 0.0)
    sport = scores["per_topic"]["sport"]
    assert (sport["tp"], sport["fp"], sport["fn"], sport["precision"]) == (1, 1, 0, 0.5)
    assert scores["per_topic"]["economy"]["recall"] == 0.0
    assert scores["per_topic"]["labour"]["f1"] == 1.0
    assert (scores["micro"]["tp"], scores["micro"]["fp"], scores["micro"]["fn"]) == (3, 1, 2)


def test_calibration_table_bins_candidates_by_relevance() -> None:
    table = calibration_table([[(0.95, True), (0.25, False)], [(0.91, False), (0.5, True)], []])
    by_bin = {(row["low"], row["high"]): row for row in table}
    top = by_bin[(0.9, 1.0)]
    assert (top["count"], top["precision"], top["mean_relevance"]) == (2, 0.5, 0.93)
    assert by_bin[(0.2, 0.3)]["precision"] == 0.0
    assert by_bin[(0.5, 0.6)]["precision"] == 1.0
    assert by_bin[(0.6, 0.7)] == {
        "low": 0.6,
        "high": 0.7,
        "count": 0,
        "mean_relevance": None,
        "precision": None,
    }
    assert sum(row["count"] for row in table) == 4


def test_eval_topics_reads_gold_topic_lists(tmp_path: Path, enricher: Enricher) -> None:
    path = write_topics(
        tmp_path / "multi.jsonl",
        [
            {"title": SPORT[0], "body": SPORT[1], "label": "sport", "topics": ["sport"]},
            # Gold: economy and labour; the article has both kinds of words.
            {
                "title": "Carmaker cuts 400 jobs at its engine factory",
                "body": RATES[1] + " The union said the job cuts would hit workers and "
                "wages hard, and called a strike ballot over the redundancies.",
                "label": "economy-business-and-finance",
                "topics": ["economy-business-and-finance", "medtop:09000000"],
            },
            {"title": "Zzz", "body": "Qqq xxx.", "label": "sport"},
        ],
    )
    report = eval_topics(path, enricher=enricher)
    assert report["articles"] == 3
    assert report["no_topic_rate"] == pytest.approx(1 / 3, abs=1e-3)
    assert report["long_articles"] == 2 and report["no_topic_rate_long"] == 0.0
    labour = report["per_topic"]["medtop:09000000"]
    assert labour["support"] == 1 and labour["label"] == "labour"
    assert report["per_topic"]["medtop:15000000"]["recall"] == pytest.approx(0.5)
    assert sum(row["count"] for row in report["calibration"]) >= 2
    with pytest.raises(EvalError, match="'gardens'"):
        eval_topics(
            write_topics(
                tmp_path / "bad.jsonl",
                [{"title": "x", "body": "y", "label": "sport", "topics": ["gardens"]}],
            ),
            enricher=enricher,
        )


def test_entity_jsonl_gold_is_every_whole_word_occurrence_longest_first(tmp_path: Path) -> None:
    article = {
        "title": "Haaland scores as City win",
        "body": "Erling Haaland scored twice. Haaland's second came late; Haalands laughed.",
        "entities": [
            {"text": "Haaland", "type": "PER"},
            {"text": "Erling Haaland", "type": "PER"},
            {"text": "City", "type": "ORG"},
        ],
    }
    path = tmp_path / "modern.jsonl"
    path.write_text(json.dumps(article) + "\n\n", encoding="utf-8")
    [document] = read_ner_file(path)
    body = article["body"]
    assert document.gold == {
        ("title", 0, 7, "PER"),
        ("title", 18, 22, "ORG"),
        ("body", 0, 14, "PER"),  # the full name, not "Haaland" inside it
        ("body", body.index("Haaland's"), body.index("Haaland's") + 7, "PER"),
    }  # "Haalands" is not a whole-word occurrence


def test_eval_ner_ablation_reports_each_pass(conll_file: Path, enricher: Enricher) -> None:
    report = eval_ner(conll_file, enricher=enricher, bare=False, ablate=True)
    assert list(report["ablation"]) == list(PASS_NAMES)
    for scores in report["ablation"].values():
        assert scores["delta_f1"] == pytest.approx(
            report["per_org_loc"]["f1"] - scores["per_org_loc"]["f1"], abs=1e-4
        )
    # The passes are switched back on afterwards.
    assert enricher.entity_passes_off == frozenset()
