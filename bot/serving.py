"""`linli run`: one process (:func:`serve`), or N worker processes behind one port under uvicorn's supervisor
(:func:`run_workers`, each worker built by :func:`worker_app`). A worker is a :class:`bot.runtime.Runtime`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import tempfile
from collections.abc import AsyncIterator

from starlette.applications import Starlette

from bot import web_wiring
from bot.app import build_application
from bot.runtime import Runtime
from bot.settings import Settings, SettingsError, load_settings
from bot.startup import LOCAL_TOKEN
from web import create_app

WORKER_POOL = 5  # PostgreSQL connections per worker process (and as many on overflow) unless DATABASE_POOL says


# -- one process ---------------------------------------------------------------------------------------------------


async def serve(settings: Settings) -> int:
    """`linli run` in one process until SIGINT or SIGTERM."""
    if settings.webhook and settings.web_port is None:
        raise SettingsError("配置错误 WEB_PORT: the webhook is served by the web side; it cannot be off")
    runtime = Runtime(build_application(settings, serve_web=True, rate_limited=settings.rate_limit), settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await runtime.start()
    try:
        await stop.wait()
    finally:
        await runtime.stop()
    return 0


# -- N processes behind one port (uvicorn's supervisor) ------------------------------------------------------------


def setup_logging(level: str) -> None:
    logging.basicConfig(level=getattr(logging, level.upper(), logging.INFO),
                        format="%(asctime)s %(levelname)s %(process)d %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)


def worker_app() -> Starlette:
    """The ASGI app of one worker process (uvicorn's factory): the bot starts and stops with its lifespan."""
    settings = load_settings()
    setup_logging(settings.log_level)
    app = build_application(settings, serve_web=False, rate_limited=settings.rate_limit)
    runtime = Runtime(app, settings)
    web = web_wiring.make_web(app, settings, settings.bot_token or LOCAL_TOKEN)
    runtime.wire(web)

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    return create_app(web, lifespan=lifespan)


def check_workers(settings: Settings) -> None:
    """What several workers need, said before any starts."""
    if not settings.database_url.startswith("postgresql"):
        raise SettingsError("配置错误 WORKERS: more than one worker needs PostgreSQL (DATABASE_URL=postgresql+asyncpg://…)")
    if settings.web_port is None:
        raise SettingsError("配置错误 WEB_PORT: the workers serve on it; it cannot be off")
    if not settings.bot_token:
        raise SettingsError("配置错误 BOT_TOKEN: workers talk to Telegram; set the bot's token")


def run_workers(settings: Settings) -> int:
    """`linli run --workers N`: migrate once, then N uvicorn worker processes on WEB_HOST:WEB_PORT."""
    import uvicorn

    from storage.db import Database

    check_workers(settings)
    Database(settings.database_url).migrate()  # once, here: a wrong DATABASE_URL is said before anything starts
    with tempfile.TemporaryDirectory(prefix="linli-metrics-") as shared:
        env = {"PROMETHEUS_MULTIPROC_DIR": shared, "WORKERS": str(settings.workers),
               "WEBHOOK": "true" if settings.webhook else "false", "WEB_PORT": str(settings.web_port)}
        if settings.database_pool is None:
            env["DATABASE_POOL"] = str(WORKER_POOL)
        os.environ.update(env)  # the workers read their settings from the environment, as this process did
        uvicorn.run("bot.serving:worker_app", factory=True, host=settings.web_host, port=settings.web_port,
                    workers=settings.workers, lifespan="on", log_level=settings.log_level.lower(), access_log=False,
                    proxy_headers=True, server_header=False, timeout_graceful_shutdown=15)
    return 0


__all__ = ["check_workers", "run_workers", "serve", "setup_logging", "worker_app"]
