"""The evaluation harness: ``newsflow eval ner FILE`` and ``newsflow eval topics FILE``.

Both run ``Enricher.enrich_batch``, the code the enrich worker runs, on articles
built from a labelled file, and compare what it produced with the gold labels.

``eval_ner(path)`` reads CoNLL-2003 column format: one token per line, the token
first and its NER tag last (IOB1, IOB2 or IOBES: ``B-PER``, ``I-ORG``, ``S-LOC``,
``O``), a blank line between sentences and a ``-DOCSTART-`` line between
documents (a file without one is read as one document per sentence); or a
``.jsonl`` file of articles with entity lists (``read_entity_jsonl``). Each
document becomes one English article: its first sentence is the title, each
further sentence a line of the body, tokens joined as a writer would ("Japan 's"
-> "Japan's", "( AP )" -> "(AP)"). spaCy's labels map to CoNLL's (PERSON -> PER;
ORG -> ORG; GPE, LOC, FAC -> LOC; NORP, EVENT, PRODUCT, WORK_OF_ART, LAW,
LANGUAGE -> MISC) and a mention counts only when its field, exact character
span and type all match a gold entity. The headline figure is the micro F1 over
PER, ORG and LOC; the same figures for the model's raw spans, before any
post-processing, are reported as ``bare``. ``--ablate`` adds the figures with
each entity pass switched off in turn (the model runs once for them).

``eval_topics(path)`` reads JSONL: one article per line with ``title`` and
``body`` (or ``text``) and a gold ``label``; the label is mapped to a QCode by
the line's own ``qcode``, else by a ``{"mapping": {"label": "medtop:...", ...}}``
line anywhere in the file, else it must itself be a QCode or a topic slug of the
taxonomy. A line may also carry ``topics``: the list of every gold top-level
topic (labels, slugs or QCodes, mapped the same way); without it the gold set
is the label alone. An article's single prediction is its most relevant
top-level topic (none when the worker assigned none): accuracy, precision and
recall per class and the confusion matrix compare it with the label. Its
predicted set is every top-level topic the worker assigned: per-topic
precision and recall, exact-set match and the no-topic rate (overall and for
articles of at least 40 words) compare it with the gold set. The calibration
table bins every top-level candidate of relevance >= 0.05 (whatever the
threshold) by relevance and gives the share that is in the gold set.

Both raise ``EvalError`` (a ``ValueError``) for a file that cannot be read or
holds nothing to evaluate.
"""

from __future__ import annotations

import argparse
import hashlib
import itertools
import json
import logging
import re
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from shared.models import Article, EnrichedArticle, Entity
from shared.settings import Settings, get_settings

if TYPE_CHECKING:
    from services.enrich.pipeline import Enricher

logger = logging.getLogger(__name__)

NER_TYPES = ("PER", "ORG", "LOC", "MISC")
HEADLINE_TYPES = ("PER", "ORG", "LOC")
SPACY_TO_CONLL = {
    "PERSON": "PER",
    "PER": "PER",
    "ORG": "ORG",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "NORP": "MISC",
    "EVENT": "MISC",
    "PRODUCT": "MISC",
    "WORK_OF_ART": "MISC",
    "LAW": "MISC",
    "LANGUAGE": "MISC",
    "MISC": "MISC",
}
NO_TOPIC = "(none)"
_RECEIVED_AT = datetime(2000, 1, 1, tzinfo=UTC)

Span = tuple[str, int, int, str]  # field, start, end, CoNLL type


class EvalError(ValueError):
    """The evaluation file cannot be read or holds nothing to evaluate."""


# --- CoNLL ---------------------------------------------------------------------


@dataclass(slots=True)
class ConllDocument:
    """One CoNLL document as an article: text fields and gold spans into them."""

    title: str
    body: str
    gold: set[Span] = field(default_factory=set)


# Tokens written without a space before them, and tokens with none after them.
_NO_SPACE_BEFORE = frozenset(
    (
        *(",", ".", ":", ";", "!", "?", ")", "]", "}", "%", "'", "..."),
        *("'s", "'S", "n't", "N'T", "'re", "'RE", "'ve", "'VE"),
        *("'ll", "'LL", "'d", "'D", "'m", "'M"),
    )
)
_NO_SPACE_AFTER = frozenset(["(", "[", "{", "$", "#"])


def _detokenize(tokens: Sequence[str]) -> tuple[str, list[tuple[int, int]]]:
    """The sentence as text, and each token's ``(start, end)`` in it."""
    parts: list[str] = []
    offsets: list[tuple[int, int]] = []
    length = 0
    quote_open = False
    glue_next = True  # no space before the first token
    for token in tokens:
        is_quote = token in ('"', "``", "''")
        closing_quote = is_quote and quote_open
        glue = glue_next or token in _NO_SPACE_BEFORE or closing_quote
        if not glue:
            parts.append(" ")
            length += 1
        offsets.append((length, length + len(token)))
        parts.append(token)
        length += len(token)
        glue_next = token in _NO_SPACE_AFTER or (is_quote and not quote_open)
        if is_quote:
            quote_open = not quote_open
    return "".join(parts), offsets


