"""Tickets (numbers, routing, ownership, withdrawal, history) and complaint drafts."""

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlmodel import select

from services import SHANGHAI
from services.cases.drafts import DraftStage, add_photo, append_text, clear_draft, get_draft, purge_stale, update_draft
from services.cases.events import record_event
from services.cases.lifecycle import WithdrawStatus, withdraw
from services.cases.tickets import (
    find_ticket_number,
    format_ticket_number,
    get_for_resident,
    history,
    insert_ticket,
    list_for_resident,
    new_ticket,
    open_ticket,
    parse_ticket_number,
)
from services.people.residents import bind_grid, get_or_create_resident
from storage.db import Database
from storage.models import DailyCounter, Resident, Ticket, TicketEventKind, TicketStatus
from tests.unit.wall_clock import wall_clock_sample

COMMUNITY = wall_clock_sample()
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
DEADLINE = 60  # seconds: a lock bug must fail the test, not hang the run


async def make_resident(db: Database, tg_user_id: int = 1001, grid: str | None = "A03") -> Resident:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=tg_user_id, name=f"居民{tg_user_id}", now=NOW)
        if grid:
            await bind_grid(s, resident, grid, community=COMMUNITY, now=NOW)
    return resident


async def open_one(
    db: Database,
    resident: Resident,
    *,
    category: str = "noise",
    now: datetime = NOW,
    text: str = "楼上装修太吵",
) -> Ticket:
    async with db.transaction() as s:
        return await open_ticket(
            s,
            resident=resident,
            category=category,
            text=text,
            location="10号楼2单元",
            photos=["AgACAgUAAxkBAAIB"],
            community=COMMUNITY,
            now=now,
        )


# --- opening ----------------------------------------------------------------------------------------


async def test_open_ticket_routes_and_sets_deadlines(db: Database) -> None:
    resident = await make_resident(db)
    ticket = await open_one(db, resident, category="repair")
    assert ticket.number == "LL-20261122-0001"
    assert ticket.status is TicketStatus.RECEIVED
    assert ticket.unit == "wuye"
    assert ticket.grid_code == "A03"
    assert ticket.due_at == NOW + timedelta(hours=24)
    assert ticket.sign_due_at == NOW + timedelta(hours=2)
    assert ticket.photos == ["AgACAgUAAxkBAAIB"]
    async with db.session() as s:
        events = await history(s, ticket.id)
        stored = await get_for_resident(s, resident.id, ticket.number)
    assert [(e.kind, e.from_status, e.to_status, e.actor) for e in events] == [
        (TicketEventKind.CREATED, None, TicketStatus.RECEIVED, f"resident:{resident.id}")
    ]
    assert stored is not None and stored.due_at == NOW + timedelta(hours=24)
    assert stored.due_at.tzinfo is UTC


async def test_safety_is_due_in_two_hours(db: Database) -> None:
    ticket = await open_one(db, await make_resident(db), category="safety")
    assert (ticket.unit, ticket.due_at) == ("jingwu", NOW + timedelta(hours=2))


async def test_unknown_category_is_a_programming_error(db: Database) -> None:
    resident = await make_resident(db)
    with pytest.raises(ValueError):
        await open_one(db, resident, category="astrology")


async def test_numbers_are_sequential_per_shanghai_day(any_db: Database) -> None:
    resident = await make_resident(any_db)
    numbers = [(await open_one(any_db, resident)).number for _ in range(3)]
    assert numbers == ["LL-20261122-0001", "LL-20261122-0002", "LL-20261122-0003"]
    # 16:30 UTC on the 22nd is 00:30 on the 23rd in Shanghai: a new day, a new sequence
    late = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)
    assert (await open_one(any_db, resident, now=late)).number == "LL-20261123-0001"
    assert (await open_one(any_db, resident)).number == "LL-20261122-0004"


async def test_rolled_back_ticket_gives_its_number_back(any_db: Database) -> None:
    resident = await make_resident(any_db)
    with pytest.raises(RuntimeError):
        async with any_db.transaction() as s:
            await open_ticket(
                s,
                resident=resident,
                category="noise",
                text="x",
                location=None,
                photos=[],
                community=COMMUNITY,
                now=NOW,
            )
            raise RuntimeError("handler failed after opening")
    assert (await open_one(any_db, resident)).number == "LL-20261122-0001"


