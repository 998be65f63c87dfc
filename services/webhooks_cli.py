"""``newsflow webhooks add|list|rm|test``: manage webhooks in Redis, or try a receiver.

``add``, ``list`` and ``rm`` work on the running stack's Redis directly, with the same
checks as ``POST /v1/webhooks``; ``test`` sends one signed sample delivery to a URL
and prints the answer's status and latency. Exit codes as the other commands: 0
done, 1 not found or the receiver did not answer 2xx, 2 bad usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import UTC, datetime
from typing import Any


def register(subparsers: Any) -> None:
    """Add the ``webhooks`` command and its actions to ``subparsers``."""
    hooks = subparsers.add_parser("webhooks", help="add, list, remove or test signed webhooks")
    actions = hooks.add_subparsers(dest="action", required=True, metavar="ACTION")
    hooks.set_defaults(run=run)

    add = actions.add_parser("add", help="POST the articles of a topic or saved filter to a URL")
    add.add_argument("url", help="http:// or https:// URL of the receiver")
    source = add.add_mutually_exclusive_group(required=True)
    source.add_argument("--topic", help="topic slug, e.g. sport")
    source.add_argument("--subscription", help="a saved filter's name")
    add.add_argument("--secret", help="whsec_... secret (default: a new one, printed once)")
    add.add_argument("--batch-size", type=int, default=1, help="articles per POST (1-100)")
    add.add_argument(
        "--batch-interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="longest wait to fill a batch (default 1)",
    )
    add.set_defaults(handler=cmd_add)

    listing = actions.add_parser("list", help="show the webhooks (without secrets)")
    listing.add_argument("--json", action="store_true", help="one webhook per line (NDJSON)")
    listing.set_defaults(handler=cmd_list)

    rm = actions.add_parser("rm", help="delete a webhook (its deliveries and dead letters too)")
    rm.add_argument("id", help="the webhook's id, wh_...")
    rm.set_defaults(handler=cmd_rm)

    test = actions.add_parser("test", help="send one signed sample delivery to a URL")
    test.add_argument("url")
    test.add_argument("--secret", help="whsec_... secret to sign with (default: a new one)")
    test.set_defaults(handler=cmd_test)


def run(args: argparse.Namespace) -> int:
    """Run the chosen ``webhooks`` action."""
    result: int = args.handler(args)
    return result


def _with_redis(action: Any) -> int:
    """Run ``action(client, names)`` against the stack's Redis; its exit code."""
    from services.tools import _fail, _redis_url
    from shared.redis import connect
    from shared.settings import get_settings
    from shared.streams import StreamNames

    settings = get_settings()
    url = _redis_url(settings)
    if not url:
        return _fail("no Redis: set REDIS_URL or start 'newsflow up'")

    async def go() -> int:
        client = connect(url, cluster=settings.redis_cluster)
        try:
            result: int = await action(client, StreamNames(settings.prefix))
            return result
        finally:
            await client.aclose()

    return asyncio.run(go())


def cmd_add(args: argparse.Namespace) -> int:
    """Create a webhook; prints its id, its stream and its secret (shown once)."""
    from pydantic import ValidationError

    from services.tools import _fail, out
    from shared import webhooks
    from shared.settings import get_settings

    settings = get_settings()
    try:
        spec = webhooks.WebhookIn(
            url=args.url,
            topic=args.topic,
            subscription=args.subscription,
            secret=args.secret,
            batch_size=args.batch_size,
            batch_interval_s=args.batch_interval,
        )
    except ValidationError as exc:
        return _fail(f"invalid webhook: {webhooks.field_of(exc)}")

    async def add(client: Any, names: Any) -> int:
        try:
            made = await webhooks.create(
                client,
                names,
                spec,
                allow_private=settings.webhook_allow_private,
                taxonomy_path=settings.taxonomy_path,
            )
        except webhooks.WebhookRejected as exc:
            return _fail(f"invalid webhook: {exc}")
        out.print(f"added {made.id}: {made.stream(names)} -> {made.url}", markup=False)
        out.print(f"secret (shown once): {made.secret}", markup=False)
        return 0

    return _with_redis(add)


def cmd_list(args: argparse.Namespace) -> int:
    """Print the webhooks, oldest first."""
    import orjson

    from services.tools import out
    from shared import webhooks

    async def show(client: Any, names: Any) -> int:
        for hook in await webhooks.list_all(client, names):
            if args.json:
                sys.stdout.buffer.write(orjson.dumps(hook.public(names)) + b"\n")
                continue
            source = f"topic {hook.topic}" if hook.topic else f"subscription {hook.subscription}"
            batch = f", batches of {hook.batch_size}" if hook.batch_size > 1 else ""
            out.print(f"{hook.id}  {hook.status:8}  {source} -> {hook.url}{batch}", markup=False)
        return 0

    return _with_redis(show)


def cmd_rm(args: argparse.Namespace) -> int:
    """Delete a webhook."""
    from services.tools import _fail, out
    from shared import webhooks

    async def remove(client: Any, names: Any) -> int:
        if not await webhooks.delete(client, names, args.id):
            return _fail(f"no webhook {args.id!r}", 1)
        out.print(f"removed {args.id}", markup=False)
        return 0

    return _with_redis(remove)


SAMPLE = {
    "id": "newsflow-webhook-test",
    "title": "newsflow webhook test",
    "body": "A sample delivery sent by 'newsflow webhooks test'.",
    "topics": [],
    "entities": [],
}


def cmd_test(args: argparse.Namespace) -> int:
    """POST one signed sample article to ``args.url``; print the status and latency."""
    import orjson
    from pydantic import ValidationError

    from services.deliver import sender
    from services.tools import _fail, out
    from shared import webhooks
    from shared.settings import get_settings

    settings = get_settings()
    try:
        # Checks the URL and the secret as for a webhook; the topic is not used.
        spec = webhooks.WebhookIn(url=args.url, topic="-", secret=args.secret)
    except ValidationError as exc:
        return _fail(f"invalid webhook: {webhooks.field_of(exc)}")
    secret = spec.secret or webhooks.new_secret()
    now = datetime.now(UTC)
    body = orjson.dumps({**SAMPLE, "received_at": now.isoformat()})
    msg_id = f"msg_test_{int(now.timestamp() * 1000)}"

    async def send() -> sender.Attempt:
        address = await webhooks.check_target(
            spec.url, allow_private=settings.webhook_allow_private
        )
        async with sender.client(settings) as http:
            headers = sender.signed_headers(secret, msg_id, body, now)
            return await sender.post(
                http, spec.url, body, headers, settings.webhook_timeout_s, address
            )

    try:
        attempt = asyncio.run(send())
    except webhooks.WebhookRejected as exc:
        return _fail(f"invalid webhook: {exc}")
    if args.secret is None:
        out.print(f"signed with a new secret: {secret}", markup=False)
    answer = f"HTTP {attempt.status}" if attempt.status is not None else attempt.error
    out.print(f"{answer} in {attempt.latency_ms:.0f} ms (webhook-id {msg_id})", markup=False)
    return 0 if attempt.ok else 1
