"""``newsflow worker ingest|enrich|sink|deliver``: run one service in this process."""

from __future__ import annotations

import asyncio
import logging
import signal
import sys
from types import FrameType

from shared.settings import Settings, get_settings

log = logging.getLogger(__name__)


def _redis_url(settings: Settings) -> str:
    url = settings.resolved_redis_url()
    if not url:
        print(
            "newsflow: no Redis: set REDIS_URL, or run 'newsflow up' which starts one",
            file=sys.stderr,
        )
        raise SystemExit(2)
    return url


def run_worker(service: str) -> int:
    """Run ``service`` until SIGINT/SIGTERM; returns the exit code."""
    from services.runtime import configure_logging

    settings = get_settings()
    configure_logging(settings, service)
    url = _redis_url(settings)
    if service == "ingest":
        import uvicorn

        from services.ingest.app import build_api

        # uvicorn re-raises the stop signal after its graceful shutdown so the
        # previous handler can act; ours records nothing and the exit code stays 0.
        for sig in (signal.SIGINT, signal.SIGTERM):
            signal.signal(sig, lambda *_: None)
        from services.ingest.sse import STOPPING

        class Server(uvicorn.Server):
            def handle_exit(self, sig: int, frame: FrameType | None) -> None:
                STOPPING.set()  # open SSE streams end, so shutdown need not wait them out
                super().handle_exit(sig, frame)

        config = uvicorn.Config(
            build_api(settings, url),
            host=settings.api_host,
            port=settings.api_port,
            log_config=None,
            access_log=False,
            timeout_graceful_shutdown=int(settings.graceful_timeout),
        )
        Server(config).run()
        return 0
    if service == "deliver":
        from services.deliver.app import serve

        asyncio.run(serve(settings, url))
        return 0
    if service == "enrich":
        from services.enrich.app import build_app
    else:
        from services.sink.app import build_app
    asyncio.run(build_app(settings, url).run())
    return 0