@pytest.mark.parametrize("count", [2, 10])
async def test_concurrent_opens_never_collide(any_db: Database, count: int) -> None:
    """Each open is its own transaction on its own connection. PostgreSQL: the counter row (its lock) orders them;
    SQLite: the write lock does, each number taken in its ticket's INSERT (no counter row written)."""
    residents = [await make_resident(any_db, tg_user_id=2000 + i) for i in range(count)]
    async with asyncio.timeout(DEADLINE):
        tickets = await asyncio.gather(*(open_one(any_db, r) for r in residents))
    numbers = sorted(t.number for t in tickets)
    assert numbers == [format_ticket_number("20261122", i) for i in range(1, count + 1)]
    async with any_db.session() as s:
        counter = await s.get(DailyCounter, "20261122")
        stored = sorted((await s.exec(select(Ticket.number))).all())
    assert stored == numbers
    if any_db.is_sqlite:
        assert counter is None
    else:
        assert counter is not None and counter.last == count


async def test_two_processes_on_one_sqlite_file_never_share_a_number(db: Database) -> None:
    """Two engines on one file (two processes: each its own turn to write, so only SQLite's lock is between them)
    open cases at once: every number once, in sequence."""
    first, second = db, Database(db.url)
    try:
        residents = [await make_resident(first, tg_user_id=2100 + i) for i in range(12)]
        async with asyncio.timeout(DEADLINE):
            tickets = await asyncio.gather(*(open_one(first if i % 2 else second, r)
                                             for i, r in enumerate(residents)))
        assert sorted(t.number for t in tickets) == [format_ticket_number("20261122", i) for i in range(1, 13)]
    finally:
        await second.dispose()


async def test_sqlite_numbers_count_on_from_the_counter_and_past_9999(db: Database) -> None:
    """A database numbered by the day's counter before keeps counting after it; and the day's greatest number is
    read as a number, not as text (LL-…-10000 sorts before LL-…-9999 as text)."""
    resident = await make_resident(db)
    async with db.transaction() as s:
        s.add(DailyCounter(day="20261122", last=41))  # numbers given before, their cases since gone
    assert (await open_one(db, resident)).number == "LL-20261122-0042"
    async with db.transaction() as s:
        s.add(Ticket(number="LL-20261122-9999", resident_id=resident.id, category="noise", text="x",
                     unit="property", created_at=NOW, updated_at=NOW, sign_due_at=NOW, due_at=NOW))
    assert (await open_one(db, resident)).number == "LL-20261122-10000"
    assert (await open_one(db, resident)).number == "LL-20261122-10001"
    late = datetime(2026, 11, 22, 16, 30, tzinfo=UTC)  # the 23rd in Shanghai: its own sequence, from 1
    assert (await open_one(db, resident, now=late)).number == "LL-20261123-0001"
    async with db.session() as s:
        assert (await s.get(DailyCounter, "20261122")).last == 41  # read, never written


async def test_the_ticket_row_is_the_one_the_orm_wrote(any_db: Database) -> None:
    """insert_ticket writes every column as ``session.add`` and a flush did (defaults included), and leaves the
    ticket a clean row of the session."""
    resident = await make_resident(any_db)
    async with any_db.transaction() as s:
        orm = await new_ticket(s, resident=resident, category="noise", text="楼上装修太吵", location="10号楼2单元",
                               photos=["AgACAgUAAxkBAAIB"], community=COMMUNITY, now=NOW, contact_name="王")
        orm.number = "LL-20261122-0500"
        s.add(orm)
        await s.flush()
        core = await insert_ticket(s, await new_ticket(
            s, resident=resident, category="noise", text="楼上装修太吵", location="10号楼2单元",
            photos=["AgACAgUAAxkBAAIB"], community=COMMUNITY, now=NOW, contact_name="王"))
        assert core in s and not s.dirty and not s.new
        assert await s.get(Ticket, core.id) is core
    assert core.number == ("LL-20261122-0501" if any_db.is_sqlite else "LL-20261122-0001")
    async with any_db.session() as s:
        rows = {t.id: t.model_dump() for t in (await s.exec(select(Ticket))).all()}
    written, expected = rows[core.id], rows[orm.id]
    for row in (written, expected):
        del row["id"], row["number"]
    assert written == expected and written["next_check_at"] == NOW and written["building"] == "10号楼"


# --- ownership and listing --------------------------------------------------------------------------


async def test_someone_elses_number_is_none(any_db: Database) -> None:
    alice, bob = await make_resident(any_db, 1), await make_resident(any_db, 2)
    ticket = await open_one(any_db, alice)
    async with any_db.session() as s:
        assert await get_for_resident(s, bob.id, ticket.number) is None
        assert await get_for_resident(s, alice.id, "ll-20261122-0001") is not None
        assert await get_for_resident(s, alice.id, "ＬＬ－２０２６１１２２－０００１") is not None
        assert await get_for_resident(s, alice.id, "LL-20261122-0099") is None
        assert await get_for_resident(s, alice.id, "nonsense") is None
    async with any_db.transaction() as s:  # withdraw's SELECT ... FOR UPDATE refuses just the same
        refused = await withdraw(s, resident_id=bob.id, number=ticket.number, now=NOW)
        assert refused.status is WithdrawStatus.NOT_FOUND
        assert (await withdraw(s, resident_id=alice.id, number=ticket.number, now=NOW)).ok


