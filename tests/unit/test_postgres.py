"""The storage and service behaviours that matter, on a real PostgreSQL the test run starts itself.

SQLite serialises writers with one database lock; PostgreSQL takes row locks, advisory locks and
``ON CONFLICT`` paths instead (see ``ledger.lock_resident``, ``tickets.allocate_number``),
so those are checked here against the real server. Each test gets a fresh database on one throwaway
cluster per session (see ``tests/pg.py``); without PostgreSQL the tests skip and say why.
"""

import asyncio
import dataclasses
import importlib
import shutil
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Connection, inspect
from sqlalchemy.engine import URL
from sqlmodel import SQLModel

from services import SHANGHAI
from services.cases.drafts import append_text, get_draft
from services.cases.tickets import get_for_resident, history, open_ticket
from services.community.model import SAMPLE_COMMUNITY_FILE, ShopItem, load_community
from services.people.residents import bind_grid, get_or_create_resident
from services.points.ledger import RedeemStatus, award, balance, redeem, stock_left
from storage.db import Database, head_revision
from storage.models import DailyCounter, Resident, Ticket, TicketEventKind, TicketStatus

pg = importlib.import_module("linli_tests_pg")  # loaded by tests/conftest.py

COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
DEADLINE = 60  # seconds: a lock bug must fail the test, not hang the run
EXPECTED_TABLES = {*SQLModel.metadata.tables, "alembic_version"}  # every model's table, by migrations


# --- fixtures ---------------------------------------------------------------------------------------


# --- helpers ----------------------------------------------------------------------------------------


async def make_resident(db: Database, tg_user_id: int = 1001, grid: str | None = "A03") -> Resident:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=tg_user_id, name=f"居民{tg_user_id}", now=NOW)
        if grid:
            await bind_grid(s, resident, grid, community=COMMUNITY, now=NOW)
    return resident


async def open_one(db: Database, resident: Resident, *, category: str = "noise", now: datetime = NOW) -> Ticket:
    async with db.transaction() as s:
        return await open_ticket(
            s,
            resident=resident,
            category=category,
            text="楼上装修太吵",
            location="10号楼2单元",
            photos=["AgACAgUAAxkBAAIB"],
            community=COMMUNITY,
            now=now,
        )


async def resident_with_points(db: Database, points: int, tg_user_id: int = 3001) -> int:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=tg_user_id, name="志愿者", now=NOW)
        assert resident.id is not None
        await award(s, resident_id=resident.id, delta=points, reason="activity", ref="volunteer_hour", now=NOW)
        return resident.id


async def balance_of(db: Database, resident_id: int) -> int:
    async with db.session() as s:
        return await balance(s, resident_id)


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))


async def _revision(db: Database) -> str | None:
    async with db.engine.connect() as conn:
        return await conn.run_sync(lambda c: MigrationContext.configure(c).get_current_revision())


# --- migrations -------------------------------------------------------------------------------------


async def test_migrate_creates_the_schema_and_a_second_run_is_a_noop(pg_url: URL) -> None:
    db = Database(pg_url)
    try:
        assert db.dialect_name == "postgresql"
        await db.migrate_async()
        assert await _tables(db) == EXPECTED_TABLES
        assert await _revision(db) == head_revision()
        async with db.transaction() as s:
            s.add(DailyCounter(day="20261122", last=7))
        await db.migrate_async()
        assert await _tables(db) == EXPECTED_TABLES
        assert await _revision(db) == head_revision()
        async with db.session() as s:
            counter = await s.get(DailyCounter, "20261122")
        assert counter is not None and counter.last == 7
    finally:
        await db.dispose()


async def test_migration_matches_models_on_postgres(pg_db: Database) -> None:
    """Autogenerate against PostgreSQL finds nothing: the revision's types and indexes fit this backend."""

    def diff(conn: Connection) -> list[object]:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        return list(compare_metadata(context, SQLModel.metadata))

    async with pg_db.engine.connect() as conn:
        assert await conn.run_sync(diff) == []


