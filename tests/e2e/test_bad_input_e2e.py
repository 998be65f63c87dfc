"""End to end: bad input through every entry point while valid articles flow alongside.

The three services run as real processes (the real spaCy model included). One
run sends the bad cases of ``tests/integration/test_bad_input.py`` through
``POST /v1/articles``, ``POST /v1/articles/batch``, the inbox stream (``json``
and flat entries) and ``newsflow ingest`` files with hostile names, interleaved
with valid articles in several scripts. Afterwards every valid article is
stored and enriched, every worker is still running, nothing is left pending
and the dead-letter stream holds exactly the bad inbox entries.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import redis

from services.ingest.core import parse_article
from shared.models import DeadLetter
from shared.settings import Settings
from shared.streams import GROUP_ENRICH, GROUP_INGEST, GROUP_SINK, StreamNames
from tests.integration.test_bad_input import (
    AR_BODY,
    AR_TITLE,
    CASES,
    EMOJI_TITLE,
    FA_TITLE,
    FLAT_CASES,
    HE_TITLE,
    NOT_UTF8,
    RU_TITLE,
    SCRIPT_TEXT,
    ZH_BODY,
    ZH_TITLE,
    Case,
    _check_message,
)
from tests.processes import (
    NEWSFLOW,
    REPO,
    api_url,
    http_ok,
    newsflow_env,
    running_workers,
    stack_env,
    wait_until,
)

pytestmark = pytest.mark.e2e

MiB = 1024 * 1024
SETTINGS = Settings(log_format="text")
_wait, _get_ok = wait_until, http_ok


def _env(**extra: str) -> dict[str, str]:
    # Wide enough that no rejection line is wrapped.
    return newsflow_env(**extra, COLUMNS="100000")


@dataclass
class Stack:
    api: str
    env: dict[str, str]
    procs: dict[str, subprocess.Popen[bytes]]
    client: redis.Redis
    names: StreamNames


@pytest.fixture
def stack(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[Stack]:
    """ingest, enrich and sink as separate processes, as docker compose runs them."""
    env = stack_env(
        redis_url,
        prefix,
        tmp_path,
        # Inbox entries that are not UTF-8 fail their batch in FastStream's parser;
        # the reclaim sweep then handles them (see test_bad_input.py).
        NEWSFLOW_CLAIM_IDLE_MS="3000",
        COLUMNS="100000",  # wide enough that no rejection line is wrapped
    )
    api = api_url(env)
    with running_workers(env, tmp_path) as procs, redis.Redis.from_url(redis_url) as client:
        _wait(lambda: _get_ok(f"{api}/readyz"), 60, "the API to be ready")
        yield Stack(api, env, procs, client, StreamNames(prefix))


# --- valid articles, in several scripts ---------------------------------------------------------


def _valid(n: int, title: str, body: str, **extra: Any) -> dict[str, Any]:
    return {"title": title, "body": body, "url": f"https://valid.e2e/{n}", **extra}


VALID_HTTP = [
    _valid(
        1,
        "Central bank cuts interest rates",
        "The central bank cut interest rates on Tuesday, officials in Washington said.",
    ),
    _valid(2, AR_TITLE, AR_BODY, language="ar"),
    _valid(3, HE_TITLE, "הכנסת תצביע על התקציב בשבוע הבא", language="he"),
    _valid(4, EMOJI_TITLE, "Stocks 📈 rose in London and New York 🗽 after the vote."),
    _valid(5, "How cross-site scripting works", SCRIPT_TEXT),
]
VALID_BATCH = [
    _valid(6, FA_TITLE, "وزیر خارجه ایران می\u200cگوید مذاکرات ادامه دارد", language="fa"),
    _valid(7, ZH_TITLE, ZH_BODY, language="zh"),
    _valid(8, RU_TITLE, "Министерство финансов России сообщило о новых мерах.", language="ru"),
    {
        "title": "Election results announced",
        "url": "https://valid.e2e/9",
        # No </head>: HTML5 allows it; the paragraph must still be found.
        "html": "<html><head><title>x</title><body><p>The governing party won the "
        "parliamentary election in Germany.</p><script>track('e2e')</script>",
    },
]
VALID_INBOX = [
    _valid(
        10,
        "Flooding in Bangladesh",
        "Heavy rain flooded Dhaka on Monday, the government of Bangladesh said.",
    ),
    _valid(
        11,
        "انتخابات في العراق",
        "أعلنت المفوضية نتائج الانتخابات البرلمانية في بغداد.",
        language="ar",
    ),
]
VALID_FLAT = [
    _valid(
        12, "Oil prices rise 🛢️", "Oil prices rose after OPEC cut output, traders in London said."
    ),
    _valid(13, "שביתה בנמל חיפה", "עובדי הנמל בחיפה הכריזו על שביתה.", language="he"),
]


def _txt(title: str, body: str) -> tuple[str, dict[str, Any]]:
    """A .txt file's content and the ArticleIn ``newsflow ingest`` must make of it."""
    return f"{title}\n{body}", {"title": title, "body": body}


