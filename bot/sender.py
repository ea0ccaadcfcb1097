"""The one paced sender: everything the bot sends on its own initiative, resumably.

Two queues feed it, both tables: the outbox (``services.outbox``: what a committed change owes a person — the
ticket number, a card, a relay, progress, a rating request, an alert) and the notices' delivery rows
(``services.notices.broadcast``). The outbox goes first: a person's direct replies are never queued behind a
broadcast or a desk's backlog. ``Sender`` runs one loop per process (started with the application, stopped
within seconds), woken after each commit (``kick``) and looking again every ``POLL`` for rows written by
another process or due for a retry.

``run_once(app)`` claims batches of due rows and hands them to a few sender tasks (:func:`sender_tasks`: one
per ``TASK_RATE`` msg/s of pace, so one at Telegram's real 30/s) that share one :class:`Pacer` (at most
``GLOBAL_PER_SECOND`` messages a second overall, one a second per private chat, one every three seconds per
group: Telegram's 20 a minute). These sends bypass PTB's AIORateLimiter: it would retry a 429 in place and
hold back every other request meanwhile. Here a 429 reschedules only that row by its ``retry_after`` and the
run goes on; a 403 marks the row unreachable (for the outbox, the desk is told); other Bad Requests fail it;
5xx and network errors retry it with backoff. Anything else a row's handling raises (a bug, a row the code
cannot read, a record that cannot be written) is logged and marked too: retried with backoff when it may pass
(the database busy), failed at once otherwise (sent, with the error, when Telegram had taken it), so one bad
row never stops the run nor holds its chat's queue; a row claimed ``MAX_ATTEMPTS`` times without an outcome is
given up. Outbox rows go in order per chat (``claim_batch`` hands out
only each chat's head); when a desk's backlog of cards would wait more than a minute, the cards behind the
head are combined into one message listing them, each with its buttons. A group's last ``GROUP_RESERVE`` slots of
its minute are spread out (:class:`Pacer`): a stream of cards faster than twenty a minute goes out as one card
each while the minute has room, then as a combined message every few seconds, never waiting out the minute.

A row is marked sent only after Telegram accepted it, and a sender task takes its next row only once that
mark is committed. So after a crash at most one row per sender task (accepted, its mark not yet committed)
can go twice: at most :func:`sender_tasks` of the pace in force, 1 at Telegram's real limit, 4 at ten times
that. What lets a raised pace be kept: the tasks overlap one another's round trips (send, commit); notice
marks handed in while a commit runs go out with the next one (:class:`_SentMarks`, a group commit, which
pays off when commits are slow); the sends use aiohttp (:class:`AiohttpRequest`) and the marks one held
connection, each about a third of the CPU of PTB's httpx and a session per commit; and the next batch is
claimed while the last is being sent. Figures: benchmarks/README.md.

A notice's author sees "x/y" on their preview, edited at most every ``PROGRESS_EVERY`` seconds, and gets
the final report when the notice is done.
"""

from __future__ import annotations

import asyncio
import bisect
import contextlib
import logging
import math
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.ext.asyncio import AsyncConnection
from telegram import Bot
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError
from telegram.ext import Application, BaseRateLimiter

from bot.transport import AiohttpRequest
from handlers import owed, texts
from handlers.deps import KEY, Deps
from services import outbox
from services.notices import broadcast as notices
from storage.models import Notice, OutboxKind

log = logging.getLogger(__name__)

