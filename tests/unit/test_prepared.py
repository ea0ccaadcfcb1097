"""Prebuilt statements run below SQLAlchemy (``storage.prepared``, ``Database.read``, ``DirectSession``): the same
rows, the same writes, the same errors, the same transaction as SQLAlchemy's own path, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import Column, Integer, MetaData, Table, bindparam, event, exc, insert, select
from sqlalchemy.dialects import sqlite
from sqlalchemy.util import greenlet_spawn
from sqlmodel.ext.asyncio.session import AsyncSession

from services import inbox
from services.cases import drafts, duplicates
from services.cases.drafts import DraftStage
from services.people import conversations, directory, speakers
from services.people.residents import create_resident
from storage import prepared
from storage.db import Database, DirectSession
from storage.models import Draft, InboxUpdate, Resident

NOW = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)


def _draft(resident_id: int, text: str, now: datetime) -> Draft:
    """A draft with every kind of column filled: text, JSON lists of dicts, an enum stage, times."""
    return drafts.changed(drafts.appended(None, resident_id, text, now).draft, now=now, category="repair",
                          candidates=[{"id": "repair", "score": 0.91}, {"split": 6, "id": "noise", "location": None}],
                          photos=["p1", "p2"], attachments=[{"kind": "voice", "file_id": "v", "duration": 12}],
                          location="9号楼2单元", stage=DraftStage.CONFIRMING)


async def _people(db: Database, n: int) -> list[int]:
    ids = []
    async with db.transaction() as s:
        for i in range(n):
            r = await create_resident(s, tg_user_id=7_000_000_000 + i, name=f"居民{i}", now=NOW)
            assert r.id is not None
            ids.append(r.id)
    return ids


async def test_a_prebuilt_read_on_its_own_connection_gives_what_sqlalchemy_gives(db: Database) -> None:
    (rid, other) = await _people(db, 2)
    async with db.transaction() as s:
        assert await drafts.save(s, _draft(rid, "楼道灯坏了", NOW), seen=None)
        await conversations.save(s, 7_000_000_000, "sos_place", {"step": 2, "点": ["东门"]}, NOW)
        await directory.remember(s, tg_user_id=7_000_000_000, username="sun", name="孙阿姨", now=NOW)
    for tg, since in ((7_000_000_000, None), (7_000_000_001, NOW - timedelta(days=1)), (7_999_999_999, None)):
        stmt = speakers._READ if since is None else speakers._READ_CONFIRMED
        params: dict[str, Any] = {"tg": tg} if since is None else {"tg": tg, "since": since}
        through_sqlalchemy = await greenlet_spawn(db._read, stmt, params)
        reads = [await db.read(stmt, params) for _ in range(3)]  # the first is SQLAlchemy's; then prepared, direct
        assert db._prepared is not None and db._prepared.get(stmt, params) is not None and db._reader is not None
        for rows in reads:
            assert [dict(r) for r in rows] == [dict(r) for r in through_sqlalchemy]
            assert [[type(v) for v in r.values()] for r in rows] == [[type(v) for v in r.values()]
                                                                     for r in through_sqlalchemy]
    who = await speakers.speaker(db, 7_000_000_000)
    assert who.draft is not None and who.draft.candidates[1] == {"split": 6, "id": "noise", "location": None}
    assert who.draft.updated_at == NOW and who.draft.updated_at.tzinfo is not None
    assert who.draft.stage == DraftStage.CONFIRMING and who.flow(NOW) == "sos_place"
    assert who.known is not None and who.known[1] == "孙阿姨" and other != rid


async def _rows(db: Database, model: type, where: Any) -> list[dict[str, Any]]:
    async with AsyncSession(db.engine) as s:
        return [row.model_dump() for row in (await s.exec(select(model).where(where))).scalars()]  # type: ignore[call-overload]


async def test_core_writes_in_a_transaction_equal_the_orm_sessions_field_by_field(any_db: Database) -> None:
    db = any_db
    ids = await _people(db, 8)
    direct, plain = ids[:4], ids[4:]
    for resident_id in direct:  # three and more times: compiled here from the second on (SQLite)
        async with db.transaction() as s:
            assert await drafts.save(s, _draft(resident_id, "电梯坏了", NOW), seen=None)
            later = drafts.changed(_draft(resident_id, "电梯坏了\n停在半路", NOW + timedelta(seconds=5)),
                                   now=NOW + timedelta(seconds=5))
            assert await drafts.save(s, later, seen=NOW)
            assert not await drafts.save(s, later, seen=NOW)  # the guard: not the row read any more
    for resident_id in plain:  # SQLAlchemy's own session, as every session was before
        async with db.writing(), AsyncSession(db.engine) as s, s.begin():
            assert await drafts.save(s, _draft(resident_id, "电梯坏了", NOW), seen=None)
            later = drafts.changed(_draft(resident_id, "电梯坏了\n停在半路", NOW + timedelta(seconds=5)),
                                   now=NOW + timedelta(seconds=5))
            assert await drafts.save(s, later, seen=NOW)
            assert not await drafts.save(s, later, seen=NOW)
    if db.is_sqlite:
        async with db.transaction() as s:
            assert isinstance(s, DirectSession)
    written = {r["resident_id"]: r for r in await _rows(db, Draft, Draft.resident_id.in_(ids))}  # type: ignore[attr-defined]
    assert len(written) == 8
    for a, b in zip(direct, plain, strict=True):
        assert {**written[a], "resident_id": 0} == {**written[b], "resident_id": 0}
    assert written[direct[0]]["text"] == "电梯坏了\n停在半路" and written[direct[0]]["stage"] == DraftStage.CONFIRMING


async def test_an_in_list_is_expanded_as_sqlalchemy_expands_it(any_db: Database) -> None:
    db = any_db
    async with db.transaction() as s:
        await inbox.accept(s, [inbox.Incoming(i, 100 + i % 3, {"update_id": i, "x": "早"}) for i in range(1, 13)], NOW)
    for batch in ([1], [2, 3], [4, 5, 6, 99], [7], [8, 9], [10, 11, 12]):  # lengths again: the SQL kept
        async with db.transaction() as s:
            assert await inbox.mark_done(s, batch, NOW) == len([i for i in batch if i <= 12])
    rows = await _rows(db, InboxUpdate, InboxUpdate.update_id > 0)  # type: ignore[operator]
    assert len(rows) == 12
    if db._prepared is not None:
        ready = db._prepared.get(inbox._DONE, {"ids": [1], "now": NOW})
        assert ready is not None and ready.lists is not None and {(1,), (2,), (3,)}.issubset(ready.shapes)
    assert {r["status"] for r in rows} == {inbox.ST.DONE} and all(r["payload"] == {} for r in rows)
    assert all(r["done_at"] is not None and r["done_at"].replace(tzinfo=UTC) == NOW for r in rows)


async def test_a_direct_statement_is_undone_with_its_transaction(db: Database) -> None:
    (rid,) = await _people(db, 1)
    for _ in range(2):  # prepared from the second time on
        async with db.transaction() as s:
            await drafts.save(s, _draft(rid, "漏水", NOW), seen=drafts.ANY)
            await drafts.take(s, rid, seen=NOW)
    assert db._prepared is not None
    with pytest.raises(RuntimeError):
        async with db.transaction() as s:
            assert await drafts.save(s, _draft(rid, "漏水", NOW), seen=None)
            assert await drafts.read(s, rid) is not None  # inside the transaction it is there
            raise RuntimeError("the update failed after its write")
    async with db.session() as s:
        assert await drafts.read(s, rid) is None  # rolled back with the rest


async def test_errors_are_sqlalchemys_and_the_transaction_is_rolled_back(db: Database) -> None:
    (rid,) = await _people(db, 1)
    t = Resident.__table__  # type: ignore[attr-defined]
    again = insert(t).values(id=bindparam("rid"), tg_user_id=bindparam("tg"), name="重复", created_at=NOW,
                             updated_at=NOW)
    for tg in (1, 2):  # seen, then prepared: both raise SQLAlchemy's IntegrityError
        with pytest.raises(exc.IntegrityError):
            async with db.transaction() as s:
                await drafts.save(s, _draft(rid, "漏水", NOW), seen=None)
                await s.exec(again, params={"rid": rid, "tg": tg})  # type: ignore[call-overload]
    assert db._prepared is not None and db._prepared.get(again, {"rid": rid, "tg": 3}) is not None
    async with db.session() as s:
        assert await drafts.read(s, rid) is None


async def test_statements_run_directly_are_still_heard_by_the_engines_listeners(db: Database) -> None:
    (rid,) = await _people(db, 1)
    heard: list[str] = []

    def listener(conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        heard.append(statement.split()[0].upper())

    event.listen(db.engine.sync_engine, "before_cursor_execute", listener)
    try:
        for _ in range(3):
            await speakers.speaker(db, 7_000_000_000)
            async with db.transaction() as s:
                await drafts.save(s, _draft(rid, "漏水", NOW), seen=drafts.ANY)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    assert heard.count("SELECT") == 3 and heard.count("INSERT") == 3


def test_a_statement_built_at_every_call_is_left_to_sqlalchemy_and_defaults_too() -> None:
    statements = prepared.Statements(sqlite.dialect())
    for i in range(3 * prepared.KEEP):
        assert statements.get(select(Resident.__table__.c.id).where(Resident.__table__.c.id == i)) is None  # type: ignore[attr-defined]
    assert len(statements._seen) <= prepared.KEEP and not statements._known
    once = select(Resident.__table__.c.name).where(Resident.__table__.c.id == bindparam("i"))  # type: ignore[attr-defined]
    assert statements.get(once, {"i": 1}) is None and statements.get(once, {"i": 2}) is not None
    table = Table("t", MetaData(), Column("id", Integer, primary_key=True), Column("n", Integer, default=lambda: 5))
    computed = insert(table)
    for _ in range(3):  # the column's Python default is computed by SQLAlchemy's execution: not here
        assert statements.get(computed, {"id": 1}) is None
    assert statements.get(computed, {"id": 1, "n": 2}) is None  # seen once with these names
    assert statements.get(computed, {"id": 1, "n": 2}) is not None


def test_the_press_s_new_statements_are_prebuilt_and_taken_below_sqlalchemy() -> None:
    """The draft's DELETE for a draft known without a read and the LINKED event's INSERT that reads the case it
    joins are plain Core statements built once: compiled here the second time, as the other hot statements."""
    statements = prepared.Statements(sqlite.dialect(paramstyle="qmark"))
    link = {"link_ticket": 1, "link_at": NOW, "link_actor": "resident:1", "link_note": "又吵了"}
    take = drafts._TAKE_KNOWN.returning(*drafts._T.c, *drafts._KNOWN_COLUMNS)
    known = {"known_tg": 1, "draft_seen": NOW, "known_resident": 1, "known_since": NOW}
    for stmt, params in ((duplicates._LINKING, link), (take, known)):
        assert statements.get(stmt, params) is None  # the first time: SQLAlchemy's
        ready = statements.get(stmt, params)
        assert ready is not None and ready.returns_rows
