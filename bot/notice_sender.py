"""Deliver confirmed notices at Telegram's pace, resumably.

``run_once(app)`` claims batches of due delivery rows (services.notices) and sends them one by one,
paced by :class:`Pacer` (at most ``GLOBAL_PER_SECOND`` messages a second overall and one a second per
chat). These sends bypass PTB's AIORateLimiter: it would retry a 429 in place and hold back every other
request meanwhile. Here a 429 reschedules only that row by its ``retry_after`` (kept in memory to retry
later in the same run, and in the database for a crash) and the run goes on; a 403 marks the row
unreachable; other Bad Requests fail it; network errors leave it pending for a later run. A row is
marked sent only after Telegram accepted it, each in its own transaction, so after a crash only the one
in flight can go twice.

The author's preview message shows "x/y", edited at most every ``PROGRESS_EVERY`` seconds, and gets
the final report when the notice is done. ``schedule(app)`` runs ``run_once`` every ``SEND_EVERY`` so
notices left over by a crash or a network failure go out without anyone pressing anything.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes

from handlers import texts
from handlers.deps import KEY, Deps
from services import notices
from storage.models import Notice

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = 30.0  # Telegram: about 30 messages a second to different chats
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
BATCH = 50
PROGRESS_EVERY = 3.0  # seconds between two edits of the author's "x/y"
NETWORK_RETRY = 30.0  # seconds before a row that hit a network error is tried again
SEND_EVERY = timedelta(seconds=15)
JOB = "notices"
_LOCK, PACER_KEY, _BOT, _SHOWN = ("linli.notices.lock", "linli.notices.pacer", "linli.notices.bot",
                               "linli.notices.shown")


@dataclass
class Pacer:
    """Spaces sends: ``1/per_second`` apart overall and ``chat_interval`` apart in one chat."""

    per_second: float = GLOBAL_PER_SECOND
    chat_interval: float = CHAT_INTERVAL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _next: float = 0.0
    _chats: dict[int, float] = field(default_factory=dict)

    async def wait(self, chat_id: int) -> None:
        now = self.clock()
        at = max(now, self._next, self._chats.get(chat_id, 0.0))
        if at > now:
            await self.sleep(at - now)
        self._next = at + 1 / self.per_second
        self._chats[chat_id] = at + self.chat_interval
        if len(self._chats) > 10_000:  # forget chats whose interval is long over
            self._chats = {c: t for c, t in self._chats.items() if t > at}


def _deps(app: Application) -> Deps:
    return app.bot_data[KEY]


async def _sender_bot(app: Application) -> Bot:
    """A plain Bot on the same Bot API server and token, without PTB's rate limiter (see module doc)."""
    bot = app.bot_data.get(_BOT)
    if bot is None:
        base, files = app.bot.base_url, app.bot.base_file_url
        bot = Bot(app.bot.token, base_url=lambda _token: base, base_file_url=lambda _token: files)
        await bot.initialize()
        app.bot_data[_BOT] = bot
    return bot


def _retry_seconds(exc: RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)
    return value.total_seconds() if isinstance(value, timedelta) else 1.0


