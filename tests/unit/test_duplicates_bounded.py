"""The duplicate check bounded by the place in SQL, made before the write lock (``look``) and finished under it
(``find_duplicate(…, looked=…)``): the same answer as a whole check, reading only what changed in between."""

from datetime import timedelta

from sqlalchemy import event
from sqlmodel import select

from services.cases import duplicates
from services.cases.duplicates import check_hotspot, find_duplicate, look
from services.cases.lifecycle import withdraw
from services.people.residents import create_resident, get_or_create_resident
from storage.db import Database
from storage.models import Resident, Ticket
from tests.unit.test_duplicates import NOW, make_resident, open_one

H = timedelta(hours=1)
ASK = {"category": "noise", "grid_code": "A03", "location": "10号楼3单元", "now": NOW + H}


async def looked(db: Database, text: str) -> duplicates.Looked:
    async with db.session() as s:
        return await look(s, text=text, **ASK)


async def under_lock(db: Database, text: str, seen: duplicates.Looked) -> Ticket | None:
    async with db.transaction() as s:
        return await find_duplicate(s, text=text, looked=seen, **ASK)


async def test_a_case_keeps_its_building_for_the_check_in_sql(db: Database) -> None:
    t = await open_one(db, await make_resident(db, 1), location="１０栋2单元")
    assert t.building == "10号楼"
    nowhere = await open_one(db, await make_resident(db, 2), "小区门口乱停车", category="parking", location="小区门口")
    assert nowhere.building is None


async def test_what_the_look_found_is_the_answer_under_the_lock(db: Database) -> None:
    first = await open_one(db, await make_resident(db, 1))
    seen = await looked(db, "楼上又在装修，太吵了")
    assert seen.matches == (first.id,) and seen.upto == first.id
    assert await look(db, text="楼上又在装修，太吵了", **ASK) == seen  # on a connection of its own: the same look
    found = await under_lock(db, "楼上又在装修，太吵了", seen)
    assert found is not None and found.id == first.id


async def test_a_case_opened_after_the_look_is_found_under_the_lock(db: Database) -> None:
    alice = await make_resident(db, 1)
    seen = await looked(db, "楼上又在装修，太吵了")  # nothing there yet
    assert seen.matches == ()
    opened = await open_one(db, alice)  # meanwhile, another update opened it
    found = await under_lock(db, "楼上又在装修，太吵了", seen)
    assert found is not None and found.id == opened.id


async def test_a_match_closed_after_the_look_is_not_joined(db: Database) -> None:
    alice = await make_resident(db, 1)
    first = await open_one(db, alice)
    seen = await looked(db, "楼上又在装修，太吵了")
    assert seen.matches == (first.id,)
    async with db.transaction() as s:
        assert (await withdraw(s, resident_id=alice.id, number=first.number, now=NOW)).ok
    assert await under_lock(db, "楼上又在装修，太吵了", seen) is None


async def test_the_more_similar_of_an_earlier_match_and_a_newer_case_wins(db: Database) -> None:
    earlier = await open_one(db, await make_resident(db, 1), "楼上装修太吵")
    seen = await looked(db, "楼上天天装修，电钻太吵了")
    newer = await open_one(db, await make_resident(db, 2), "楼上天天装修电钻太吵了", now=NOW + 0.5 * H)
    whole = await find_duplicate_now(db, "楼上天天装修，电钻太吵了")
    found = await under_lock(db, "楼上天天装修，电钻太吵了", seen)
    assert whole is not None and found is not None and found.id == whole.id
    assert {earlier.id, newer.id} >= {found.id}


async def find_duplicate_now(db: Database, text: str) -> Ticket | None:
    async with db.session() as s:
        return await find_duplicate(s, text=text, **ASK)


async def test_the_check_reads_only_the_place(db: Database) -> None:
    """Cases in other buildings are never read: the statement asks for this building (or, for cases that name
    none, this grid) in SQL."""
    statements: list[str] = []

    def seen_sql(conn, cursor, statement, parameters, context, executemany) -> None:
        if not statement.startswith("BEGIN"):
            statements.append(statement)

    for i in range(5):
        await open_one(db, await make_resident(db, 10 + i), "楼上装修太吵", location=f"{i + 1}号楼")
    event.listen(db.engine.sync_engine, "before_cursor_execute", seen_sql)
    try:
        seen = await looked(db, "楼上又在装修，太吵了")
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen_sql)
    assert seen.matches == () and len(statements) == 1 and "tickets.building" in statements[0]


async def test_no_place_no_statement(db: Database) -> None:
    async with db.session() as s:
        assert (await look(s, category="noise", text="太吵了", grid_code=None, location=None, now=NOW)).matches == ()
        assert await check_hotspot(s, category="noise", grid_code=None, location="小区门口", now=NOW) is None


async def test_create_resident_is_one_insert_and_finds_a_row_made_meanwhile(db: Database) -> None:
    async with db.transaction() as s:
        made = await create_resident(s, tg_user_id=77, name=" 王阿姨 ", now=NOW)
    assert made.id is not None and made.name == "王阿姨"
    async with db.transaction() as s:
        again = await create_resident(s, tg_user_id=77, name="王阿姨", now=NOW)  # another update made it first
        same = await get_or_create_resident(s, tg_user_id=77, name="王阿姨", now=NOW)
    assert again.id == same.id == made.id
    async with db.session() as s:
        assert len((await s.exec(select(Resident).where(Resident.tg_user_id == 77))).all()) == 1


async def test_two_workers_confirming_at_one_place_at_once_make_one_case_and_a_duplicate(pg_db: Database) -> None:
    """On PostgreSQL several workers confirm at the same moment: the check under the lock waits for a case being
    opened at the same place and category, then finds it, even though its look saw nothing there."""
    import asyncio

    from tests.unit.test_duplicates import COMMUNITY, open_ticket

    alice = await make_resident(pg_db, 1)
    seen = await looked(pg_db, "楼上又在装修，太吵了")  # both looks made before either case exists
    assert seen.matches == ()
    opening = asyncio.Event()
    commit = asyncio.Event()

    async def first() -> Ticket:
        async with pg_db.transaction() as s:
            assert await find_duplicate(s, text="楼上装修太吵", **ASK) is None  # takes the place's lock
            t = await open_ticket(s, resident=alice, category="noise", text="楼上装修太吵", location="10号楼2单元",
                                  photos=[], community=COMMUNITY, now=NOW + H)
            opening.set()
            await commit.wait()
            return t

    async def second() -> Ticket | None:
        await opening.wait()
        async with pg_db.transaction() as s:
            return await find_duplicate(s, text="楼上又在装修，太吵了", looked=seen, **ASK)

    one = asyncio.create_task(first())
    two = asyncio.create_task(second())
    await opening.wait()
    await asyncio.sleep(0.3)
    assert not two.done()  # waiting for the place's lock, not reading past the case being opened
    commit.set()
    opened, found = await one, await two
    assert found is not None and found.id == opened.id
