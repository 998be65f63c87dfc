"""``newsflow stats`` as a user reads it, piped into a file: every stream named in
full, subscribers' groups on topic and subscription streams shown."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator

import orjson
import pytest
import redis

from shared.streams import StreamNames
from tests.processes import NEWSFLOW, newsflow_env

pytestmark = pytest.mark.integration


@pytest.fixture
def client(redis_url: str, prefix: str) -> Iterator[redis.Redis]:
    with redis.Redis.from_url(redis_url) as connection:
        yield connection
        keys = list(connection.scan_iter(match=f"{prefix}*"))
        if keys:
            connection.delete(*keys)


def test_stats_shows_subscriber_groups_and_full_names_when_piped(
    client: redis.Redis, redis_url: str, prefix: str, tmp_path: object
) -> None:
    names = StreamNames(prefix)
    topic = names.topic("disaster-accident-and-emergency-incident")
    subs = names.subs("flood-alerts")
    client.xadd(topic, {"json": b"{}"})
    client.xadd(subs, {"json": b"{}"})
    client.xgroup_create(topic, "newsroom", id="0")
    client.xgroup_create(subs, "pager", id="0")
    env = newsflow_env(
        REDIS_URL=redis_url, NEWSFLOW_PREFIX=prefix, DATABASE_URL="sqlite:///:memory:"
    )
    table = subprocess.run(
        [*NEWSFLOW, "stats"], env=env, capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert topic in table and subs in table
    row = next(line for line in table.splitlines() if topic in line)
    assert "newsroom" in row
    assert "pager" in next(line for line in table.splitlines() if subs in line)
    as_json = orjson.loads(
        subprocess.run(
            [*NEWSFLOW, "stats", "--json"], env=env, capture_output=True, timeout=60, check=True
        ).stdout
    )
    assert as_json["subs"] == {subs: 1}
    [group] = as_json["readers"][topic]
    assert (group["name"], group["lag"], group["pending"]) == ("newsroom", 1, 0)