def _entity_runs(tags: Sequence[str]) -> Iterator[tuple[int, int, str]]:
    """``(first token, last token + 1, type)`` of each entity in IOB1/IOB2/IOBES tags."""
    start: int | None = None
    current = ""
    for index, tag in enumerate([*tags, "O"]):
        prefix, _, kind = tag.partition("-")
        if tag == "O" or not kind:
            if start is not None:
                yield start, index, current
            start = None
            continue
        if start is None or prefix in ("B", "S") or kind != current:
            if start is not None:
                yield start, index, current
            start, current = index, kind
        if prefix in ("E", "S"):
            yield start, index + 1, current
            start = None


def _conll_sentences(lines: Iterable[str]) -> Iterator[list[tuple[str, str]] | None]:
    """Sentences as ``(token, tag)`` lists; ``None`` marks a document break."""
    sentence: list[tuple[str, str]] = []
    for raw in lines:
        line = raw.strip()
        if line.startswith("-DOCSTART-"):
            if sentence:
                yield sentence
                sentence = []
            yield None
            continue
        if not line:
            if sentence:
                yield sentence
                sentence = []
            continue
        columns = line.split()
        sentence.append((columns[0], columns[-1] if len(columns) > 1 else "O"))
    if sentence:
        yield sentence


def read_conll(path: Path | str, limit: int | None = None) -> list[ConllDocument]:
    """The documents of a CoNLL-2003 file (see the module docstring); at most ``limit``."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    has_docstart = any(line.startswith("-DOCSTART-") for line in lines)
    grouped: list[list[list[tuple[str, str]]]] = []
    current: list[list[tuple[str, str]]] = []
    for sentence in _conll_sentences(lines):
        if sentence is None or not has_docstart:
            if current:
                grouped.append(current)
            current = [] if sentence is None else [sentence]
        else:
            current.append(sentence)
    if current:
        grouped.append(current)
    documents = [_to_document(sentences) for sentences in grouped]
    if limit is not None:
        documents = documents[:limit]
    if not documents:
        raise EvalError(f"{path} holds no CoNLL sentences")
    return documents


def read_ner_file(path: Path | str, limit: int | None = None) -> list[ConllDocument]:
    """The documents of a CoNLL-2003 file, or of a JSONL file (``.jsonl``) of
    articles with entity lists (see ``read_entity_jsonl``)."""
    if Path(path).suffix == ".jsonl":
        return read_entity_jsonl(path, limit)
    return read_conll(path, limit)


def read_entity_jsonl(path: Path | str, limit: int | None = None) -> list[ConllDocument]:
    """Articles with ``title``, ``body`` and ``entities`` (``[{"text", "type"}]``,
    types PER/ORG/LOC/MISC, spaCy labels mapped) as documents. The gold mentions
    are every whole-word occurrence of each listed surface in the title and the
    body, the longest surface first, none overlapping another."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    documents: list[ConllDocument] = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
            title, body = str(item["title"]), str(item.get("body") or "")
            listed = [(str(e["text"]), str(e["type"])) for e in item["entities"]]
        except (ValueError, KeyError, TypeError) as exc:
            raise EvalError(f"{path}:{number}: not an article with entities: {exc}") from exc
        gold: set[Span] = set()
        for field_name, text in (("title", title), ("body", body)):
            taken = bytearray(len(text))
            for surface, kind in sorted(listed, key=lambda e: -len(e[0])):
                for match in re.finditer(rf"(?<!\w){re.escape(surface)}(?!\w)", text):
                    start, end = match.span()
                    if taken.find(1, start, end) != -1:
                        continue
                    taken[start:end] = b"\x01" * (end - start)
                    gold.add((field_name, start, end, SPACY_TO_CONLL.get(kind, kind)))
        documents.append(ConllDocument(title, body, gold))
        if limit is not None and len(documents) >= limit:
            break
    if not documents:
        raise EvalError(f"{path} holds no articles")
    return documents


def _to_document(sentences: list[list[tuple[str, str]]]) -> ConllDocument:
    texts: list[str] = []
    gold: set[Span] = set()
    body_length = 0
    for number, sentence in enumerate(sentences):
        text, offsets = _detokenize([token for token, _ in sentence])
        in_title = number == 0
        base = 0
        if not in_title:
            if number > 1:
                body_length += 1  # the newline before this sentence
            base = body_length
            body_length += len(text)
        for first, last, kind in _entity_runs([tag for _, tag in sentence]):
            gold.add(
                (
                    "title" if in_title else "body",
                    base + offsets[first][0],
                    base + offsets[last - 1][1],
                    SPACY_TO_CONLL.get(kind, kind),
                )
            )
        texts.append(text)
    return ConllDocument(texts[0], "\n".join(texts[1:]), gold)


def _article(title: str, body: str, language: str | None, number: int) -> Article:
    digest = hashlib.sha256(f"{number}\n{title}\n{body}".encode()).hexdigest()
    return Article(
        id=digest[:32],
        title=title,
        body=body,
        language=language,
        received_at=_RECEIVED_AT,
        content_hash=digest,
        word_count=len(title.split()) + len(body.split()),
    )


def predicted_spans(enriched: EnrichedArticle) -> set[Span]:
    """Every entity mention of an enriched article as a CoNLL-typed span."""
    return _entity_spans(enriched.entities)


