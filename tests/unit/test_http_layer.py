"""The HTTP API's assembly and the CLI's, without Redis: one error shape on every
server, each app answering by its own settings, every command reachable."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import redis.asyncio as aioredis

from services.cli import main
from services.embedded import free_port
from services.ingest.api import create_api
from services.observability import WorkerMetrics, WorkerProbe, build_http_app
from shared.settings import Settings

UNAUTHORIZED = {
    "error": {
        "code": "unauthorized",
        "message": "missing or wrong API key: send 'Authorization: Bearer <key>' or "
        "'X-API-Key: <key>'",
    }
}
# The commands, in the order `newsflow --help` lists them (DESIGN.md, "Interfaces").
COMMANDS = "up,env,worker,ingest,enrich,search,subscribe,subscriptions,webhooks,dlq,eval,stats,docs"


@pytest.fixture
async def nowhere() -> AsyncIterator[aioredis.Redis]:
    """A client of a port nothing listens on."""
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0")
    yield client
    await client.aclose()


def _api(tmp_path: Path, client: aioredis.Redis, **settings: Any) -> Any:
    return create_api(Settings(data_dir=tmp_path, **settings), lambda: None, lambda: client)


async def _call(app: Any, method: str, path: str, **kwargs: Any) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        return await http.request(method, path, **kwargs)


async def test_the_api_and_a_worker_refuse_a_missing_key_in_the_same_words(
    tmp_path: Path, nowhere: aioredis.Redis
) -> None:
    api = _api(tmp_path, nowhere, api_key="k3y")
    probe = WorkerProbe("sink", "s", "sink", nowhere, max_lag=10)
    worker = build_http_app(probe, WorkerMetrics("sink"), dlq="d", api_key="k3y")

    from_api = await _call(api, "GET", "/metrics", headers={"x-api-key": "wrong"})
    from_worker = await _call(worker, "GET", "/metrics", headers={"x-api-key": "wrong"})

    assert from_api.status_code == from_worker.status_code == 401
    assert from_api.json() == from_worker.json() == UNAUTHORIZED
    assert from_api.content == from_worker.content


async def test_two_apps_in_one_process_answer_by_their_own_settings(
    tmp_path: Path, nowhere: aioredis.Redis
) -> None:
    small = _api(tmp_path, nowhere, max_request_bytes=1024, api_key="k3y")
    open_ = _api(tmp_path, nowhere)
    article = b'{"title": "Rates cut", "body": "' + b"x" * 1100 + b'", "colour": "red"}'
    headers = {"content-type": "application/json", "x-api-key": "k3y"}

    too_big = await _call(small, "POST", "/v1/articles", content=article, headers=headers)
    invalid = await _call(open_, "POST", "/v1/articles", content=article, headers=headers)

    assert too_big.status_code == 413
    assert "the limit is 1024 (NEWSFLOW_MAX_REQUEST_BYTES)" in too_big.json()["error"]["message"]
    assert invalid.status_code == 422
    assert invalid.json()["error"]["fields"] == [
        {"field": "colour", "message": "unknown field (not part of ArticleIn)"}
    ]
    token = await _call(small, "POST", "/v1/tokens", headers=headers)
    assert token.status_code == 200 and token.json()["token"]
    no_token = await _call(open_, "POST", "/v1/tokens")
    assert no_token.status_code == 409
    assert no_token.json()["error"]["code"] == "no_key"


def test_an_unknown_command_names_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["nonesuch"])
    assert exit_.value.code == 2
    choices = ", ".join(repr(c) for c in COMMANDS.split(","))
    assert f"invalid choice: 'nonesuch' (choose from {choices})" in capsys.readouterr().err


def test_python_m_services_cli_is_the_newsflow_command() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "services.cli", "worker", "nonesuch"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 2
    assert "usage: newsflow worker [-h] {ingest,enrich,sink,deliver}" in done.stderr
    assert "invalid choice: 'nonesuch'" in done.stderr
