"""Accept, store, return: every update is in the inbox before Telegram hears that it arrived, and any worker
handles it from there (``services.inbox`` keeps the rows).

- :meth:`Intake.accept` writes a batch of updates as Telegram sent them (the webhook's body, a getUpdates answer)
  and returns once they are committed; only then does the webhook answer 200, or polling ask for the next offset.
  An update that does not parse is stored as skipped (counted in ``bot.updates.Skipped``), so a repeat of it is
  recognised too; a repeated ``update_id`` changes nothing.
- :meth:`Intake.run` claims rows (each chat's oldest, leased), hands each to python-telegram-bot's
  ``Application.process_update`` through the application's update processor, renews the leases while they run
  and marks them done (a group commit: the marks of every update finished meanwhile go in one UPDATE). A worker
  killed mid-update leaves its rows leased; once the lease runs out another worker takes them again. A graceful
  stop lets running updates finish (``STOP_WITHIN``) and hands back the rest at once.
- :class:`Poller` is getUpdates as the inbox needs it (the leader's duty when there is no webhook): the offset moves
  past a batch only after the batch is committed, so an update is never confirmed to Telegram and then lost.

Where several processes handle updates (PostgreSQL), ``fresh_user_state`` drops PTB's ``user_data``/``chat_data``
of the update's user and chat before handling it: what a handler cached there in one worker could be stale by the
time the same person's next update lands on another (the durable copy is in the database).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import aiohttp
from sqlalchemy import text
from telegram import Bot, Update
from telegram.ext import Application

from bot import metrics
from bot.processor import PerChatUpdateProcessor
from bot.updates import Skipped
from services import inbox
from storage.db import Database, FirstCommit, first_commit

log = logging.getLogger(__name__)

POLL = 1.0  # seconds between two looks for rows nobody announced (another worker's, a lease run out)
RENEW_EVERY = inbox.LEASE.total_seconds() / 3
STOP_WITHIN = 8.0  # seconds a graceful stop waits for running updates
MARK_RETRY_FOR = 60.0  # seconds a done-mark is retried while the database is away (then the lease decides)
MAX_UPDATE_ID = 2**63 - 1
KEEP_PARSED = 4096  # updates read at accept and kept for the handler (those another worker claims age out)


def wall_now() -> datetime:
    return datetime.now(UTC)


class NotAnUpdate(ValueError):
    """The JSON is no Telegram update at all: not an object, or without a usable ``update_id``."""


def incoming(item: object) -> inbox.Incoming:
    """One update as the inbox stores it: id, the chat whose order it keeps, the JSON; unreadable ones flagged."""
    return parsed(item, None)[0]


def parsed(item: object, bot: Bot | None) -> tuple[inbox.Incoming, Update | None]:
    """:func:`incoming`, and the update as python-telegram-bot reads it (for ``bot``; None when unreadable): the
    worker that accepted it hands it to its handlers without reading the JSON a second time."""
    if not isinstance(item, dict):
        raise NotAnUpdate(f"an update is a JSON object, not {type(item).__name__}")
    update_id = item.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool) or not 0 <= update_id <= MAX_UPDATE_ID:
        raise NotAnUpdate(f"update_id must be a non-negative 64-bit integer, not {update_id!r}")
    item = without_nul(item)
    try:
        update = Update.de_json(item, bot)
        key = PerChatUpdateProcessor._key(update)
        if not isinstance(key, int) or isinstance(key, bool) or not -MAX_UPDATE_ID <= key <= MAX_UPDATE_ID:
            raise TypeError(f"a chat or user id must be a 64-bit integer, not {key!r}"[:200])
    except Exception as exc:  # any field of the wrong shape: the same rule as polling's SkippingRequest
        Skipped.note(update_id, exc)
        return inbox.Incoming(update_id, 0, {}, readable=False), None
    return inbox.Incoming(update_id, key, item), update


def without_nul(item: dict[str, Any]) -> dict[str, Any]:
    """The update with every U+0000 replaced by U+FFFD: PostgreSQL's JSON cannot store it, and an update the inbox
    cannot store would be delivered again and again."""
    encoded = json.dumps(item, ensure_ascii=True)
    if "\\u0000" not in encoded:
        return item
    return dict(json.loads(encoded.replace("\\u0000", "\\ufffd")))


def body_of(raw: bytes) -> object:
    """The webhook's body as JSON; NaN and Infinity are refused (the database's JSON has no such numbers), and so
    are strings that are not Unicode (lone surrogates)."""

    def no_constants(name: str) -> object:
        raise ValueError(f"{name} is not JSON")

    data = json.loads(raw, parse_constant=no_constants)
    json.dumps(data, ensure_ascii=False).encode("utf-8")  # raises on a lone surrogate
    return data


class _Marks:
    """Group commit of done-marks: :meth:`done` returns once this update's mark is committed."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.waiting: dict[int, str | None] = {}
        self.lock = asyncio.Lock()

    async def done(self, update_id: int, error: str | None = None) -> None:
        self.waiting[update_id] = error
        async with self.lock:
            if update_id not in self.waiting:  # committed by the task that held the lock before
                return
            batch, self.waiting = self.waiting, {}
            try:
                async with self.db.transaction() as s:
                    await inbox.mark_done(s, list(batch), wall_now(), {k: v for k, v in batch.items() if v})
            except BaseException:
                for k, v in batch.items():
                    self.waiting.setdefault(k, v)
                raise


