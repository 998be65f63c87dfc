"""``python -m bench.webhooks``: webhook delivery latency and recovery from an outage.

Runs a redis-server, ``newsflow worker deliver`` as its own process and a receiver
that verifies every Standard Webhooks signature, then offers articles to a topic
stream at a fixed rate (XADD, as the enrich worker writes them):

- healthy: latency from the XADD (the entry id's time) to the receiver, p50/p95/p99;
- outage: the receiver answers 503 for ``--outage`` seconds, then 200; reports how
  long the backlog took to arrive, articles lost, repeated ``webhook-id`` values and
  whether the order held.

It measures; it never asserts a time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
import redis

from services.embedded import start_redis
from shared import webhooks
from shared.redis import connect
from shared.streams import StreamNames
from tests.webhook_receiver import Receiver, receiver

REPO = Path(__file__).resolve().parents[1]
PREFIX = "benchwh:"
BODY = "word " * 1000  # about a 6 KB article


def _offer(client: redis.Redis, stream: str, rate: float, seconds: float, tag: str) -> int:
    """XADD ``rate`` articles a second for ``seconds``; returns how many."""
    total = int(rate * seconds)
    started = time.monotonic()
    for n in range(total):
        wait = started + n / rate - time.monotonic()
        if wait > 0:
            time.sleep(wait)
        doc = {"id": f"{tag}{n}", "title": f"Article {n}", "body": BODY}
        client.xadd(stream, {"json": orjson.dumps(doc)})
    return total


def _wait_for(sink: Receiver, count: int, limit: float) -> float:
    started = time.monotonic()
    while len(sink.delivered()) < count and time.monotonic() - started < limit:
        time.sleep(0.05)
    return time.monotonic() - started


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def _make(redis_url: str, names: StreamNames, sink_url: str, secret: str) -> webhooks.Webhook:
    async def go() -> webhooks.Webhook:
        client = connect(redis_url)
        try:
            spec = webhooks.WebhookIn(url=sink_url, topic="sport", secret=secret)
            return await webhooks.create(client, names, spec, allow_private=True)
        finally:
            await client.aclose()

    return asyncio.run(go())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="articles a second")
    parser.add_argument("--seconds", type=float, default=20.0, help="healthy phase length")
    parser.add_argument("--outage", type=float, default=60.0, help="receiver down this long")
    args = parser.parse_args()
    names = StreamNames(PREFIX)
    with tempfile.TemporaryDirectory() as tmp, receiver(webhooks.new_secret()) as sink:
        server = start_redis(Path(tmp) / "redis", appendonly=False)
        client = redis.Redis.from_url(server.url)
        env = {k: v for k, v in os.environ.items() if not k.startswith("NEWSFLOW_")}
        env.update(
            REDIS_URL=server.url,
            NEWSFLOW_PREFIX=PREFIX,
            NEWSFLOW_WEBHOOK_ALLOW_PRIVATE="true",
            NEWSFLOW_LOG_LEVEL="WARNING",
        )
        worker = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker", "deliver"], env=env, cwd=REPO
        )
        try:
            hook = _make(server.url, names, sink.url, sink.secret)
            time.sleep(3)  # the worker picks it up
            stream = names.topic("sport")

            sent = _offer(client, stream, args.rate, args.seconds, "h")
            _wait_for(sink, sent, 60)
            got = sink.delivered()
            lat = [
                r.wall_ms - int(r.headers["webhook-id"].rsplit("_", 1)[1].split("-")[0])
                for r in got
            ]
            verified = sum(r.verified is not None for r in got)
            print(
                f"healthy {args.rate:g}/s for {args.seconds:g} s: {len(got)}/{sent} delivered, "
                f"{verified} verified; XADD -> receiver ms p50 {_percentile(lat, 0.5):.0f} "
                f"p95 {_percentile(lat, 0.95):.0f} p99 {_percentile(lat, 0.99):.0f} "
                f"max {max(lat):.0f}"
            )

            before = len(sink.delivered())
            with sink.lock:
                sink.replies = [(503, {})] * 10**7
            down = _offer(client, stream, args.rate, args.outage, "o")
            with sink.lock:
                sink.replies = []
            took = _wait_for(sink, before + down, 900)
            after = sink.delivered()[before:]
            ids = [r.verified["id"] for r in after]
            wanted = [f"o{n}" for n in range(down)]
            msg_ids = [r.headers["webhook-id"] for r in after]
            print(
                f"outage {args.outage:g} s at {args.rate:g}/s: {len(set(ids))}/{down} delivered "
                f"{took:.1f} s after the receiver came back; lost {len(set(wanted) - set(ids))}, "
                f"repeated webhook-id {len(msg_ids) - len(set(msg_ids))}, "
                f"in order {ids == wanted}; attempts while down "
                f"{len(sink.received) - len(sink.delivered())}; webhook {hook.id}"
            )
        finally:
            worker.terminate()
            worker.wait(30)
            server.stop()


if __name__ == "__main__":
    main()
