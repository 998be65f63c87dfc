"""End to end: real worker processes, a real Redis server, the real spaCy model.

What a user does: start the services, send the seed article over HTTP, and find
it stored and enriched; run ``newsflow up --seed`` and query it with
``newsflow search``; stop it with Ctrl-C.
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from services.embedded import free_port
from shared.streams import GROUP_ENRICH, GROUP_SINK, StreamNames
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

# Short names for the shared helpers (other e2e modules import them from here too).
_env, _wait, _get_ok = newsflow_env, wait_until, http_ok


@pytest.fixture
def workers(redis_url: str, prefix: str, tmp_path: Path) -> Iterator[dict[str, str]]:
    """The three services as separate processes, as docker compose runs them."""
    env = stack_env(redis_url, prefix, tmp_path)
    api = api_url(env)
    with running_workers(env, tmp_path):
        _wait(lambda: _get_ok(f"{api}/readyz"), 60, "the API to be ready")
        yield {
            "api": api,
            "prefix": prefix,
            "redis_url": redis_url,
            "database_url": env["DATABASE_URL"],
        }


def test_seed_over_http_is_stored_enriched(
    workers: dict[str, str], seed_text: tuple[str, str]
) -> None:
    title, body = seed_text
    response = httpx.post(
        f"{workers['api']}/v1/articles", json={"title": title, "body": body, "source": "seed"}
    )
    assert response.status_code == 202
    article_id = response.json()["id"]

    _wait(
        lambda: _get_ok(f"{workers['api']}/v1/articles/{article_id}"),
        60,
        "the article to be stored",
    )
    doc = httpx.get(f"{workers['api']}/v1/articles/{article_id}").json()
    assert doc["title"] == title
    entities = {e["name"]: e["type"] for e in doc["entities"]}
    for name, kind in [
        ("Iraq", "GPE"),
        ("Iran", "GPE"),
        ("United States", "GPE"),
        ("Baghdad", "GPE"),
        ("Mike Pompeo", "PERSON"),
        ("Donald Trump", "PERSON"),
    ]:
        assert entities.get(name) == kind, (name, sorted(entities))
    qcodes = {t["qcode"] for t in doc["topics"]}
    assert {"medtop:11000000", "medtop:16000000"} <= qcodes
    assert doc["provenance"]["ner_model"]

    found = httpx.get(f"{workers['api']}/v1/search", params={"entity": "iran"}).json()
    assert [d["id"] for d in found["items"]] == [article_id]

    # Each of its topics' streams carries it, for subscribers.
    client = redis.Redis.from_url(workers["redis_url"])
    names = StreamNames(workers["prefix"])
    for topic in doc["topics"]:
        entries = client.xrange(names.topic(topic["slug"]))
        assert [orjson.loads(f[b"json"])["id"] for _, f in entries] == [article_id]
    # Everything was acknowledged.
    assert client.xpending(names.raw, GROUP_ENRICH)["pending"] == 0
    assert client.xpending(names.enriched, GROUP_SINK)["pending"] == 0
    client.close()


def test_workers_keep_running_after_bad_input(workers: dict[str, str]) -> None:
    api = workers["api"]
    bad = httpx.post(f"{api}/v1/articles", json={"body": "no title"})
    assert bad.status_code == 422
    assert "title" in bad.json()["error"]["message"]
    client = redis.Redis.from_url(workers["redis_url"])
    names = StreamNames(workers["prefix"])
    # Poison written straight to the raw stream must not stall enrichment.
    client.xadd(names.raw, {"json": b'{"not": "an article"}'})
    good = httpx.post(
        f"{api}/v1/articles",
        json={
            "title": "Markets rally as central bank cuts interest rates",
            "body": "Stocks rose after the central bank cut "
            "interest rates to fight inflation, investors said.",
        },
    )
    assert good.status_code == 202
    article_id = good.json()["id"]
    _wait(lambda: _get_ok(f"{api}/v1/articles/{article_id}"), 60, "the good article")
    assert client.xlen(names.dlq) == 1
    letter = orjson.loads(client.xrange(names.dlq)[0][1][b"json"])
    assert letter["source_stream"] == names.raw
    assert letter["payload"] == {"json": '{"not": "an article"}'}
    assert client.xpending(names.raw, GROUP_ENRICH)["pending"] == 0
    client.close()


def test_newsflow_up_seeds_searches_and_stops_cleanly(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    port = free_port()
    env = _env(NEWSFLOW_DATA_DIR=str(data_dir), NEWSFLOW_GRACEFUL_TIMEOUT="10")
    log_path = tmp_path / "up.log"
    with log_path.open("wb") as log:
        up = subprocess.Popen(
            [*NEWSFLOW, "up", "--seed", str(REPO / "seeds"), "--api-port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(
                lambda: "stored" in log_path.read_text(errors="replace"),
                120,
                "the seed to be stored",
            )
            out = subprocess.run(
                [*NEWSFLOW, "search", "--entity", "Iran", "--json"],
                env=env,
                cwd=tmp_path,
                capture_output=True,
                timeout=60,
                check=True,
            )
            docs = [orjson.loads(line) for line in out.stdout.splitlines()]
            assert len(docs) == 1
            assert docs[0]["title"] == "Iraq asks US for team to prepare troop withdrawal"
            people = {e["name"] for e in docs[0]["entities"] if e["type"] == "PERSON"}
            assert {"Donald Trump", "Mike Pompeo"} <= people
            url = (data_dir / "redis.url").read_text().strip()
            api = f"http://127.0.0.1:{port}"
            more = httpx.post(
                f"{api}/v1/articles",
                json={
                    "title": "Election results",
                    "body": "The governing party won the parliamentary election.",
                },
            )
            assert more.status_code == 202
            started = time.monotonic()
            up.send_signal(signal.SIGINT)
            code = up.wait(60)
            elapsed = time.monotonic() - started
        finally:
            if up.poll() is None:
                up.kill()
    text = log_path.read_text(errors="replace")
    assert code == 0, text[-3000:]
    assert elapsed < 3 * 10, text[-3000:]
    assert "pipeline drained" in text, text[-3000:]
    # Every stored article gets its line, the one finished during the drain too, and
    # a line longer than 80 columns stays one line in a log file.
    lines = text.splitlines()
    assert any(line.startswith("stored Election results |") for line in lines), text[-3000:]
    seed_lines = [line for line in lines if line.startswith("stored Iraq asks US")]
    assert seed_lines and len(seed_lines[0]) > 80 and seed_lines[0].count(" | ") == 2
    assert not (data_dir / "redis.url").exists()
    # The article accepted just before Ctrl-C was stored, not left behind.
    out = subprocess.run(
        [*NEWSFLOW, "search", "--q", "parliamentary election", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        timeout=60,
        check=True,
    )
    assert len(out.stdout.splitlines()) == 1, url


def test_killing_newsflow_up_leaves_no_orphans(tmp_path: Path) -> None:
    import psutil

    port = free_port()
    env = _env(NEWSFLOW_DATA_DIR=str(tmp_path / "data"))
    with (tmp_path / "up.log").open("wb") as log:
        up = subprocess.Popen(
            [*NEWSFLOW, "up", "--api-port", str(port)],
            env=env,
            cwd=tmp_path,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            _wait(lambda: _get_ok(f"http://127.0.0.1:{port}/readyz"), 60, "the API")
            children = psutil.Process(up.pid).children()
            assert len(children) == 5  # redis-server, sink, enrich, deliver, ingest
            up.kill()
            up.wait(10)
            _, alive = psutil.wait_procs(children, timeout=30)
            assert alive == []
        finally:
            if up.poll() is None:
                up.kill()


def test_ingest_stops_promptly_with_an_sse_client_connected(
    redis_url: str, prefix: str, tmp_path: Path
) -> None:
    import threading

    port = free_port()
    env = _env(
        REDIS_URL=redis_url,
        NEWSFLOW_PREFIX=prefix,
        NEWSFLOW_DATA_DIR=str(tmp_path),
        NEWSFLOW_API_PORT=str(port),
        NEWSFLOW_GRACEFUL_TIMEOUT="60",
    )
    with (tmp_path / "ingest.log").open("wb") as log:
        ingest = subprocess.Popen(
            [*NEWSFLOW, "worker", "ingest"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            api = f"http://127.0.0.1:{port}"
            _wait(lambda: _get_ok(f"{api}/readyz"), 60, "the API")
            connected = threading.Event()

            def listen() -> None:
                with httpx.stream(
                    "GET", f"{api}/v1/streams/topics/politics-and-government", timeout=None
                ) as response:
                    for _ in response.iter_lines():
                        connected.set()

            reader = threading.Thread(target=listen, daemon=True)
            reader.start()
            assert connected.wait(10)
            started = time.monotonic()
            ingest.send_signal(signal.SIGTERM)
            code = ingest.wait(60)
            elapsed = time.monotonic() - started
            reader.join(10)
        finally:
            if ingest.poll() is None:
                ingest.kill()
    text = (tmp_path / "ingest.log").read_text(errors="replace")
    assert code == 0, text[-2000:]
    # Far inside the 60 s graceful timeout: the open stream ended on its own.
    assert elapsed < 30, text[-2000:]
    assert not reader.is_alive()
    assert "Traceback" not in text, text[-2000:]