def _entity_spans(entities: Iterable[Entity]) -> set[Span]:
    spans: set[Span] = set()
    for entity in entities:
        kind = SPACY_TO_CONLL.get(entity.type)
        if kind is None:
            continue
        spans.update((m.field, m.start, m.end, kind) for m in entity.mentions)
    return spans


def _bare_spans(enricher: Enricher, documents: Sequence[ConllDocument]) -> list[set[Span]]:
    """The model's own spans, labels mapped, no post-processing."""
    from services.enrich.entities import SEPARATOR, ner_text

    texts = [ner_text(d.title, d.body) for d in documents]
    found: list[set[Span]] = []
    size = enricher.settings.ner_batch_size
    for document, doc in zip(documents, enricher.nlp.pipe(texts, batch_size=size), strict=True):
        body_start = len(document.title) + len(SEPARATOR)
        spans: set[Span] = set()
        for ent in doc.ents:
            kind = SPACY_TO_CONLL.get(ent.label_)
            if kind is None:
                continue
            if ent.end_char <= len(document.title):
                spans.add(("title", ent.start_char, ent.end_char, kind))
            elif ent.start_char >= body_start:
                spans.add(("body", ent.start_char - body_start, ent.end_char - body_start, kind))
            else:
                spans.add(("title", ent.start_char, ent.end_char, kind))  # across the fields
        found.append(spans)
    return found


def _prf(tp: int, fp: int, fn: int) -> dict[str, float | int]:
    precision = tp / (tp + fp) if tp + fp else 0.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(f1, 4),
        "tp": tp,
        "fp": fp,
        "fn": fn,
        "support": tp + fn,
    }


def score_spans(gold: Sequence[set[Span]], predicted: Sequence[set[Span]]) -> dict[str, Any]:
    """Precision, recall and F1 per type, over PER+ORG+LOC and over all types."""
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    for gold_spans, predicted_set in zip(gold, predicted, strict=True):
        for span in predicted_set:
            counts[span[3]]["tp" if span in gold_spans else "fp"] += 1
        for span in gold_spans - predicted_set:
            counts[span[3]]["fn"] += 1
    kinds = [*NER_TYPES, *sorted(set(counts) - set(NER_TYPES))]
    per_type = {k: _prf(counts[k]["tp"], counts[k]["fp"], counts[k]["fn"]) for k in kinds}

    def micro(selected: Iterable[str]) -> dict[str, float | int]:
        chosen = list(selected)
        return _prf(
            sum(counts[k]["tp"] for k in chosen),
            sum(counts[k]["fp"] for k in chosen),
            sum(counts[k]["fn"] for k in chosen),
        )

    return {"per_type": per_type, "per_org_loc": micro(HEADLINE_TYPES), "all": micro(kinds)}


def _enricher(settings: Settings | None, *, ner: bool) -> Enricher:
    from services.enrich.pipeline import Enricher

    settings = settings or get_settings()
    if ner and settings.ner == "off":
        settings = settings.model_copy(update={"ner": "on"})
    return Enricher(settings)


def _enrich_all(enricher: Enricher, articles: Sequence[Article]) -> list[EnrichedArticle]:
    size = enricher.settings.resolved_enrich_batch_size
    enriched: list[EnrichedArticle] = []
    for start in range(0, len(articles), size):
        enriched.extend(enricher.enrich_batch(articles[start : start + size]))
    return enriched


def eval_ner(
    path: Path | str,
    *,
    limit: int | None = None,
    settings: Settings | None = None,
    enricher: Enricher | None = None,
    bare: bool = True,
    ablate: bool = False,
) -> dict[str, Any]:
    """Entity precision/recall/F1 of the worker's enrichment on a CoNLL-2003 file
    or a JSONL file with entity lists (see ``read_ner_file``).

    ``settings`` default to the environment's (NER is switched on whatever
    ``NEWSFLOW_NER`` says); ``enricher`` may be passed to reuse a loaded one.
    ``bare=False`` skips scoring the model's raw spans; ``ablate=True`` adds
    ``ablation``: the scores with each entity pass switched off in turn, and
    their difference from all passes on. Raises ``EvalError``.
    """
    documents = read_ner_file(path, limit)
    enricher = enricher or _enricher(settings, ner=True)
    if enricher.nlp is None:
        raise EvalError("NER is off in this enricher; the NER evaluation needs the model")
    articles = [_article(d.title, d.body, "en", n) for n, d in enumerate(documents)]
    # Warm up once, so that neither timed run below pays spaCy's first-call cost.
    enricher.enrich_batch(articles[:1])
    started = time.perf_counter()
    enriched = _enrich_all(enricher, articles)
    elapsed = time.perf_counter() - started
    gold = [d.gold for d in documents]
    report: dict[str, Any] = {
        "task": "ner",
        "file": str(path),
        "documents": len(documents),
        "tokens": sum(len((d.title + " " + d.body).split()) for d in documents),
        "enrich_seconds": round(elapsed, 4),
        **score_spans(gold, [predicted_spans(a) for a in enriched]),
        "provenance": enriched[0].provenance.model_dump(mode="json", exclude={"enriched_at"}),
    }
    if bare:
        started = time.perf_counter()
        bare_spans = _bare_spans(enricher, documents)
        bare_elapsed = time.perf_counter() - started
        report["bare"] = score_spans(gold, bare_spans)
        # The same texts through bare nlp.pipe (same batch size) against the whole
        # enrichment: how much the post-processing, places, topics and keywords cost.
        report["bare_seconds"] = round(bare_elapsed, 4)
        report["throughput_ratio"] = round(bare_elapsed / elapsed, 3) if elapsed else None
    if ablate:
        report["ablation"] = _ablation(enricher, documents, articles, report)
    return report


