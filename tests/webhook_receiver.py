"""A real HTTP webhook receiver for tests: verifies Standard Webhooks signatures.

It runs ``http.server`` in a thread on a free loopback port, answers each POST with
the next scripted reply (then 200), verifies the signature with the
``standardwebhooks`` package and records what it received.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import standardwebhooks


@dataclass
class Received:
    """One request as the receiver saw it."""

    at: float  # time.monotonic()
    wall_ms: float  # time.time() in ms, to compare with stream entry ids
    headers: dict[str, str]
    body: bytes
    verified: Any  # the parsed JSON when the signature verified, else None
    status: int  # what the receiver answered


@dataclass
class Receiver:
    """The receiver's script and record; ``url`` is where to send."""

    secret: str
    replies: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    url: str = ""
    delay_s: float = 0.0  # how long each answer takes (a slow receiver)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        try:
            verified = standardwebhooks.Webhook(self.secret).verify(body, headers)
        except standardwebhooks.WebhookVerificationError:
            verified = None
        with self.lock:
            status, extra = self.replies.pop(0) if self.replies else (200, {})
            self.received.append(
                Received(time.monotonic(), time.time() * 1000, headers, body, verified, status)
            )
        return status, extra

    def delivered(self) -> list[Received]:
        """The requests answered with a 2xx, in order."""
        with self.lock:
            return [r for r in self.received if 200 <= r.status < 300]


@contextmanager
def receiver(secret: str) -> Iterator[Receiver]:
    """A running receiver that verifies with ``secret``."""
    state = Receiver(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", 0)))
            time.sleep(state.delay_s)
            status, extra = state.answer(dict(self.headers.items()), body)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("content-length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
