"""Duplicates (similar text, same category and place, within a window) and hotspot early warnings."""

from datetime import datetime, timedelta

import pytest
from sqlmodel import select

from services import SHANGHAI
from services.cases.duplicates import (
    SIMILARITY_THRESHOLD,
    LinkStatus,
    ScopeKind,
    building_of,
    check_hotspot,
    find_duplicate,
    followers,
    link,
    similarity,
)
from services.cases.lifecycle import withdraw
from services.cases.tickets import history, open_ticket
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community
from services.people.residents import bind_grid, get_or_create_resident
from storage.db import Database
from storage.models import HotspotWarning, Resident, Ticket, TicketEventKind

COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 11, 22, 21, 30, tzinfo=SHANGHAI)
H = timedelta(hours=1)


async def make_resident(db: Database, tg_user_id: int, grid: str | None = "A03") -> Resident:
    async with db.transaction() as s:
        resident = await get_or_create_resident(s, tg_user_id=tg_user_id, name=f"居民{tg_user_id}", now=NOW)
        if grid:
            await bind_grid(s, resident, grid, community=COMMUNITY, now=NOW)
    return resident


async def open_one(
    db: Database,
    resident: Resident,
    text: str = "楼上装修太吵",
    *,
    category: str = "noise",
    location: str | None = "10号楼2单元",
    now: datetime = NOW,
) -> Ticket:
    async with db.transaction() as s:
        return await open_ticket(
            s,
            resident=resident,
            category=category,
            text=text,
            location=location,
            photos=[],
            community=COMMUNITY,
            now=now,
        )


async def find(db: Database, text: str, **kwargs) -> Ticket | None:
    args = {"category": "noise", "grid_code": "A03", "location": "10号楼3单元", "now": NOW + H} | kwargs
    async with db.session() as s:
        return await find_duplicate(s, text=text, **args)


# --- text and place ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("楼上装修太吵", "楼上又在装修，太吵了"),
        ("楼上装修太吵", "楼上天天装修噪音太大"),
        ("10号楼门口路灯坏了", "10号楼门口的路灯不亮了"),
        ("电梯坏了困人", "电梯停了"),
        ("楼道堆满杂物", "楼道里堆了很多杂物，消防隐患"),
    ],
)
def test_same_matter_in_other_words_is_similar(a: str, b: str) -> None:
    assert similarity(a, b) >= SIMILARITY_THRESHOLD


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("楼上装修太吵", "路灯坏了"),
        ("楼下广场舞太吵", "楼上装修太吵"),
        ("太吵", "楼上装修太吵了"),  # too little said to call it the same
        ("楼上装修电钻声音很大", "楼下广场舞音响声音很大"),
        ("", "楼上装修太吵"),
    ],
)
def test_different_matters_are_not(a: str, b: str) -> None:
    assert similarity(a, b) < SIMILARITY_THRESHOLD


@pytest.mark.parametrize(
    ("location", "building"),
    [
        ("10号楼2单元", "10号楼"),
        ("１０号楼", "10号楼"),
        ("3栋502", "3号楼"),
        ("金桂苑 12 幢", "12号楼"),
        ("3楼走廊", None),  # a floor, not a building
        ("金桂路128号", None),  # a street number
        ("小区门口", None),
        (None, None),
    ],
)
def test_building_of(location: str | None, building: str | None) -> None:
    assert building_of(location) == building


# --- finding duplicates -----------------------------------------------------------------------------


async def test_similar_complaint_in_the_same_building_is_a_duplicate(db: Database) -> None:
    first = await open_one(db, await make_resident(db, 1))
    found = await find(db, "楼上又在装修，太吵了")
    assert found is not None and found.id == first.id


async def test_no_duplicate_across_category_building_window_or_status(db: Database) -> None:
    alice = await make_resident(db, 1)
    await open_one(db, alice)
    assert await find(db, "楼上又在装修，太吵了", category="property") is None
    assert await find(db, "楼上又在装修，太吵了", location="9号楼") is None  # same grid, another building
    assert await find(db, "楼上又在装修，太吵了", now=NOW + 73 * H) is None
    assert await find(db, "楼下狗一直叫") is None
    async with db.transaction() as s:
        ticket = (await s.exec(select(Ticket))).one()
        assert (await withdraw(s, resident_id=alice.id, number=ticket.number, now=NOW)).ok
    assert await find(db, "楼上又在装修，太吵了") is None


