"""``GET /healthz``, ``GET /readyz`` and ``GET /metrics`` of the ingest service.

``/metrics`` is Prometheus text with the pipeline's state as Redis sees it: gauges
read from Redis at scrape time (stream lengths, consumer-group pending and lag, dead
letters), so any one API replica reports the whole pipeline; then this process's API
answers by status and the registries in ``app.state.metrics_registries`` (the inbox
reader's batch sizes and durations).
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from services.ingest.deps import ApiMetricsDep, NamesDep, RedisDep
from services.observability import readiness_response, redis_metrics
from shared.streams import GROUP_ENRICH, GROUP_SINK

router = APIRouter()


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
async def metrics(
    request: Request, names: NamesDep, client: RedisDep, api_metrics: ApiMetricsDep
) -> Response:
    streams = [names.inbox, names.raw, names.enriched]
    body = await redis_metrics(client, streams, names.dlq)
    body += generate_latest(api_metrics.registry)
    extra: Sequence[CollectorRegistry] = request.app.state.metrics_registries
    for more in extra:
        body += generate_latest(more)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


@router.get("/healthz", summary="The process is alive")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", summary="Redis reachable and every consumer group present")
async def readyz(names: NamesDep, client: RedisDep) -> JSONResponse:
    problems: list[str] = []
    try:
        await client.ping()
        for stream, group in ((names.raw, GROUP_ENRICH), (names.enriched, GROUP_SINK)):
            groups = await client.xinfo_groups(stream)
            if not any(g["name"] in (group, group.encode()) for g in groups):
                problems.append(f"group {group} missing on {stream}")
    except (RedisConnectionError, RedisTimeoutError) as exc:
        problems.append(f"Redis unreachable: {exc}")
    except Exception as exc:  # noqa: BLE001 - readiness reports, never raises
        problems.append(f"{type(exc).__name__}: {exc}")
    return readiness_response(problems)