async def test_list_for_resident_newest_first_with_latest_event(db: Database) -> None:
    alice, bob = await make_resident(db, 1), await make_resident(db, 2)
    first = await open_one(db, alice, now=NOW)
    second = await open_one(db, alice, now=NOW + timedelta(minutes=5))
    await open_one(db, bob)
    async with db.transaction() as s:
        await withdraw(s, resident_id=alice.id, number=first.number, now=NOW + timedelta(minutes=10))
    async with db.session() as s:
        summaries = await list_for_resident(s, alice.id)
        assert [x.ticket.number for x in await list_for_resident(s, alice.id, limit=1)] == [second.number]
        assert await list_for_resident(s, 999) == []
    assert [x.ticket.number for x in summaries] == [second.number, first.number]
    assert [x.latest_event.kind for x in summaries] == [TicketEventKind.CREATED, TicketEventKind.WITHDRAWN]


# --- withdrawal -------------------------------------------------------------------------------------


async def test_withdraw_own_open_ticket(db: Database) -> None:
    resident = await make_resident(db)
    ticket = await open_one(db, resident)
    later = NOW + timedelta(minutes=3)
    async with db.transaction() as s:
        result = await withdraw(
            s, resident_id=resident.id, number=ticket.number.lower(), now=later, note="已自行解决"
        )
    assert result.ok and result.ticket is not None
    async with db.session() as s:
        stored = await get_for_resident(s, resident.id, ticket.number)
        events = await history(s, ticket.id)
    assert stored.status is TicketStatus.WITHDRAWN and stored.closed_at == later
    assert [(e.kind, e.from_status, e.to_status, e.note) for e in events][-1] == (
        TicketEventKind.WITHDRAWN,
        TicketStatus.RECEIVED,
        TicketStatus.WITHDRAWN,
        "已自行解决",
    )


async def test_withdraw_refusals(db: Database) -> None:
    alice, bob = await make_resident(db, 1), await make_resident(db, 2)
    ticket = await open_one(db, alice)
    resolved = await open_one(db, alice)
    async with db.transaction() as s:
        t = await get_for_resident(s, alice.id, resolved.number)
        await record_event(
            s,
            t,
            kind=TicketEventKind.STATUS_CHANGED,
            actor="staff:5",
            now=NOW,
            to_status=TicketStatus.RESOLVED,
        )
    async with db.transaction() as s:
        assert (
            await withdraw(s, resident_id=bob.id, number=ticket.number, now=NOW)
        ).status is WithdrawStatus.NOT_FOUND
        assert (await withdraw(s, resident_id=alice.id, number="LL-20261122-0404", now=NOW)).status is (
            WithdrawStatus.NOT_FOUND
        )
        assert (
            await withdraw(s, resident_id=alice.id, number="garbage", now=NOW)
        ).status is WithdrawStatus.NOT_FOUND
        assert (await withdraw(s, resident_id=alice.id, number=resolved.number, now=NOW)).status is (
            WithdrawStatus.NOT_OPEN
        )
        assert (await withdraw(s, resident_id=alice.id, number=ticket.number, now=NOW)).ok
        assert (await withdraw(s, resident_id=alice.id, number=ticket.number, now=NOW)).status is (
            WithdrawStatus.ALREADY_WITHDRAWN
        )
    async with db.session() as s:
        events = await history(s, ticket.id)
    assert [e.kind for e in events] == [
        TicketEventKind.CREATED,
        TicketEventKind.WITHDRAWN,
    ]  # refusals add nothing


# --- number parsing ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("LL-20261122-0007", "LL-20261122-0007"),
        ("ll-20261122-0007", "LL-20261122-0007"),
        (" LL 20261122 0007 ", "LL-20261122-0007"),
        ("LL202611220007", "LL-20261122-0007"),
        ("ＬＬ－２０２６１１２２－０００７", "LL-20261122-0007"),
        ("LL—20261122—0007", "LL-20261122-0007"),
        ("LL-20261122-12345", "LL-20261122-12345"),
        ("LL-20261322-0007", None),  # month 13
        ("LL-20261122-0000", None),
        ("LL-20261122-07", None),
        ("XX-20261122-0007", None),
        ("查询LL-20261122-0007", None),  # parse wants the number alone
        ("", None),
    ],
)
def test_parse_ticket_number(text: str, expected: str | None) -> None:
    assert parse_ticket_number(text) == expected