async def test_same_grid_counts_when_a_building_is_unknown(db: Database) -> None:
    first = await open_one(db, await make_resident(db, 1), "小区路灯坏了一排", category="repair", location="小区北门")
    found = await find(db, "北门的路灯坏了一排", category="repair", location=None)
    assert found is not None and found.id == first.id
    assert await find(db, "北门的路灯坏了一排", category="repair", location=None, grid_code="A01") is None
    assert await find(db, "北门的路灯坏了一排", category="repair", location=None, grid_code=None) is None


async def test_the_most_similar_open_ticket_wins(db: Database) -> None:
    resident = await make_resident(db, 1)
    await open_one(db, resident, "楼上装修电钻噪音")
    best = await open_one(db, resident, "楼上装修太吵了")
    found = await find(db, "楼上装修太吵")
    assert found is not None and found.id == best.id


# --- linking ----------------------------------------------------------------------------------------


async def test_link_makes_a_follower_once(db: Database) -> None:
    alice, bob = await make_resident(db, 1), await make_resident(db, 2)
    ticket = await open_one(db, alice)
    async with db.transaction() as s:
        first = await link(s, ticket, bob, NOW + H, text="楼上又在装修，太吵了")
        again = await link(s, ticket, bob, NOW + 2 * H)
        own = await link(s, ticket, alice, NOW + 2 * H)
        assert await followers(s, ticket.id) == [bob.id]
    assert (first.status, again.status, own.status) == (
        LinkStatus.LINKED,
        LinkStatus.ALREADY_FOLLOWING,
        LinkStatus.OWN_TICKET,
    )
    async with db.session() as s:
        events = await history(s, ticket.id)
    assert [(e.kind, e.actor, e.note) for e in events][-1] == (
        TicketEventKind.LINKED,
        f"resident:{bob.id}",
        "楼上又在装修，太吵了",
    )
    assert events[-1].to_status is None  # linking changes nothing about the case's status


async def test_link_to_a_closed_case_is_refused(db: Database) -> None:
    alice, bob = await make_resident(db, 1), await make_resident(db, 2)
    ticket = await open_one(db, alice)
    async with db.transaction() as s:
        await withdraw(s, resident_id=alice.id, number=ticket.number, now=NOW)
        stored = await s.get(Ticket, ticket.id)
        assert (await link(s, stored, bob, NOW)).status is LinkStatus.NOT_OPEN
        assert await followers(s, ticket.id) == []


# --- early warning ----------------------------------------------------------------------------------


async def hotspot(db: Database, *, location: str | None = "10号楼", now: datetime = NOW, category: str = "noise"):
    async with db.transaction() as s:
        return await check_hotspot(s, category=category, grid_code="A03", location=location, now=now)


async def test_three_in_a_building_raise_one_warning(db: Database) -> None:
    residents = [await make_resident(db, i) for i in range(1, 6)]
    await open_one(db, residents[0], "楼上装修太吵", now=NOW - 3 * H)
    await open_one(db, residents[1], "半夜有人唱歌", now=NOW - 2 * H)
    assert await hotspot(db) is None
    await open_one(db, residents[2], "狗叫了一晚上", now=NOW - H)
    warning = await hotspot(db)
    assert warning is not None
    assert (warning.scope_kind, warning.scope, warning.count, warning.grid_code) == (
        ScopeKind.BUILDING,
        "10号楼",
        3,
        "A03",
    )
    await open_one(db, residents[3], "又有噪音", now=NOW)
    assert await hotspot(db, now=NOW + H) is None  # raised already: not on every message
    assert await hotspot(db, category="repair") is None
    async with db.session() as s:
        assert len((await s.exec(select(HotspotWarning))).all()) == 1
    # a day later the old complaints have aged out; three new ones raise a new warning
    for i, r in enumerate(residents[:3]):
        await open_one(db, r, "又开始吵了", now=NOW + 25 * H + i * H)
    assert (await hotspot(db, now=NOW + 28 * H)).count == 3


async def test_grid_wide_cluster_and_linked_duplicates_count(db: Database) -> None:
    a, b, c = [await make_resident(db, i) for i in range(1, 4)]
    t1 = await open_one(db, a, location="9号楼", now=NOW - H)
    await open_one(db, b, location="11号楼", now=NOW - H)
    assert await hotspot(db, location="12号楼") is None
    async with db.transaction() as s:
        await link(s, t1, c, NOW, text="9号楼也吵")
    warning = await hotspot(db, location="12号楼")
    assert warning is not None and (warning.scope_kind, warning.scope, warning.count) == (ScopeKind.GRID, "A03", 3)
