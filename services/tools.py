"""The user-facing ``newsflow`` commands other than ``up`` and ``worker``.

Each ``cmd_*`` takes the parsed arguments and returns an exit code: 0 done,
1 some input was rejected or nothing matched where that is an error, 2 bad
usage or configuration.
"""

from __future__ import annotations

import argparse
import asyncio
import shlex
import sys
from collections.abc import Iterable, Iterator
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

import httpx
import orjson
from rich.console import Console
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from shared import worker_status
from shared.settings import Settings, get_settings
from shared.streams import GROUP_ENRICH, GROUP_INGEST, GROUP_SINK, JSON_FIELD, StreamNames

out = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def _fail(message: str, code: int = 2) -> int:
    # Messages quote user input (file names, --q text): never read them as markup.
    err.print(f"[red]newsflow:[/red] {escape(message)}")
    return code


def _redis_url(settings: Settings) -> str | None:
    return settings.resolved_redis_url()


# --- ingest -------------------------------------------------------------------------------


def _unknown_topic(settings: Settings, *topics: str | None) -> str | None:
    """The message for the first of ``topics`` that is no topic of the taxonomy."""
    from services.topic_names import UnknownTopicError, topic_names

    for topic in topics:
        if topic is None:
            continue
        try:
            topic_names(settings.taxonomy_path).check(topic)
        except UnknownTopicError as exc:
            return str(exc)
    return None


def cmd_env(args: argparse.Namespace) -> int:
    """Print ``export`` lines that point a shell at the running stack."""
    settings = get_settings()
    url = _redis_url(settings)
    if not url:
        return _fail("no running newsflow stack found: start 'newsflow up' or set REDIS_URL", 1)
    lines = {
        "REDIS_URL": url,
        "DATABASE_URL": settings.resolved_database_url,
        "NEWSFLOW_API_URL": settings.resolved_api_url,
    }
    for name, value in lines.items():
        print(f"export {name}={shlex.quote(value)}")
    return 0


def _headers(api_key: str | None) -> dict[str, str]:
    headers = {"content-type": "application/x-ndjson"}
    if api_key:
        headers["authorization"] = f"Bearer {api_key}"
    return headers


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


# Requests stay well under the API's NEWSFLOW_MAX_REQUEST_BYTES (20 MiB by default) so
# that one big file cannot get the valid articles batched with it refused; an article
# bigger than this is sent alone.
INGEST_REQUEST_BYTES = 4 * 1024 * 1024


def _requests(
    items: Iterable[tuple[Any, bytes]], count: int, max_bytes: int
) -> Iterator[list[tuple[Any, bytes]]]:
    """Consecutive groups of at most ``count`` items and (unless one item alone) ``max_bytes``."""
    group: list[tuple[Any, bytes]] = []
    size = 0
    for item in items:
        if group and (len(group) >= count or size + len(item[1]) > max_bytes):
            yield group
            group, size = [], 0
        group.append(item)
        size += len(item[1]) + 1
    if group:
        yield group


def _post_batch(
    client: httpx.Client, api: str, api_key: str | None, group: list[tuple[Any, bytes]]
) -> list[dict[str, Any]]:
    """Per-item results for ``group``; a request over the API's size limit is split."""
    response = client.post(
        "/v1/articles/batch",
        content=b"\n".join(line for _, line in group),
        headers=_headers(api_key),
    )
    if response.status_code == 413:
        if len(group) > 1:
            half = len(group) // 2
            return _post_batch(client, api, api_key, group[:half]) + _post_batch(
                client, api, api_key, group[half:]
            )
        return [{"status": "rejected", "error": response.json()["error"]}]
    if response.status_code != 200:
        raise httpx.HTTPStatusError(
            f"{response.status_code} from {api}: {response.text[:500]}",
            request=response.request,
            response=response,
        )
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def ingest_paths(
    paths: list[Path], api: str, api_key: str | None, *, batch_size: int, quiet: bool = False
) -> dict[str, int]:
    """Send every article in ``paths`` to ``api`` in NDJSON batches; returns the counts.

    Rejected items are reported on stderr with their file (and line) and reason.
    """
    from services.ingest.files import read_paths

    counts = {"accepted": 0, "duplicate": 0, "rejected": 0}
    items = list(read_paths(paths))
    with (
        httpx.Client(base_url=api, timeout=60) as client,
        Progress(console=err, disable=quiet or not err.is_terminal, transient=True) as progress,
    ):
        task = progress.add_task("ingesting", total=len(items))
        for item in items:
            if item.error:
                counts["rejected"] += 1
                err.print(f"[red]rejected[/red] {escape(item.origin)}: {escape(item.error)}")
                progress.advance(task)
        sendable = ((i, orjson.dumps(i.data)) for i in items if i.data is not None)
        for group in _requests(sendable, batch_size, INGEST_REQUEST_BYTES):
            results = _post_batch(client, api, api_key, group)
            for (item, _), result in zip(group, results, strict=True):
                counts[result["status"]] += 1
                if result["status"] == "rejected":
                    err.print(
                        f"[red]rejected[/red] {escape(item.origin)}: "
                        f"{escape(result['error']['message'])}"
                    )
            progress.advance(task, len(group))
    return counts


