"""One webhook update on PostgreSQL in one statement (``inbox.accept_one``): stored and committed when it returns,
leased to the accepting worker only when its chat has no earlier pending row, announced to the other workers
(LISTEN/NOTIFY, the worker's name as payload) only when it is left for them; a repeat changes nothing. And the
engine's checkout: a connection the server closed is replaced without a ping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import asyncpg
import pytest
from sqlalchemy import text
from sqlalchemy.engine import URL
from sqlmodel import select

from services import inbox
from services.inbox import Incoming
from storage.db import Database
from storage.models import InboxStatus, InboxUpdate

T0 = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)
CHANNEL = "linli_inbox_test"


def row(update_id: int, chat: int, text: str = "hi") -> Incoming:
    return Incoming(update_id, chat, {"update_id": update_id, "message": {"text": text, "chat": {"id": chat}}})


async def rows_of(db: Database) -> dict[int, InboxUpdate]:
    async with db.session() as s:
        return {r.update_id: r for r in (await s.exec(select(InboxUpdate))).all()}


async def listening(url: URL) -> tuple[asyncpg.Connection, list[str]]:
    heard: list[str] = []
    conn = await asyncpg.connect(url.set(drivername="postgresql").render_as_string(hide_password=False))
    await conn.add_listener(CHANNEL, lambda _c, _pid, _ch, payload: heard.append(payload))
    return conn, heard


async def test_a_free_chat_is_taken_at_once_a_busy_one_is_announced_and_a_repeat_changes_nothing(
        pg_db: Database, pg_url: URL) -> None:
    conn, heard = await listening(pg_url)
    try:
        new, claim = await inbox.accept_one(pg_db, row(1, 10), T0, "w1", take=True, channel=CHANNEL)
        assert new and claim == inbox.Claim(1, 10, row(1, 10).payload, 1)
        new, claim = await inbox.accept_one(pg_db, row(2, 10), T0, "w1", take=True, channel=CHANNEL)
        assert new and claim is None  # 1 is pending: 2 waits for it, whoever takes it later
        new, claim = await inbox.accept_one(pg_db, row(3, 11), T0, "w2", take=False, channel=CHANNEL)
        assert new and claim is None  # no free slot: left for anyone
        new, claim = await inbox.accept_one(pg_db, row(1, 10, "changed"), T0, "w1", take=True, channel=CHANNEL)
        assert (new, claim) == (False, None)
        await asyncio.sleep(0.2)  # notifications arrive after the commit
        assert heard == ["w1", "w2"]  # 2 and 3, not 1 (taken) nor its repeat
    finally:
        await conn.close()
    rows = await rows_of(pg_db)
    assert rows[1].payload["message"]["text"] == "hi"  # the repeat wrote nothing
    assert (rows[1].status, rows[1].attempts, rows[1].claimed_by) == (InboxStatus.PENDING, 1, "w1")
    assert rows[1].lease_until == T0 + inbox.LEASE
    assert all((rows[i].attempts, rows[i].claimed_by, rows[i].lease_until) == (0, None, None) for i in (2, 3))
    async with pg_db.transaction() as s:  # the claim loop takes 3 (its chat is free); 2 waits for 1
        assert [c.update_id for c in await inbox.claim_batch(s, T0, 10, "w2")] == [3]
    async with pg_db.transaction() as s:
        await inbox.mark_done(s, [1], T0)
    async with pg_db.transaction() as s:
        assert [c.update_id for c in await inbox.claim_batch(s, T0, 10, "w2")] == [2]


async def test_a_taken_row_is_taken_again_when_its_worker_dies(pg_db: Database) -> None:
    new, claim = await inbox.accept_one(pg_db, row(5, 20), T0, "dead", take=True, channel=CHANNEL)
    assert new and claim is not None
    async with pg_db.transaction() as s:
        assert await inbox.claim_batch(s, T0, 10, "w2") == []  # leased
    later = T0 + inbox.LEASE
    async with pg_db.transaction() as s:
        again = await inbox.claim_batch(s, later, 10, "w2")
    assert [(c.update_id, c.attempts) for c in again] == [(5, 2)]


async def test_a_connection_the_server_closed_is_replaced_at_checkout_without_a_ping(
        pg_db: Database, pg_url: URL) -> None:
    pid = text("SELECT pg_backend_pid() AS pid")
    first = (await pg_db.read(pid))[0]["pid"]
    assert (await pg_db.read(pid))[0]["pid"] == first  # the pool hands the same connection back
    admin = await asyncpg.connect(pg_url.set(drivername="postgresql").render_as_string(hide_password=False))
    try:  # the server ends it (as a restart does) while it rests in the pool
        assert await admin.fetchval("SELECT pg_terminate_backend($1)", first)
    finally:
        await admin.close()
    await asyncio.sleep(0.3)
    assert (await pg_db.read(pid))[0]["pid"] != first  # a fresh connection, no error
    async with pg_db.transaction() as s:  # and writes go on
        assert await inbox.accept(s, [row(7, 30)], T0) == [7]


async def test_a_connection_that_rested_long_is_pinged_at_checkout(
        pg_db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    from storage import db as storage_db

    pings: list[int] = []
    await pg_db.read(text("SELECT 1"))  # one connection in the pool
    conn = await pg_db.engine.connect()
    raw = (await conn.get_raw_connection()).dbapi_connection
    await conn.close()
    original = type(raw).ping
    monkeypatch.setattr(type(raw), "ping", lambda self: (pings.append(1), original(self))[1])
    assert (await pg_db.read(text("SELECT 1 AS one")))[0]["one"] == 1
    assert pings == []  # it rested a moment only: no trip to ask
    monkeypatch.setattr(storage_db, "PG_PING_IDLE", -1.0)
    assert (await pg_db.read(text("SELECT 1 AS one")))[0]["one"] == 1
    assert pings == [1]


def test_a_worker_ignores_its_own_announcements(pg_url: URL) -> None:
    from bot.cluster import PgCluster

    cluster = PgCluster(pg_url, name="host:1")
    woken: list[int] = []
    cluster.on_inbox = lambda: woken.append(1)
    cluster._heard_inbox("host:1")  # what this worker's own accept announced: its claim loop knows already
    assert woken == []
    cluster._heard_inbox("host:2")
    cluster._heard_inbox("")  # an announcement without a name (an older worker): heard
    assert woken == [1, 1]


def test_after_a_look_that_took_everything_only_rows_waiting_for_an_update_running_here_are_remembered() -> None:
    from bot.intake import Intake

    intake = Intake(app=None, db=None, worker="w1")  # type: ignore[arg-type]
    intake._claims = {1: inbox.Claim(1, 10, {}, 1)}  # chat 10 has an update running here
    intake._unclaimed = {2: 10, 3: 11, 4: 12}  # 2 waits for it; 3 and 4 were taken elsewhere or wait elsewhere
    intake._forget([2, 3])  # 4 was accepted after the look began: the look may not have seen it
    assert intake._unclaimed == {2: 10, 4: 12}
    intake._claims = {}
    intake._forget([2, 4])
    assert intake._unclaimed == {}
