"""A first contact's resident (one INSERT … RETURNING built once per dialect) on both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import event
from sqlmodel import func, select

from services.people.residents import create_resident, get_resident, set_building
from storage.db import Database
from storage.models import Resident

NOW = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)


async def test_create_resident_gives_the_row_in_the_session_and_the_existing_one_on_a_race(any_db: Database) -> None:
    statements: list[str] = []

    def count(_conn: object, _cursor: object, sql: str, *_: object) -> None:
        statements.append(sql.split()[0].upper())

    event.listen(any_db.engine.sync_engine, "before_cursor_execute", count)
    try:
        async with any_db.transaction() as s:
            r = await create_resident(s, tg_user_id=5_000_000_000, name=" 周师傅 ", now=NOW)
            assert statements.count("INSERT") == 1 and "SELECT" not in statements
            assert isinstance(r, Resident) and r.id is not None and r in s
            assert (r.tg_user_id, r.name, r.created_at, r.updated_at, r.building) == (5_000_000_000, "周师傅", NOW,
                                                                                     NOW, None)
            await s.flush()  # nothing changed: nothing written
            assert statements.count("UPDATE") == 0
            await set_building(s, r, building="3栋", now=NOW + timedelta(seconds=1))  # an UPDATE, not a second INSERT
            assert statements.count("INSERT") == 1 and statements.count("UPDATE") == 1
    finally:
        event.remove(any_db.engine.sync_engine, "before_cursor_execute", count)
    async with any_db.transaction() as s:  # created meanwhile by another update: the row there is
        again = await create_resident(s, tg_user_id=5_000_000_000, name="周师傅", now=NOW + timedelta(minutes=1))
        assert again.id == r.id and again.building == "3号楼" and again.created_at == NOW
    async with any_db.session() as s:
        found = await get_resident(s, 5_000_000_000)
        assert found is not None and found.building == "3号楼" and found.updated_at == NOW + timedelta(seconds=1)
        assert (await s.exec(select(func.count()).select_from(Resident))).one() == 1
