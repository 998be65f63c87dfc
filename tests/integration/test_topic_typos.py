"""Typos in topic names fail loudly, naming the topics meant: saved filters, search,
SSE and the CLI (a filter on "sports" would otherwise wait for ever)."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator

import httpx
import pytest

from services.topic_names import UnknownTopicError, topic_names
from shared.settings import Settings
from tests.integration.test_subscribe import api_server
from tests.processes import NEWSFLOW, newsflow_env

pytestmark = pytest.mark.integration


def test_names_accept_slugs_and_qcodes_in_any_case() -> None:
    names = topic_names()
    for good in ("sport", "SPORT", "medtop:15000000", "politics-and-government"):
        assert names.check(good) == good
    with pytest.raises(UnknownTopicError, match="did you mean 'sport'"):
        names.check("sports")
    with pytest.raises(UnknownTopicError, match="'politics-and-government'"):
        names.check("politics")
    with pytest.raises(UnknownTopicError, match="topics are IPTC Media Topic slugs"):
        names.check("zzzz-qqqq")


@pytest.fixture
async def api(settings: Settings) -> AsyncIterator[str]:
    async with api_server(settings) as base:
        yield base


async def test_api_names_the_topic_meant(api: str) -> None:
    async with httpx.AsyncClient(base_url=api, timeout=10) as http:
        created = await http.post("/v1/subscriptions", json={"name": "x", "topics": ["sports"]})
        search = await http.get("/v1/search", params={"topic": "nope"})
        sse = await http.get("/v1/streams/topics/sports")
        fine = await http.post("/v1/subscriptions", json={"name": "y", "topics": ["sport"]})
        found = await http.get("/v1/search", params={"topic": "medtop:15000000"})
    assert created.status_code == 422
    error = created.json()["error"]
    [problem] = error["fields"]
    assert problem["field"] == "topics.0"
    assert problem["message"].startswith("unknown topic 'sports'; did you mean 'sport',")
    assert search.status_code == 422 and "unknown topic 'nope'" in search.json()["error"]["message"]
    assert sse.status_code == 404 and "did you mean 'sport'" in sse.json()["error"]["message"]
    assert fine.status_code == 201
    assert found.status_code == 200


def test_cli_exits_2_naming_the_topic_meant(settings: Settings) -> None:
    env = newsflow_env(REDIS_URL=settings.redis_url or "", NEWSFLOW_PREFIX=settings.prefix)
    runs = {
        "subscriptions": ["subscriptions", "add", "x", "--topic", "not-a-topic"],
        "subscribe": ["subscribe", "--topic", "sports"],
        "search": ["search", "--topic", "sports"],
        "subscription": ["subscribe", "--subscription", "nosuch"],
    }
    results = {
        key: subprocess.run(
            [*NEWSFLOW, *args], env=env, capture_output=True, text=True, timeout=60, check=False
        )
        for key, args in runs.items()
    }
    for key, result in results.items():
        assert result.returncode == 2, (key, result.stdout, result.stderr)
    assert "unknown topic 'not-a-topic'" in results["subscriptions"].stderr
    assert "did you mean 'sport'" in results["subscribe"].stderr
    assert "did you mean 'sport'" in results["search"].stderr
    assert "no saved filter called 'nosuch'" in results["subscription"].stderr


def test_user_taxonomy_topics_are_known(tmp_path: object) -> None:
    from pathlib import Path

    path = Path(str(tmp_path)) / "taxonomy.json"
    path.write_text(
        '{"name": "mine", "version": "1", "topics": [{"qcode": "x:1", "label": "Space launches",'
        ' "broader": null, "terms": ["rocket"]}]}'
    )
    names = topic_names(path)
    assert names.check("space-launches") == "space-launches"
    assert names.check("X:1") == "X:1"
    with pytest.raises(UnknownTopicError, match="'space-launches'"):
        names.check("space-launch")
