"""``newsflow up``: the whole stack in one command.

Starts an embedded Redis (unless ``REDIS_URL``), then one process per service
(sink, N x enrich, deliver, ingest + API), optionally ingests seed files, and prints one
line per stored article. Ctrl-C stops it in order: the API first (nothing new
is accepted), then the pipeline drains what was accepted, then the workers and
Redis stop. A second Ctrl-C kills everything at once.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, cast

import httpx
import redis
from pydantic import ValidationError
from rich.console import Console
from rich.markup import escape

from services.embedded import RedisServer, die_with_parent, start_redis
from shared import worker_status
from shared.codec import entry_json, loads
from shared.models import StoredEvent
from shared.redis import connect_sync, read_entries
from shared.settings import Settings
from shared.stack import (
    DataDirLock,
    StackRecord,
    StackRunningError,
    clear_record,
    write_record,
)
from shared.streams import GROUP_ENRICH, GROUP_SINK, StreamNames

log = logging.getLogger("newsflow.up")
# soft_wrap: in a log file a long "stored ..." line stays one line (no 80-column wrap).
console = Console(stderr=False, highlight=False, soft_wrap=True)

RESTART_BACKOFF_S = (1, 2, 5, 10, 30)


def say(message: str) -> None:
    """Print to the terminal; a closed stdout (a pipe whose reader left) must not stop a stop."""
    with contextlib.suppress(BrokenPipeError, OSError):
        console.print(message)


@dataclass
class Child:
    """One supervised worker process."""

    service: str
    env: dict[str, str]
    process: subprocess.Popen[bytes] | None = None
    restarts: int = 0
    started_at: float = field(default=0.0)

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "services.cli", "worker", self.service],
            env=self.env,
            stdin=subprocess.DEVNULL,
            # Own session: a terminal Ctrl-C reaches only `up`, which stops the
            # children in order instead of all at once.
            start_new_session=True,
            preexec_fn=die_with_parent,  # noqa: PLW1509 - one prctl call, resolved before fork
        )
        self.started_at = time.monotonic()

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive() and self.process is not None:
            self.process.send_signal(sig)

    def wait(self, timeout: float) -> bool:
        if self.process is None:
            return True
        try:
            self.process.wait(timeout)
            return True
        except subprocess.TimeoutExpired:
            return False


def group_drained(client: redis.Redis, stream: str, group: str) -> bool:
    """True when ``group`` has nothing pending and nothing undelivered on ``stream``."""
    try:
        groups = client.xinfo_groups(stream)
    except redis.ResponseError:
        return True
    for info in groups:
        name = info["name"].decode() if isinstance(info["name"], bytes) else info["name"]
        if name != group:
            continue
        if int(info["pending"]):
            return False
        last = info["last-delivered-id"]
        last = last.decode() if isinstance(last, bytes) else last
        return not client.xrange(stream, min=f"({last}", count=1)
    return True


def port_in_use(host: str, port: int) -> bool:
    """Whether something on this machine already listens on ``host:port``."""
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def worker_ports(
    settings: Settings,
    enrich_workers: int,
    in_use: Callable[[str, int], bool] = port_in_use,
) -> tuple[int, list[int]]:
    """The sink's health/metrics port and one per enrich worker: base, base + 1, ...

    A port that another process of the stack uses (the API, the sink), or that
    something else on the machine already listens on, is skipped; a base of 0 gives
    0 (no server) to every worker of that service.
    """
    sink = settings.sink_http_port
    taken = {settings.api_port, sink}
    enrich: list[int] = []
    port = settings.enrich_http_port
    while len(enrich) < enrich_workers:
        if not settings.enrich_http_port:
            enrich.append(0)
            continue
        if port > 65535:
            raise ValueError(
                f"NEWSFLOW_ENRICH_HTTP_PORT={settings.enrich_http_port} leaves no room for "
                f"{enrich_workers} enrich workers"
            )
        if port not in taken and not in_use(settings.worker_http_host, port):
            enrich.append(port)
            taken.add(port)
        port += 1
    return sink, enrich


class Stack:
    """The processes of one ``newsflow up``."""

    def __init__(
        self, settings: Settings, enrich_workers: int, redis_port: int | None = None
    ) -> None:
        self.settings = settings
        self.names = StreamNames(settings.prefix)
        self.redis_server: RedisServer | None = None
        self.redis_url = settings.redis_url or ""
        self.redis_port = redis_port
        self.children: list[Child] = []
        self.enrich_workers = enrich_workers
        self.stopping = False
        self.lock = DataDirLock(settings.data_dir)
        # The last events:stored entry printed; the rest is printed after the drain.
        self.last_event_id: bytes | str | None = None

    def start(self) -> None:
        """Lock the data dir (``StackRunningError`` if another stack has it), start
        the embedded Redis unless ``REDIS_URL``, record the stack, start the workers."""
        data_dir = self.settings.data_dir
        self.lock.acquire()
        if not self.redis_url:
            self.redis_server = start_redis(data_dir / "redis", port=self.redis_port)
            self.redis_url = self.redis_server.url
            self.settings.redis_url_file.write_text(self.redis_url + "\n")
            say(f"[dim]embedded Redis on {self.redis_url} (data in {data_dir / 'redis'})[/dim]")
        write_record(
            StackRecord(
                pid=os.getpid(),
                data_dir=str(data_dir.resolve()),
                redis_url=self.redis_url,
                api_url=f"http://{self.settings.api_host}:{self.settings.api_port}",
                database_url=self.settings.resolved_database_url,
            )
        )
        env = dict(os.environ)
        env.update(
            REDIS_URL=self.redis_url,
            DATABASE_URL=self.settings.resolved_database_url,
            NEWSFLOW_DATA_DIR=str(data_dir),
            NEWSFLOW_API_PORT=str(self.settings.api_port),
            NEWSFLOW_API_HOST=self.settings.api_host,
        )
        sink_port, enrich_ports = worker_ports(self.settings, self.enrich_workers)
        self.children = [Child("sink", {**env, "NEWSFLOW_SINK_HTTP_PORT": str(sink_port)})]
        self.children += [
            Child("enrich", {**env, "NEWSFLOW_ENRICH_HTTP_PORT": str(port)})
            for port in enrich_ports
        ]
        self.children.append(Child("deliver", env))  # webhooks
        self.children.append(Child("ingest", env))
        for child in self.children:
            child.start()

    def worker_urls(self) -> list[tuple[str, str]]:
        """(service, base URL) of each worker's /healthz, /readyz and /metrics."""
        host = self.settings.worker_http_host
        host = "127.0.0.1" if host in ("0.0.0.0", "::", "") else host
        urls: list[tuple[str, str]] = []
        for child in self.children:
            port = child.env.get(f"NEWSFLOW_{child.service.upper()}_HTTP_PORT", "0")
            if port != "0":
                urls.append((child.service, f"http://{host}:{port}"))
        return urls

    def client(self) -> redis.Redis:
        return connect_sync(self.redis_url, cluster=self.settings.redis_cluster, socket_timeout=5)

    def supervise(self) -> None:
        """Restart a worker that died on its own, with backoff, and the embedded Redis
        (same port and data directory, so its append-only file brings the data back)."""
        if self.stopping:
            return
        server = self.redis_server
        if server is not None and server.process.poll() is not None:
            log.warning("embedded Redis exited with code %s; restarting", server.process.returncode)
            try:
                self.redis_server = start_redis(server.data_dir, server.port)
            except Exception as exc:  # noqa: BLE001 - tried again on the next turn
                log.warning("could not restart the embedded Redis: %s", exc)
        for child in self.children:
            if child.alive() or child.process is None:
                continue
            wait = RESTART_BACKOFF_S[min(child.restarts, len(RESTART_BACKOFF_S) - 1)]
            if time.monotonic() - child.started_at < wait:
                continue
            log.warning(
                "%s worker exited with code %s; restarting", child.service, child.process.returncode
            )
            child.restarts += 1
            child.start()

    def stop(self) -> None:
        """Stop in order: API, drain the pipeline, workers, Redis."""
        self.stopping = True
        timeout = self.settings.graceful_timeout
        ingest = [c for c in self.children if c.service == "ingest"]
        workers = [c for c in self.children if c.service != "ingest"]
        say("[yellow]stopping: API first, then draining the pipeline...[/yellow]")
        for child in ingest:
            child.signal(signal.SIGTERM)
        for child in ingest:
            if not child.wait(timeout):
                child.signal(signal.SIGKILL)
        drained = self._drain(deadline=time.monotonic() + timeout)
        self._print_stored()
        for child in workers:
            child.signal(signal.SIGTERM)
        for child in workers:
            if not child.wait(timeout):
                log.warning("%s did not stop in %.0f s; killing it", child.service, timeout)
                child.signal(signal.SIGKILL)
                child.wait(5)
        if self.redis_server is not None:
            self.redis_server.stop()
            self.settings.redis_url_file.unlink(missing_ok=True)
        clear_record(os.getpid())
        self.lock.release()
        state = "drained" if drained else "not drained (the rest stays queued in Redis)"
        say(f"[yellow]stopped; pipeline {state}[/yellow]")

    def _print_stored(self) -> None:
        """Print the articles stored since the last line printed (during the drain)."""
        if self.last_event_id is None:
            return
        try:
            client = self.client()
            while entries := read_entries(
                client, self.names.stored, self.last_event_id, block=1, count=100
            ):
                for entry_id, fields in entries:
                    self.last_event_id = entry_id
                    say(stored_line(fields))
        except redis.RedisError as exc:
            log.warning("could not list the articles stored while stopping: %s", exc)

    def _drain(self, deadline: float) -> bool:
        try:
            client = self.client()
            while time.monotonic() < deadline:
                if all(c.alive() for c in self.children if c.service != "ingest") and not (
                    group_drained(client, self.names.raw, GROUP_ENRICH)
                    and group_drained(client, self.names.enriched, GROUP_SINK)
                ):
                    time.sleep(0.2)
                    continue
                return group_drained(client, self.names.raw, GROUP_ENRICH) and group_drained(
                    client, self.names.enriched, GROUP_SINK
                )
        except redis.RedisError as exc:
            log.warning("could not check the pipeline while stopping: %s", exc)
        return False

    def kill(self) -> None:
        for child in self.children:
            child.signal(signal.SIGKILL)
        if self.redis_server is not None:
            self.redis_server.process.kill()