GLOBAL_PER_SECOND = 30.0  # Telegram: about 30 messages a second to different chats
CHAT_INTERVAL = 1.0  # seconds a message to one chat, on average
CHAT_BURST = 3  # … with up to this many at once
GROUP_BURST, GROUP_WINDOW = 20, 60.0  # at most 20 messages in any 60 seconds to one group, as Telegram allows
COMBINE_AFTER = GROUP_BURST  # a desk with more cards waiting than it can take now (and at most a minute's worth)
# gets them combined …
COMBINE_MAX = 40  # … at most this many to a message (two buttons each: Telegram allows 100; ~40 chars a line)
GROUP_RESERVE = 5  # the last slots of a group's minute, spread out until it frees the next one (setting GROUP_RESERVE)
NOTICE_PRIORITY = 9  # after every outbox row
BATCH = 50
TASK_RATE = 75.0  # msg/s of pace per sender task: 1 task at 30/s, 4 at 300/s (benchmarks/README.md)
MAX_TASKS = 4
PROGRESS_EVERY = 3.0  # seconds between two edits of the author's "x/y"
CHECK_EVERY = 1.0  # seconds between two looks (during a run) for notices that are done, and at their "x/y"
NETWORK_RETRY = 30.0  # seconds before a row that hit a network error is tried again
POLL = 1.0  # seconds between two looks for rows written elsewhere or due for a retry
DEFER_AFTER = 1.0  # a row whose chat cannot take it for longer is given back until then: a task never sleeps on it
# (a refresh's edits in other chats likewise: left to refresh rows of those chats)
STOP_WITHIN = 8.0  # seconds a graceful stop waits for the sends in flight
ELSEWHERE_KEY = "linli.sender.elsewhere"  # bot_data: how to wake the sender of the leading worker, when not this one
_LOCK, PACER_KEY, _BOT, _SHOWN, SENDER_KEY = ("linli.notices.lock", "linli.notices.pacer", "linli.notices.bot",
                                           "linli.notices.shown", "linli.sender")
Job = notices.Claim | outbox.Claim


