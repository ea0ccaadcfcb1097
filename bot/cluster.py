"""Who leads, and how workers tell each other there is work: one leader for timers and sending.

The leader runs what must run once across all workers: the paced sender (one rate budget, no message sent by two
senders), the desk tick (sweep, follow-ups, scheduled reports: no double escalation), the inbox purge, and, when
polling, getUpdates itself (Telegram allows one poller). Every worker handles updates.

On PostgreSQL (:class:`PgCluster`) the leader is whoever holds a session-level advisory lock on one dedicated
connection. When its process dies the server closes that session and the lock is free at once; the others try
it every ``HEARTBEAT`` seconds, so a new leader takes over within about a second. A leader that loses its
connection (the server restarted) steps down before it reconnects. The same connection LISTENs: ``linli_inbox``
(a worker accepted updates it did not claim itself: claim them now, not at the next poll; a worker ignores its own)
and ``linli_outbox`` (a worker owed messages: the leader's sender wakes). Its ``application_name`` is
``linli:<worker>``, so anyone can ask the server who leads (:func:`leader_of`).

On SQLite (:class:`LocalCluster`) there is one process: it leads from the start and wakes itself.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlmodel.ext.asyncio.session import AsyncSession

log = logging.getLogger(__name__)

LOCK_KEY = 0x6C696E6C  # "linl": the advisory lock of the leader (per database)
HEARTBEAT = 1.0  # seconds between two tries for the lock (and checks that the leader's connection lives)
CHECK_TIMEOUT = 5.0  # a check the server does not answer within this: the connection is taken for dead
INBOX_CHANNEL, OUTBOX_CHANNEL = "linli_inbox", "linli_outbox"
APP_PREFIX = "linli:"

Hook = Callable[[], Awaitable[None]]


def worker_name() -> str:
    """This process among the workers: host and pid."""
    return f"{socket.gethostname()[:40]}:{os.getpid()}"


async def _nothing() -> None:
    return None


class Cluster:
    """What a worker needs from its peers; :class:`LocalCluster` and :class:`PgCluster` fill it in."""

    settled = timedelta(seconds=3)  # a claim younger than this may be a starting worker's not yet seen alive

    def __init__(self, name: str | None = None) -> None:
        self.name = name or worker_name()
        self.is_leader = False
        self.on_lead: Hook = _nothing  # set by the runtime: start the leader's duties
        self.on_follow: Hook = _nothing  # … and stop them
        self.on_inbox: Callable[[], None] = lambda: None  # updates were accepted somewhere
        self.on_outbox: Callable[[], None] = lambda: None  # messages were owed somewhere (the leader sends)

    async def start(self) -> None:
        raise NotImplementedError

    async def stop(self) -> None:
        raise NotImplementedError

    def inbox_changed(self) -> None:
        """Tell every worker that updates were accepted (after the commit)."""
        self.on_inbox()

    def outbox_changed(self) -> None:
        """Tell the leader that messages were owed (after the commit)."""
        self.on_outbox()

    async def leader(self, session: AsyncSession) -> str | None:
        """The leading worker's name, as the database knows it (None: nobody leads right now)."""
        raise NotImplementedError

    async def alive(self, session: AsyncSession) -> list[str]:
        """The workers that are up now (the leader frees the inbox leases of any other at once)."""
        raise NotImplementedError

    @property
    def notify_sql(self) -> str | None:
        """A statement that, run inside a transaction, tells the other workers about new inbox rows at commit
        (``:worker``: this worker's name, so it can tell its own announcements from the others')."""
        return None

    @property
    def notify_channel(self) -> str | None:
        """The channel :func:`services.inbox.accept_one` announces unclaimed rows on (None: no other workers)."""
        return None


class LocalCluster(Cluster):
    """One process on SQLite: the leader from the start."""

    settled = timedelta(0)  # every claim not this process's is a dead one's

    async def start(self) -> None:
        self.is_leader = True
        await self.on_lead()

    async def stop(self) -> None:
        if self.is_leader:
            self.is_leader = False
            await self.on_follow()

    async def leader(self, session: AsyncSession) -> str | None:
        return self.name if self.is_leader else None

    async def alive(self, session: AsyncSession) -> list[str]:
        return [self.name]  # one process per SQLite file: leases of an earlier run are a dead process's