def _ablation(
    enricher: Enricher,
    documents: Sequence[ConllDocument],
    articles: Sequence[Article],
    report: dict[str, Any],
) -> dict[str, Any]:
    """Scores with each entity pass off in turn. The model runs once; the passes,
    places and their mapping run as the worker runs them (``Enricher.read_spans``)."""
    from services.enrich.entities import PASS_NAMES, ner_text

    size = enricher.settings.ner_batch_size
    texts = [ner_text(d.title, d.body) for d in documents]
    spans = [list(doc.ents) for doc in enricher.nlp.pipe(texts, batch_size=size)]
    gold = [d.gold for d in documents]
    base = report["per_org_loc"]["f1"]
    found: dict[str, Any] = {}
    saved = enricher.entity_passes_off
    try:
        for name in PASS_NAMES:
            enricher.entity_passes_off = frozenset({name})
            predicted = [
                _entity_spans(enricher.read_spans(article, article_spans)[0])
                for article, article_spans in zip(articles, spans, strict=True)
            ]
            scores = score_spans(gold, predicted)
            found[name] = {
                "per_org_loc": scores["per_org_loc"],
                "delta_f1": round(base - scores["per_org_loc"]["f1"], 4),
                "delta_per_type": {
                    kind: round(report["per_type"][kind]["f1"] - scores["per_type"][kind]["f1"], 4)
                    for kind in NER_TYPES
                },
            }
    finally:
        enricher.entity_passes_off = saved
    return found


# --- topics --------------------------------------------------------------------


LONG_ARTICLE_WORDS = 40
CALIBRATION_FLOOR = 0.05
CALIBRATION_BINS = (0.05, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0001)


@dataclass(slots=True)
class TopicExample:
    """One labelled article of a topic evaluation file."""

    title: str
    body: str
    label: str
    qcode: str
    gold: tuple[str, ...] = ()  # every gold top-level QCode, the label's first


def read_topic_file(
    path: Path | str, resolve: dict[str, str], limit: int | None = None
) -> list[TopicExample]:
    """Labelled articles of a JSONL file (see the module docstring).

    ``resolve`` maps QCodes and slugs of the taxonomy to QCodes.
    """
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    mapping: dict[str, str] = {}
    rows: list[tuple[int, dict[str, Any]]] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(row, dict):
            raise EvalError(f"{path}:{number}: expected a JSON object")
        if "mapping" in row and "title" not in row:
            if not isinstance(row["mapping"], dict):
                raise EvalError(f"{path}:{number}: 'mapping' must be an object")
            mapping.update({str(k): str(v) for k, v in row["mapping"].items()})
            continue
        rows.append((number, row))
    examples: list[TopicExample] = []
    for number, row in rows:
        title = str(row.get("title") or "")
        body = str(row.get("body") or row.get("text") or "")
        label = str(row.get("label") or row.get("qcode") or "")
        if not (title or body) or not label:
            raise EvalError(f"{path}:{number}: needs 'title' or 'body' and a 'label'")
        target = str(row.get("qcode") or mapping.get(label) or label)
        qcode = resolve.get(target) or resolve.get(target.lower())
        if qcode is None:
            raise EvalError(
                f"{path}:{number}: label {label!r} maps to {target!r}, which is not a QCode "
                "or slug of the taxonomy (add a 'qcode' or a mapping line)"
            )
        topics = row.get("topics") or []
        if not isinstance(topics, list):
            raise EvalError(f"{path}:{number}: 'topics' must be a list")
        gold = [qcode]
        for topic in topics:
            name = str(topic)
            target = mapping.get(name, name)
            resolved = resolve.get(target) or resolve.get(target.lower())
            if resolved is None:
                raise EvalError(
                    f"{path}:{number}: topic {name!r} is not a QCode or slug of the taxonomy"
                )
            if resolved not in gold:
                gold.append(resolved)
        examples.append(
            TopicExample(title or body.split("\n", 1)[0], body, label, qcode, tuple(gold))
        )
        if limit is not None and len(examples) >= limit:
            break
    if not examples:
        raise EvalError(f"{path} holds no labelled articles")
    return examples


def best_top_level(enriched: EnrichedArticle, top_level: set[str]) -> str:
    """The QCode of the most relevant top-level topic, or ``NO_TOPIC``."""
    for topic in enriched.topics:  # best first
        if topic.qcode in top_level:
            return topic.qcode
    return NO_TOPIC