@dataclass
class Pacer:
    """Spaces sends: ``1/per_second`` apart overall; in one chat at most ``chat_burst`` in any ``chat_burst ×
    chat_interval`` seconds (one a second on average, a short burst allowed: a reply of three messages is not
    drawn out over three seconds); and at most ``group_burst`` in any ``group_window`` seconds in one group
    (negative chat ids): Telegram's 20 a minute. The sender and the handlers' own replies share one pacer
    (:class:`SharedLimiter`), so the bot has one rate budget.

    A caller's slot is reserved before it sleeps, so sender tasks sharing one pacer queue up behind each
    other instead of taking the same slot; slots follow the schedule, not the moment a sleeper woke up.

    ``spread``: what can wait a little and be combined (the outbox's desk and background rows) keeps the last
    ``group_reserve`` slots of a group's minute for a steady trickle instead of a burst: with ``free`` of them left
    it goes no sooner than ``(time until the window frees its oldest slot) / free`` after the group's last send.
    A stream of cards faster than twenty a minute (a sweep escalating a case a second) then goes out as one card
    each while the minute has room, and after that as a combined message every few seconds, each holding what
    came in meanwhile: no card waits for the minute to run out (up to 40 s when the first twenty had used it up),
    and the group never gets more than ``group_burst`` in ``group_window``. What is urgent (a reply, an
    emergency alert) and the handlers' own replies take any free slot at once."""

    per_second: float = GLOBAL_PER_SECOND
    chat_interval: float = CHAT_INTERVAL
    chat_burst: int = CHAT_BURST
    group_window: float = GROUP_WINDOW
    group_burst: int = GROUP_BURST
    group_reserve: int = GROUP_RESERVE
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    _slots: list[float] = field(default_factory=list)  # send times taken, sorted (the overall pace)
    _chats: dict[int, deque[float]] = field(default_factory=dict)
    _groups: dict[int, deque[float]] = field(default_factory=dict)

    def free_now(self, chat_id: int) -> int:
        """How many messages a group can take now without waiting (its 20-a-minute not used up)."""
        if chat_id >= 0 or self.group_window <= 0:
            return self.group_burst
        now = self.clock()
        used = sum(1 for at in self._groups.get(chat_id, ()) if at > now - self.group_window)
        return max(0, self.group_burst - used)

    def seed(self, chat_id: int, ago: float) -> None:
        """A send to a group ``ago`` seconds before now (by an earlier run): it counts against the window."""
        if chat_id < 0 and self.group_window > 0:
            self._groups.setdefault(chat_id, deque(maxlen=self.group_burst)).append(self.clock() - ago)

    def ready_in(self, chat_id: int, *, spread: bool = False) -> float:
        """Seconds until ``chat_id`` may be sent to again by its own limits (one a second a chat, twenty a minute a
        group, and with ``spread`` its reserve spread out), reserving nothing: the overall pace aside, which every
        chat shares."""
        now = self.clock()
        at = self._spread(chat_id, now) if spread else now
        recent = self._chats.get(chat_id)
        if recent:
            at = max(at, recent[-1])
            if len(recent) == recent.maxlen:
                at = max(at, recent[0] + self.chat_interval * recent.maxlen)
        sent = self._groups.get(chat_id) if chat_id < 0 and self.group_window > 0 else None
        if sent is not None and len(sent) == self.group_burst:
            at = max(at, sent[0] + self.group_window)
        return at - now

    def _spread(self, chat_id: int, now: float) -> float:
        """The earliest time a ``spread`` send may go to a group: at once while more than ``group_reserve`` of its
        minute is free; else ``free`` sends evenly between its last send and the moment its oldest send leaves the
        window (when one more slot comes free), so the reserve lasts until then."""
        sent = self._groups.get(chat_id) if chat_id < 0 and self.group_window > 0 else None
        if not sent or self.group_reserve <= 0:
            return now
        live = [at for at in sent if at > now - self.group_window]  # (slots reserved ahead included)
        free = self.group_burst - len(live)
        if not live or free > self.group_reserve:
            return now
        frees = live[0] + self.group_window
        if free <= 0:
            return frees
        return max(now, live[-1] + (frees - live[-1]) / free)

    @classmethod
    def unlimited(cls) -> Pacer:
        """No pacing at all: for tests and benchmarks against an emulator whose limits are off."""
        return cls(per_second=1e9, chat_interval=0.0, group_window=0.0)

    def _overall(self, at: float, now: float) -> float:
        """The first time from ``at`` that is ``1/per_second`` from every slot already taken. Slots are kept
        sorted: a message its own chat holds back (a resident's fourth reply in a second) takes a slot later on
        and leaves the ones before it to other chats, instead of pushing every chat's next message after it."""
        gap = 1 / self.per_second
        slots = self._slots
        del slots[:bisect.bisect_left(slots, now - gap)]
        i = bisect.bisect_right(slots, at - gap)
        while i < len(slots) and slots[i] < at + gap:
            at = slots[i] + gap
            i += 1
        slots.insert(i, at)
        return at

    async def wait(self, chat_id: int, *, spread: bool = False) -> None:
        """Take the next slot ``chat_id`` may have (``spread``: see the class doc) and sleep until it."""
        now = self.clock()
        at = self._spread(chat_id, now) if spread else now
        recent = self._chats.setdefault(chat_id, deque(maxlen=max(1, self.chat_burst)))
        if recent:
            at = max(at, recent[-1])  # one chat's messages go in the order they asked
        if len(recent) == recent.maxlen:
            at = max(at, recent[0] + self.chat_interval * recent.maxlen)
        sent = None
        if chat_id < 0 and self.group_window > 0:
            sent = self._groups.setdefault(chat_id, deque(maxlen=self.group_burst))
            if len(sent) == self.group_burst:
                at = max(at, sent[0] + self.group_window)
        at = self._overall(at, now)
        if sent is not None:
            sent.append(at)
        recent.append(at)
        if len(self._chats) > 10_000:  # forget chats whose window is long over
            window = self.chat_interval * max(1, self.chat_burst)
            self._chats = {c: q for c, q in self._chats.items() if q and q[-1] + window > now}
        if len(self._groups) > 1_000:
            self._groups = {c: q for c, q in self._groups.items() if q and q[-1] + self.group_window > now}
        if at > now:
            await self.sleep(at - now)


PACED_METHODS = frozenset({  # what Telegram counts against a chat's and the bot's limits (answering a button: not)
    "sendmessage", "sendphoto", "sendmediagroup", "sendvoice", "senddocument", "sendaudio", "sendvideo",
    "sendanimation", "sendsticker", "sendlocation", "sendcontact", "sendpoll", "forwardmessage", "copymessage",
    "editmessagetext", "editmessagecaption", "editmessagereplymarkup", "editmessagemedia",
})