class PgCluster(Cluster):
    """Leadership by advisory lock, wake-ups by LISTEN/NOTIFY, over one asyncpg connection of its own."""

    def __init__(self, url: URL, name: str | None = None, *, heartbeat: float = HEARTBEAT) -> None:
        super().__init__(name)
        self.dsn = url.set(drivername="postgresql").render_as_string(hide_password=False)
        self.heartbeat = heartbeat
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._poke = asyncio.Event()  # something to say (an outbox NOTIFY), or time to stop
        self._notify_outbox = False
        self.connected = asyncio.Event()

    async def start(self) -> None:
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="cluster")

    async def stop(self) -> None:
        self._stopping = True
        self._poke.set()
        task, self._task = self._task, None
        if task is not None:
            with contextlib.suppress(asyncio.TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(task, 10)
        if self.is_leader:  # the task was cut short: the duties still stop
            self.is_leader = False
            await self.on_follow()

    def outbox_changed(self) -> None:
        if self.is_leader:
            self.on_outbox()
            return
        self._notify_outbox = True
        self._poke.set()

    @property
    def notify_sql(self) -> str:
        return f"SELECT pg_notify('{INBOX_CHANNEL}', :worker)"

    @property
    def notify_channel(self) -> str:
        return INBOX_CHANNEL

    def _heard_inbox(self, payload: str) -> None:
        """Rows were accepted and left unclaimed: wake this worker's claim loop, unless it was this worker that
        said so (it knows, and its claim loop was woken already)."""
        if payload != self.name[:64]:
            self.on_inbox()

    async def leader(self, session: AsyncSession) -> str | None:
        return await leader_of(session)

    async def alive(self, session: AsyncSession) -> list[str]:
        return await workers_of(session)

    async def _run(self) -> None:
        import asyncpg

        delay = 0.5
        while not self._stopping:
            conn: Any = None
            try:
                conn = await asyncpg.connect(self.dsn, timeout=CHECK_TIMEOUT,
                                             server_settings={"application_name": (APP_PREFIX + self.name)[:63]})
                await conn.add_listener(INBOX_CHANNEL, lambda _c, _pid, _ch, payload: self._heard_inbox(payload))
                await conn.add_listener(OUTBOX_CHANNEL, lambda *_: self.on_outbox() if self.is_leader else None)
                self.connected.set()
                self.on_inbox()  # rows may have come in while this worker was not listening
                delay = 0.5
                await self._hold(conn)
            except Exception as exc:  # refused, reset, timed out, the server restarting: connect again
                if not self._stopping:
                    log.warning("cluster connection lost (%s: %s); reconnecting", type(exc).__name__, exc)
            finally:
                self.connected.clear()
                if self.is_leader:
                    self.is_leader = False
                    log.warning("worker %s stops leading", self.name)
                    try:
                        await self.on_follow()
                    except Exception:
                        log.exception("stopping the leader's duties failed")
                if conn is not None:
                    with contextlib.suppress(Exception):
                        await asyncio.wait_for(conn.close(), 2)
            if not self._stopping:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._poke.wait(), delay)
                delay = min(delay * 2, 5.0)

    async def _hold(self, conn: Any) -> None:
        """Try for the lock (or check the connection still holds it) every heartbeat; say what there is to say."""
        while not self._stopping:
            self._poke.clear()
            if self._notify_outbox:
                self._notify_outbox = False
                await asyncio.wait_for(conn.execute(f"NOTIFY {OUTBOX_CHANNEL}"), CHECK_TIMEOUT)
            if not self.is_leader:
                if await asyncio.wait_for(conn.fetchval("SELECT pg_try_advisory_lock($1)", LOCK_KEY), CHECK_TIMEOUT):
                    self.is_leader = True
                    log.info("worker %s leads", self.name)
                    try:
                        await self.on_lead()
                    except Exception:
                        log.exception("starting the leader's duties failed")
            else:
                await asyncio.wait_for(conn.fetchval("SELECT 1"), CHECK_TIMEOUT)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self.heartbeat)
        if self.is_leader:  # a graceful stop: hand the lock over at once, not when the session ends
            self.is_leader = False
            await self.on_follow()
            with contextlib.suppress(Exception):
                await asyncio.wait_for(conn.execute("SELECT pg_advisory_unlock($1)", LOCK_KEY), 2)


async def leader_of(session: AsyncSession) -> str | None:
    """The worker holding the leader's lock on this database, from the server's own tables."""
    row = (await (await session.connection()).execute(text(
        "SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid "
        "WHERE l.locktype = 'advisory' AND l.granted AND l.classid = 0 AND l.objid = :key "
        "AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())"),
        {"key": LOCK_KEY})).first()
    if row is None:
        return None
    name = str(row[0] or "")
    return name.removeprefix(APP_PREFIX) or "?"


async def workers_of(session: AsyncSession) -> list[str]:
    """Every worker with its cluster connection open to this database (a killed one's closes with it)."""
    rows = (await (await session.connection()).execute(text(
        "SELECT application_name FROM pg_stat_activity WHERE datname = current_database() "
        "AND application_name LIKE :prefix"), {"prefix": APP_PREFIX + "%"})).all()
    return [str(r[0]).removeprefix(APP_PREFIX) for r in rows]


def cluster_for(url: URL, name: str | None = None) -> Cluster:
    return PgCluster(url, name) if url.get_backend_name() == "postgresql" else LocalCluster(name)


__all__ = ["HEARTBEAT", "LOCK_KEY", "Cluster", "LocalCluster", "PgCluster", "cluster_for", "leader_of", "worker_name",
           "workers_of"]
