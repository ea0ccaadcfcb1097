"""Storage: migrations, SQLite pragmas, transactions, UTC and enum columns."""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import SQLModel, select

from services import SHANGHAI
from storage.db import Database, dialect_insert, head_revision, sync_url
from storage.models import DailyCounter, Resident, Ticket, TicketStatus

EXPECTED_TABLES = {*SQLModel.metadata.tables, "alembic_version"}  # every model's table, by migrations
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


async def test_migrate_creates_parent_dir_and_every_table(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "deeper" / "linli.db"
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await db.migrate_async()
        assert path.exists()
        assert await _tables(db) == EXPECTED_TABLES
        assert await _revision(db) == head_revision()
    finally:
        await db.dispose()


async def test_migrate_twice_is_a_noop(db: Database) -> None:
    async with db.transaction() as s:
        s.add(DailyCounter(day="20261122", last=7))
    await db.migrate_async()
    assert await _tables(db) == EXPECTED_TABLES
    assert await _revision(db) == head_revision()
    async with db.session() as s:
        assert (await s.get(DailyCounter, "20261122")).last == 7


async def test_migration_matches_models(db: Database) -> None:
    """Autogenerate finds nothing to do: the hand-kept revision and storage.models agree."""

    def diff(conn):
        return compare_metadata(
            MigrationContext.configure(conn, opts={"compare_type": True}), SQLModel.metadata
        )

    async with db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


async def test_sqlite_pragmas(db: Database) -> None:
    async with db.session() as s:
        assert (await s.exec(text("PRAGMA journal_mode"))).scalar_one() == "wal"
        assert (await s.exec(text("PRAGMA foreign_keys"))).scalar_one() == 1
        # the wait for a lock is the driver's, spent on the connection's thread (tests/unit/test_sqlite_async.py)
        assert (await (await s.connection()).get_raw_connection()).driver_connection.busy_timeout_ms == 5000


async def test_foreign_keys_are_enforced(db: Database) -> None:
    with pytest.raises(IntegrityError):
        async with db.transaction() as s:
            s.add(Resident(tg_user_id=1, name="x", grid_code="NOPE", created_at=NOW, updated_at=NOW))


async def test_transaction_commits_at_end(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Resident(tg_user_id=42, name="王阿姨", created_at=NOW, updated_at=NOW))
    async with db.session() as s:
        assert (await s.exec(select(Resident).where(Resident.tg_user_id == 42))).one().name == "王阿姨"


async def test_transaction_rolls_back_on_error(db: Database) -> None:
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            s.add(Resident(tg_user_id=43, name="李师傅", created_at=NOW, updated_at=NOW))
            await s.flush()
            raise RuntimeError("boom")
    async with db.session() as s:
        assert (await s.exec(select(Resident).where(Resident.tg_user_id == 43))).first() is None


async def test_datetimes_come_back_as_aware_utc(db: Database) -> None:
    async with db.transaction() as s:
        s.add(Resident(tg_user_id=7, name="a", created_at=NOW, updated_at=NOW))
    async with db.session() as s:
        loaded = (await s.exec(select(Resident).where(Resident.tg_user_id == 7))).one()
    assert loaded.created_at.tzinfo is UTC
    assert loaded.created_at == NOW
    async with db.session() as s:  # stored as naive UTC, so comparisons in SQL use the same clock
        raw = (await s.exec(text("SELECT created_at FROM residents WHERE tg_user_id = 7"))).scalar_one()
    assert str(raw).startswith("2026-11-22 01:30:00")


async def test_naive_datetimes_are_rejected(db: Database) -> None:
    with pytest.raises(StatementError, match="naive datetime"):
        async with db.transaction() as s:
            s.add(Resident(tg_user_id=8, name="a", created_at=datetime(2026, 1, 1), updated_at=NOW))


async def test_status_column_round_trips_enum_and_rejects_unknown(db: Database) -> None:
    async with db.transaction() as s:
        resident = Resident(tg_user_id=9, name="a", created_at=NOW, updated_at=NOW)
        s.add(resident)
        await s.flush()
        s.add(_ticket(resident.id, "LL-20261122-0001", TicketStatus.IN_PROGRESS))
    async with db.session() as s:
        ticket = (await s.exec(select(Ticket))).one()
    assert ticket.status is TicketStatus.IN_PROGRESS
    with pytest.raises(StatementError):
        async with db.transaction() as s:
            s.add(_ticket(resident.id, "LL-20261122-0002", "bogus"))


def _ticket(resident_id: int | None, number: str, status: object) -> Ticket:
    return Ticket(
        number=number,
        resident_id=resident_id,
        category="noise",
        text="t",
        status=status,
        unit="u",
        created_at=NOW,
        updated_at=NOW,
        sign_due_at=NOW + timedelta(hours=2),
        due_at=NOW + timedelta(days=7),
    )


def test_sync_url_for_alembic() -> None:
    assert sync_url("sqlite+aiosqlite:///var/x.db").drivername == "sqlite+pysqlite"
    assert sync_url("postgresql+asyncpg://u:p@h/db").drivername == "postgresql+psycopg"
    assert sync_url("postgresql+asyncpg://u:p%40@h/db").password == "p@"


def test_counter_upsert_compiles_for_postgresql() -> None:
    """The PostgreSQL branch builds the same atomic upsert (no asyncpg needed to check the SQL)."""
    table = DailyCounter.__table__
    stmt = (
        dialect_insert("postgresql")(table)
        .values(day="20261122", last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    sql = str(stmt.compile(dialect=postgresql.dialect()))
    assert "ON CONFLICT (day) DO UPDATE SET last = (daily_counters.last + " in sql
    assert "RETURNING daily_counters.last" in sql
    with pytest.raises(NotImplementedError):
        dialect_insert("mssql")