def cmd_ingest(args: argparse.Namespace) -> int:
    settings = get_settings()
    api = args.api or settings.resolved_api_url
    missing = [str(p) for p in args.paths if not p.exists()]
    if missing:
        return _fail(f"no such file or folder: {', '.join(missing)}")
    try:
        counts = ingest_paths(args.paths, api, settings.api_key, batch_size=args.batch_size)
    except httpx.ConnectError:
        return _fail(f"cannot reach the API at {api}: is 'newsflow up' running? (--api URL)")
    except httpx.HTTPStatusError as exc:
        return _fail(str(exc))
    out.print(
        f"accepted {counts['accepted']}, duplicate {counts['duplicate']}, "
        f"rejected {counts['rejected']}"
    )
    return 1 if counts["rejected"] else 0


# --- enrich (offline) ---------------------------------------------------------------------


def cmd_enrich(args: argparse.Namespace) -> int:
    """ArticleIn JSONL in, EnrichedArticle JSONL out, with the worker's enrichment code."""
    from services.enrich.pipeline import Enricher
    from services.ingest.core import decode_json, parse_article
    from shared.codec import dumps
    from shared.errors import PermanentError

    settings = get_settings()
    enricher = Enricher(settings)
    source: IO[bytes] = args.input.open("rb") if args.input else sys.stdin.buffer
    sink: IO[bytes] = args.output.open("wb") if args.output else sys.stdout.buffer
    bad = 0
    name = str(args.input or "stdin")

    def articles() -> Iterator[Any]:
        nonlocal bad
        for number, line in enumerate(source, start=1):
            if not line.strip():
                continue
            try:
                yield parse_article(decode_json(line), settings)
            except PermanentError as exc:
                bad += 1
                err.print(f"[red]skipped[/red] {escape(name)}:{number}: {escape(str(exc))}")

    try:
        for chunk in _chunks(articles(), settings.resolved_enrich_batch_size):
            for doc in enricher.enrich_batch(chunk):
                sink.write(dumps(doc) + b"\n")
            sink.flush()
    finally:
        if args.input:
            source.close()
        if args.output:
            sink.close()
    return 1 if bad else 0


# --- search -------------------------------------------------------------------------------