def eval_topics(
    path: Path | str,
    *,
    limit: int | None = None,
    settings: Settings | None = None,
    enricher: Enricher | None = None,
) -> dict[str, Any]:
    """Accuracy of the best top-level topic, per-class precision and recall, and
    the confusion matrix, on a labelled JSONL file. Raises ``EvalError``."""
    enricher = enricher or _enricher(settings, ner=False)
    taxonomy = enricher.taxonomy
    resolve = {t.qcode: t.qcode for t in taxonomy.topics} | {
        t.slug: t.qcode for t in taxonomy.topics
    }
    examples = read_topic_file(path, resolve, limit)
    articles = [_article(e.title, e.body, None, n) for n, e in enumerate(examples)]
    started = time.perf_counter()
    enriched = _enrich_all(enricher, articles)
    elapsed = time.perf_counter() - started
    top_level = {t.qcode for t in taxonomy.topics if t.top_level}
    predicted = [best_top_level(a, top_level) for a in enriched]
    gold = [e.qcode for e in examples]
    confusion: dict[str, Counter[str]] = defaultdict(Counter)
    for g, p in zip(gold, predicted, strict=True):
        confusion[g][p] += 1
    classes = sorted(set(gold) | (set(predicted) - {NO_TOPIC}))
    per_class: dict[str, Any] = {}
    for qcode in classes:
        row = confusion.get(qcode, Counter())
        tp = row[qcode]
        fp = sum(confusion[g][qcode] for g in confusion if g != qcode)
        fn = sum(row.values()) - tp
        scores = _prf(tp, fp, fn)
        per_class[qcode] = {"label": _label(taxonomy, qcode), **scores}
    correct = sum(g == p for g, p in zip(gold, predicted, strict=True))
    predicted_sets = [
        {t.qcode for t in article.topics if t.qcode in top_level} for article in enriched
    ]
    gold_sets = [set(e.gold) & top_level or {e.qcode} for e in examples]
    words = [len(e.title.split()) + len(e.body.split()) for e in examples]
    multi = multi_label_scores(gold_sets, predicted_sets, words)
    per_topic = {
        qcode: {"label": _label(taxonomy, qcode), **scores}
        for qcode, scores in multi.pop("per_topic").items()
    }
    candidates = [
        [
            (t.relevance, t.qcode in gold_set)
            for t in taxonomy.classify(e.title, e.body, CALIBRATION_FLOOR)
            if t.qcode in top_level
        ]
        for e, gold_set in zip(examples, gold_sets, strict=True)
    ]
    labels = {q: _label(taxonomy, q) for q in sorted(set(classes) | set(per_topic))}
    return {
        "task": "topics",
        "file": str(path),
        "articles": len(examples),
        "accuracy": round(correct / len(examples), 4),
        "correct": correct,
        "no_topic": predicted.count(NO_TOPIC),
        **multi,
        "threshold": enricher.settings.topic_threshold,
        "enrich_seconds": round(elapsed, 4),
        "per_class": per_class,
        "per_topic": per_topic,
        "calibration": calibration_table(candidates),
        "confusion": {g: dict(confusion[g]) for g in sorted(confusion)},
        "labels": labels,
        "provenance": enriched[0].provenance.model_dump(mode="json", exclude={"enriched_at"}),
    }


def multi_label_scores(
    gold: Sequence[set[str]], predicted: Sequence[set[str]], words: Sequence[int]
) -> dict[str, Any]:
    """Set-based figures: exact-set match, no-topic rates, per-topic P/R/F1 and micro.

    ``words`` is each article's word count, for the no-topic rate of the articles
    of at least ``LONG_ARTICLE_WORDS`` words.
    """
    counts: dict[str, Counter[str]] = defaultdict(Counter)
    exact = 0
    for gold_set, predicted_set in zip(gold, predicted, strict=True):
        exact += gold_set == predicted_set
        for qcode in predicted_set:
            counts[qcode]["tp" if qcode in gold_set else "fp"] += 1
        for qcode in gold_set - predicted_set:
            counts[qcode]["fn"] += 1
    total = len(gold)
    empty = sum(not p for p in predicted)
    long_articles = [
        not p for p, n in zip(predicted, words, strict=True) if n >= LONG_ARTICLE_WORDS
    ]
    per_topic = {q: _prf(counts[q]["tp"], counts[q]["fp"], counts[q]["fn"]) for q in sorted(counts)}
    return {
        "exact_set_match": round(exact / total, 4) if total else 0.0,
        "no_topic_rate": round(empty / total, 4) if total else 0.0,
        "long_articles": len(long_articles),
        "no_topic_rate_long": (
            round(sum(long_articles) / len(long_articles), 4) if long_articles else 0.0
        ),
        "micro": _prf(
            sum(c["tp"] for c in counts.values()),
            sum(c["fp"] for c in counts.values()),
            sum(c["fn"] for c in counts.values()),
        ),
        "per_topic": per_topic,
    }


def calibration_table(candidates: Sequence[Sequence[tuple[float, bool]]]) -> list[dict[str, Any]]:
    """Top-level candidates binned by relevance: how many, mean relevance, share right.

    ``candidates`` holds, per article, ``(relevance, in the gold set)`` of each
    top-level topic the classifier gives at ``CALIBRATION_FLOOR``.
    """
    rows: list[dict[str, Any]] = []
    edges = CALIBRATION_BINS
    for low, high in itertools.pairwise(edges):
        hits = [(r, ok) for article in candidates for r, ok in article if low <= r < high]
        right = sum(ok for _, ok in hits)
        rows.append(
            {
                "low": low,
                "high": min(high, 1.0),
                "count": len(hits),
                "mean_relevance": round(sum(r for r, _ in hits) / len(hits), 4) if hits else None,
                "precision": round(right / len(hits), 4) if hits else None,
            }
        )
    return rows


