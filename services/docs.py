"""``newsflow docs``: the AsyncAPI document of newsflow's Redis streams.

The document is generated with FastStream's AsyncAPI support from a documentation
broker built from the declared topology (``shared.topology``): one subscription per
consumer group (with the message model it reads) and one publisher per stream a
service writes (with the model it writes). Nothing
connects to Redis. Before writing, the subscriptions are checked against the real
FastStream apps (the ingest inbox reader, the enrich and sink workers), so the
document cannot silently drift from what the services consume.

``docs/asyncapi.json`` is the checked-in copy; a test fails when it is stale
(regenerate with ``make docs`` or ``newsflow docs``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from faststream.redis import RedisBroker, StreamSub
from faststream.specification import AsyncAPI
from pydantic import BaseModel

from shared import __version__, topology
from shared.settings import Settings
from shared.streams import GROUP_INGEST, JSON_FIELD, StreamNames

DEFAULT_OUTPUT = Path("docs/asyncapi.json")
# Only the host appears in the document; nothing connects to it.
SERVER_URL = "redis://localhost:6379"
DEFAULT_PREFIX = "newsflow:"
# Consumer names are per process (service-host-pid); the document shows the pattern.
CONSUMER = "{service}-<hostname>-<pid>"
# The writers that are newsflow services (scrapers write the inbox from outside).
SERVICES = ("ingest", "enrich", "sink", "deliver")

ENTRY_NOTE = (
    f"Each stream entry carries one message as JSON in its `{JSON_FIELD}` field "
    "(written with XADD, read with XREADGROUP)."
)


def _consumer(service: str) -> str:
    return CONSUMER.format(service=service)


def _reader(model: type[BaseModel], description: str) -> Callable[..., Awaitable[None]]:
    """A handler whose one parameter is typed ``model`` (FastStream reads the schema
    from the annotation, so it is set as a class, not as a string)."""

    async def handler(message: Any) -> None:
        return None

    handler.__annotations__ = {"message": model, "return": None}
    handler.__doc__ = description
    return handler


def documentation_broker(names: StreamNames) -> RedisBroker:
    """A broker that declares every stream of ``shared.topology``; never started.

    One subscription per consumer group (with the model it reads), one publisher per
    stream a newsflow service writes (with the model written)."""
    broker = RedisBroker(SERVER_URL)
    for spec in topology.STREAMS:
        stream = spec.address(names)
        description = f"{spec.description} {ENTRY_NOTE}"
        for group in spec.groups:
            subscriber = broker.subscriber(
                stream=StreamSub(stream, group=group, consumer=_consumer(group)),
                title=f"{group}:{stream}",
                description=description,
            )
            subscriber(_reader(spec.model, description))
        writers = [w for w in spec.writers if w in SERVICES]
        if writers:
            broker.publisher(
                stream=stream,
                schema=spec.model,
                title=f"{'+'.join(writers)}->{stream}",
                description=description,
            )
    return broker


def app_subscriptions(settings: Settings) -> set[tuple[str, str]]:
    """(stream, group) of every subscription in the real FastStream apps, built offline."""
    from services.enrich.app import build_app as build_enrich
    from services.ingest.app import SERVICE as INGEST
    from services.runtime import BatchConsumer
    from services.sink.app import build_app as build_sink
    from shared.redis import connect

    names = StreamNames(settings.prefix)

    async def nothing(_: Any) -> None:
        return None

    # The inbox reader as services.ingest.app.build_api builds it (its broker lives
    # inside the API's lifespan, so it is not reachable from outside).
    inbox_broker = RedisBroker(SERVER_URL)
    BatchConsumer(
        service=INGEST,
        stream=names.inbox,
        group=GROUP_INGEST,
        batch_size=settings.inbox_batch_size,
        settings=settings,
        client=connect(SERVER_URL),
        process=nothing,
    ).subscribe(inbox_broker)
    brokers = [
        inbox_broker,
        build_enrich(settings, SERVER_URL).broker,
        build_sink(settings, SERVER_URL).broker,
    ]
    spec = AsyncAPI(*[b for b in brokers if b is not None]).to_specification()
    return _subscriptions(spec.to_jsonable())


def _subscriptions(document: Any) -> set[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for channel in document.get("channels", {}).values():
        binding = channel.get("bindings", {}).get("redis", {})
        if binding.get("method") == "xreadgroup":
            found.add((channel["address"], binding["groupName"]))
    return found


def generate(prefix: str = DEFAULT_PREFIX) -> dict[str, Any]:
    """The AsyncAPI 3.0 document for streams under ``prefix``, as JSON-ready data."""
    settings = Settings(prefix=prefix)
    names = StreamNames(prefix)
    broker = documentation_broker(names)
    spec = AsyncAPI(
        broker,
        title="newsflow streams",
        version=__version__,
        description=(
            "The Redis streams newsflow reads and writes. " + ENTRY_NOTE + " Stream keys "
            f"start with the configurable prefix (NEWSFLOW_PREFIX, here `{prefix}`). "
            "Generated by `newsflow docs`; do not edit by hand."
        ),
        schema_version="3.0.0",
    )
    document: dict[str, Any] = spec.to_specification().to_jsonable()
    documented = _subscriptions(document)
    actual = app_subscriptions(settings)
    if documented != actual:
        raise RuntimeError(
            "the documented subscriptions differ from the FastStream apps': "
            f"documented {sorted(documented)}, apps {sorted(actual)}"
        )
    return document


def render(document: dict[str, Any]) -> str:
    """The document as the checked-in file's text (stable key order, final newline)."""
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def cmd_docs(args: argparse.Namespace) -> int:
    """Write the AsyncAPI document (``docs/asyncapi.json`` unless ``--output``)."""
    output: Path = args.output or DEFAULT_OUTPUT
    text = render(generate())
    if str(output) == "-":
        sys.stdout.write(text)
        return 0
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(text, encoding="utf-8")
    print(f"wrote {output}", file=sys.stderr)
    return 0