def _parse_time(value: str | None, flag: str) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise ValueError(f"{flag}: {value!r} is not an ISO date or datetime") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def cmd_search(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from shared.storage import SearchQuery, open_storage

    settings = get_settings()
    if problem := _unknown_topic(settings, args.topic):
        return _fail(f"--topic: {problem}")
    try:
        query = SearchQuery(
            topic=args.topic,
            entity=args.entity,
            q=args.q,
            since=_parse_time(args.since, "--since"),
            until=_parse_time(args.until, "--until"),
            source=args.source,
            language=args.language,
            limit=args.limit,
            sort=args.sort,
        )
    except (ValueError, ValidationError) as exc:
        return _fail(str(exc))

    async def run() -> Any:
        storage = open_storage(settings.resolved_database_url)
        await storage.open()
        try:
            return await storage.search(query)
        finally:
            await storage.close()

    try:
        page = asyncio.run(run())
    except ValueError as exc:
        return _fail(str(exc))
    if args.json:
        for doc in page.items:
            sys.stdout.buffer.write(orjson.dumps(doc.model_dump(mode="json")) + b"\n")
        sys.stdout.flush()
        return 0
    table = Table("published", "title", "entities", "topics", "id")
    for doc in page.items:
        when = doc.published_at or doc.received_at
        # Titles and names are article text: shown as is, never read as markup.
        table.add_row(
            when.strftime("%Y-%m-%d %H:%M"),
            escape(doc.title[:60]),
            escape(", ".join(e.name for e in doc.entities[:4])),
            escape(", ".join(t.slug for t in doc.topics)),
            doc.id[:12],
        )
    out.print(table)
    out.print(
        f"{len(page.items)} article(s)" + (" (more: use --limit)" if page.next_cursor else "")
    )
    return 0


# --- subscribe ----------------------------------------------------------------------------


def cmd_subscribe(args: argparse.Namespace) -> int:
    """Follow ``topics:<slug>``: pretty lines, or NDJSON with --json; --group acknowledges."""
    import re

    import redis

    from shared.client import subscribe

    settings = get_settings()
    url = _redis_url(settings)
    if not url:
        return _fail("no Redis: set REDIS_URL or start 'newsflow up'")
    subscription = getattr(args, "subscription", None)
    if subscription is not None:
        if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", subscription):
            return _fail(f"--subscription: not a subscription name: {subscription!r}")
    elif not re.fullmatch(r"[a-z0-9][a-z0-9-]{0,99}", args.topic):
        return _fail(f"--topic: a slug is lower-case letters, digits and '-', not {args.topic!r}")
    elif problem := _unknown_topic(settings, args.topic):
        return _fail(f"--topic: {problem}")
    if args.since and args.from_start:
        return _fail("--since and --from-start exclude each other")
    since: datetime | None = None
    if args.since:
        try:
            since = datetime.fromisoformat(args.since.replace("Z", "+00:00"))
        except ValueError:
            return _fail(f"--since: not an ISO 8601 time: {args.since!r}")
        if since.tzinfo is None:
            since = since.replace(tzinfo=UTC)
    if args.count is not None and args.count <= 0:
        return 0

    async def exists(name: str) -> bool:
        from shared import subscriptions as saved
        from shared.redis import connect

        client = connect(url, cluster=settings.redis_cluster)
        try:
            return await saved.get(client, StreamNames(settings.prefix), name) is not None
        finally:
            await client.aclose()

    if subscription is not None and not asyncio.run(exists(subscription)):
        return _fail(
            f"--subscription: no saved filter called {subscription!r}; "
            "'newsflow subscriptions list' shows them"
        )

    async def follow() -> None:
        seen = 0
        async with subscribe(
            topic=args.topic,
            subscription=subscription,
            group=args.group,
            consumer=args.consumer,
            redis_url=url,
            prefix=settings.prefix,
            from_start=args.from_start,
            since=since,
        ) as articles:
            async for article in articles:
                if args.json:
                    sys.stdout.buffer.write(orjson.dumps(article.model_dump(mode="json")) + b"\n")
                    sys.stdout.flush()
                else:
                    ents = ", ".join(e.name for e in article.entities[:4])
                    tops = ", ".join(t.slug for t in article.topics)
                    source = f" [dim]({escape(article.source)})[/dim]" if article.source else ""
                    out.print(
                        f"[bold]{escape(article.title)}[/bold]{source}"
                        f" | {escape(ents)} | [cyan]{escape(tops)}[/cyan]"
                    )
                seen += 1
                if args.count is not None and seen >= args.count:
                    break

    try:
        asyncio.run(follow())
    except KeyboardInterrupt:
        pass
    except redis.AuthenticationError as exc:
        return _fail(f"Redis at {url} refused the credentials: {exc}", 1)
    return 0


# --- dlq ----------------------------------------------------------------------------------


def _dlq_matches(letter: dict[str, Any], args: argparse.Namespace) -> bool:
    if args.stream and letter.get("source_stream") != args.stream:
        return False
    if args.error:
        needle = args.error.lower()
        return (
            needle in str(letter.get("error_class", "")).lower()
            or needle in str(letter.get("error", "")).lower()
        )
    return True


def cmd_dlq(args: argparse.Namespace) -> int:
    """List, replay (back onto the source stream) or purge dead letters, with filters."""
    from shared.redis import connect_sync, encode_fields, range_entries

    settings = get_settings()
    url = _redis_url(settings)
    if not url:
        return _fail("no Redis: set REDIS_URL or start 'newsflow up'")
    names = StreamNames(settings.prefix)
    client = connect_sync(url, cluster=settings.redis_cluster)
    selected: list[tuple[bytes, dict[str, Any]]] = []
    for entry_id, fields in range_entries(client, names.dlq):
        letter = orjson.loads(fields[JSON_FIELD.encode()])
        if _dlq_matches(letter, args):
            selected.append((entry_id, letter))
    if args.action == "list":
        for entry_id, letter in selected[: args.limit]:
            if args.json:
                sys.stdout.buffer.write(
                    orjson.dumps({"dlq_id": entry_id.decode(), **letter}) + b"\n"
                )
            else:
                out.print(
                    f"{entry_id.decode()}  {escape(letter['source_stream'])}  "
                    f"[red]{escape(letter['error_class'])}[/red]: {escape(letter['error'][:160])}"
                )
        if not args.json:
            out.print(f"{len(selected)} dead letter(s)")
        return 0
    if args.action == "replay":
        with client.pipeline(transaction=True) as pipe:
            for entry_id, letter in selected:
                pipe.xadd(letter["source_stream"], encode_fields(letter["payload"]))
                pipe.xdel(names.dlq, entry_id)
            pipe.execute()
        out.print(f"replayed {len(selected)} dead letter(s)")
        return 0
    if selected:
        client.xdel(names.dlq, *[entry_id for entry_id, _ in selected])
    out.print(f"purged {len(selected)} dead letter(s)")
    return 0


# --- stats --------------------------------------------------------------------------------


def collect_stats(client: Any, names: StreamNames) -> dict[str, Any]:
    """Streams with length, entries ever added and groups (pending, lag, read); the DLQ size.

    ``entries_added`` (XINFO STREAM) and a group's ``entries_read`` (XINFO GROUPS) are
    Redis 7 counters, None on older servers; :func:`add_rates` turns two samples of
    them into rates.
    """
    streams: dict[str, Any] = {}
    for stream, group in (
        (names.inbox, GROUP_INGEST),
        (names.raw, GROUP_ENRICH),
        (names.enriched, GROUP_SINK),
        (names.dlq, None),
    ):
        length = client.xlen(stream)
        (added,) = _entries_added(client, [stream])
        streams[stream] = {
            "length": length,
            "groups": _groups(client, stream, added) if group else [],
            "entries_added": added,
            "added_per_s": None,
        }
    topics = sorted(_text(k) for k in client.scan_iter(match=names.topic("*"), count=1000))
    subs = sorted(_text(k) for k in client.scan_iter(match=names.subs("*"), count=1000))
    topics_added = _entries_added(client, topics)
    subs_added = _entries_added(client, subs)
    # Subscribers' own consumer groups on topic and subscription streams.
    readers = {
        stream: groups
        for stream, added in zip([*topics, *subs], [*topics_added, *subs_added], strict=True)
        if (groups := _groups(client, stream, added))
    }
    return {
        "streams": streams,
        "topics": {t: client.xlen(t) for t in topics},
        "topics_added": dict(zip(topics, topics_added, strict=True)),
        "topic_added_per_s": dict.fromkeys(topics),
        "subs": {t: client.xlen(t) for t in subs},
        "readers": readers,
        "dlq": client.xlen(names.dlq),
        # Each live worker and whether it holds a batch (shared.worker_status).
        "workers": [asdict(w) for w in worker_status.read_all(client, names)],
        # Redis data losses the ingest service noticed (shared.generation), newest first.
        "incidents": [
            {_text(k): _text(v) for k, v in fields.items()}
            for _, fields in client.xrevrange(names.incidents, count=5)
        ],
    }


def _groups(client: Any, stream: str, added: int | None) -> list[dict[str, Any]]:
    """The consumer groups of ``stream``: consumers, pending, lag, entries read."""
    try:
        infos = client.xinfo_groups(stream)
    except Exception:  # noqa: BLE001 - a stream not created yet has no groups
        return []
    groups = []
    for info in infos:
        read = info.get("entries-read")
        if read is None and added is not None and info.get("lag") is not None:
            # Redis leaves entries-read unset for a group created at id 0 until
            # it reads; lag is then still known, and read = added - lag.
            read = added - int(info["lag"])
        groups.append(
            {
                "name": _text(info["name"]),
                "consumers": int(info["consumers"]),
                "pending": int(info["pending"]),
                "lag": None if info.get("lag") is None else int(info["lag"]),
                "last_delivered_id": _text(info["last-delivered-id"]),
                "entries_read": None if read is None else int(read),
                "read_per_s": None,
                "acked_per_s": None,
            }
        )
    return groups


def _entries_added(client: Any, streams: list[str]) -> list[int | None]:
    """XINFO STREAM ``entries-added`` of each stream (None: Redis < 7, or no such stream)."""
    if not streams:
        return []
    pipe = client.pipeline(transaction=False)
    for stream in streams:
        pipe.xinfo_stream(stream)
    added: list[int | None] = []
    for info in pipe.execute(raise_on_error=False):
        if isinstance(info, Exception):
            # No such stream yet: nothing added (counting starts when it is created).
            added.append(0 if "no such key" in str(info).lower() else None)
            continue
        value = info.get("entries-added") if isinstance(info, dict) else None
        added.append(None if value is None else int(value))
    return added


def _rate(before: int | None, after: int | None, seconds: float) -> float | None:
    if before is None or after is None or after < before or seconds <= 0:
        return None
    return round((after - before) / seconds, 2)


def add_rates(before: dict[str, Any], after: dict[str, Any], seconds: float) -> dict[str, Any]:
    """``after`` with per-second rates since ``before``, taken ``seconds`` earlier.

    A stream's ``added_per_s`` counts entries written to it; a group's ``read_per_s``
    entries delivered to it and ``acked_per_s`` entries it finished (read minus
    pending). A rate is None where Redis does not keep the counter (before 7.0) or a
    counter went backwards (stream or group recreated).
    """
    for stream, info in after["streams"].items():
        old = before["streams"].get(stream, {})
        info["added_per_s"] = _rate(old.get("entries_added"), info["entries_added"], seconds)
        old_groups = {g["name"]: g for g in old.get("groups", [])}
        for group in info["groups"]:
            was = old_groups.get(group["name"])
            if was is None:
                continue
            group["read_per_s"] = _rate(was["entries_read"], group["entries_read"], seconds)
            if was["entries_read"] is not None and group["entries_read"] is not None:
                group["acked_per_s"] = _rate(
                    was["entries_read"] - was["pending"],
                    group["entries_read"] - group["pending"],
                    seconds,
                )
    for topic, added in after["topics_added"].items():
        after["topic_added_per_s"][topic] = _rate(before["topics_added"].get(topic), added, seconds)
    return after


def _text(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def _per_s(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"


def cmd_stats(args: argparse.Namespace) -> int:
    import time

    import redis

    from shared.redis import connect_sync

    settings = get_settings()
    url = _redis_url(settings)
    if not url:
        return _fail("no Redis: set REDIS_URL or start 'newsflow up'")
    interval = float(getattr(args, "interval", 0.0) or 0.0)
    if interval < 0:
        return _fail("--interval must be 0 (no rates) or a positive number of seconds")
    client = connect_sync(url, cluster=settings.redis_cluster)
    names = StreamNames(settings.prefix)
    try:
        stats = collect_stats(client, names)
        if interval > 0:
            first, started = stats, time.monotonic()
            time.sleep(interval)
            stats = collect_stats(client, names)
            add_rates(first, stats, time.monotonic() - started)
    except redis.ConnectionError as exc:
        return _fail(f"cannot reach Redis at {url}: {exc}", 1)
    stats["interval"] = interval
    stored = _stored_count(settings)
    stats["stored"] = stored
    if args.json:
        sys.stdout.buffer.write(orjson.dumps(stats, option=orjson.OPT_INDENT_2) + b"\n")
        return 0
    rates = interval > 0
    columns = ["stream", "length", "group", "consumers", "pending", "lag"]
    if rates:
        columns = [*columns[:2], "added/s", *columns[2:], "read/s", "acked/s"]
    table = Table(*columns)

    def row(
        stream: str, length: int, added: float | None, cells: list[str], tail: list[str]
    ) -> None:
        head = [stream, str(length)] + ([_per_s(added)] if rates else [])
        table.add_row(*head, *cells, *(tail if rates else []))

    for stream, info in stats["streams"].items():
        if not info["groups"]:
            row(stream, info["length"], info["added_per_s"], ["-"] * 4, ["-", "-"])
        for g in info["groups"]:
            row(
                stream,
                info["length"],
                info["added_per_s"],
                [
                    g["name"],
                    str(g["consumers"]),
                    str(g["pending"]),
                    "?" if g["lag"] is None else str(g["lag"]),
                ],
                [_per_s(g["read_per_s"]), _per_s(g["acked_per_s"])],
            )
    side_streams = [
        *((t, n, stats["topic_added_per_s"][t]) for t, n in stats["topics"].items()),
        *((t, n, None) for t, n in stats["subs"].items()),
    ]
    for stream, length, added in side_streams:
        readers = stats["readers"].get(stream, [])
        if not readers:
            row(stream, length, added, ["-"] * 4, ["-", "-"])
        for g in readers:
            lag = "?" if g["lag"] is None else str(g["lag"])
            row(
                stream,
                length,
                added,
                [g["name"], str(g["consumers"]), str(g["pending"]), lag],
                ["-", "-"],
            )
    # Piped or in a log, the table is as wide as its content: names are never cut.
    wide = Console(highlight=False, width=max(out.width, 200)) if not out.is_terminal else out
    wide.print(table)
    footer = f"dead letters: {stats['dlq']}   stored articles: {'?' if stored is None else stored}"
    if rates:
        footer += f"   rates over {interval:g} s ('?': needs Redis 7)"
    out.print(footer)
    for worker in stats["workers"]:
        if worker["holding_since"]:
            err.print(
                f"[yellow]{escape(worker['service'])} ({escape(worker['consumer'])}) holds a "
                f"batch for {worker['holding_s']:.0f} s[/yellow]: "
                f"{escape(worker['holding_reason'] or '')}"
            )
    for incident in stats["incidents"]:
        err.print(
            f"[red]Redis lost its data[/red] (noticed {escape(incident.get('detected', '?'))}): "
            f"{escape(incident.get('backlog_at_last_check', '?'))} articles not yet stored at "
            f"{escape(incident.get('last_good_check', '?'))} and "
            f"{escape(incident.get('accepted_since_last_check', '?'))} accepted since are gone;"
            " send again what was sent after that time"
        )
    return 0


def _stored_count(settings: Settings) -> int | None:
    from shared.storage import open_storage

    async def run() -> int:
        storage = open_storage(settings.resolved_database_url)
        await storage.open()
        try:
            return await storage.count()
        finally:
            await storage.close()

    try:
        return asyncio.run(run())
    except Exception:  # noqa: BLE001 - stats still shows Redis when storage is away
        return None


# --- subscriptions ------------------------------------------------------------------------


def cmd_subscriptions(args: argparse.Namespace) -> int:
    """Add (or replace), list or remove saved filter subscriptions, in Redis directly."""
    import redis
    from pydantic import ValidationError

    from shared import subscriptions
    from shared.redis import connect

    settings = get_settings()
    url = _redis_url(settings)
    if not url:
        return _fail("no Redis: set REDIS_URL or start 'newsflow up'")
    names = StreamNames(settings.prefix)
    new: subscriptions.SavedFilter | None = None
    if args.action == "add":
        try:
            new = subscriptions.SavedFilter(
                name=args.name,
                topics=args.topic,
                topics_mode="all" if args.all_topics else "any",
                entities=args.entity,
                keywords=args.keyword,
                language=args.language,
                source=args.source,
            )
        except ValidationError as exc:
            problems = "; ".join(
                f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}"
                for e in exc.errors(include_url=False)
            )
            return _fail(f"invalid subscription: {problems}")
        if problem := _unknown_topic(settings, *new.topics):
            return _fail(f"--topic: {problem}")

    async def run() -> int:
        client = connect(url, cluster=settings.redis_cluster)
        try:
            if new is not None:
                await subscriptions.save(client, names, new, replace=True)
                stream = names.subs(new.name)
                out.print(f"saved {escape(new.name)}: articles go to {escape(stream)}")
                return 0
            if args.action == "rm":
                if not await subscriptions.delete(client, names, args.name):
                    return _fail(f"no subscription called {args.name!r}", 1)
                out.print(f"removed {escape(args.name)}")
                return 0
            subs = await subscriptions.list_all(client, names)
        finally:
            await client.aclose()
        for sub in subs:
            if args.json:
                sys.stdout.buffer.write(orjson.dumps(sub.model_dump(mode="json")) + b"\n")
                continue
            criteria = [
                f"topics {sub.topics_mode} of {', '.join(sub.topics)}" if sub.topics else "",
                f"entities {', '.join(sub.entities)}" if sub.entities else "",
                f"keywords {', '.join(sub.keywords)}" if sub.keywords else "",
                f"language {sub.language}" if sub.language else "",
                f"source {sub.source}" if sub.source else "",
            ]
            text = "; ".join(c for c in criteria if c) or "every article"
            out.print(f"[bold]{escape(sub.name)}[/bold]  {escape(text)}")
        if not args.json:
            out.print(f"{len(subs)} subscription(s)")
        return 0

    try:
        return asyncio.run(run())
    except redis.ConnectionError as exc:
        return _fail(f"Redis unreachable at {url}: {exc}", 1)