def test_find_ticket_number_in_text() -> None:
    assert find_ticket_number("请帮我查询ll－20261122－0007的进度，谢谢") == "LL-20261122-0007"
    assert find_ticket_number("单号 LL-20261199-0001 和 LL-20261122-0002") == "LL-20261122-0002"
    assert find_ticket_number("没有单号") is None


@given(st.dates(), st.integers(min_value=1, max_value=99999))
def test_number_round_trip(day, seq: int) -> None:
    number = format_ticket_number(day.strftime("%Y%m%d"), seq)
    if day.year >= 1000:
        assert parse_ticket_number(number) == number
        assert parse_ticket_number(number.lower().replace("-", "－")) == number


# --- drafts -----------------------------------------------------------------------------------------


async def test_messages_within_a_minute_join_one_draft(db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        first = await append_text(s, resident.id, "楼上每天晚上", NOW)
        second = await append_text(s, resident.id, "十一点以后还在装修", NOW + timedelta(seconds=40))
        third = await append_text(s, resident.id, "已经一个礼拜了", NOW + timedelta(seconds=100))
    assert (first.joined, second.joined, third.joined) == (False, True, True)  # each within 60 s of the last
    async with db.session() as s:
        draft = await get_draft(s, resident.id, now=NOW + timedelta(minutes=2))
    assert draft is not None
    assert draft.text == "楼上每天晚上\n十一点以后还在装修\n已经一个礼拜了"


async def test_message_after_a_minute_starts_a_new_draft(db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        await append_text(s, resident.id, "路灯坏了", NOW)
        at_limit = await append_text(s, resident.id, "在3号楼门口", NOW + timedelta(seconds=60))
        later = await append_text(s, resident.id, "另外垃圾没人收", NOW + timedelta(seconds=121))
    assert at_limit.joined is True
    assert later.joined is False
    assert later.draft.text == "另外垃圾没人收"


async def test_draft_survives_a_restart(db_url: str, db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        await append_text(s, resident.id, "电梯停了", NOW)
        await add_photo(s, resident.id, "photo-1", NOW + timedelta(seconds=5))
        await update_draft(
            s,
            resident.id,
            now=NOW + timedelta(seconds=10),
            stage=DraftStage.CHOOSING_CATEGORY,
            candidates=[{"id": "repair", "score": 0.8}],
        )
    await db.dispose()
    restarted = Database(db_url)
    try:
        async with restarted.session() as s:
            draft = await get_draft(s, resident.id, now=NOW + timedelta(minutes=1))
        assert draft is not None
        assert (draft.text, draft.photos, draft.stage) == ("电梯停了", ["photo-1"], "choosing_category")
        assert draft.candidates == [{"id": "repair", "score": 0.8}]
        async with restarted.transaction() as s:  # within the minute: still the same complaint
            result = await append_text(s, resident.id, "卡在三楼", NOW + timedelta(seconds=20))
        assert result.joined and result.draft.text == "电梯停了\n卡在三楼"
        async with restarted.transaction() as s:  # after the minute: a new matter, a fresh draft
            result = await append_text(s, resident.id, "新的事情", NOW + timedelta(minutes=3))
        assert not result.joined and result.draft.photos == [] and result.draft.stage == "collecting"
    finally:
        await restarted.dispose()


async def test_stale_drafts(db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        await append_text(s, resident.id, "井盖松了", NOW)
    async with db.session() as s:
        assert await get_draft(s, resident.id, now=NOW + timedelta(minutes=30)) is not None
        assert await get_draft(s, resident.id, now=NOW + timedelta(minutes=31)) is None
    async with db.transaction() as s:
        assert await purge_stale(s, NOW + timedelta(minutes=10)) == 0
        assert await purge_stale(s, NOW + timedelta(minutes=31)) == 1
        assert await clear_draft(s, resident.id) is False
        assert await update_draft(s, resident.id, now=NOW, stage="confirming") is None


async def test_photo_first_draft_waits_for_its_words(db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        await add_photo(s, resident.id, "photo-1", NOW)
    async with db.transaction() as s:
        result = await append_text(s, resident.id, "楼道堆满杂物", NOW + timedelta(minutes=5))
    assert result.joined and result.draft.photos == ["photo-1"] and result.draft.text == "楼道堆满杂物"


async def test_text_never_joins_while_asking_for_the_place(db: Database) -> None:
    resident = await make_resident(db)
    async with db.transaction() as s:
        await append_text(s, resident.id, "路灯坏了", NOW)
        await update_draft(s, resident.id, now=NOW, stage=DraftStage.ASKING_LOCATION)
    async with db.transaction() as s:
        result = await append_text(s, resident.id, "又坏了一盏", NOW + timedelta(seconds=10))
    assert not result.joined and result.draft.text == "又坏了一盏"