# --- tickets ----------------------------------------------------------------------------------------


async def test_open_ticket_round_trips_utc_and_json(pg_db: Database) -> None:
    resident = await make_resident(pg_db)
    ticket = await open_one(pg_db, resident, category="repair")
    assert (ticket.number, ticket.unit, ticket.grid_code) == ("LL-20261122-0001", "wuye", "A03")
    async with pg_db.session() as s:
        stored = await get_for_resident(s, resident.id, ticket.number)
        events = await history(s, ticket.id)
    assert stored is not None
    assert stored.due_at == NOW + timedelta(hours=24) and stored.due_at.tzinfo is UTC
    assert stored.photos == ["AgACAgUAAxkBAAIB"] and stored.status is TicketStatus.RECEIVED
    assert [e.kind for e in events] == [TicketEventKind.CREATED]


# sequential numbers, a rolled-back number, concurrent opens, someone else's number: tests/unit/test_tickets.py
# runs those on both engines (any_db)


async def test_concurrent_first_contacts_make_one_resident(pg_db: Database) -> None:
    """INSERT ... ON CONFLICT DO NOTHING: five first messages at once still make one resident."""

    async def first_contact() -> int | None:
        async with pg_db.transaction() as s:
            return (await get_or_create_resident(s, tg_user_id=777, name="王阿姨", now=NOW)).id

    async with asyncio.timeout(DEADLINE):
        ids = await asyncio.gather(*(first_contact() for _ in range(5)))
    assert len(set(ids)) == 1 and ids[0] is not None


# --- points -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(("attempts", "points", "expected_ok"), [(2, 20, 1), (10, 50, 2), (10, 200, 10)])
async def test_concurrent_redemptions_never_overdraw(
    pg_db: Database, attempts: int, points: int, expected_ok: int
) -> None:
    """Every redemption runs in its own transaction, all at once; the resident row lock serialises them."""
    rid = await resident_with_points(pg_db, points)
    async with asyncio.timeout(DEADLINE):
        results = await asyncio.gather(
            *(
                redeem(pg_db, resident_id=rid, item_code="soap", community=COMMUNITY, now=NOW)
                for _ in range(attempts)
            )
        )
    oks = [r for r in results if r.ok]
    assert len(oks) == expected_ok
    assert all(r.status is RedeemStatus.INSUFFICIENT for r in results if not r.ok)
    assert await balance_of(pg_db, rid) == points - 20 * expected_ok >= 0
    assert sorted(r.balance_after for r in oks) == [points - 20 * k for k in range(expected_ok, 0, -1)]


async def test_concurrent_redemptions_from_two_engines(pg_url: URL, pg_db: Database) -> None:
    """Two Database objects (like two bot processes) on one server still cannot overdraw."""
    rid = await resident_with_points(pg_db, 40)
    other = Database(pg_url)
    try:
        async with asyncio.timeout(DEADLINE):
            results = await asyncio.gather(
                *(
                    redeem(target, resident_id=rid, item_code="soap", community=COMMUNITY, now=NOW)
                    for target in [pg_db, other] * 5
                )
            )
    finally:
        await other.dispose()
    assert sum(r.ok for r in results) == 2
    assert await balance_of(pg_db, rid) == 0


async def test_concurrent_redemptions_respect_stock(pg_db: Database) -> None:
    """Different residents, one stocked item: the per-item advisory lock stops overselling."""
    community = dataclasses.replace(COMMUNITY, shop=(ShopItem("rice", "大米", cost=10, stock=3),))
    residents = [await resident_with_points(pg_db, 100, tg_user_id=4000 + i) for i in range(6)]
    async with asyncio.timeout(DEADLINE):
        results = await asyncio.gather(
            *(redeem(pg_db, resident_id=rid, item_code="rice", community=community, now=NOW) for rid in residents)
        )
    assert sorted(r.status for r in results) == sorted([RedeemStatus.OK] * 3 + [RedeemStatus.OUT_OF_STOCK] * 3)
    async with pg_db.session() as s:
        assert await stock_left(s, community.shop[0]) == 0