class SharedLimiter(BaseRateLimiter[int]):
    """PTB's rate limiter for the handlers' own replies, pacing them with the sender's :class:`Pacer`: one budget
    for everything the bot sends, so replies and owed messages together stay within Telegram's limits. A 429
    that still comes is waited out and tried again (``max_retries`` times), as PTB's AIORateLimiter does."""

    def __init__(self, pacer: Pacer, max_retries: int = 3) -> None:
        self.pacer = pacer
        self.max_retries = max_retries

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def process_request(self, callback: Callable[..., Coroutine[Any, Any, bool | dict | list[dict]]],
                              args: Any, kwargs: dict[str, Any], endpoint: str, data: dict[str, Any],
                              rate_limit_args: int | None) -> bool | dict | list[dict]:
        chat = data.get("chat_id")
        if endpoint.lower() in PACED_METHODS and chat is not None:
            with contextlib.suppress(TypeError, ValueError):  # "@channel": no chat to pace by
                await self.pacer.wait(int(chat))  # type: ignore[arg-type]
        for attempt in range(self.max_retries + 1):
            try:
                return await callback(*args, **kwargs)
            except RetryAfter as exc:
                if attempt == self.max_retries:
                    raise
                await asyncio.sleep(_retry_seconds(exc) + 0.1)
        raise AssertionError("unreachable")


def sender_tasks(per_second: float) -> int:
    """How many sender tasks a run uses at this pace: one per ``TASK_RATE`` msg/s, 1 to ``MAX_TASKS``.

    Also the most recipients a crash can give a second copy (one row in flight per task)."""
    return max(1, min(MAX_TASKS, math.ceil(per_second / TASK_RATE - 1e-9)))


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


class _Outcome(StrEnum):
    RETRY = "retry"  # 429 (after its retry_after), 5xx, timeouts, dropped connections: again later
    UNREACHABLE = "unreachable"  # 403, or a chat that is gone: never again, and the desk is told
    FAILED = "failed"  # any other refusal: Telegram will not take this message


def _outcome(exc: TelegramError) -> _Outcome:
    if isinstance(exc, Forbidden):
        return _Outcome.UNREACHABLE
    if isinstance(exc, BadRequest):  # PTB's BadRequest is a NetworkError: look at it first
        return _Outcome.UNREACHABLE if "chat not found" in exc.message.lower() else _Outcome.FAILED
    if isinstance(exc, RetryAfter | NetworkError):
        return _Outcome.RETRY
    return _Outcome.FAILED


def _transient(exc: BaseException) -> bool:
    """An error that passes by itself (the database busy or its connection lost, the network): worth another try.
    Anything else (a constraint, a bug, a row the code cannot read) happens again on every try."""
    if isinstance(exc, DBAPIError):
        return isinstance(exc, OperationalError | InterfaceError) or exc.connection_invalidated
    return isinstance(exc, DisconnectionError | OSError | TimeoutError)


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
                async with self.d.db.writing(), self.conn.begin():
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


class _OwedMarks:
    """Group commit of the outbox's "sent" marks (and where each card went, ``owed.record``): :meth:`sent` returns
    once the row's mark is committed, as before, so a sender task still takes its next row only then (the crash
    bound holds). The tasks whose sends finished while a commit ran or waited for the database's write lock go
    together in the next transaction instead of one each. A failed commit puts its rows back: each waiting task
    tries again itself (and raises if it fails too)."""

    def __init__(self, d: Deps, lock: asyncio.Lock) -> None:
        self.d = d
        self.lock = lock
        self.waiting: dict[int, tuple[list[int], owed.Delivered]] = {}
        self._seq = 0

    async def sent(self, ids: list[int], delivered: owed.Delivered) -> None:
        self._seq += 1
        key = self._seq
        self.waiting[key] = (ids, delivered)
        async with self.lock:
            if key not in self.waiting:  # committed by the task that held the lock before
                return
            batch, self.waiting = self.waiting, {}
            try:
                await self._commit(batch.values())
                return
            except Exception as exc:
                error: Exception = exc
            except BaseException:
                for k, v in batch.items():
                    self.waiting.setdefault(k, v)
                raise
            if len(batch) > 1:  # it may be another task's row that failed: each commits its own
                for k, v in batch.items():
                    if k != key:
                        self.waiting.setdefault(k, v)
                try:
                    await self._commit([batch[key]])
                    return
                except Exception as exc:
                    error = exc
            if _transient(error):  # the database busy or gone: the row is tried again, as before
                self.waiting.setdefault(key, batch[key])
                raise error
            # Telegram took it, but what it says cannot be recorded (and never will be): the row is sent, with the
            # error, so it is neither sent again nor holds its chat's queue; a reply to that message finds no case
            log.error("outbox %s went out (message %s) but could not be recorded: %r", ids, delivered.message_id,
                      error, exc_info=error)
            await self._commit([(ids, delivered)], error=f"not recorded: {type(error).__name__}: {error}")

    async def _commit(self, entries: Iterable[tuple[list[int], owed.Delivered]], error: str | None = None) -> None:
        """The rows marked sent and what went recorded; with ``error``, the marks alone (the record failed)."""
        async with self.d.db.transaction() as s:
            now = outbox.wall_now()
            for rows, done in entries:
                for row_id in rows:
                    await outbox.mark_sent(s, row_id, now, done.message_id, error=error)
                if error is None:
                    await owed.record(s, done, now)


