"""e: PostgreSQL away while articles arrive, through a TCP proxy the test controls.

A real ``newsflow worker sink`` writes to a database of its own on the local
PostgreSQL server, through a proxy on loopback. While enriched articles arrive at
about 100 a second, the proxy drops every connection and refuses new ones for
``OUTAGE_S`` (many times what claim idle x max deliveries allowed before the worker
contract). The sink must hold its batch (``/readyz`` 503 naming the hold), dead-letter
nothing, and store every article exactly once when the server is reachable again.
Prints one line of figures (``-s``)::

    scenario=e sent=3000 stored=3000 duplicated=0 lost=0 dead_letters=0 outage_s=20 ...
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
import redis
from psycopg import sql

from services.embedded import RedisServer, free_port, start_redis
from shared.codec import to_fields
from shared.streams import StreamNames
from tests.faults.conftest import NEWSFLOW, REPO, _env
from tests.integration.test_subscribe import article
from tests.unit.conftest import LOCAL_SERVER, _answers, postgres_url

RATE = 100.0  # documents a second
OUTAGE_AFTER = 500  # documents stored before the cut
# 20 s in `make test`; NEWSFLOW_FAULT_OUTAGE_S=300 for the five-minute outage of #13.
OUTAGE_S = float(os.environ.get("NEWSFLOW_FAULT_OUTAGE_S", "20"))
# Articles keep arriving through the whole outage and 10 s after it.
N_DOCS = max(3_000, int((OUTAGE_AFTER / RATE + OUTAGE_S + 10) * RATE))

pytestmark = [pytest.mark.faults, pytest.mark.timeout(600 + 2 * OUTAGE_S)]
CLAIM_IDLE_MS = 1_000
MAX_DELIVERIES = 2
WAIT_S = 180.0


class Proxy:
    """A TCP proxy on 127.0.0.1 to ``upstream`` that can be cut and restored.

    Plain sockets and threads: every socket it opens it also closes."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self._lock = threading.Lock()
        self._sockets: set[socket.socket] = set()
        self._listener: socket.socket | None = None
        self._acceptor = threading.Thread()

    def open(self) -> None:
        listener = socket.create_server(("127.0.0.1", self.port), reuse_port=False)
        listener.settimeout(0.2)
        self._listener = listener
        self._acceptor = threading.Thread(target=self._accept, args=(listener,), daemon=True)
        self._acceptor.start()

    def cut(self) -> None:
        """Drop every connection and stop listening: connects are refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            # A socket closed while another thread sits in accept() on it keeps
            # listening until that accept returns: wake it, and wait for it to go.
            with contextlib.suppress(OSError):
                listener.shutdown(socket.SHUT_RDWR)
            self._acceptor.join(5)
            listener.close()
        with self._lock:
            sockets, self._sockets = self._sockets, set()
        for sock in sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()

    def close(self) -> None:
        self.cut()

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self._sockets |= {client, upstream}
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while data := src.recv(65536):
                dst.sendall(data)
        for sock in (src, dst):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
        with self._lock:
            for sock in (src, dst):
                if sock in self._sockets:
                    self._sockets.discard(sock)
                    sock.close()


@pytest.fixture
def database() -> Iterator[str]:
    """A database of this test's own on the local server (skipped without one)."""
    problem = _answers(LOCAL_SERVER)
    if problem is not None:
        pytest.skip(f"no PostgreSQL at 127.0.0.1:5432: {problem}")
    name = f"newsflow_fault_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(LOCAL_SERVER, autocommit=True) as admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield postgres_url(LOCAL_SERVER, dbname=name)
    finally:
        with psycopg.connect(LOCAL_SERVER, autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def _count(url: str) -> tuple[int, int]:
    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            row = conn.execute("SELECT count(*), count(DISTINCT id) FROM articles").fetchone()
    except psycopg.errors.UndefinedTable:
        return 0, 0
    assert row is not None
    return int(row[0]), int(row[1])


def _wait(predicate: object, timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return time.monotonic()
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def test_postgres_unreachable_mid_stream(database: str, tmp_path: Path) -> None:
    server: RedisServer = start_redis(tmp_path / "redis")
    proxy = Proxy(("127.0.0.1", 5432))
    proxy.open()
    names = StreamNames(f"f{uuid.uuid4().hex[:8]}:")
    http_port = free_port()
    host = postgres_url(database, address=f"127.0.0.1:{proxy.port}")
    env = _env(
        REDIS_URL=server.url,
        DATABASE_URL=host,
        NEWSFLOW_PREFIX=names.prefix,
        NEWSFLOW_CLAIM_IDLE_MS=str(CLAIM_IDLE_MS),
        NEWSFLOW_MAX_DELIVERIES=str(MAX_DELIVERIES),
        NEWSFLOW_RETRY_MAX_BACKOFF_S="2",
        NEWSFLOW_SINK_HTTP_PORT=str(http_port),
        NEWSFLOW_SINK_BATCH_SIZE="100",
        NEWSFLOW_POLLING_INTERVAL_MS="50",
        NEWSFLOW_LOG_FORMAT="text",
    )
    log_path = tmp_path / "sink.log"
    client = redis.Redis.from_url(server.url)
    with log_path.open("wb") as log:
        sink = subprocess.Popen(
            [*NEWSFLOW, "worker", "sink"], env=env, cwd=REPO, stdout=log, stderr=subprocess.STDOUT
        )
    ready = f"http://127.0.0.1:{http_port}/readyz"
    try:
        _wait(lambda: _status(ready) == 200, 60, "the sink to be ready")
        sent = threading.Event()

        def feed() -> None:
            with redis.Redis.from_url(server.url) as writer:
                for n in range(N_DOCS):
                    writer.xadd(names.enriched, to_fields(article(n)))
                    time.sleep(1 / RATE)
            sent.set()

        feeder = threading.Thread(target=feed, daemon=True)
        feeder.start()
        _wait(lambda: _count(database)[0] >= OUTAGE_AFTER, 60, f"{OUTAGE_AFTER} stored")
        proxy.cut()
        cut_at = time.monotonic()
        _wait(lambda: _status(ready) == 503, 30, "/readyz to report the hold")
        problem = httpx.get(ready, timeout=5).text
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - cut_at)))
        dead_during = client.xlen(names.dlq)
        proxy.open()
        restored_at = time.monotonic()
        feeder.join(N_DOCS / RATE + 60)
        done_at = _wait(lambda: _count(database)[1] >= N_DOCS, WAIT_S, f"{N_DOCS} stored")
        total, distinct = _count(database)
        dlq = client.xlen(names.dlq)
        print(
            f"scenario=e sent={N_DOCS} stored={distinct} duplicated={total - distinct} "
            f"lost={N_DOCS - distinct} dead_letters={dlq} outage_s={restored_at - cut_at:.0f} "
            f"stored_within_s_of_recovery={done_at - restored_at:.1f}",
            flush=True,
        )
        assert "holding a batch" in problem, problem
        assert dead_during == 0
        assert (total, distinct, dlq) == (N_DOCS, N_DOCS, 0), log_path.read_text()[-3000:]
        pending = client.xpending(names.enriched, "sink")["pending"]
        assert pending == 0
        assert sink.poll() is None, "the sink exited during the outage"
    finally:
        sink.terminate()
        try:
            sink.wait(30)
        except subprocess.TimeoutExpired:
            sink.kill()
        client.close()
        proxy.close()
        server.stop()


def _status(url: str) -> int | None:
    try:
        return httpx.get(url, timeout=5).status_code
    except httpx.HTTPError:
        return None


def test_proxy_refuses_while_cut() -> None:
    """The harness itself: a cut proxy refuses connections; reopened, it forwards."""
    with socket.create_server(("127.0.0.1", 0)) as upstream:
        proxy = Proxy(upstream.getsockname())
        proxy.open()
        try:
            socket.create_connection(("127.0.0.1", proxy.port), timeout=3).close()
            proxy.cut()
            with pytest.raises(OSError):
                socket.create_connection(("127.0.0.1", proxy.port), timeout=3).close()
            proxy.open()
            socket.create_connection(("127.0.0.1", proxy.port), timeout=3).close()
        finally:
            proxy.close()