# --- drafts -----------------------------------------------------------------------------------------


async def test_drafts_join_within_sixty_seconds(pg_db: Database) -> None:
    resident = await make_resident(pg_db)
    async with pg_db.transaction() as s:
        first = await append_text(s, resident.id, "楼上每天晚上", NOW)
        second = await append_text(s, resident.id, "十一点以后还在装修", NOW + timedelta(seconds=40))
    async with pg_db.transaction() as s:  # a separate transaction, as the next Telegram update would be
        at_limit = await append_text(s, resident.id, "已经一个礼拜了", NOW + timedelta(seconds=100))
    assert (first.joined, second.joined, at_limit.joined) == (False, True, True)
    async with pg_db.session() as s:
        draft = await get_draft(s, resident.id, now=NOW + timedelta(minutes=2))
    assert draft is not None and draft.text == "楼上每天晚上\n十一点以后还在装修\n已经一个礼拜了"
    async with pg_db.transaction() as s:
        later = await append_text(s, resident.id, "另外垃圾没人收", NOW + timedelta(seconds=161))
    assert not later.joined and later.draft.text == "另外垃圾没人收"


# --- the helper itself (no PostgreSQL needed) -------------------------------------------------------


def _fake_bindir(directory: Path, names: tuple[str, ...] = ("initdb", "pg_ctl", "postgres")) -> Path:
    directory.mkdir(parents=True)
    for name in names:
        (directory / name).write_text("#!/bin/sh\necho 'fake failure' >&2\nexit 3\n")
        (directory / name).chmod(0o755)
    return directory


def test_find_server_bindir_prefers_path_then_newest_version(tmp_path: Path) -> None:
    partial = _fake_bindir(tmp_path / "partial", ("initdb",))
    old, new = _fake_bindir(tmp_path / "lib/9.6/bin"), _fake_bindir(tmp_path / "lib/15/bin")
    on_path = _fake_bindir(tmp_path / "custom")
    patterns = [str(tmp_path / "lib/*/bin")]
    assert pg.find_server_bindir(path=str(partial), patterns=patterns) == new != old
    assert pg.find_server_bindir(path=f"{partial}:{on_path}", patterns=patterns) == on_path
    assert pg.find_server_bindir(path=str(partial), patterns=[]) is None


def test_missing_binaries_give_a_clear_reason(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(pg.ENV_BINDIR, str(tmp_path / "nowhere"))
    with pytest.raises(pg.PgUnavailable, match=r"no PostgreSQL server binaries .* in .*nowhere"), (
        pg.throwaway_cluster()
    ):
        pass


def test_a_failing_initdb_is_reported_and_cleaned_up() -> None:
    # Under root the tools run as another user, who cannot enter pytest's 0700 tmp_path.
    fake_root = Path(tempfile.mkdtemp(prefix="linli-fake-pg-"))
    fake_root.chmod(0o755)
    try:
        bindir = _fake_bindir(fake_root / "bin")
        before = set(Path(tempfile.gettempdir()).glob("linli-pg-*"))
        with pytest.raises(pg.PgUnavailable, match=r"initdb exited 3: fake failure"), (
            pg.throwaway_cluster(bindir)
        ):
            pass
        assert set(Path(tempfile.gettempdir()).glob("linli-pg-*")) == before
    finally:
        shutil.rmtree(fake_root)


def test_external_url_must_be_postgresql(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(pg.ENV_SWITCH, raising=False)
    monkeypatch.setattr(pg, "missing_drivers", list)
    monkeypatch.setenv(pg.ENV_URL, "sqlite:///x.db")
    with pytest.raises(pg.PgUnavailable, match="not a postgresql"), pg.postgres_server():
        pass
    monkeypatch.setenv(pg.ENV_URL, "postgresql://u:p@db.example:5433/linli")
    with pg.postgres_server() as server:
        assert server.admin_url.drivername == "postgresql+asyncpg"
        assert server.database_url("t1").render_as_string() == "postgresql+asyncpg://u:***@db.example:5433/t1"
