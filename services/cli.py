"""The ``newsflow`` command line: one entry point for the stack, the workers and the tools.

Heavy modules (spaCy, FastAPI) are imported by the subcommand that needs them,
so ``newsflow search`` starts in a fraction of a second.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from services import webhooks_cli

WORKERS = ("ingest", "enrich", "sink", "deliver")


def build_parser() -> argparse.ArgumentParser:
    """The parser for every ``newsflow`` subcommand (names are a stable interface)."""
    parser = argparse.ArgumentParser(
        prog="newsflow",
        description="Streaming news enrichment: Redis Streams in, entities and IPTC topics out.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    up = sub.add_parser("up", help="run the whole stack (embedded Redis unless REDIS_URL)")
    up.add_argument("--data-dir", type=Path, help="data directory (default ./data)")
    up.add_argument("--api-port", type=int, help="HTTP API port (default 8000)")
    up.add_argument("--enrich-workers", type=int, default=1, help="enrich processes (default 1)")
    up.add_argument(
        "--redis-port", type=int, help="port of the embedded Redis (default: a free one)"
    )
    up.add_argument(
        "--seed",
        type=Path,
        action="append",
        default=[],
        help="ingest these files or folders once the stack is up (repeatable)",
    )

    sub.add_parser(
        "env", help="print 'export REDIS_URL=...' lines for the running stack (eval \"$(...)\")"
    )

    worker = sub.add_parser("worker", help="run one service alone, as docker compose does")
    worker.add_argument("service", choices=WORKERS)

    ingest = sub.add_parser("ingest", help="send article files to the running API")
    ingest.add_argument(
        "paths",
        type=Path,
        nargs="+",
        help=".txt (first line = title), .json, .jsonl, .ndjson, .html files or folders",
    )
    ingest.add_argument("--api", help="API base URL (default http://127.0.0.1:8000)")
    ingest.add_argument("--batch-size", type=int, default=200, help="articles per request")

    enrich = sub.add_parser("enrich", help="offline: ArticleIn JSONL in, EnrichedArticle JSONL out")
    enrich.add_argument("--input", "-i", type=Path, help="input JSONL (default stdin)")
    enrich.add_argument("--output", "-o", type=Path, help="output JSONL (default stdout)")

    search = sub.add_parser("search", help="query stored articles")
    search.add_argument("--topic", help="topic slug or QCode, e.g. politics or medtop:11000000")
    search.add_argument(
        "--entity", help="entity name or a name the article used, e.g. 'Donald Trump' or 'Trump'"
    )
    search.add_argument(
        "--q",
        help='full text: words (all of them), OR, -word or NOT word, "a phrase", prefix*; '
        "a word also finds its English inflections",
    )
    search.add_argument("--since", help="ISO date or datetime (UTC if no offset)")
    search.add_argument("--until", help="ISO date or datetime (UTC if no offset)")
    search.add_argument("--source", help="source name")
    search.add_argument("--language", help="language code, e.g. en")
    search.add_argument("--limit", type=int, default=20, help="at most this many (1-500)")
    search.add_argument(
        "--sort",
        choices=("time", "relevance"),
        default="time",
        help="newest first (default) or best --q match first",
    )
    search.add_argument("--json", action="store_true", help="one EnrichedArticle per line (NDJSON)")

    subscribe = sub.add_parser("subscribe", help="follow a topic stream live")
    what = subscribe.add_mutually_exclusive_group(required=True)
    what.add_argument("--topic", help="topic slug, e.g. politics")
    what.add_argument(
        "--subscription", help="a saved filter subscription's name ('newsflow subscriptions add')"
    )
    subscribe.add_argument(
        "--from-start",
        action="store_true",
        help="replay what the stream still holds before following",
    )
    subscribe.add_argument(
        "--since", help="start at this time (ISO 8601; no offset means UTC), e.g. 2026-11-27T09:00"
    )
    subscribe.add_argument(
        "--group",
        help="read in this consumer group and acknowledge: readers of a group share the "
        "articles, a restarted reader resumes where it stopped",
    )
    subscribe.add_argument(
        "--consumer",
        help="consumer name in --group (default: per host and process; give a stable one "
        "so a restart takes back its own unacknowledged articles)",
    )
    subscribe.add_argument("--json", action="store_true", help="NDJSON output")
    subscribe.add_argument("--count", type=int, help="exit after this many articles")

    subs = sub.add_parser("subscriptions", help="add, list or remove saved filter subscriptions")
    subs_sub = subs.add_subparsers(dest="action", required=True, metavar="ACTION")
    subs_add = subs_sub.add_parser("add", help="save a filter (replaces one of the same name)")
    subs_add.add_argument("name", help="lower-case letters, digits, '-' and '_'")
    subs_add.add_argument(
        "--topic", action="append", default=[], help="topic slug or QCode (repeatable; any)"
    )
    subs_add.add_argument(
        "--all-topics", action="store_true", help="require every --topic, not any"
    )
    subs_add.add_argument(
        "--entity",
        action="append",
        default=[],
        help="entity name or a name the article used (repeatable; any)",
    )
    subs_add.add_argument(
        "--keyword", action="append", default=[], help="keyword or title word (repeatable; any)"
    )
    subs_add.add_argument("--language", help="language code, e.g. en")
    subs_add.add_argument("--source", help="source name")
    subs_list = subs_sub.add_parser("list", help="show the saved filters")
    subs_list.add_argument("--json", action="store_true", help="one filter per line (NDJSON)")
    subs_rm = subs_sub.add_parser("rm", help="delete a saved filter (its stream is kept)")
    subs_rm.add_argument("name")

    webhooks_cli.register(sub)

    dlq = sub.add_parser("dlq", help="inspect, replay or purge dead letters")
    dlq.add_argument("action", choices=("list", "replay", "purge"))
    dlq.add_argument("--stream", help="only entries whose source stream is this")
    dlq.add_argument("--error", help="only entries whose error class or message contains this")
    dlq.add_argument("--limit", type=int, default=100, help="at most this many (list)")
    dlq.add_argument("--json", action="store_true", help="NDJSON output (list)")

    ev = sub.add_parser(
        "eval", help="measure enrichment on labelled data (NER: CoNLL-2003; topics: JSONL)"
    )
    ev.add_argument("task", choices=("ner", "topics", "places"))
    ev.add_argument(
        "file",
        type=Path,
        help="CoNLL-2003 file or JSONL with entity lists (ner); labelled JSONL (topics, places)",
    )
    ev.add_argument("--json", action="store_true", help="print the report as one JSON object")
    ev.add_argument("--limit", type=int, help="only the first N documents / articles")
    ev.add_argument(
        "--ablate",
        action="store_true",
        help="ner: F1 with each entity pass switched off in turn",
    )

    stats = sub.add_parser("stats", help="streams, groups, lag, pending, DLQ size, stored count")
    stats.add_argument("--json", action="store_true", help="JSON output")
    stats.add_argument(
        "--interval",
        type=float,
        default=1.0,
        metavar="SECONDS",
        help="sample twice this far apart for added/read/acked per second (0: no rates)",
    )

    docs = sub.add_parser("docs", help="write the AsyncAPI document of the streams (offline)")
    docs.add_argument(
        "--output", type=Path, help="where to write it ('-' for stdout; default docs/asyncapi.json)"
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one ``newsflow`` command; returns the process exit code."""
    args = build_parser().parse_args(argv)
    from pydantic import ValidationError

    try:
        return _dispatch(args)
    except ValidationError as exc:
        # Bad configuration: name the variable and stop before doing anything.
        print(f"newsflow: invalid configuration:\n{exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


def _dispatch(args: argparse.Namespace) -> int:
    command: str = args.command
    if command == "up":
        from services.up import run_up

        return run_up(args)
    if command == "worker":
        from services.workers import run_worker

        return run_worker(args.service)
    if command == "webhooks":
        return webhooks_cli.run(args)
    if command == "eval":
        from services.eval import cmd_eval

        return cmd_eval(args)
    if command == "docs":
        from services.docs import cmd_docs

        return cmd_docs(args)
    from services import tools

    handler = getattr(tools, f"cmd_{command}")
    result: int = handler(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
