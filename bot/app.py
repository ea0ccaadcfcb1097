"""Build the python-telegram-bot Application: settings in, a wired bot out. No logic lives here."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from telegram import Update
from telegram.ext import Application, ApplicationBuilder

from bot import sender, web_wiring
from bot.jobs import schedule
from bot.processor import PerChatUpdateProcessor
from bot.runtime import Runtime
from bot.settings import Settings
from bot.startup import COMMANDS, LOCAL_TOKEN, prepare, settle, warm_up
from bot.transport import AiohttpRequest
from bot.updates import SkippingRequest
from handlers.callbacks import secret_from
from handlers.deps import KEY, Deps, utc_now
from handlers.router import register
from intents import Engine
from services.cases.working_time import calendar_warning
from services.community.model import load_community
from services.flood import FloodLimits
from storage.db import Database

log = logging.getLogger(__name__)

SETTINGS_KEY, RUNTIME_KEY = "linli.settings", "linli.runtime"  # bot_data: what it was built with; its Runtime



def build_application(settings: Settings, *, clock: Callable[[], datetime] = utc_now,
                      token: str | None = None, rate_limited: bool = True, serve_web: bool = False) -> Application:
    """The bot, wired: its Bot API URL, database, community file and intents engine from settings.

    ``rate_limited=False`` drops the bot's own pacing (30/s, 20/min per group): only for tests of behaviour
    against an emulator with its limits off, and the handlers-only benchmark run. ``serve_web``: the web side
    (``web``) runs in the same process and event loop, on ``WEB_HOST``:``WEB_PORT`` (``linli run`` and the
    console turn it on; tests that do not need it leave it off)."""
    community = load_community(settings.community_file)
    if community.uses_working_time and (warning := calendar_warning(clock(), working=community.working_time)):
        log.warning(warning)  # deadlines in working days would ignore next year's holidays
    engine = Engine.from_file(settings.taxonomy_file, floor=settings.intents_floor,
                              margin=settings.intents_margin)
    db = Database(settings.database_url, pool_size=settings.database_pool, max_overflow=settings.database_pool)
    token = token or settings.bot_token or LOCAL_TOKEN
    builder = (ApplicationBuilder().token(token).base_url(settings.bot_api_url).base_file_url(settings.file_url)
               .request(AiohttpRequest(connections=256))  # as many calls in flight as PTB's default pool
               .get_updates_request(SkippingRequest(connections=1)))
    pacer = sender.Pacer(group_reserve=settings.group_reserve) if rate_limited else sender.Pacer.unlimited()
    if rate_limited:  # the handlers' replies share the sender's pacer: one rate budget for the whole bot
        builder = builder.rate_limiter(sender.SharedLimiter(pacer))
    app = (
        builder
        .concurrent_updates(PerChatUpdateProcessor())
        .post_init(_post_init)
        .post_shutdown(_post_shutdown)
        .build()
    )
    app.bot_data[KEY] = Deps(
        db=db, community=community, engine=engine,
        callback_secret=secret_from(settings.callback_secret, token),
        staff_chat_id=settings.staff_chat_id, admins=settings.admins, clock=clock,
        wake_sender=lambda: sender.kick(app),
        followup_delay=timedelta(minutes=settings.followup_delay_minutes),
        rating_window=timedelta(hours=settings.rating_window_hours),
        correction_window=timedelta(minutes=settings.correction_window_minutes),
        answer_window=timedelta(minutes=settings.answer_window_minutes),
        flood=FloodLimits(settings.flood_messages, settings.flood_window_seconds, settings.flood_drafts),
    )
    app.bot_data[sender.PACER_KEY] = pacer
    app.bot_data[SETTINGS_KEY] = settings
    register(app)
    schedule(app, every=timedelta(seconds=settings.sweep_interval_seconds))
    if serve_web:
        web_wiring.attach(app, settings, token)
    return app


async def _post_init(app: Application) -> None:
    warm = warm_up()
    await prepare(app)
    await app.bot.set_my_commands(COMMANDS)
    sender.start(app)  # what earlier runs still owe goes out now
    await web_wiring.start(app)
    await warm
    settle()
    log.info("linli ready as @%s", app.bot.username)


async def _post_shutdown(app: Application) -> None:
    await web_wiring.stop(app)
    await sender.close(app)
    await app.bot_data[KEY].db.dispose()


async def start_polling(app: Application) -> None:
    """Start the application as `linli run` does, polling through the inbox (for the console, tests and benchmarks):
    :class:`bot.runtime.Runtime` over the settings it was built with. An application not built here (a benchmark's
    echo bot) polls with PTB's updater."""
    if SETTINGS_KEY not in app.bot_data:
        await app.initialize()
        await app.start()
        await app.updater.start_polling(poll_interval=0.0, timeout=10, allowed_updates=Update.ALL_TYPES,
                                        drop_pending_updates=False)
        return
    runtime = Runtime(app, app.bot_data[SETTINGS_KEY], poll_timeout=10)
    app.bot_data[RUNTIME_KEY] = runtime
    await runtime.start()


async def stop_polling(app: Application) -> None:
    runtime = app.bot_data.pop(RUNTIME_KEY, None)
    if runtime is not None:
        await runtime.stop()
        return
    if app.updater and app.updater.running:
        await app.updater.stop()
    if app.running:
        await app.stop()
    await app.shutdown()