def _label(taxonomy: Any, qcode: str) -> str:
    try:
        label: str = taxonomy.topic(qcode).label
    except KeyError:
        return qcode
    return label


# --- the command -----------------------------------------------------------------


def cmd_eval(args: argparse.Namespace) -> int:
    """``newsflow eval ner|topics|places FILE [--json] [--limit N]``: 0 done, 2 bad input."""
    if args.task == "places":
        return cmd_eval_places(args)
    from rich.console import Console
    from rich.markup import escape

    out = Console(highlight=False, soft_wrap=True)
    err = Console(stderr=True, highlight=False, soft_wrap=True)
    try:
        if args.task == "ner":
            report = eval_ner(args.file, limit=args.limit, ablate=args.ablate)
        else:
            report = eval_topics(args.file, limit=args.limit)
    except (EvalError, RuntimeError) as exc:
        err.print(f"[red]newsflow:[/red] {escape(str(exc))}")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
        return 0
    if report["task"] == "ner":
        _print_ner(out, report)
    else:
        _print_topics(out, report)
    return 0


def _print_ner(out: Any, report: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title=f"NER: {report['file']} ({report['documents']} documents)")
    for column in ("type", "precision", "recall", "F1", "support", "bare F1"):
        table.add_column(column, justify="left" if column == "type" else "right")
    bare = report.get("bare")
    rows = [(k, v) for k, v in report["per_type"].items() if v["support"] or v["fp"]]
    rows += [("PER+ORG+LOC", report["per_org_loc"]), ("all", report["all"])]
    for name, scores in rows:
        if bare is None:
            bare_f1 = "-"
        elif name == "PER+ORG+LOC":
            bare_f1 = f"{bare['per_org_loc']['f1']:.3f}"
        elif name == "all":
            bare_f1 = f"{bare['all']['f1']:.3f}"
        else:
            bare_f1 = f"{bare['per_type'].get(name, {'f1': 0.0})['f1']:.3f}"
        table.add_row(
            name,
            f"{scores['precision']:.3f}",
            f"{scores['recall']:.3f}",
            f"{scores['f1']:.3f}",
            str(scores["support"]),
            bare_f1,
        )
    out.print(table)
    out.print(f"model {report['provenance'].get('ner_model')}, {report['enrich_seconds']} s")
    if report.get("throughput_ratio") is not None:
        out.print(
            f"enrichment {report['enrich_seconds']} s vs bare nlp.pipe {report['bare_seconds']} s"
            f" on the same texts: {report['throughput_ratio']:.2f} x the bare rate"
        )
    if "ablation" in report:
        _print_ablation(out, report)


def _print_ablation(out: Any, report: dict[str, Any]) -> None:
    from rich.table import Table

    table = Table(title="each pass off in turn: PER+ORG+LOC F1 lost (+ = the pass helps)")
    table.add_column("pass", no_wrap=True)
    for column in ("F1 without", "delta", *(f"d {k}" for k in NER_TYPES)):
        table.add_column(column, justify="right")
    for name, scores in report["ablation"].items():
        table.add_row(
            name,
            f"{scores['per_org_loc']['f1']:.4f}",
            f"{scores['delta_f1']:+.4f}",
            *(f"{scores['delta_per_type'][k]:+.4f}" for k in NER_TYPES),
        )
    out.print(table)


def _print_topics(out: Any, report: dict[str, Any]) -> None:
    from rich.table import Table

    labels: dict[str, str] = report["labels"]
    out.print(
        f"topics: {report['file']}: accuracy {report['accuracy']:.3f} "
        f"({report['correct']}/{report['articles']}), no topic {report['no_topic']}, "
        f"taxonomy {report['provenance'].get('taxonomy')}"
    )
    out.print(
        f"exact-set match {report['exact_set_match']:.3f}, no-topic rate "
        f"{report['no_topic_rate']:.3f} (articles of >= {LONG_ARTICLE_WORDS} words: "
        f"{report['no_topic_rate_long']:.3f} of {report['long_articles']}), micro precision "
        f"{report['micro']['precision']:.3f} recall {report['micro']['recall']:.3f}, "
        f"threshold {report['threshold']}"
    )
    topics = Table(title="per topic (all assigned top-level topics vs the gold set)")
    for column in ("QCode", "label", "precision", "recall", "F1", "support", "assigned"):
        topics.add_column(column, justify="right" if column not in ("QCode", "label") else "left")
    for qcode, scores in report["per_topic"].items():
        topics.add_row(
            qcode,
            labels.get(qcode, qcode),
            f"{scores['precision']:.3f}",
            f"{scores['recall']:.3f}",
            f"{scores['f1']:.3f}",
            str(scores["support"]),
            str(scores["tp"] + scores["fp"]),
        )
    out.print(topics)
    calibration = Table(title="calibration (top-level candidates by relevance)")
    for column in ("relevance", "count", "mean relevance", "precision"):
        calibration.add_column(column, justify="right")
    for row in report["calibration"]:
        calibration.add_row(
            f"{row['low']:.2f}-{row['high']:.2f}",
            str(row["count"]),
            "-" if row["mean_relevance"] is None else f"{row['mean_relevance']:.3f}",
            "-" if row["precision"] is None else f"{row['precision']:.3f}",
        )
    out.print(calibration)
    table = Table(title="per class")
    for column in ("QCode", "label", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="right" if column not in ("QCode", "label") else "left")
    for qcode, scores in report["per_class"].items():
        table.add_row(
            qcode,
            labels.get(qcode, qcode),
            f"{scores['precision']:.3f}",
            f"{scores['recall']:.3f}",
            f"{scores['f1']:.3f}",
            str(scores["support"]),
        )
    out.print(table)
    columns = [*labels, NO_TOPIC]
    matrix = Table(title="confusion (rows: gold, columns: predicted)")
    matrix.add_column("gold")
    for qcode in columns:
        matrix.add_column(qcode.removeprefix("medtop:"), justify="right")
    for gold, row in report["confusion"].items():
        matrix.add_row(gold.removeprefix("medtop:"), *(str(row.get(q, 0)) for q in columns))
    out.print(matrix)


