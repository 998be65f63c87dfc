"""The ``newsflow`` commands a user runs against a live pipeline, and offline enrichment."""

from __future__ import annotations

import subprocess
from pathlib import Path

import httpx
import orjson
import pytest
import redis

from shared.streams import StreamNames
from tests.e2e.test_pipeline import NEWSFLOW, REPO, _env, _get_ok, _wait, workers

pytestmark = pytest.mark.e2e

__all__ = ["workers"]  # the fixture, re-exported for these tests


def _cli(
    args: list[str], env: dict[str, str], **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [*NEWSFLOW, *args],
        env=env,
        cwd=REPO,
        capture_output=True,
        timeout=120,
        check=False,
        **kwargs,
    )  # type: ignore[call-overload]


def _worker_env(workers: dict[str, str], tmp_path: Path) -> dict[str, str]:
    return _env(
        REDIS_URL=workers["redis_url"],
        NEWSFLOW_PREFIX=workers["prefix"],
        DATABASE_URL=workers["database_url"],
        NEWSFLOW_DATA_DIR=str(tmp_path),
        COLUMNS="200",  # a wide terminal, so table cells are not wrapped
    )


def test_offline_enrich_turns_articlein_jsonl_into_enriched_jsonl(
    tmp_path: Path, seed_text: tuple[str, str]
) -> None:
    title, body = seed_text
    source = tmp_path / "in.jsonl"
    source.write_bytes(
        orjson.dumps({"title": title, "body": body})
        + b"\n"
        + b"{not json}\n"
        + orjson.dumps(
            {
                "title": "Storm floods the coast",
                "body": "Heavy rain and a storm "
                "flooded coastal towns; emergency services evacuated residents.",
            }
        )
        + b"\n"
    )
    out = tmp_path / "out.jsonl"
    result = _cli(["enrich", "--input", str(source), "--output", str(out)], _env())
    assert result.returncode == 1  # one line was skipped, and said so
    assert b"in.jsonl:2" in result.stderr
    docs = [orjson.loads(line) for line in out.read_bytes().splitlines()]
    assert [d["title"] for d in docs] == [title, "Storm floods the coast"]
    names = {e["name"] for e in docs[0]["entities"]}
    assert {"Iraq", "Donald Trump", "Mike Pompeo"} <= names
    assert docs[1]["topics"][0]["qcode"] in {"medtop:03000000", "medtop:17000000"}


def test_ingest_files_then_search_subscribe_stats_and_dlq(
    workers: dict[str, str], tmp_path: Path
) -> None:
    env = _worker_env(workers, tmp_path)
    folder = tmp_path / "articles"
    folder.mkdir()
    (folder / "one.txt").write_text(
        "Central bank raises interest rates\n\nThe central bank "
        "raised interest rates to curb inflation, its governor "
        "said in Frankfurt.\n"
    )
    (folder / "two.json").write_text(
        orjson.dumps(
            [
                {
                    "title": "Champions win the league final",
                    "body": "The home team won the "
                    "football league final 2-1 after a late goal by their striker.",
                    "url": "https://sport.test/final",
                    "source": "sport.test",
                },
                {"title": "missing body"},
            ]
        ).decode()
    )
    result = _cli(["ingest", str(folder), "--api", workers["api"]], env)
    assert result.returncode == 1, result.stderr  # one item was rejected
    assert b"accepted 2, duplicate 0, rejected 1" in result.stdout
    assert b"two.json[1]" in result.stderr and b"body" in result.stderr

    def stored() -> bool:
        found = _cli(["search", "--json"], env)
        return len(found.stdout.splitlines()) == 2

    _wait(stored, 60, "both articles to be stored")
    sport = _cli(["search", "--topic", "sport", "--json"], env)
    (doc,) = [orjson.loads(line) for line in sport.stdout.splitlines()]
    assert doc["title"] == "Champions win the league final"
    assert doc["source"] == "sport.test"
    table = _cli(["search", "--q", "interest rates"], env)
    assert b"Central bank raises" in table.stdout and b"1 article(s)" in table.stdout

    follow = _cli(["subscribe", "--topic", "sport", "--from-start", "--json", "--count", "1"], env)
    assert follow.returncode == 0, follow.stderr
    assert orjson.loads(follow.stdout)["id"] == doc["id"]

    stats = orjson.loads(_cli(["stats", "--json"], env).stdout)
    names = StreamNames(workers["prefix"])
    assert stats["stored"] == 2
    assert stats["dlq"] == 0
    assert stats["topics"][names.topic("sport")] == 1

    # A poison entry on the inbox is dead-lettered; replay puts it back; purge removes it.
    client = redis.Redis.from_url(workers["redis_url"])
    client.xadd(names.inbox, {"title": "no body here"})
    _wait(lambda: client.xlen(names.dlq) == 1, 30, "the dead letter")
    listed = _cli(["dlq", "list", "--json"], env)
    (letter,) = [orjson.loads(line) for line in listed.stdout.splitlines()]
    assert letter["source_stream"] == names.inbox
    assert "body" in letter["error"]
    assert _cli(["dlq", "list", "--error", "nothing-like-this", "--json"], env).stdout == b""
    assert b"replayed 1" in _cli(["dlq", "replay"], env).stdout
    _wait(lambda: client.xlen(names.dlq) == 1, 30, "the replayed entry to fail again")
    assert b"purged 1" in _cli(["dlq", "purge", "--stream", names.inbox], env).stdout
    assert client.xlen(names.dlq) == 0
    client.close()
    assert _get_ok(f"{workers['api']}/healthz")
    assert (
        httpx.get(f"{workers['api']}/v1/search", params={"topic": "sport"}).json()["items"][0]["id"]
        == doc["id"]
    )