@dataclass
class Intake:
    """The inbox of one worker: accepting updates, and claiming and handling them."""

    app: Application
    db: Database
    worker: str
    slots: int = 32  # updates this worker handles at once (each of a different chat)
    fresh_user_state: bool = False
    announce: Callable[[], None] = lambda: None  # tell the other workers there are rows (after the commit)
    notify_sql: str | None = None  # … or a statement that does so at commit, inside the accepting transaction
    notify_channel: str | None = None  # PostgreSQL: the channel a single update's accept announces itself on
    poll: float = POLL
    running: dict[int, asyncio.Task[None]] = field(default_factory=dict)
    handled: int = 0
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _stopping: bool = False
    _tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _marks: _Marks = field(init=False)
    _parsed: dict[int, Update] = field(default_factory=dict)  # update_id -> the update read at accept
    _claiming: int = 0  # slots being claimed for right now (by the claim loop or an accept)
    _unclaimed: dict[int, int] = field(default_factory=dict)  # update_id -> chat: accepted here, not claimed here
    _strangers: set[int] = field(default_factory=set)  # running updates this worker did not accept
    _heard: int = 0  # announcements by other workers since a look found nothing running here (0: none)
    _claims: dict[int, inbox.Claim] = field(default_factory=dict)  # update_id -> the claim running here

    def __post_init__(self) -> None:
        self._marks = _Marks(self.db)

    # -- accepting ------------------------------------------------------------------------------------------------

    def read(self, item: object) -> inbox.Incoming:
        """One update as the inbox stores it (:func:`incoming`), its reading kept for this worker's handler."""
        row, update = parsed(item, self.app.bot)
        if update is not None:
            self._parsed[row.update_id] = update
            while len(self._parsed) > KEEP_PARSED:
                del self._parsed[next(iter(self._parsed))]
        return row

    async def accept(self, items: Iterable[object], *, via: str) -> list[int]:
        """Store updates (raising NotAnUpdate, before anything is written, if one is no update at all); returns the
        ids that were new. Once this returns they are committed: Telegram may be told."""
        return await self.accept_rows([self.read(item) for item in items], via=via)

    async def accept_rows(self, rows: list[inbox.Incoming], *, via: str) -> list[int]:
        """Store the rows; a running worker with free slots claims in the same transaction what it can handle now
        (one write instead of two, and no trip through the claim loop)."""
        if not rows:
            return []
        claims: list[inbox.Claim] = []
        free = self._free() if self._tasks and not self._stopping else 0
        self._claiming += free
        try:
            if self.notify_channel is not None and len(rows) == 1 and rows[0].readable:
                # one webhook update on PostgreSQL: stored, leased here if its chat is free, else announced, in one
                # statement committed on its own (one trip)
                new_one, claim = await inbox.accept_one(self.db, rows[0], wall_now(), self.worker, take=free > 0,
                                                        channel=self.notify_channel)
                new = [rows[0].update_id] if new_one else []
                claims = [claim] if claim is not None else []
            else:
                async with self.db.transaction() as s:
                    now = wall_now()
                    new = await inbox.accept(s, rows, now)
                    if new and free > 0:
                        claims = await inbox.claim_batch(s, now, free, self.worker)
                    if self.notify_sql and not {c.update_id for c in claims}.issuperset(new):
                        await (await s.connection()).execute(text(self.notify_sql), {"worker": self.worker[:64]})
        finally:
            self._claiming -= free
        readable = {r.update_id for r in rows if r.readable}
        keys = {r.update_id: r.chat_key for r in rows}
        for update_id in new:
            if update_id in readable:
                self._unclaimed[update_id] = keys[update_id]
        while len(self._unclaimed) > KEEP_PARSED:  # rows other workers took (PostgreSQL): forgotten in time
            del self._unclaimed[next(iter(self._unclaimed))]
        self._start(claims)
        if fresh := [i for i in new if i in readable]:
            metrics.ACCEPTED.labels(via).inc(len(fresh))
        if repeated := len({r.update_id for r in rows}) - len(new):
            metrics.REPEATED.inc(repeated)
        if fresh and not {c.update_id for c in claims}.issuperset(fresh):
            self.wake()  # some wait (their chat is busy, or no slot is free): the loop takes them when it can
            self.announce()  # … and so may the other workers (on PostgreSQL the statement told them already)
        return new

    # -- handling -------------------------------------------------------------------------------------------------

    def wake(self) -> None:
        self._wake.set()

    def heard(self) -> None:
        """Another worker accepted rows it did not claim: look now, and again whenever an update finishes here
        (one running here may be what holds them back) until a look finds this worker running nothing."""
        self._heard += 1
        self._wake.set()

    async def start(self) -> None:
        self._stopping = False
        self._tasks = [asyncio.create_task(self._claim_loop(), name="inbox-claim"),
                       asyncio.create_task(self._renew_loop(), name="inbox-renew")]

    async def stop(self) -> None:
        """Stop claiming; let running updates finish for up to STOP_WITHIN seconds, hand back what is left."""
        self._stopping = True
        self._wake.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks = []
        if self.running:
            await asyncio.wait(list(self.running.values()), timeout=STOP_WITHIN)
        left = dict(self.running)
        for task in left.values():
            task.cancel()
        for task in left.values():
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if left:
            with contextlib.suppress(Exception):  # the database may be gone: the leases cover it
                async with self.db.transaction() as s:
                    await inbox.release(s, list(left), self.worker)

    async def idle(self) -> bool:
        """Nothing running here and nothing claimable (tests and benchmarks wait on it)."""
        return not self.running and not await self._claimable()

    async def _claimable(self) -> bool:
        async with self.db.session() as s:
            return (await inbox.lag(s, wall_now())).pending > 0

    def _free(self) -> int:
        return self.slots - len(self.running) - self._claiming

    def _start(self, claims: list[inbox.Claim]) -> None:
        for claim in claims:
            if self._unclaimed.pop(claim.update_id, None) is None:
                self._strangers.add(claim.update_id)  # accepted elsewhere or earlier: its chat may have more
            self._claims[claim.update_id] = claim
            self.running[claim.update_id] = asyncio.create_task(self._handle(claim), name=f"update-{claim.update_id}")

    def _forget(self, known: list[int]) -> None:
        """After a look that took everything claimable: of the rows accepted here before it, only those whose chat
        has an update running here can still be this worker's to wake for (they wait for it); the others were
        taken by another worker, or wait for an update running elsewhere, whose worker heard of them (or the poll
        finds them). Without this, rows another worker took kept this one waking its claim loop after every update
        until they aged out."""
        busy = {claim.chat_key for claim in self._claims.values()}
        for update_id in known:
            chat = self._unclaimed.get(update_id)
            if chat is not None and chat not in busy:
                del self._unclaimed[update_id]

    def _after(self, update_id: int) -> None:
        """An update is done: look for claimable rows again if it may have made one its chat's head or freed a slot
        that something waits for: rows this worker accepted and has not claimed, an update it did not accept (what
        queued behind it is unknown here), or rows other workers announced (:meth:`heard`). Otherwise there is
        nothing new to claim (the claim loop still looks every ``poll`` seconds), and no write transaction is spent
        finding that out."""
        stranger = update_id in self._strangers
        self._strangers.discard(update_id)
        if self._unclaimed or stranger or self._heard:
            self._wake.set()

    async def _claim_loop(self) -> None:
        delay = self.poll
        while not self._stopping:
            self._wake.clear()
            free = self._free()
            claims: list[inbox.Claim] = []
            heard, idle, looked = self._heard, not self.running, False
            known = list(self._unclaimed)  # accepted here before this look began
            if free > 0:
                self._claiming += free
                try:
                    async with self.db.transaction() as s:
                        claims = await inbox.claim_batch(s, wall_now(), free, self.worker)
                    delay, looked = self.poll, True
                except Exception as exc:  # the database is away: look again later, more slowly
                    log.warning("inbox: claiming failed (%s: %s)", type(exc).__name__, exc)
                    delay = min(delay * 2, 5.0)
                finally:
                    self._claiming -= free
            if looked and idle and not self.running and not claims and self._heard == heard:
                self._heard = 0  # nothing runs here that could hold announced rows back
            self._start(claims)
            if looked and len(claims) < free:
                self._forget(known)
            if claims and len(claims) == free:
                continue  # maybe more: look again once a slot is free (a finished update wakes this loop)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), delay)

    async def _handle(self, claim: inbox.Claim) -> None:
        error: str | None = None
        note = FirstCommit(lambda s: inbox.mark_done(s, [claim.update_id], wall_now()))
        try:
            update = self._parsed.pop(claim.update_id, None) or Update.de_json(claim.payload, self.app.bot)
            if self.fresh_user_state:
                if update.effective_user is not None:
                    self.app.drop_user_data(update.effective_user.id)
                if update.effective_chat is not None:
                    self.app.drop_chat_data(update.effective_chat.id)
            # the handler's first write transaction also marks the row handled: a worker killed after that commit
            # leaves no row for another to handle again (and so to write twice)
            with first_commit(note):
                await self.app.update_processor.process_update(update, self.app.process_update(update))
        except asyncio.CancelledError:
            raise  # stopped: the row is handed back (or its lease runs out)
        except Exception as exc:  # past the error handler: noted on the row, never tried again in a loop
            log.exception("update %s failed", claim.update_id)
            error = f"{type(exc).__name__}: {exc}"
        try:
            if not note.done or error:
                await self._mark(claim.update_id, error)
        finally:
            self.running.pop(claim.update_id, None)
            self._claims.pop(claim.update_id, None)
            self._after(claim.update_id)  # a slot is free, and the chat's next update may be its head now
        self.handled += 1
        metrics.UPDATES.labels("error" if error else "done").inc()

    async def _mark(self, update_id: int, error: str | None) -> None:
        deadline = time.monotonic() + MARK_RETRY_FOR
        delay = 0.2
        while True:
            try:
                await self._marks.done(update_id, error)
                return
            except Exception as exc:
                if time.monotonic() > deadline or self._stopping:
                    log.error("update %s handled but not marked (%s); it will be handled again", update_id, exc)
                    return
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)

    async def _renew_loop(self) -> None:
        while not self._stopping:
            await asyncio.sleep(RENEW_EVERY)
            if not self.running:
                continue
            try:
                async with self.db.transaction() as s:
                    await inbox.renew(s, list(self.running), wall_now(), self.worker)
            except Exception as exc:
                log.warning("inbox: renewing leases failed (%s: %s)", type(exc).__name__, exc)


