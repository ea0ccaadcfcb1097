"""Deliver confirmed notices at Telegram's pace, resumably.

``run_once(app)`` claims batches of due delivery rows (services.notices.broadcast) and hands them to a few sender
tasks (:func:`sender_tasks`: one per ``TASK_RATE`` msg/s of pace, so one at Telegram's real 30/s) that share
one :class:`Pacer` (at most ``GLOBAL_PER_SECOND`` messages a second overall and one a second per chat).
These sends bypass PTB's AIORateLimiter: it would retry a 429 in place and hold back every other request
meanwhile. Here a 429 reschedules only that row by its ``retry_after`` (kept in memory to retry later in
the same run, and in the database for a crash) and the run goes on; a 403 marks the row unreachable;
other Bad Requests fail it; network errors leave it pending for a later run.

A row is marked sent only after Telegram accepted it, and a sender task takes its next row only once that
mark is committed. So after a crash at most one row per sender task (accepted, its mark not yet committed)
can go twice: at most :func:`sender_tasks` of the pace in force, 1 at Telegram's real limit, 4 at ten times
that. What lets a raised pace be kept: the tasks overlap one another's round trips (send, commit); marks
handed in while a commit runs go out with the next one (:class:`_SentMarks`, a group commit, which pays off
when commits are slow); the sends use aiohttp (:class:`AiohttpRequest`) and the marks one held connection,
each about a third of the CPU of PTB's httpx and a session per commit; and the next batch is claimed while
the last is being sent. Figures: benchmarks/README.md.

The author's preview message shows "x/y", edited at most every ``PROGRESS_EVERY`` seconds, and gets
the final report when the notice is done. ``schedule(app)`` runs ``run_once`` every ``SEND_EVERY`` so
notices left over by a crash or a network failure go out without anyone pressing anything.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
import urllib.parse
import urllib.request
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.ext import Application, ContextTypes
from telegram.request import BaseRequest, RequestData

from handlers import texts
from handlers.deps import KEY, Deps
from services.notices import broadcast as notices
from storage.models import Notice

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = 30.0  # Telegram: about 30 messages a second to different chats
CHAT_INTERVAL = 1.0  # seconds between two messages to one chat
BATCH = 50
TASK_RATE = 75.0  # msg/s of pace per sender task: 1 task at 30/s, 4 at 300/s (benchmarks/README.md)
MAX_TASKS = 4
PROGRESS_EVERY = 3.0  # seconds between two edits of the author's "x/y"
CHECK_EVERY = 1.0  # seconds between two looks (during a run) for notices that are done, and at their "x/y"
NETWORK_RETRY = 30.0  # seconds before a row that hit a network error is tried again
SEND_EVERY = timedelta(seconds=15)
JOB = "notices"
_LOCK, PACER_KEY, _BOT, _SHOWN = ("linli.notices.lock", "linli.notices.pacer", "linli.notices.bot",
                               "linli.notices.shown")


@dataclass
class Pacer:
    """Spaces sends: ``1/per_second`` apart overall and ``chat_interval`` apart in one chat.

    A caller's slot is reserved before it sleeps, so sender tasks sharing one pacer queue up behind each
    other instead of taking the same slot; slots follow the schedule, not the moment a sleeper woke up."""

    per_second: float = GLOBAL_PER_SECOND
    chat_interval: float = CHAT_INTERVAL
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _next: float = 0.0
    _chats: dict[int, float] = field(default_factory=dict)

    async def wait(self, chat_id: int) -> None:
        now = self.clock()
        at = max(now, self._next, self._chats.get(chat_id, 0.0))
        self._next = at + 1 / self.per_second
        self._chats[chat_id] = at + self.chat_interval
        if len(self._chats) > 10_000:  # forget chats whose interval is long over
            self._chats = {c: t for c, t in self._chats.items() if t > now}
        if at > now:
            await self.sleep(at - now)


def sender_tasks(per_second: float) -> int:
    """How many sender tasks a run uses at this pace: one per ``TASK_RATE`` msg/s, 1 to ``MAX_TASKS``.

    Also the most recipients a crash can give a second copy (one row in flight per task)."""
    return max(1, min(MAX_TASKS, math.ceil(per_second / TASK_RATE - 1e-9)))


class AiohttpRequest(BaseRequest):
    """PTB's network backend on aiohttp (already the emulator's dependency), for the sender's Bot only.

    PTB's default backend (httpx on anyio) costs about 1.5 ms of CPU per sendMessage on the benchmark machine,
    aiohttp about 0.5 ms (both with the emulator's side); at a raised pace that CPU is what limits the
    sender. Only the transport changes: PTB's :meth:`BaseRequest.post` still turns status codes into
    RetryAfter / Forbidden / BadRequest, and transport failures become TimedOut / NetworkError as with
    httpx. Form-encoded bodies only: the sender sends text, and photos by ``file_id``, never an upload."""

    TIMEOUT = 5.0  # seconds to connect, and to wait for the answer, as PTB's HTTPXRequest by default

    def __init__(self, timeout: float = TIMEOUT) -> None:
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._env_proxies: dict[str, str] = {}
        self._proxy_for: dict[str, str | None] = {}  # per scheme://host:port

    @property
    def read_timeout(self) -> float:
        return self._timeout

    async def initialize(self) -> None:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(
                total=None, sock_connect=self._timeout, sock_read=self._timeout))
            # HTTPS_PROXY / HTTP_PROXY / ALL_PROXY / NO_PROXY are honoured, as httpx does, but read once here:
            # aiohttp's trust_env reads them (and ~/.netrc) again on every request, 0.4 ms each.
            self._env_proxies, self._proxy_for = urllib.request.getproxies(), {}

    async def shutdown(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = BaseRequest.DEFAULT_NONE,
        write_timeout: object = BaseRequest.DEFAULT_NONE,
        connect_timeout: object = BaseRequest.DEFAULT_NONE,
        pool_timeout: object = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        if self._session is None or self._session.closed:
            raise RuntimeError("AiohttpRequest is not initialized")
        if request_data is not None and request_data.contains_files:
            raise NotImplementedError("the notice sender sends by file_id, never an upload")
        options: dict[str, Any] = {}
        if _given(read_timeout) or _given(connect_timeout):  # PTB's defaults are DefaultValue objects
            options["timeout"] = aiohttp.ClientTimeout(
                total=None, sock_read=read_timeout if _given(read_timeout) else self._timeout,  # type: ignore[arg-type]
                sock_connect=connect_timeout if _given(connect_timeout) else self._timeout)  # type: ignore[arg-type]
        try:
            async with self._session.request(method, url, data=request_data.json_parameters if request_data else None,
                                             headers={"User-Agent": self.USER_AGENT}, proxy=self._proxy(url),
                                             **options) as response:
                return response.status, await response.read()
        except TimeoutError as exc:
            raise TimedOut from exc
        except aiohttp.ClientError as exc:
            raise NetworkError(f"aiohttp.{exc.__class__.__name__}: {exc}") from exc


    def _proxy(self, url: str) -> str | None:
        parts = urllib.parse.urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if origin not in self._proxy_for:
            env = self._env_proxies
            bypass = bool(env.get("no")) and urllib.request.proxy_bypass_environment(parts.hostname or "", env)
            self._proxy_for[origin] = None if bypass else env.get(parts.scheme) or env.get("all")
        return self._proxy_for[origin]


def _given(timeout: object) -> bool:
    """A timeout a caller passed (seconds, or None for none), not one of PTB's DefaultValue placeholders."""
    return timeout is None or isinstance(timeout, int | float)


def _deps(app: Application) -> Deps:
    return app.bot_data[KEY]


async def _sender_bot(app: Application) -> Bot:
    """A plain Bot on the same Bot API server and token, without PTB's rate limiter (see module doc)."""
    bot = app.bot_data.get(_BOT)
    if bot is None:
        base, files = app.bot.base_url, app.bot.base_file_url
        bot = Bot(app.bot.token, base_url=lambda _token: base, base_file_url=lambda _token: files,
                  request=AiohttpRequest())
        await bot.initialize()
        app.bot_data[_BOT] = bot
    return bot


def _retry_seconds(exc: RetryAfter) -> float:
    value = getattr(exc, "_retry_after", None)
    return value.total_seconds() if isinstance(value, timedelta) else 1.0


class _SentMarks:
    """Group commit of "sent" marks: :meth:`sent` returns once the row's mark is committed.

    Whoever holds ``lock`` commits every row handed in so far in one UPDATE; the tasks that handed theirs
    in meanwhile find them committed and return without a transaction of their own. A failed commit puts
    the rows back, so each waiting task tries again itself (and raises if it fails too). The run's claims
    and done-checks take the same lock: on SQLite a writer that finds the database locked sleeps in
    growing steps (busy timeout), while a task waiting here goes on the moment the lock is free.

    Commits go through one connection held for the run (:meth:`close` returns it), not a session each:
    about a third less CPU per commit. Each is a single UPDATE, so SQLite's default deferred BEGIN is safe
    (the statement takes the write lock, waiting on the busy timeout, before it reads anything)."""

    def __init__(self, d: Deps, lock: asyncio.Lock | None = None) -> None:
        self.d = d
        self.waiting: list[int] = []
        self.lock = lock or asyncio.Lock()
        self.conn: AsyncConnection | None = None

    async def sent(self, delivery_id: int) -> None:
        self.waiting.append(delivery_id)
        async with self.lock:
            if delivery_id not in self.waiting:  # committed by the task that held the lock before
                return
            ids, self.waiting = self.waiting, []
            try:
                if self.conn is None:
                    self.conn = await self.d.db.engine.connect()
                async with self.conn.begin():
                    await notices.mark_sent_many(self.conn, ids, self.d.now())
            except BaseException:
                self.waiting[:0] = ids
                await self.close()  # a connection that failed is not used again
                raise

    async def close(self) -> None:
        conn, self.conn = self.conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()


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
    checked: float = 0.0  # time.monotonic() of the last report(final=False)
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)  # the run's batch writes, one at a time
    marks: _SentMarks = field(init=False)

    def __post_init__(self) -> None:
        self.marks = _SentMarks(self.d, self.writing)

    async def notice(self, notice_id: int) -> Notice | None:
        if notice_id not in self.notices:
            async with self.d.db.session() as s:
                found = await s.get(Notice, notice_id)
            if found is None:
                return None
            self.notices[notice_id] = found
        return self.notices[notice_id]

    async def deliver(self, claim: notices.Claim) -> None:
        """Send one row and record the outcome; returns only once it is committed (the crash bound)."""
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
            await self.marks.sent(claim.delivery_id)
            self.sent += 1

    async def sender(self, queue: asyncio.Queue[notices.Claim | None]) -> None:
        """One sender task: one row at a time, the next only once the last one's outcome is committed."""
        while (claim := await queue.get()) is not None:
            try:
                await self.deliver(claim)
            finally:
                queue.task_done()
        queue.task_done()

    async def next_batch(self) -> list[notices.Claim]:
        """Due rows from the database; else the earliest row this run must retry (waiting for it)."""
        async with self.writing, self.d.db.transaction() as s:
            batch = await notices.claim_batch(s, self.d.now(), BATCH)
        if batch or not self.retries:
            return batch
        self.retries.sort(key=lambda r: r[0])
        deadline, claim, due = self.retries.pop(0)
        await asyncio.sleep(max(0.0, deadline - time.monotonic()))
        async with self.d.db.transaction() as s:
            again = await notices.reclaim(s, claim, due, self.d.now())
        return [again] if again else []

    async def feed(self, queue: asyncio.Queue[notices.Claim | None], tasks: int) -> None:
        """Claim batches and queue them for the sender tasks until nothing is due and nothing is retried.

        The next batch is claimed while the last one is still being sent (the queue holds one batch), so the
        senders never wait for a claim; rows claimed but not yet sent are at most two batches. Done notices
        and the authors' "x/y" are looked at every ``CHECK_EVERY`` seconds, and once more at the end."""
        while True:
            batch = await self.next_batch()
            if batch:
                for claim in batch:
                    await queue.put(claim)
                if time.monotonic() - self.checked >= CHECK_EVERY:
                    self.checked = time.monotonic()
                    await self.report(final=False)
                continue
            await queue.join()  # rows still in flight may add 429 retries
            if not self.retries:
                break
        for _ in range(tasks):
            queue.put_nowait(None)

    async def drain(self) -> int:
        tasks = sender_tasks(self.pacer.per_second)
        self.checked = time.monotonic()
        queue: asyncio.Queue[notices.Claim | None] = asyncio.Queue(maxsize=BATCH)
        try:
            async with asyncio.TaskGroup() as group:
                for i in range(tasks):
                    group.create_task(self.sender(queue), name=f"notice-sender-{i}")
                group.create_task(self.feed(queue, tasks), name="notice-feed")
        except BaseExceptionGroup as eg:  # the first failure, as the one-task sender raised it
            raise eg.exceptions[0] from None
        finally:
            await self.marks.close()
        await self.report(final=True)
        return self.sent

    async def report(self, *, final: bool) -> None:
        shown: dict[int, float] = self.app.bot_data.setdefault(_SHOWN, {})
        done: list[int] = []
        if final or self.touched:
            async with self.writing, self.d.db.transaction() as s:
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