def wait_ready(api: str, timeout: float = 120.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{api}/readyz", timeout=2).status_code == 200:
                return True
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    return False


def format_stored(event: StoredEvent) -> str:
    """The line printed for one stored article."""
    entities = ", ".join(name for name, _ in event.entities[:4]) or "-"
    topics = ", ".join(slug for slug, _ in event.topics) or "-"
    return (
        f"[green]stored[/green] {event.title[:80]} [dim]|[/dim] {entities} "
        f"[dim]|[/dim] [cyan]{topics}[/cyan]"
    )


def stored_line(fields: dict[bytes, bytes]) -> str:
    """The line for one ``events:stored`` entry (one that does not decode says so)."""
    try:
        return format_stored(loads(StoredEvent, entry_json(fields) or b""))
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'json'}: {e['msg']}"
            for e in exc.errors(include_url=False)
        )
        return f"[red]unreadable events:stored entry[/red]: {escape(problems)}"


class _Interrupted(Exception):
    pass


def run_up(args: argparse.Namespace) -> int:
    """Run the stack until Ctrl-C / SIGTERM; returns the exit code."""
    from services.runtime import configure_logging
    from services.tools import ingest_paths

    overrides: dict[str, Any] = {}
    if args.data_dir:
        overrides["data_dir"] = args.data_dir
    if args.api_port:
        overrides["api_port"] = args.api_port
    settings = Settings(**overrides)
    # The stack's own data dir, chosen or default: never another stack's record.
    settings = settings.model_copy(update={"data_dir": settings.data_dir})
    configure_logging(settings, "up")
    if args.redis_port and settings.redis_url:
        say("[red]--redis-port is for the embedded Redis; REDIS_URL is set[/red]")
        return 2
    stack = Stack(settings, max(1, args.enrich_workers), redis_port=args.redis_port)
    try:
        stack.lock.acquire()
    except StackRunningError as exc:
        say(f"[red]{exc}[/red]")
        return 1
    signals = {"count": 0}

    def on_signal(signum: int, _: Any) -> None:
        signals["count"] += 1
        if signals["count"] > 1:
            say("[red]second signal: killing everything[/red]")
            stack.kill()
            os._exit(130)
        raise _Interrupted

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    api = f"http://{settings.api_host}:{settings.api_port}"
    try:
        stack.start()
        client = stack.client()
        if not wait_ready(api):
            say(f"[red]the API at {api} did not become ready; see the logs above[/red]")
            raise _Interrupted
        last_id = stack.last_event_id = _last_event_id(client, stack.names.stored)
        say(f"[bold]newsflow is up[/bold]: API {api}  (Ctrl-C stops)")
        for service, url in stack.worker_urls():
            say(f"[dim]{service}: {url}/metrics  {url}/readyz[/dim]")
        for path in args.seed:
            counts = ingest_paths([path], api, settings.api_key, batch_size=200, quiet=True)
            say(f"seeded {path}: {counts}")
        outage = 0
        holds = HoldReport(stack.names)
        while True:
            stack.supervise()
            holds.check(client)
            try:
                entries = read_entries(client, stack.names.stored, last_id, block=1000, count=100)
            except redis.RedisError as exc:
                # Never stop the stack for Redis: the workers reconnect by themselves
                # (and are restarted if they exit); this loop waits and reads again.
                outage += 1
                if outage == 1:
                    say(f"[yellow]Redis unreachable ({exc}); the stack waits for it[/yellow]")
                time.sleep(min(5.0, 0.5 * outage))
                continue
            if outage:
                say("[green]Redis is back[/green]")
                outage = 0
            for entry_id, fields in entries:
                last_id = stack.last_event_id = entry_id
                say(stored_line(fields))
    except _Interrupted:
        pass
    except redis.RedisError as exc:
        log.error("lost the connection to Redis: %s", exc)
    finally:
        signal.signal(signal.SIGINT, on_signal)
        try:
            stack.stop()
        except _Interrupted:
            stack.kill()
            return 130
    return 0