# --- places --------------------------------------------------------------------
# ``newsflow eval places FILE``: how well the gazetteer places the places of a
# hand-labelled JSONL file (the modern development set's format: ``title``,
# ``body``, ``entities`` [{text, type}], ``places`` [{text, country, geonameid?,
# admin1?}] and ``not_places`` [text]). Every listed surface applies to all its
# whole-word occurrences, longest surface first and without overlap, so "Sydney"
# inside a listed "Sydney Sixers" is not a place mention.

_PLACE_TYPES = frozenset(("GPE", "LOC", "FAC"))


@dataclass(slots=True)
class PlaceExample:
    """One article of a place evaluation file, with its gold mentions."""

    id: str
    title: str
    body: str
    # (field, start, end, gold place) for every place mention
    places: list[tuple[str, int, int, dict[str, Any]]]
    # (field, start, end, text) for every occurrence of a not-place name
    not_places: list[tuple[str, int, int, str]]


def _word_at(text: str, start: int, end: int) -> bool:
    before = text[start - 1] if start > 0 else " "
    after = text[end] if end < len(text) else " "
    return not (before.isalnum() or after.isalnum())


def _occurrences(text: str, surfaces: Iterable[str]) -> list[tuple[int, int, str]]:
    """Whole-word occurrences of ``surfaces``, longest first, none overlapping."""
    taken = bytearray(len(text))
    found: list[tuple[int, int, str]] = []
    for surface in sorted(set(surfaces), key=lambda s: (-len(s), s)):
        start = text.find(surface)
        while start >= 0:
            end = start + len(surface)
            if _word_at(text, start, end) and not any(taken[start:end]):
                taken[start:end] = b"\x01" * (end - start)
                found.append((start, end, surface))
            start = text.find(surface, start + 1)
    return sorted(found)


