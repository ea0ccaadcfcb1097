"""SQLite in one thread trip per statement (storage.sqlite_async)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from storage import sqlite_async
from storage.db import Database


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


async def test_a_statement_is_one_trip_and_a_transaction_two_more_at_most(db: Database,
                                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    async with db.session() as s:  # warm: the pool's connection exists
        await (await s.connection()).execute(text("SELECT 1"))
    trips = count_trips(monkeypatch)
    async with db.transaction() as s:
        await (await s.connection()).execute(text("INSERT INTO t (v) VALUES ('a')"))
    assert trips == ["work", "commit"]  # BEGIN IMMEDIATE went with the INSERT; the pool's reset cost nothing
    trips.clear()
    async with db.session() as s:
        rows = (await (await s.connection()).execute(text("SELECT id, v FROM t"))).all()
    assert [tuple(r) for r in rows] == [(1, "a")]
    assert trips == ["work", "rollback"]  # the read's snapshot ends with its session


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