class HoldReport:
    """Says when a worker has held a batch for a while (storage away, ...) and when it
    resumes, from the statuses the workers keep in Redis (shared.worker_status)."""

    AFTER_S = 10.0  # a hold shorter than this is a blip, not news
    EVERY_S = 5.0

    def __init__(self, names: StreamNames) -> None:
        self.names = names
        self.reported: dict[str, str] = {}
        self.next_at = 0.0

    def check(self, client: redis.Redis) -> None:
        now = time.monotonic()
        if now < self.next_at:
            return
        self.next_at = now + self.EVERY_S
        try:
            statuses = worker_status.read_all(client, self.names)
        except redis.RedisError:
            return
        holding = {s.consumer: s for s in statuses if s.holding_since}
        for consumer, status in holding.items():
            if status.holding_s >= self.AFTER_S and self.reported.get(consumer) is None:
                self.reported[consumer] = status.service
                say(
                    f"[yellow]{status.service} holds a batch ({status.holding_reason}); "
                    "nothing is lost, it retries until this passes[/yellow]"
                )
        for consumer in [c for c in self.reported if c not in holding]:
            say(f"[green]{self.reported.pop(consumer)} resumed[/green]")


def _last_event_id(client: redis.Redis, stream: str) -> bytes | str:
    last = cast("list[tuple[bytes, Any]]", client.xrevrange(stream, count=1))
    return last[0][0] if last else "0"