def _html(title: str, paragraph: str) -> tuple[str, dict[str, Any]]:
    page = (
        f"<html><head><title>{title}</title></head><body><p dir='rtl'>{paragraph}</p>"
        "<script>alert('x')</script></body></html>"
    )
    return page, {"title": title, "html": page}


WILDFIRES = _valid(14, "Wildfires in California", "Firefighters fought wildfires near Los Angeles.")
# Written as files, under hostile names: name -> (content, the ArticleIn it must become).
VALID_FILES: dict[str, tuple[str, dict[str, Any]]] = {
    "'; DROP TABLE articles; --.txt": _txt(
        "Parliament passes budget", "The parliament in Rome passed the budget on Friday."
    ),
    "Новости дня 📰 (copy).txt": _txt(
        "Москва объявила новые меры", "Правительство в Москве объявило новые меры поддержки."
    ),
    "عاجل خبر.html": _html("زلزال في تركيا", "ضرب زلزال قوي جنوب تركيا صباح اليوم."),
    "$(touch pwned) `id`.json": (orjson.dumps(WILDFIRES).decode(), WILDFIRES),
}
JSONL_GOOD = [
    _valid(15, "Tokyo stocks close higher 📈", "The Nikkei index in Tokyo closed higher."),
    _valid(16, "北京举行会议", "北京周五举行了经济工作会议。", language="zh"),
]
# Reached by a path that climbs out and back: elsewhere/a/b/../../etc/passwd.txt
TRAVERSAL = _txt("Earthquake in Chile", "A strong earthquake struck central Chile.")


# Every bad flat entry, and one whose json field is not UTF-8.
BAD_FLAT = [f for f in FLAT_CASES if f.error] + NOT_UTF8[:1]


def _small(case: Case) -> bool:
    # Accepted articles are enriched by spaCy: keep those to ordinary sizes.
    return case.rejected is not None or len(case.payload) < 100_000


def _file_reason(case: Case) -> str | None:
    """What ``newsflow ingest`` must say about ``case`` saved as a .json file; None: accepted."""
    assert case.rejected
    if case.id in ("array", "utf8-bom"):
        return None  # a .json file may hold an array; its BOM is skipped
    if case.id == "latin1-not-utf8":
        return "not valid UTF-8 (byte 14)"
    if case.rejected.code == "invalid_json":
        return "invalid JSON: "
    if case.rejected.names.startswith("article must be a JSON object"):
        return "expected a JSON object, got "
    return case.rejected.names


def _under(cases: list[Case], max_bytes: int) -> Iterator[list[Case]]:
    """Consecutive groups of cases whose payloads fit one request (20 MiB)."""
    group: list[Case] = []
    for case in cases:
        if group and sum(len(c.payload) for c in [*group, case]) > max_bytes:
            yield group
            group = []
        group.append(case)
    if group:
        yield group