@dataclass
class _Run:
    app: Application
    d: Deps
    bot: Bot
    pacer: Pacer
    nudged: asyncio.Event = field(default_factory=asyncio.Event)  # set by kick(): look at the tables again
    sent: int = 0
    notices: dict[int, Notice] = field(default_factory=dict)
    retries: list[tuple[float, notices.Claim, datetime]] = field(default_factory=list)
    touched: set[int] = field(default_factory=set)
    queued: set[int] = field(default_factory=set)  # outbox rows claimed, not yet being sent (given back on stop)
    held: set[int] = field(default_factory=set)  # outbox rows claimed and not yet marked: never queued twice
    checked: float = 0.0  # time.monotonic() of the last report(final=False)
    writing: asyncio.Lock = field(default_factory=asyncio.Lock)  # the run's batch writes, one at a time
    marks: _SentMarks = field(init=False)
    owed_marks: _OwedMarks = field(init=False)
    _seq: int = 0

    def __post_init__(self) -> None:
        self.marks = _SentMarks(self.d, self.writing)
        self.owed_marks = _OwedMarks(self.d, self.writing)

    async def notice(self, notice_id: int) -> Notice | None:
        if notice_id not in self.notices:
            async with self.d.db.session() as s:
                found = await s.get(Notice, notice_id)
            if found is None:
                return None
            self.notices[notice_id] = found
        return self.notices[notice_id]

    async def deliver(self, claim: Job) -> None:
        if isinstance(claim, outbox.Claim):
            self.queued.discard(claim.id)
            await self.deliver_owed(claim)
        else:
            await self.deliver_notice(claim)

    async def deliver_notice(self, claim: notices.Claim) -> None:
        """Send one notice row and record the outcome; returns only once it is committed (the crash bound)."""
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

    async def deliver_owed(self, claim: outbox.Claim) -> None:
        """Send one outbox row (or a desk's backlog of cards as one message) and commit the outcome.

        A row whose chat has used up its own limit (a desk group's twenty a minute) is given back until the chat
        can take it, so the sender task goes on to other chats: a resident's number never waits behind a busy
        desk. The row keeps its place in its chat's queue (the rows behind it stay blocked). A refresh, the one row
        that edits in other chats too (the case's cards wherever they were posted), edits only where a chat can take
        it now (:meth:`soon`) and owes the rest as refresh rows of those chats, written with its mark.

        Desk and background rows to a group are spread over its reserve (:class:`Pacer`): given back until their
        turn, while the cards owed meanwhile wait behind them, to go out combined with them in one message."""
        if claim.attempts > outbox.MAX_ATTEMPTS:  # claimed that often and never marked: its handling dies each time
            log.error("outbox %s to %s: claimed %d times without an outcome; given up", claim.id, claim.chat_id,
                      claim.attempts)
            async with self.writing, self.d.db.transaction() as s:
                await outbox.mark_failed(s, claim.id, outbox.wall_now(), "given up: no outcome after every try")
            self.held.discard(claim.id)
            self.nudged.set()
            return
        spread = claim.priority >= outbox.Priority.DESK  # not a reply nor an emergency's alert: it may wait its turn
        later = self.pacer.ready_in(claim.chat_id, spread=spread)
        if later > DEFER_AFTER:
            async with self.writing, self.d.db.transaction() as s:
                await outbox.release(s, [claim.id], outbox.wall_now() + timedelta(seconds=later))
            self.held.discard(claim.id)
            return
        group = [claim]
        alone: set[int] = self.app.bot_data.setdefault(_ALONE, set())
        if claim.kind is OutboxKind.CARD and claim.chat_id < 0 and claim.id not in alone:
            room = min(COMBINE_AFTER, self.pacer.free_now(claim.chat_id)) - self.pacer.group_reserve
            async with self.writing, self.d.db.transaction() as s:
                if await outbox.backlog(s, claim.chat_id) > room:  # all that waits, in one message
                    group += await outbox.claim_following(s, claim, OutboxKind.CARD, COMBINE_MAX - 1,
                                                          outbox.wall_now())
        ids = [c.id for c in group]
        now = outbox.wall_now
        try:
            delivered = await owed.send(self.bot, self.d, group, self.spread_wait if spread else self.pacer.wait,
                                        soon=self.soon)
        except TelegramError as exc:
            outcome = _outcome(exc)
            log.log(logging.INFO if outcome is not _Outcome.FAILED else logging.WARNING,
                    "outbox %s to %s: %s (%s)", ids, claim.chat_id, exc, outcome.value)
            async with self.writing, self.d.db.transaction() as s:
                for row_id in ids:
                    if outcome is _Outcome.UNREACHABLE:
                        await outbox.mark_unreachable(s, row_id, now(), str(exc))
                    elif outcome is _Outcome.FAILED:
                        await outbox.mark_failed(s, row_id, now(), str(exc))
                    else:
                        seconds = _retry_seconds(exc) if isinstance(exc, RetryAfter) else None
                        await outbox.mark_retry(s, row_id, now(), seconds, str(exc))
                if outcome is _Outcome.UNREACHABLE:  # a resident who blocked the bot, a group it cannot post in
                    await owed.on_unreachable(s, self.d, claim, now())
        except Exception as exc:  # not Telegram's answer: a row the code cannot handle, or the database
            await self.unsendable(group, exc, alone)
        else:
            await self.owed_marks.sent(ids, delivered)
            self.sent += 1
        self.held.difference_update(ids)
        self.nudged.set()  # the chat's next row is its head now

    def soon(self, chat_id: int) -> bool:
        """Whether a chat can take a message without this task waiting more than ``DEFER_AFTER`` for it: a refresh
        edits only there, and leaves the rest to rows of their own chats (``handlers.owed``). A refresh is
        background work: a group's reserve is spread for it too."""
        return self.pacer.ready_in(chat_id, spread=True) <= DEFER_AFTER

    async def spread_wait(self, chat_id: int) -> None:
        await self.pacer.wait(chat_id, spread=True)

    async def unsendable(self, group: list[outbox.Claim], exc: Exception, alone: set[int]) -> None:
        """Handling these rows raised something other than Telegram's answer: logged, and the rows marked, so one
        bad row neither stops the run nor stays leased at the head of its chat's queue. What may pass by itself
        (the database busy) is retried with backoff up to ``MAX_ATTEMPTS``; anything else (a bug, a row the code
        cannot read) fails at once. Combined cards go again one at a time (``alone``): a bad card fails alone."""
        ids = [c.id for c in group]
        transient, combined = _transient(exc), len(group) > 1
        log.error("outbox %s to %s could not be handled; %s: %r", ids, group[0].chat_id,
                  "tried again" if transient or combined else "failed", exc, exc_info=exc)
        if combined:
            alone.update(ids)
        error = f"{type(exc).__name__}: {exc}"
        async with self.writing, self.d.db.transaction() as s:
            for row_id in ids:
                if transient:
                    await outbox.mark_retry(s, row_id, outbox.wall_now(), None, error)
                elif combined:
                    await outbox.mark_retry(s, row_id, outbox.wall_now(), 0.0, error)
                else:
                    await outbox.mark_failed(s, row_id, outbox.wall_now(), error)

    async def sender(self, queue: asyncio.PriorityQueue[tuple[int, int, Job | None]]) -> None:
        """One sender task: one row at a time, the next only once the last one's outcome is committed."""
        while (claim := (await queue.get())[2]) is not None:
            try:
                await self.deliver(claim)
            finally:
                queue.task_done()
        queue.task_done()

    async def claim(self) -> list[Job]:
        """Due rows from the database: the outbox first, notices with what room is left."""
        async with self.writing, self.d.db.transaction() as s:
            owed_rows: list[Job] = [c for c in await outbox.claim_batch(s, outbox.wall_now(), BATCH)
                                    if c.id not in self.held]
            self.held.update(c.id for c in owed_rows)  # type: ignore[union-attr]
            left = BATCH - len(owed_rows)
            return owed_rows + (list(await notices.claim_batch(s, self.d.now(), left)) if left > 0 else [])

    async def next_batch(self) -> list[Job]:
        """Due rows; else the earliest notice row this run must retry (waiting for it, unless nudged)."""
        self.nudged.clear()
        batch = await self.claim()
        if batch or not self.retries:
            return batch
        self.retries.sort(key=lambda r: r[0])
        deadline, claim, due = self.retries[0]
        with contextlib.suppress(TimeoutError):  # an outbox row written meanwhile must not wait for it
            await asyncio.wait_for(self.nudged.wait(), max(0.0, deadline - time.monotonic()))
            return []
        self.retries.pop(0)
        async with self.d.db.transaction() as s:
            again = await notices.reclaim(s, claim, due, self.d.now())
        return [again] if again else []

    async def feed(self, queue: asyncio.PriorityQueue[tuple[int, int, Job | None]], tasks: int) -> None:
        """Claim batches and queue them for the sender tasks until nothing is due and nothing is retried.

        The next batch is claimed while the last one is still being sent, so the senders never wait for a
        claim. Done notices and the authors' "x/y" are looked at every ``CHECK_EVERY`` seconds, and once
        more at the end. Before it stops it waits for what is in flight: a sent outbox row makes its
        chat's next row due, and a notice may come back as a 429 retry."""
        while True:
            batch = await self.next_batch()
            if not batch:
                await queue.join()
                batch = await self.next_batch()
                if not batch and not self.retries and not self.nudged.is_set():
                    break
            for claim in batch:
                if isinstance(claim, outbox.Claim):
                    self.queued.add(claim.id)
                self._seq += 1
                priority = claim.priority if isinstance(claim, outbox.Claim) else NOTICE_PRIORITY
                await queue.put((priority, self._seq, claim))
            if batch and time.monotonic() - self.checked >= CHECK_EVERY:
                self.checked = time.monotonic()
                await self.report(final=False)
        for _ in range(tasks):
            self._seq += 1
            queue.put_nowait((1 << 30, self._seq, None))

    async def drain(self) -> int:
        tasks = sender_tasks(self.pacer.per_second)
        self.checked = time.monotonic()
        queue: asyncio.PriorityQueue[tuple[int, int, Job | None]] = asyncio.PriorityQueue(maxsize=BATCH)
        try:
            async with asyncio.TaskGroup() as group:
                for i in range(tasks):
                    group.create_task(self.sender(queue), name=f"sender-{i}")
                group.create_task(self.feed(queue, tasks), name="sender-feed")
        except BaseExceptionGroup as eg:  # the first failure, as the one-task sender raised it
            raise eg.exceptions[0] from None
        finally:
            await self.marks.close()
        await self.report(final=True)
        return self.sent

    async def give_back(self) -> None:
        """A graceful stop: outbox rows claimed but not yet being sent are due again at once."""
        if self.queued:
            async with self.d.db.transaction() as s:
                await outbox.release(s, sorted(self.queued), outbox.wall_now())
            self.queued.clear()

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
    """Send everything due now (and the retries met on the way); returns how many were sent.

    One run at a time per application: a second caller waits, then finds what is left."""
    lock: asyncio.Lock = app.bot_data.setdefault(_LOCK, asyncio.Lock())
    async with lock:
        run = _Run(app, _deps(app), await _sender_bot(app), app.bot_data.setdefault(PACER_KEY, Pacer()))
        app.bot_data[_RUN] = run
        try:
            return await run.drain()
        finally:
            app.bot_data.pop(_RUN, None)