def read_place_file(path: Path | str, limit: int | None = None) -> list[PlaceExample]:
    """The articles of a place evaluation file; raises ``EvalError``."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalError(f"cannot read {path}: {exc}") from exc
    examples: list[PlaceExample] = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalError(f"{path}:{number}: not JSON: {exc}") from exc
        if not isinstance(row, dict) or not isinstance(row.get("places", []), list):
            raise EvalError(f"{path}:{number}: expected an object with a 'places' list")
        gold = {str(p["text"]): p for p in row.get("places", []) if isinstance(p, dict)}
        nots = {str(t) for t in row.get("not_places", [])}
        others = {str(e.get("text")) for e in row.get("entities", []) if isinstance(e, dict)}
        example = PlaceExample(str(row.get("id", number)), str(row.get("title", "")), "", [], [])
        example.body = str(row.get("body", ""))
        for field_name, text in (("title", example.title), ("body", example.body)):
            for start, end, surface in _occurrences(text, gold.keys() | nots | others):
                if surface in gold:
                    example.places.append((field_name, start, end, gold[surface]))
                elif surface in nots:
                    example.not_places.append((field_name, start, end, surface))
        examples.append(example)
        if limit is not None and len(examples) >= limit:
            break
    if not examples:
        raise EvalError(f"{path} holds no articles")
    return examples


def _entity_at(enriched: EnrichedArticle, field_name: str, start: int, end: int) -> Any:
    """The entity with the mention that best covers ``[start, end)``, or None."""
    best: tuple[int, int, int] | None = None
    chosen = None
    for entity in enriched.entities:
        for m in entity.mentions:
            if m.field != field_name or m.end <= start or m.start >= end:
                continue
            overlap = min(m.end, end) - max(m.start, start)
            key = (
                int(m.start == start and m.end == end),
                overlap,
                int(entity.type in _PLACE_TYPES),
            )
            if best is None or key > best:
                best, chosen = key, entity
    return chosen


def eval_places(
    path: Path | str,
    *,
    limit: int | None = None,
    settings: Settings | None = None,
    enricher: Enricher | None = None,
) -> dict[str, Any]:
    """Per place mention: the right country, the right GeoNames id for cities, and
    the not-place names that were given a place. Raises ``EvalError``."""
    examples = read_place_file(path, limit)
    enricher = enricher or _enricher(settings, ner=True)
    if enricher.nlp is None:
        raise EvalError("NER is off in this enricher; the place evaluation needs the model")
    articles = [_article(e.title, e.body, "en", n) for n, e in enumerate(examples)]
    enriched = _enrich_all(enricher, articles)
    counts: Counter[str] = Counter()
    errors: list[dict[str, Any]] = []
    geocoded: list[dict[str, Any]] = []
    for example, doc in zip(examples, enriched, strict=True):
        for field_name, start, end, gold in example.places:
            entity = _entity_at(doc, field_name, start, end)
            text = (example.title if field_name == "title" else example.body)[start:end]
            counts["mentions"] += 1
            counts["found"] += entity is not None
            as_place = entity is not None and entity.type in _PLACE_TYPES
            counts["as_place"] += as_place
            got = entity.country_code if entity is not None else None
            right = got == gold.get("country")
            counts["country_right"] += right
            counts["as_place_right"] += right and as_place
            counts["country_wrong"] += got is not None and not right
            gold_id = gold.get("geonameid")
            id_right = True
            if gold_id is not None:
                counts["cities"] += 1
                id_right = entity is not None and entity.geonames_id == int(gold_id)
                counts["city_right"] += id_right
                counts["cities_as_place"] += as_place
                counts["city_right_as_place"] += id_right and as_place
            if not (right and id_right):
                errors.append(
                    {
                        "id": example.id,
                        "text": text,
                        "gold": [gold.get("country"), gold_id],
                        "got": None
                        if entity is None
                        else [entity.name, entity.type, got, entity.geonames_id],
                    }
                )
        seen: set[str] = set()
        for field_name, start, end, text in example.not_places:
            entity = _entity_at(doc, field_name, start, end)
            placed = entity is not None and (
                entity.country_code is not None or entity.latitude is not None
            )
            if placed and text not in seen:
                seen.add(text)
                geocoded.append(
                    {"id": example.id, "text": text, "entity": entity.name, "type": entity.type,
                     "country": entity.country_code, "geonames_id": entity.geonames_id}
                )  # fmt: skip
    mentions = counts["mentions"]

    def share(part: str, whole: str) -> float:
        return round(counts[part] / counts[whole], 4) if counts[whole] else 0.0

    return {
        "task": "places",
        "file": str(path),
        "articles": len(examples),
        "mentions": mentions,
        "found": counts["found"],
        "country_right": counts["country_right"],
        "country_accuracy": share("country_right", "mentions"),
        "country_accuracy_found": round(counts["country_right"] / counts["found"], 4)
        if counts["found"]
        else 0.0,
        # The gazetteer's own share: mentions the entity rules typed as places.
        "as_place": counts["as_place"],
        "country_accuracy_as_place": share("as_place_right", "as_place"),
        "country_wrong": counts["country_wrong"],
        "cities": counts["cities"],
        "city_right": counts["city_right"],
        "city_accuracy": share("city_right", "cities"),
        "city_accuracy_as_place": share("city_right_as_place", "cities_as_place"),
        "not_places_geocoded": len(geocoded),
        "geocoded_not_places": geocoded,
        "errors": errors,
        "provenance": enriched[0].provenance.model_dump(mode="json", exclude={"enriched_at"}),
    }


def _print_places(out: Any, report: dict[str, Any]) -> None:
    out.print(
        f"places: {report['file']}: {report['articles']} articles, {report['mentions']} place "
        f"mentions ({report['found']} found as entities)\n"
        f"  right country  {report['country_accuracy']:.3f} ({report['country_right']}/"
        f"{report['mentions']}; {report['country_accuracy_found']:.3f} of those found; "
        f"{report['country_wrong']} given a wrong country)\n"
        f"  right country of the {report['as_place']} typed as places (GPE/LOC/FAC)  "
        f"{report['country_accuracy_as_place']:.3f}\n"
        f"  right city id  {report['city_accuracy']:.3f} ({report['city_right']}/"
        f"{report['cities']}; {report['city_accuracy_as_place']:.3f} of those typed as places)\n"
        f"  not-places given a place: {report['not_places_geocoded']}"
    )
    for item in report["geocoded_not_places"]:
        out.print(f"    {item['id']} {item['text']!r} -> {item['entity']} {item['country']}")
    for item in report["errors"]:
        out.print(f"    {item['id']} {item['text']!r}: gold {item['gold']}, got {item['got']}")


def cmd_eval_places(args: argparse.Namespace) -> int:
    """``newsflow eval places FILE [--json] [--limit N]``: 0 done, 2 bad input."""
    from rich.console import Console
    from rich.markup import escape

    try:
        report = eval_places(args.file, limit=args.limit)
    except (EvalError, RuntimeError) as exc:
        Console(stderr=True).print(f"[red]newsflow:[/red] {escape(str(exc))}")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(report, ensure_ascii=False) + "\n")
    else:
        _print_places(Console(highlight=False, soft_wrap=True), report)
    return 0
