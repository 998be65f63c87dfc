"""Webhooks: the model's validation and the private-address rule (no Redis)."""

from __future__ import annotations

import base64
import random
from datetime import UTC, datetime

import pytest
import standardwebhooks
from pydantic import ValidationError

from services.deliver import sender
from services.deliver.sender import backoff, message_id, retry_after, signed_headers
from shared.settings import Settings
from shared.webhooks import (
    UnsafeTarget,
    WebhookIn,
    WebhookRejected,
    check_target,
    field_of,
    new_secret,
)
from tests.webhook_receiver import receiver


def _rejected(**data: object) -> WebhookRejected:
    with pytest.raises(ValidationError) as info:
        WebhookIn.model_validate(data)
    return field_of(info.value)


def test_generated_secret_is_standard() -> None:
    secret = new_secret()
    assert secret.startswith("whsec_")
    assert len(base64.b64decode(secret.removeprefix("whsec_"))) == 24
    assert new_secret() != secret


HOOK = "https://example.com/"


@pytest.mark.parametrize(
    ("data", "field", "words"),
    [
        ({"url": "ftp://example.com/x", "topic": "sport"}, "url", "http"),
        ({"url": "http:///nohost", "topic": "sport"}, "url", "no host"),
        ({"url": "https://u:p@example.com/", "topic": "sport"}, "url", "password"),
        ({"url": "https://example.com/"}, "webhook", "exactly one"),
        ({"url": HOOK, "topic": "sport", "subscription": "x"}, "webhook", "one"),
        ({"url": HOOK, "topic": "sport", "secret": "abc"}, "secret", "whsec_"),
        (
            {"url": HOOK, "topic": "sport", "secret": "whsec_!!"},
            "secret",
            "base64",
        ),
        ({"url": HOOK, "topic": "sport", "secret": "whsec_AAAA"}, "secret", "24"),
        ({"url": HOOK, "topic": "sport", "batch_size": 0}, "batch_size", "1"),
        ({"url": HOOK, "topic": "sport", "colour": "red"}, "colour", "unknown"),
    ],
)
def test_bad_input_names_the_field(data: dict[str, object], field: str, words: str) -> None:
    rejected = _rejected(**data)
    assert rejected.field == field
    assert words in rejected.message


def test_a_given_secret_is_kept() -> None:
    secret = new_secret()
    spec = WebhookIn(url="https://example.com/hook", topic="sport", secret=secret)
    assert spec.secret == secret


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("http://127.0.0.1:9/", "loopback"),
        ("http://localhost:9/", "loopback"),
        ("http://[::1]:9/", "loopback"),
        ("http://10.1.2.3/", "private"),
        ("http://192.168.0.10/", "private"),
        ("http://169.254.169.254/latest/meta-data/", "link-local"),
        ("http://224.0.0.1/", "multicast"),
        ("http://0.0.0.0/", "unspecified"),
        ("http://[::ffff:127.0.0.1]/", "loopback"),
        ("http://100.64.0.1/", "non-global"),
    ],
)
async def test_private_targets_are_refused(url: str, kind: str) -> None:
    with pytest.raises(UnsafeTarget) as info:
        await check_target(url, allow_private=False)
    assert info.value.field == "url"
    assert f"a {kind} address" in info.value.message
    assert "NEWSFLOW_WEBHOOK_ALLOW_PRIVATE" in info.value.message


async def test_private_targets_pass_with_the_flag_and_public_ones_without() -> None:
    await check_target("http://127.0.0.1:9/", allow_private=True)
    await check_target("http://8.8.8.8/", allow_private=False)


async def test_a_host_that_does_not_resolve_is_named() -> None:
    with pytest.raises(WebhookRejected, match=r"url: host 'no-such-host\.invalid' does not"):
        await check_target("http://no-such-host.invalid/", allow_private=True)


def test_signed_headers_verify_with_standardwebhooks() -> None:
    secret = new_secret()
    body = b'{"id":"a1","title":"\xc3\xa9t\xc3\xa9"}'
    msg_id = message_id("wh_1", "1-0")
    headers = signed_headers(secret, msg_id, body, datetime.now(UTC))
    assert headers["webhook-id"] == "msg_wh_1_1-0"
    assert standardwebhooks.Webhook(secret).verify(body, headers) == {"id": "a1", "title": "été"}
    with pytest.raises(standardwebhooks.WebhookVerificationError):
        standardwebhooks.Webhook(new_secret()).verify(body, headers)


def test_message_id_names_the_webhook_and_its_entries() -> None:
    assert message_id("wh_1", "5-0", "5-0") == "msg_wh_1_5-0"
    assert message_id("wh_1", "5-0", "9-1") == "msg_wh_1_5-0-9-1"
    assert message_id("wh_2", "5-0") != message_id("wh_1", "5-0")


def test_backoff_is_full_jitter_doubling_to_ten_minutes() -> None:
    rng = random.Random(7)
    for attempt, ceiling in ((1, 1.0), (2, 2.0), (5, 16.0), (11, 600.0), (60, 600.0)):
        waits = [backoff(attempt, rng) for _ in range(200)]
        assert all(0 <= w <= ceiling for w in waits)
        assert max(waits) > ceiling / 2


def test_retry_after_seconds_or_http_date() -> None:
    assert retry_after("120") == 120.0
    assert retry_after(None) is None
    assert retry_after("soon") is None
    assert retry_after("Wed, 02 Dec 2026 16:00:30 GMT", now=1796227200.0) == 30.0


async def test_a_delivery_connects_to_the_address_that_was_checked() -> None:
    secret = new_secret()
    with receiver(secret) as sink:
        port = sink.url.rsplit(":", 1)[1].split("/")[0]
        url = f"http://pinned.invalid:{port}/hook"  # the name itself resolves nowhere
        body = b'{"id":"a1"}'
        headers = signed_headers(secret, "msg_1", body, datetime.now(UTC))
        async with sender.client(Settings()) as http:
            attempt = await sender.post(http, url, body, headers, 10.0, address="127.0.0.1")
        assert attempt.ok, attempt
        got = {k.lower(): v for k, v in sink.received[0].headers.items()}
        assert got["host"] == f"pinned.invalid:{port}"
        assert sink.received[0].verified == {"id": "a1"}
