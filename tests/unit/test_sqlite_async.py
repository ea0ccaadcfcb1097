"""SQLite statements on the event loop's thread, waits and long reads on the connection's (storage.sqlite_async)."""

from __future__ import annotations

import asyncio
import sqlite3
import time
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

from storage import sqlite_async
from storage.db import Database, offloaded, offloading


@pytest.fixture
async def db(tmp_path: Path):
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'x.db'}")
    async with database.engine.begin() as conn:
        await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
    yield database
    await database.dispose()


def count_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    trips: list[str] = []
    original = sqlite_async.Connection._execute

    async def counted(self, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        trips.append(getattr(fn, "__name__", "?"))
        return await original(self, fn, *args, **kwargs)

    monkeypatch.setattr(sqlite_async.Connection, "_execute", counted)
    return trips


async def test_statements_run_on_the_loops_thread_without_a_trip(db: Database,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    async with db.session() as s:  # warm: the pool's connection exists
        await (await s.connection()).execute(text("SELECT 1"))
    trips = count_trips(monkeypatch)
    async with db.transaction() as s:
        await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('a')"))
    async with db.session() as s:
        rows = (await (await s.connection()).execute(text("SELECT id, v FROM t"))).all()
    assert [tuple(r) for r in rows] == [(1, "a")]
    assert trips == []  # BEGIN IMMEDIATE, the INSERT, the commit, the read and its rollback: none left the loop


async def test_offloaded_statements_go_to_the_connections_thread_one_trip_each(db: Database,
                                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    async with db.session() as s:
        await (await s.connection()).execute(text("SELECT 1"))
    trips = count_trips(monkeypatch)
    with offloaded():
        async with db.transaction() as s:
            await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert trips == ["_waiting", "_waiting"]  # BEGIN IMMEDIATE went with the INSERT; then the commit
        trips.clear()
        async with db.session() as s:
            rows = (await (await s.connection()).execute(text("SELECT id, v FROM t"))).all()
    assert [tuple(r) for r in rows] == [(1, "a")]
    assert trips == ["_waiting", "_waiting"]  # the read, and its snapshot ended with the session


async def test_offloading_covers_the_whole_call_and_the_tasks_it_starts(db: Database,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    async def one() -> int:
        async with db.session() as s:
            return (await (await s.connection()).execute(text("SELECT count(*) FROM t"))).scalar_one()

    await asyncio.gather(one(), one())  # warm: two connections in the pool
    trips = count_trips(monkeypatch)

    @offloading
    async def report() -> list[int]:
        return list(await asyncio.gather(one(), one()))

    assert await report() == [0, 0]
    assert trips.count("_waiting") == 4  # two reads and their rollbacks, on the connections' threads
    trips.clear()
    assert await one() == 0
    assert trips == []  # outside it, on the loop's thread again


async def test_a_lock_held_elsewhere_is_waited_for_off_the_loop(db: Database, tmp_path: Path) -> None:
    """Another process holds the write lock for a while: the bot's write waits for it (busy timeout) on the
    connection's thread, and the event loop keeps serving meanwhile."""
    other = sqlite3.connect(tmp_path / "x.db", timeout=0.0, isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")
        other.execute("INSERT INTO t (v) VALUES ('other')")
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                await asyncio.sleep(0.01)
                ticks += 1

        async def release() -> None:
            await asyncio.sleep(0.3)
            other.execute("COMMIT")

        tick_task = asyncio.create_task(ticker())
        release_task = asyncio.create_task(release())
        started = time.monotonic()
        async with db.transaction() as s:
            await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('mine')"))
        waited = time.monotonic() - started
        tick_task.cancel()
        await release_task
        assert waited >= 0.25  # it did wait for the other's commit, not fail
        assert ticks >= 10  # and the loop ran all along (0.3 s of 10 ms sleeps)
        async with db.session() as s:
            rows = (await (await s.connection()).execute(text("SELECT v FROM t ORDER BY id"))).all()
        assert [r[0] for r in rows] == ["other", "mine"]
    finally:
        other.close()


async def test_a_lock_never_freed_fails_after_the_busy_timeout_without_stopping_the_loop(tmp_path: Path) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'y.db'}", busy_timeout_ms=200)
    other = sqlite3.connect(tmp_path / "y.db", timeout=0.0, isolation_level=None, check_same_thread=False)
    try:
        async with database.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        other.execute("BEGIN IMMEDIATE")
        loop = asyncio.get_running_loop()
        late: list[float] = []

        async def ticker() -> None:
            while True:
                before = loop.time()
                await asyncio.sleep(0.01)
                late.append(loop.time() - before - 0.01)

        tick_task = asyncio.create_task(ticker())
        with pytest.raises(OperationalError, match="locked"):
            async with database.transaction() as s:
                await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('mine')"))
        tick_task.cancel()
        assert len(late) >= 10 and max(late) < 0.15  # the loop never stood still for the 200 ms wait
        other.execute("ROLLBACK")
        async with database.transaction() as s:  # the connection is fine afterwards
            await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('again')"))
    finally:
        other.close()
        await database.dispose()


async def test_with_inline_off_every_statement_is_one_trip_as_with_aiosqlite(tmp_path: Path,
                                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    database = Database(f"sqlite+aiosqlite:///{tmp_path / 'z.db'}", sqlite_inline=False)
    try:
        async with database.engine.begin() as conn:
            await conn.execute(text("CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT)"))
        trips = count_trips(monkeypatch)
        async with database.transaction() as s:
            await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('a')"))
        assert trips == ["_waiting", "_waiting"]  # BEGIN IMMEDIATE went with the INSERT; the pool's reset is free
    finally:
        await database.dispose()


async def test_a_transaction_that_runs_nothing_costs_no_trip(db: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    async with db.session() as s:
        await (await s.connection()).execute(text("SELECT 1"))
    trips = count_trips(monkeypatch)
    async with db.transaction() as s:
        await s.connection()  # SQLAlchemy begins here: the BEGIN waits for a statement that never comes
    assert trips == []


async def test_the_write_lock_is_taken_with_the_first_statement_and_held_to_the_commit(db: Database,
                                                                                      tmp_path: Path) -> None:
    other = sqlite3.connect(tmp_path / "x.db", timeout=0.0, isolation_level=None)
    try:
        async with db.transaction() as s:
            # BEGIN IMMEDIATE rode along with this read: the write lock is ours from here
            await (await s.connection()).execute(text("SELECT count(*) FROM t"))
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("INSERT INTO t (v) VALUES ('other')")
            await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('mine')"))
        other.execute("INSERT INTO t (v) VALUES ('other')")  # committed: free again
        assert [r[0] for r in other.execute("SELECT v FROM t ORDER BY id")] == ["mine", "other"]
    finally:
        other.close()


async def test_rows_rowcount_and_errors_are_what_sqlite_says(db: Database) -> None:
    async with db.transaction() as s:
        result = await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('a'), ('b') RETURNING id"))
        assert sorted(r[0] for r in result) == [1, 2]
        changed = await (await s.connection()).execute(text("UPDATE t SET v = 'c' WHERE id >= 1"))
        assert changed.rowcount == 2
    with pytest.raises(Exception, match="no such table"):
        async with db.session() as s:
            await (await s.connection()).execute(text("SELECT * FROM nowhere"))
    async with db.session() as s:  # the connection that failed is fine for the next session
        assert (await (await s.connection()).execute(text("SELECT count(*) FROM t"))).scalar_one() == 2


async def test_a_rolled_back_transaction_leaves_nothing(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('gone')"))
            raise RuntimeError("abandon")
    async with db.session() as s:
        assert (await (await s.connection()).execute(text("SELECT count(*) FROM t"))).scalar_one() == 0