@dataclass
class _Run:
    app: Application
    d: Deps
    bot: Bot
    pacer: Pacer
    sent: int = 0
    notices: dict[int, Notice] = field(default_factory=dict)
    retries: list[tuple[float, notices.Claim, datetime]] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)

    async def notice(self, notice_id: int) -> Notice | None:
        if notice_id not in self.notices:
            async with self.d.db.session() as s:
                found = await s.get(Notice, notice_id)
            if found is None:
                return None
            self.notices[notice_id] = found
        return self.notices[notice_id]

    async def deliver(self, claim: notices.Claim) -> None:
        notice = await self.notice(claim.notice_id)
        if notice is None:
            return
        self.touched.add(claim.notice_id)
        text = texts.notice_message(notice.kind, notice.text)
        await self.pacer.wait(claim.tg_user_id)
        try:
            if notice.photo_file_id:
                await self.bot.send_photo(claim.tg_user_id, notice.photo_file_id, caption=text)
            else:
                await self.bot.send_message(claim.tg_user_id, text)
        except RetryAfter as exc:
            seconds = _retry_seconds(exc)
            async with self.d.db.transaction() as s:
                due = await notices.mark_retry(s, claim.delivery_id, self.d.now(), seconds, str(exc))
            if due is not None:
                self.retries.append((time.monotonic() + seconds, claim, due))
        except Forbidden as exc:
            async with self.d.db.transaction() as s:
                await notices.mark_unreachable(s, claim.delivery_id, self.d.now(), exc.message)
        except BadRequest as exc:
            log.warning("notice %s to %s failed: %s", claim.notice_id, claim.tg_user_id, exc)
            async with self.d.db.transaction() as s:
                await notices.mark_failed(s, claim.delivery_id, self.d.now(), exc.message)
        except NetworkError as exc:  # timeouts, connection trouble: a later run tries again
            log.warning("notice %s to %s: network error, retried later: %s", claim.notice_id, claim.tg_user_id, exc)
            async with self.d.db.transaction() as s:
                await notices.mark_retry(s, claim.delivery_id, self.d.now(), NETWORK_RETRY, str(exc))
        except TelegramError as exc:
            log.warning("notice %s to %s failed: %s", claim.notice_id, claim.tg_user_id, exc)
            async with self.d.db.transaction() as s:
                await notices.mark_failed(s, claim.delivery_id, self.d.now(), str(exc))
        else:
            async with self.d.db.transaction() as s:
                await notices.mark_sent(s, claim.delivery_id, self.d.now())
            self.sent += 1

    async def next_batch(self) -> list[notices.Claim]:
        """Due rows from the database; else the earliest row this run must retry (waiting for it)."""
        async with self.d.db.transaction() as s:
            batch = await notices.claim_batch(s, self.d.now(), BATCH)
        if batch or not self.retries:
            return batch
        self.retries.sort(key=lambda r: r[0])
        deadline, claim, due = self.retries.pop(0)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        async with self.d.db.transaction() as s:
            again = await notices.reclaim(s, claim, due, self.d.now())
        return [again] if again else []

    async def drain(self) -> int:
        while True:
            batch = await self.next_batch()
            if not batch and not self.retries:
                break
            for claim in batch:
                await self.deliver(claim)
            await self.report(final=False)
        await self.report(final=True)
        return self.sent

    async def report(self, *, final: bool) -> None:
        shown: dict[int, float] = self.app.bot_data.setdefault(_SHOWN, {})
        done: list[int] = []
        if final or self.touched:
            async with self.d.db.transaction() as s:
                done = await notices.finish(s, self.d.now())
        for notice_id in sorted(self.touched | set(done)):
            last = shown.get(notice_id, 0.0)
            if notice_id not in done and time.monotonic() - last < PROGRESS_EVERY:
                continue
            shown[notice_id] = time.monotonic()
            await show_progress(self.app, notice_id, final=notice_id in done)
            if notice_id in done:
                shown.pop(notice_id, None)
                self.touched.discard(notice_id)


async def show_progress(app: Application, notice_id: int, *, final: bool = False) -> None:
    """Edit the author's preview to "x/y"; when ``final``, the report (edited in and sent as a new message)."""
    d = _deps(app)
    async with d.db.session() as s:
        notice = await s.get(Notice, notice_id)
        p = await notices.progress(s, notice_id)
    if notice is None or p is None or notice.report_chat_id is None:
        return
    text = (texts.notice_report(p.total, p.sent, p.unreachable, p.failed) if final
            else texts.notice_progress(p.finished, p.total))
    try:
        if notice.report_message_id:
            await app.bot.edit_message_text(text, chat_id=notice.report_chat_id, message_id=notice.report_message_id)
        if final:
            await app.bot.send_message(notice.report_chat_id, text)
    except TelegramError as exc:  # "message is not modified", a blocked author: the sending goes on
        log.info("notice %s progress not shown: %s", notice_id, exc)


async def run_once(app: Application) -> int:
    """Send everything due now (and the 429 retries met on the way); returns how many were sent.

    One run at a time per application: a second caller waits, then finds what is left."""
    lock: asyncio.Lock = app.bot_data.setdefault(_LOCK, asyncio.Lock())
    async with lock:
        run = _Run(app, _deps(app), await _sender_bot(app), app.bot_data.setdefault(PACER_KEY, Pacer()))
        return await run.drain()


async def close(app: Application) -> None:
    """Shut the sender's own Bot down (at application shutdown)."""
    bot = app.bot_data.pop(_BOT, None)
    if bot is not None:
        await bot.shutdown()


def kick(app: Application) -> None:
    """Start sending now, in the background (after 确认发送)."""
    app.create_task(run_once(app), name="notices")


async def notices_job(context: ContextTypes.DEFAULT_TYPE) -> None:
    lock: asyncio.Lock = context.application.bot_data.setdefault(_LOCK, asyncio.Lock())
    if lock.locked():  # a run is going: it picks up whatever is due
        return
    try:
        await run_once(context.application)
    except Exception:
        log.exception("notice sending failed; the next run resumes")


def schedule(app: Application) -> None:
    if app.job_queue is None:
        log.warning("no job queue: notices interrupted by a crash are not resumed")
        return
    app.job_queue.run_repeating(notices_job, interval=SEND_EVERY, first=SEND_EVERY, name=JOB)


__all__ = ["JOB", "PACER_KEY", "Pacer", "close", "kick", "notices_job", "run_once", "schedule", "show_progress"]
