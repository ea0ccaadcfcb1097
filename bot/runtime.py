"""One linli worker, and `linli run` on one machine or many processes.

A worker is the python-telegram-bot Application (no Updater: updates come from the inbox), its inbox
(``bot.intake``: accept, claim, handle, mark done), its place among the workers (``bot.cluster``: who leads), and
the web side with ``/telegram/webhook``, ``/healthz`` and ``/metrics``. The leader alone runs the paced sender, the
periodic jobs (desk tick, purges) and, when polling, getUpdates; on gaining the lead it also tells Telegram where
updates go (``setWebhook`` with ``BASE_URL``, or ``deleteWebhook`` for polling) and sets the command menu.

- ``linli run`` (SQLite or PostgreSQL, one process): polling, or with ``--webhook`` the webhook on ``WEB_PORT``;
  the web side in the bot's event loop (``bot.serving.serve``; the console, tests and benchmarks start the same
  Runtime through ``bot.app.start_polling``).
- ``linli run --webhook --workers N`` (PostgreSQL): uvicorn's supervisor with N worker processes on one port
  (``bot.serving.run_workers``), each a Runtime; a dead worker is started again by the supervisor.

The rate budget: every process paces what it sends itself (its handlers' replies, and on the leader the sender)
with a pacer of ``GLOBAL_PER_SECOND / workers``, so together they stay within Telegram's 30 a second.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import Application, ContextTypes

from bot import metrics, sender, web_wiring
from bot.cluster import Cluster, PgCluster, cluster_for
from bot.intake import Intake, Poller, body_of, wall_now
from bot.settings import Settings, SettingsError
from bot.startup import COMMANDS, prepare, settle, warm_up
from handlers.deps import KEY, Deps
from services import inbox
from web import Web

log = logging.getLogger(__name__)

WEBHOOK_PATH = "/telegram/webhook"
PURGE_EVERY = timedelta(minutes=10)
PURGE_JOB = "purge-inbox"
REAP_EVERY = 1.0  # seconds between two looks (by the leader) for inbox leases of workers that died
CONNECT_WAIT = 10.0  # seconds a starting worker waits for its cluster connection before it claims anyway


class Runtime:
    """One worker: start it, let it run, stop it."""

    def __init__(self, app: Application, settings: Settings, *, cluster: Cluster | None = None,
                 poll_timeout: int = 10) -> None:
        self.app = app
        self.settings = settings
        self.webhook = settings.webhook
        self.d: Deps = app.bot_data[KEY]
        self.cluster = cluster or cluster_for(self.d.db.url)
        self.intake = Intake(app, self.d.db, worker=self.cluster.name, slots=settings.inbox_slots,
                             fresh_user_state=not self.d.db.is_sqlite, notify_sql=self.cluster.notify_sql,
                             notify_channel=self.cluster.notify_channel)
        self.poller: Poller | None = None
        self.poll_timeout = poll_timeout
        self.prepare = True  # migrate and sync the grids at start
        self._announcing: asyncio.Task[None] | None = None
        self._reaping: asyncio.Task[None] | None = None
        self.cluster.on_inbox = self.intake.heard
        self.cluster.on_outbox = self._kick_sender
        self.cluster.on_lead = self._lead
        self.cluster.on_follow = self._follow
        app.bot_data[sender.ELSEWHERE_KEY] = self.cluster.outbox_changed
        pacer: sender.Pacer | None = app.bot_data.get(sender.PACER_KEY)
        if pacer is not None and settings.workers > 1 and pacer.per_second < 1e6:
            pacer.per_second = sender.GLOBAL_PER_SECOND / settings.workers
        app.post_init = None  # this runtime starts and stops everything itself
        app.post_shutdown = None
        self.web: Web | None = app.bot_data.get(web_wiring.STATE)
        if self.web is not None:
            self.wire(self.web)

    def wire(self, web: Web) -> None:
        """The web side's hooks into this worker: the webhook (in webhook mode), health and metrics."""
        self.web = web
        web.hooks.accept_update = self.accept_body
        web.hooks.health = self.health
        web.hooks.metrics = self.metrics
        web.config.webhook_secret = self.settings.webhook_secret if self.webhook else None

    # -- what the web side asks --------------------------------------------------------------------------------------

    async def accept_body(self, body: bytes) -> None:
        try:
            data = body_of(body)
        except RecursionError:
            raise ValueError("nested too deeply") from None
        await self.intake.accept([data], via="webhook")

    async def health(self) -> tuple[bool, dict[str, object]]:
        found = await metrics.health(self.d.db, self.cluster)
        return found.ok, found.body

    async def metrics(self) -> tuple[bytes, str]:
        return await metrics.render(self.d.db, self.cluster, self.d.now)

    # -- start and stop ----------------------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.webhook and not self.settings.base_url:
            raise SettingsError("配置错误 BASE_URL: the webhook needs the public https:// address")
        if self.webhook and not self.settings.webhook_secret:
            raise SettingsError("配置错误 WEBHOOK_SECRET: the webhook needs a secret (A-Z a-z 0-9 _ -)")
        warm = warm_up()
        await self.app.initialize()
        if self.prepare:
            await prepare(self.app)
        await self.app.start()  # the job queue (its jobs stay paused until this worker leads)
        self._schedule()
        if self.web is not None:
            self.web.config.bot_username = self.app.bot.username
        await web_wiring.start(self.app)  # the web side in this event loop, when this process serves it itself
        await self.cluster.start()
        if isinstance(self.cluster, PgCluster):  # claim only once the others can see this worker is alive
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.cluster.connected.wait(), CONNECT_WAIT)
        await self.intake.start()
        await warm
        settle()
        log.info("linli worker %s ready as @%s (%s)", self.cluster.name, self.app.bot.username,
                 "webhook" if self.webhook else "polling")

    async def stop(self) -> None:
        await web_wiring.stop(self.app)  # no more updates come in
        await self.cluster.stop()  # the leader's duties end (another worker takes them over)
        await self.intake.stop()  # running updates finish, the rest is handed back
        await sender.close(self.app)
        if self.app.running:
            await self.app.stop()
        await self.d.db.dispose()
        await self.app.shutdown()

    def _schedule(self) -> None:
        queue = self.app.job_queue
        if queue is None:
            return
        queue.run_repeating(self._purge_inbox, interval=PURGE_EVERY, first=PURGE_EVERY, name=PURGE_JOB)
        self._jobs(enabled=self.cluster.is_leader)

    def _jobs(self, *, enabled: bool) -> None:
        """Resume (leader) or pause (follower) every job. Set, never compared: PTB's ``Job.enabled`` starts False for a
        job that is scheduled and runs, so "already disabled" cannot be read from it (every worker ran the desk
        tick)."""
        if self.app.job_queue is None:
            return
        for job in self.app.job_queue.jobs():
            if not job.removed:
                job.enabled = enabled

    async def _purge_inbox(self, context: ContextTypes.DEFAULT_TYPE) -> None:
        async with self.d.db.transaction() as s:
            n = await inbox.purge(s, wall_now())
        metrics.JOB_RUNS.labels(PURGE_JOB, "ok").inc()
        if n:
            log.info("inbox: purged %d handled updates", n)

    # -- leading -----------------------------------------------------------------------------------------------------

    def _kick_sender(self) -> None:
        running: sender.Sender | None = self.app.bot_data.get(sender.SENDER_KEY)
        if running is not None and running.task is not None:
            running.kick()

    async def _lead(self) -> None:
        self._jobs(enabled=True)
        sender.start(self.app)  # its first act voids the outbox leases of a sender that died
        if not self.webhook:
            self.poller = Poller(self.intake, self.app.bot.base_url, timeout=self.poll_timeout)
            await self.poller.start()
        self._announcing = asyncio.create_task(self._announce(), name="announce")
        self._reaping = asyncio.create_task(self._reap(), name="reap")

    async def _follow(self) -> None:
        self._jobs(enabled=False)
        tasks, self._announcing, self._reaping = (self._announcing, self._reaping), None, None
        for task in tasks:
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self.poller is not None:
            await self.poller.stop()
            self.poller = None
        await sender.close(self.app)

    async def _reap(self) -> None:
        """Free at once the inbox rows that workers now dead had claimed (their chats wait no lease out)."""
        while True:
            try:
                async with self.d.db.transaction() as s:
                    if n := await inbox.free_orphans(s, await self.cluster.alive(s), wall_now(),
                                                     settled=self.cluster.settled):
                        log.warning("inbox: %d updates a dead worker had claimed are free again", n)
                        self.intake.wake()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the database is away: the leases run out meanwhile
                log.warning("inbox: looking for dead workers' claims failed (%s: %s)", type(exc).__name__, exc)
            await asyncio.sleep(REAP_EVERY)

    async def _announce(self) -> None:
        """Tell Telegram where updates go, and the command menu; tried again until it took."""
        delay = 1.0
        while True:
            try:
                if self.webhook:
                    assert self.settings.base_url is not None
                    await self.app.bot.set_webhook(self.settings.base_url + WEBHOOK_PATH,
                                                   secret_token=self.settings.webhook_secret,
                                                   allowed_updates=Update.ALL_TYPES)
                else:
                    await self.app.bot.delete_webhook(drop_pending_updates=False)
                await self.app.bot.set_my_commands(COMMANDS)
                return
            except TelegramError as exc:
                log.warning("could not tell Telegram where updates go (%s); again in %.0f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)


__all__ = ["PURGE_JOB", "WEBHOOK_PATH", "Runtime"]