_RUN = "linli.sender.run"
_ALONE = "linli.sender.alone"  # bot_data: outbox rows whose combined send raised, sent one at a time since


class Sender:
    """The process's one sending loop: started with the application, woken after each commit, stopped
    within ``STOP_WITHIN`` seconds (rows not yet being sent are given back for the next start)."""

    def __init__(self, app: Application) -> None:
        self.app = app
        self.wake = asyncio.Event()
        self.task: asyncio.Task[None] | None = None
        self.stopping = False

    def start(self) -> None:
        if self.task is None:
            self.task = asyncio.create_task(self._loop(), name="sender-loop")

    async def _release_leases(self) -> None:
        """The one sender of this database starts: leases left by one that died are void."""
        d: Deps = _deps(self.app)
        try:
            async with d.db.transaction() as s:
                released = await outbox.release_all(s, outbox.wall_now())
                resumed = await notices.release_all(s, d.now())  # a broadcast the dead sender was in the middle of
        except Exception:
            log.exception("could not release the outbox's old leases; they run out by themselves")
            return
        if released or resumed:
            log.info("outbox: %d rows, notices: %d deliveries left by an earlier run are due again", released, resumed)
        pacer: Pacer = self.app.bot_data.setdefault(PACER_KEY, Pacer())
        now = outbox.wall_now()
        try:
            async with d.db.session() as s:
                recent = await outbox.recent_group_sends(s, now - timedelta(seconds=pacer.group_window))
        except Exception:
            log.exception("could not read the groups' recent sends; pacing starts afresh")
            return
        for chat, at in recent:
            pacer.seed(chat, (now - at).total_seconds())

    def kick(self) -> None:
        self.wake.set()
        run: _Run | None = self.app.bot_data.get(_RUN)
        if run is not None:
            run.nudged.set()

    async def _loop(self) -> None:
        await self._release_leases()
        while not self.stopping:
            self.wake.clear()
            try:
                await run_once(self.app)
            except Exception:
                log.exception("sending failed; the next round resumes")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wake.wait(), POLL)

    async def stop(self) -> None:
        self.stopping = True
        task, self.task = self.task, None
        if task is None:
            return
        self.wake.set()
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, TimeoutError, Exception):
            await asyncio.wait_for(task, STOP_WITHIN)
        run: _Run | None = self.app.bot_data.pop(_RUN, None)
        if run is not None:
            with contextlib.suppress(Exception):  # the database may be gone already: the lease covers it
                await run.give_back()


def start(app: Application) -> Sender:
    """Start the sending loop (at application start, after migrations)."""
    sender: Sender = app.bot_data.setdefault(SENDER_KEY, Sender(app))
    sender.start()
    return sender


def kick(app: Application) -> None:
    """Send now: something was committed that owes a message (or a notice was confirmed)."""
    sender: Sender | None = app.bot_data.get(SENDER_KEY)
    if sender is not None and sender.task is not None:
        sender.kick()
    elif (elsewhere := app.bot_data.get(ELSEWHERE_KEY)) is not None:  # another worker leads: it sends (bot.runtime)
        elsewhere()
    else:  # no loop (a test driving the application by hand): one run in the background
        app.create_task(run_once(app), name="sender")


async def close(app: Application) -> None:
    """Stop the loop and shut the sender's own Bot down (at application shutdown)."""
    sender: Sender | None = app.bot_data.pop(SENDER_KEY, None)
    if sender is not None:
        await sender.stop()
    bot = app.bot_data.pop(_BOT, None)
    if bot is not None:
        await bot.shutdown()


__all__ = ["ELSEWHERE_KEY", "PACER_KEY", "Pacer", "Sender", "SharedLimiter", "close", "kick", "run_once",
           "show_progress", "start"]