class Poller:
    """getUpdates into the inbox: the offset moves past a batch only once the batch is committed."""

    def __init__(self, intake: Intake, base_url: str, *, timeout: int = 10, limit: int = 100) -> None:
        self.intake = intake
        self.url = f"{base_url}/getUpdates"
        self.timeout = timeout
        self.limit = limit
        self.offset: int | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="inbox-poll")

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    async def _run(self) -> None:
        delay = 0.5
        timeout = aiohttp.ClientTimeout(total=None, sock_connect=10.0, sock_read=self.timeout + 10.0)
        async with aiohttp.ClientSession(timeout=timeout, trust_env=True) as client:  # proxies from the environment
            while True:
                try:
                    items = await self.fetch(client)
                    if items:
                        await self.store(items)
                    delay = 0.5
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # 409 (another poller), 5xx, the network, the database: try again
                    log.warning("polling: %s: %s; again in %.1f s", type(exc).__name__, exc, delay)
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 30.0)

    async def fetch(self, client: aiohttp.ClientSession) -> list[Any]:
        """One getUpdates (aiohttp: about a third of httpx's CPU a call)."""
        body: dict[str, Any] = {"timeout": self.timeout, "limit": self.limit, "allowed_updates": Update.ALL_TYPES}
        if self.offset is not None:
            body["offset"] = self.offset
        async with client.post(self.url, json=body) as response:
            raw = await response.read()
            status = response.status
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not data.get("ok"):
            description = data.get("description") if isinstance(data, dict) else None
            shown = description or raw[:200].decode("utf-8", "replace")
            raise RuntimeError(f"getUpdates answered {status}: {shown}")
        result = data.get("result")
        if not isinstance(result, list):
            raise RuntimeError("getUpdates answered no list")
        return result

    async def store(self, items: list[Any]) -> None:
        """Commit the batch, then move the offset past it; an item with no usable id alone is dropped (the offset
        cannot name it), as PTB would, after the others are stored."""
        rows: list[inbox.Incoming] = []
        for item in items:
            try:
                rows.append(self.intake.read(item))
            except NotAnUpdate as exc:
                log.warning("polling: dropped something that is no update: %s", exc)
        if not rows:
            await asyncio.sleep(1.0)  # nothing the offset could move past: do not ask again at once
            return
        await self.intake.accept_rows(rows, via="polling")
        self.offset = max(r.update_id for r in rows) + 1


__all__ = ["POLL", "STOP_WITHIN", "Intake", "NotAnUpdate", "Poller", "body_of", "incoming", "parsed", "wall_now"]