def _rejections(stderr: str) -> dict[str, str]:
    """``newsflow ingest``'s "rejected ORIGIN: REASON" lines, by origin."""
    found: dict[str, str] = {}
    for line in stderr.splitlines():
        if line.startswith("rejected "):
            origin, _, reason = line[len("rejected ") :].partition(": ")
            found[origin] = reason
    return found


@pytest.fixture
def closing() -> Iterator[ExitStack]:
    """Closes what the test opened even when it fails half-way."""
    with ExitStack() as exits:
        yield exits


def _stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill ``proc`` if still running and close its pipes, unless the test read them."""
    if proc.stdout is not None and not proc.stdout.closed:
        if proc.poll() is None:
            proc.kill()
        proc.communicate()


def test_bad_input_everywhere_valid_articles_all_stored_workers_alive(  # noqa: C901 - one scenario, every entry point in turn
    stack: Stack, tmp_path: Path, closing: ExitStack
) -> None:
    api, client, names = stack.api, stack.client, stack.names
    expected_ids: dict[str, str] = {}  # article id -> what it is, for messages

    def expect(label: str, data: dict[str, Any]) -> str:
        article_id = parse_article(data, SETTINGS).id
        expected_ids[article_id] = label
        return article_id

    # 1. Files, sent by `newsflow ingest` in the background while the rest arrives.
    files = tmp_path / "files"
    cases_dir = files / "cases"
    cases_dir.mkdir(parents=True)
    bad_files: dict[str, str | None] = {}
    for n, case in enumerate(c for c in CASES if c.rejected):
        path = cases_dir / f"{n:02d} {case.id}.json"
        path.write_bytes(case.payload)
        bad_files[str(path)] = _file_reason(case)
    for name, (content, data) in VALID_FILES.items():
        (files / name).write_text(content, encoding="utf-8")
        expect(f"file {name}", data)
    lines = [orjson.dumps(JSONL_GOOD[0]), b'{"title": "broken', orjson.dumps(JSONL_GOOD[1])]
    (files / "feed.jsonl").write_bytes(b"\n".join(lines))
    bad_files[f"{files / 'feed.jsonl'}:2"] = "invalid JSON: "
    for data in JSONL_GOOD:
        expect("jsonl", data)
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "etc").mkdir(parents=True)
    (elsewhere / "etc" / "passwd.txt").write_text(TRAVERSAL[0], encoding="utf-8")
    (elsewhere / "a" / "b").mkdir(parents=True)
    traversal = elsewhere / "a" / "b" / ".." / ".." / "etc" / "passwd.txt"
    expect("traversal", TRAVERSAL[1])
    # A folder named "markup[" puts "[/red]" into the path newsflow prints.
    (files / "markup[").mkdir()
    (files / "markup[" / "red] title only.txt").write_text("Only a title\n", encoding="utf-8")
    bad_files[str(files / "markup[" / "red] title only.txt")] = "body: "
    (files / "ten megabytes.txt").write_text("Huge\n" + "x" * (10 * MiB), encoding="utf-8")
    bad_files[str(files / "ten megabytes.txt")] = "NEWSFLOW_MAX_ARTICLE_BYTES"
    (files / "notes.md").write_text("# not an article\n", encoding="utf-8")
    (files / "README").write_text("no extension\n", encoding="utf-8")
    bad_files[str(files / "README")] = "unsupported file type (none)"
    ingest = subprocess.Popen(
        [*NEWSFLOW, "ingest", str(files), str(traversal), str(files / "README"), "--api", api],
        env=stack.env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    closing.callback(_stop, ingest)

    # 2. HTTP: every case alone, with a valid article after each bad one.
    http = closing.enter_context(httpx.Client(base_url=api, timeout=60))
    valid_http = iter(VALID_HTTP)
    for case in filter(_small, CASES):
        response = http.post(
            "/v1/articles", content=case.payload, headers={"content-type": "application/json"}
        )
        if case.rejected:
            assert response.status_code == case.rejected.status, (case.id, response.text[:300])
            error = response.json()["error"]
            assert error["code"] == case.rejected.code, case.id
            _check_message(case.rejected, error["message"])
            data = next(valid_http, None)
            if data:
                ok = http.post("/v1/articles", json=data)
                assert ok.status_code == 202, ok.text
                assert ok.json()["id"] == expect("http", data)
        else:
            assert response.status_code == 202, (case.id, response.text[:300])
            assert response.json()["status"] == "accepted", case.id
            expected_ids[response.json()["id"]] = f"case {case.id}"

    # 3. HTTP batches: the bad cases between valid articles, under the request limit.
    batch_cases = [c for c in CASES if c.rejected and c.in_ndjson]
    valid_batch = iter(VALID_BATCH)
    for chunk in _under(batch_cases, 12 * MiB):
        lines, labels = [], []
        for case in chunk:
            data = next(valid_batch, None)
            if data:
                lines.append(orjson.dumps(data))
                labels.append(expect("batch", data))
            lines.append(case.payload)
            labels.append(case.id)
        response = http.post(
            "/v1/articles/batch",
            content=b"\n".join(lines),
            headers={"content-type": "application/x-ndjson"},
        )
        assert response.status_code == 200, response.text[:500]
        by_case = {c.id: c for c in chunk}
        for label, result in zip(labels, response.json()["results"], strict=True):
            if label in by_case:
                case = by_case[label]
                assert case.rejected and result["status"] == "rejected", (label, result)
                assert result["error"]["code"] == case.rejected.code, label
                _check_message(case.rejected, result["error"]["message"])
            else:
                assert (result["status"], result["id"]) == ("accepted", label)

    # 4. The inbox: every bad case as a json entry and every bad flat entry, between
    # valid ones; the non-UTF-8 ones included.
    bad_entries: dict[str, str] = {}  # entry id -> case id
    valid_inbox = iter(VALID_INBOX)
    valid_flat = iter(VALID_FLAT)
    for case in (c for c in CASES if c.rejected):
        entry_id = client.xadd(names.inbox, {"json": case.payload})
        bad_entries[entry_id.decode()] = case.id
        data = next(valid_inbox, None)
        if data:
            client.xadd(names.inbox, {"json": orjson.dumps(data)})
            expect("inbox", data)
    for flat in BAD_FLAT:
        entry_id = client.xadd(names.inbox, flat.fields)
        bad_entries[entry_id.decode()] = flat.id
        data = next(valid_flat, None)
        if data:
            client.xadd(names.inbox, {k: str(v) for k, v in data.items()})
            expect("flat", {k: str(v) for k, v in data.items()})

    # 5. newsflow ingest is done: each bad file named with its reason, the rest sent.
    out, err = ingest.communicate(timeout=120)
    stderr = err.decode()
    assert ingest.returncode == 1, stderr[-3000:]
    rejections = _rejections(stderr)
    for origin, reason in bad_files.items():
        if reason is None:
            assert origin not in rejections, (origin, rejections.get(origin))
        else:
            assert reason in rejections.get(origin, "<not reported>"), (origin, rejections)
    reported = {origin for origin, reason in bad_files.items() if reason is not None}
    assert set(rejections) == reported
    summary = out.decode().strip().splitlines()[-1]
    # "array" and "utf8-bom" hold the same article: one accepted, one a duplicate.
    good_files = len(VALID_FILES) + len(JSONL_GOOD) + 1
    assert summary == f"accepted {good_files + 1}, duplicate 1, rejected {len(reported)}"
    expect("file array", {"title": "T", "body": "B"})

    # 6. Every valid article is stored, enriched, and reads back as it was sent.
    def stored() -> bool:
        return all(_get_ok(f"{api}/v1/articles/{i}") for i in expected_ids)

    _wait(stored, 90, f"{len(expected_ids)} articles to be stored")
    docs = {i: http.get(f"/v1/articles/{i}").json() for i in expected_ids}
    for i, label in expected_ids.items():
        assert docs[i]["id"] == i, label
        assert docs[i]["provenance"]["enriched_at"], label

    def doc(data: dict[str, Any]) -> dict[str, Any]:
        return docs[parse_article(data, SETTINGS).id]

    # Text in every script comes back exactly as sent; markup only where it was HTML.
    for data in [*VALID_HTTP, *VALID_BATCH[:3], *VALID_INBOX, *JSONL_GOOD]:
        assert (doc(data)["title"], doc(data)["body"]) == (data["title"], data["body"])
    assert doc(VALID_BATCH[0])["body"] == "وزیر خارجه ایران می\u200cگوید مذاکرات ادامه دارد"
    assert doc(VALID_HTTP[4])["body"] == SCRIPT_TEXT
    assert doc(VALID_BATCH[3])["body"] == (
        "The governing party won the parliamentary election in Germany."
    )
    arabic_html = VALID_FILES["عاجل خبر.html"][1]
    assert doc(arabic_html)["body"] == "ضرب زلزال قوي جنوب تركيا صباح اليوم."
    assert doc(VALID_FLAT[1])["title"] == "שביתה בנמל חיפה"
    assert doc(VALID_FLAT[0])["source"] == "valid.e2e"
    assert doc(VALID_HTTP[0])["provenance"]["ner_model"]
    assert "Washington" in {e["name"] for e in doc(VALID_HTTP[0])["entities"]}
    assert "Germany" in {e["name"] for e in doc(VALID_BATCH[3])["entities"]}

    # 7. Searches with injection strings, through the CLI and HTTP.
    def search(*args: str) -> list[dict[str, Any]]:
        done = subprocess.run(
            [*NEWSFLOW, "search", *args, "--json"],
            env=stack.env,
            cwd=REPO,
            capture_output=True,
            timeout=60,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, b""), done.stderr
        return [orjson.loads(line) for line in done.stdout.splitlines()]

    titles = [d["title"] for d in search("--q", "'; DROP TABLE articles; --")]
    assert titles == ["'; DROP TABLE articles; --"]
    assert search("--entity", "Robert'); DROP TABLE students;--") == []
    traversal_topic = subprocess.run(
        [*NEWSFLOW, "search", "--topic", "../../etc/passwd", "--json"],
        env=stack.env,
        cwd=REPO,
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert traversal_topic.returncode == 2
    assert b"unknown topic '../../etc/passwd'" in traversal_topic.stderr
    arabic = search("--q", "العراق")
    assert AR_TITLE in {d["title"] for d in arabic}
    assert all("العراق" in d["title"] + d["body"] for d in arabic)
    everything = http.get("/v1/search", params={"limit": 500, "q": "' OR 1=1 --"}).json()
    assert everything["items"] == []
    assert len(http.get("/v1/search", params={"limit": 500}).json()["items"]) == len(expected_ids)

    # 8. Nothing pending, every worker alive, exactly the bad inbox entries dead-lettered.
    def drained() -> bool:
        return all(
            client.xpending(stream, group)["pending"] == 0
            for stream, group in (
                (names.inbox, GROUP_INGEST),
                (names.raw, GROUP_ENRICH),
                (names.enriched, GROUP_SINK),
            )
        )

    _wait(drained, 30, "every group to have nothing pending")
    assert {s: p.poll() for s, p in stack.procs.items()} == {
        "sink": None,
        "enrich": None,
        "ingest": None,
    }
    letters = [DeadLetter.model_validate_json(f[b"json"]) for _, f in client.xrange(names.dlq)]
    assert sorted(str(x.entry_id) for x in letters) == sorted(bad_entries)
    assert {x.source_stream for x in letters} == {names.inbox}
    by_entry = {str(x.entry_id): x for x in letters}
    for case in (c for c in CASES if c.rejected):
        entry = next(e for e, c in bad_entries.items() if c == case.id)
        assert case.rejected
        _check_message(case.rejected, by_entry[entry].error)
    for flat in BAD_FLAT:
        entry = next(e for e, c in bad_entries.items() if c == flat.id)
        assert flat.error and flat.error in by_entry[entry].error
