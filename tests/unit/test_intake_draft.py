"""A confirmed draft opens or joins a case in one transaction whose draft ``DELETE … RETURNING`` also carries the
duplicate check under the lock and the hotspot counts (``intake.open_draft``): the same cases, links, warnings and
owed rows as the separate checks made after the writes, in fewer statements."""

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import event
from sqlmodel import col, func, select

from services.cases import drafts, duplicates, intake, lifecycle
from services.people import roles
from storage.db import Database
from storage.models import (
    Draft,
    HotspotWarning,
    OutboxKind,
    OutboxMessage,
    Resident,
    RoleName,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketFollower,
    TicketStatus,
)
from tests.unit.test_duplicates import COMMUNITY, NOW, make_resident

M = timedelta(minutes=1)
PLACE = "10号楼2单元"


async def confirm(db: Database, r: Resident, text: str, now: Any, *, seen: Any = None,
                  looking: bool = False) -> intake.Opened | None:
    """What the bot does on 确认: the draft written, then the draft taken with its case, the candidates compared under
    the lock; ``looking``: with a look before the lock (as the bot did before, and ``two`` still does)."""
    async with db.transaction() as s:
        s.add(Draft(resident_id=r.id, text=text, category="noise", location=PLACE, stage="confirming",
                    created_at=now, updated_at=now))
    case = intake.Intake(category="noise", text=text, location=PLACE, grid_code="A03")
    looked = None
    if looking:
        async with db.session() as s:
            looked = await intake.look(s, resident=r, intake=case, now=now)
    async with db.transaction() as s:
        return await intake.open_draft(s, resident=r, intake=case, community=COMMUNITY, staff_chat_id=-100, now=now,
                                       seen=now if seen is None else seen, looked=looked)


async def count(db: Database, model: Any) -> int:
    async with db.session() as s:
        return int((await s.exec(select(func.count()).select_from(model))).one())


@pytest.mark.parametrize("looking", [False, True])
async def test_similar_complaints_make_one_case_and_one_warning_at_the_third(any_db: Database, looking: bool) -> None:
    residents = [await make_resident(any_db, 300 + i) for i in range(4)]
    texts = ["楼上装修太吵了", "楼上装修太吵", "楼上又在装修，太吵了", "楼上装修吵死了"]
    opened = [await confirm(any_db, r, t, NOW + i * M, looking=looking)
              for i, (r, t) in enumerate(zip(residents, texts, strict=True))]
    assert [o is not None and o.linked for o in opened] == [False, True, True, True]
    assert len({o.ticket.id for o in opened if o is not None}) == 1
    hot = [o.hotspot for o in opened if o is not None]
    assert hot[:2] == [None, None] and hot[3] is None  # raised once, at the third, not again
    assert hot[2] is not None and (hot[2].scope_kind, hot[2].scope, hot[2].count) == (
        duplicates.ScopeKind.BUILDING, "10号楼", 3)
    assert (await count(any_db, Ticket), await count(any_db, TicketFollower), await count(any_db, HotspotWarning),
            await count(any_db, Draft)) == (1, 3, 1, 0)
    async with any_db.session() as s:
        rows = (await s.exec(select(OutboxMessage).order_by(col(OutboxMessage.id)))).all()
    assert [(m.chat_id, m.kind, m.payload.get("say")) for m in rows] == [
        (300, OutboxKind.NOTIFY, "opened"), (-100, OutboxKind.CARD, None), (301, OutboxKind.NOTIFY, "linked"),
        (302, OutboxKind.NOTIFY, "linked"), (-100, OutboxKind.NOTIFY, "hotspot"), (303, OutboxKind.NOTIFY, "linked")]


@pytest.mark.parametrize("looking", [False, True])
async def test_different_complaints_at_one_building_count_as_the_checks_after_the_writes_would(
        any_db: Database, looking: bool) -> None:
    residents = [await make_resident(any_db, 310 + i) for i in range(3)]
    texts = ["楼上装修太吵了", "晚上广场舞音乐太响", "楼下商铺音响吵"]  # not the same problem: three cases
    opened = [await confirm(any_db, r, t, NOW + i * M, looking=looking)
              for i, (r, t) in enumerate(zip(residents, texts, strict=True))]
    assert [o is not None and o.linked for o in opened] == [False, False, False]
    hot = [o.hotspot for o in opened if o is not None]
    assert hot[:2] == [None, None] and hot[2] is not None and (hot[2].scope, hot[2].count) == ("10号楼", 3)
    async with any_db.transaction() as s:  # the check made after the writes, as before: raised already, once
        assert await duplicates.check_hotspot(s, category="noise", grid_code="A03", location=PLACE,
                                              now=NOW + 2 * M) is None
        warnings = (await s.exec(select(HotspotWarning))).all()
    assert [(w.scope, w.count) for w in warnings] == [("10号楼", 3)]


@pytest.mark.parametrize("looking", [False, True])
async def test_saying_it_again_adds_no_count_and_a_second_tap_writes_nothing(any_db: Database, looking: bool) -> None:
    alice, bob = await make_resident(any_db, 320), await make_resident(any_db, 321)
    first = await confirm(any_db, alice, "楼上装修太吵了", NOW, looking=looking)
    again = await confirm(any_db, alice, "楼上装修太吵", NOW + M, looking=looking)  # her own case: a note, no follower
    assert first is not None and again is not None and again.own and again.ticket.id == first.ticket.id
    joined = await confirm(any_db, bob, "楼上又在装修，太吵了", NOW + 2 * M, looking=looking)
    assert joined is not None and joined.linked and joined.hotspot is None  # one case and one follower: 2, not 3
    stale = await confirm(any_db, bob, "楼上装修太吵了", NOW + 3 * M, seen=NOW, looking=looking)  # an earlier button
    assert stale is None
    assert (await count(any_db, Ticket), await count(any_db, TicketFollower), await count(any_db, Draft)) == (1, 1, 1)


def _tables(db: Database) -> tuple[list[str], Any]:
    """The statements run on ``db`` as "VERB table" (BEGIN and COMMIT left out), and the listener to remove."""
    seen: list[str] = []

    def statement(conn: Any, cursor: Any, sql: str, *_: Any) -> None:
        if not sql.lstrip().upper().startswith(("BEGIN", "COMMIT")):
            words = sql.split()  # "DELETE FROM drafts …", "INSERT INTO tickets …", "SELECT … FROM roles …"
            upper = [w.upper() for w in words]
            table = (words[upper.index("FROM") + 1] if "FROM" in upper else "-") if upper[0] == "SELECT" else words[2]
            seen.append(f"{upper[0]} {table}")

    event.listen(db.engine.sync_engine, "before_cursor_execute", statement)
    return seen, statement


async def test_a_new_case_is_four_statements_and_no_look(db: Database) -> None:
    """SQLite: the draft taken with the check's candidates, the hotspot counts and the grid's workers granted the role
    (who get the card too), the ticket numbered in its own INSERT, both events, the owed rows: four statements, and
    none before them (the candidates, here three open cases at the place, are compared under the lock; no counter
    row: ``tickets.insert_ticket``)."""
    others = [await make_resident(db, 340 + i) for i in range(3)]
    for i, (other, text) in enumerate(zip(others, ["晚上广场舞音乐太响", "楼下商铺音响吵", "电梯里有人抽烟"],
                                          strict=True)):
        assert not (await confirm(db, other, text, NOW - (i + 1) * M)).linked
    r = await make_resident(db, 330)
    seen, listener = _tables(db)
    try:
        opened = await confirm(db, r, "楼上装修太吵了", NOW)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", listener)
    assert opened is not None and not opened.linked
    assert seen == ["INSERT drafts",  # the test's own draft, written before
                    "DELETE drafts", "INSERT tickets", "INSERT ticket_events", "INSERT outbox"]


async def test_a_case_joined_is_read_by_the_insert_of_its_event(any_db: Database) -> None:
    """The one case the complaint joins is read by the statement that records the joining (the LINKED event's
    INSERT … RETURNING, by its key), not by one of its own: no read at all after the draft's DELETE. On SQLite a
    case joined is four statements, as a new case is."""
    first = await confirm(any_db, await make_resident(any_db, 350), "楼上装修太吵了", NOW - M)
    r = await make_resident(any_db, 351)
    seen, listener = _tables(any_db)
    try:
        joined = await confirm(any_db, r, "楼上又在装修，太吵了", NOW)
    finally:
        event.remove(any_db.engine.sync_engine, "before_cursor_execute", listener)
    assert joined is not None and joined.linked and joined.ticket.id == first.ticket.id
    written = [x for x in seen if x != "SELECT -"]  # not PostgreSQL's advisory lock
    assert written == ["INSERT drafts",  # the test's own draft, written before
                       "DELETE drafts", "INSERT ticket_followers", "INSERT ticket_events", "INSERT outbox"]


async def test_the_case_joined_is_the_row_stored_and_its_event_as_record_event_writes_it(any_db: Database) -> None:
    """The case read back from the event's INSERT is the case as stored, column by column (a row of the session:
    photos added to it are written); its LINKED event is the one ``record_event`` writes (the case's status as its
    ``from_status``); the author saying it again and a follower saying it again are told as before."""
    author = await make_resident(any_db, 360)
    first = await confirm(any_db, author, "楼上装修太吵了", NOW - 2 * M)
    async with any_db.transaction() as s:  # a status other than the one it opened with
        t = await s.get(Ticket, first.ticket.id)
        assert (await lifecycle.transition(s, t, TicketStatus.SIGNED, actor="staff:1", now=NOW - M)).ok
    r = await make_resident(any_db, 361)
    async with any_db.transaction() as s:
        s.add(Draft(resident_id=r.id, text="楼上又在装修，太吵了", category="noise", location=PLACE, stage="confirming",
                    photos=["p1"], created_at=NOW, updated_at=NOW))
    case = intake.Intake(category="noise", text="楼上又在装修，太吵了", location=PLACE, grid_code="A03", photos=["p1"])
    async with any_db.transaction() as s:
        joined = await intake.open_draft(s, resident=r, intake=case, community=COMMUNITY, staff_chat_id=-100,
                                         now=NOW, seen=NOW)
        assert joined is not None and joined.linked and not joined.own
        held = {c: getattr(joined.ticket, c) for c in Ticket.model_fields}
    async with any_db.session() as s:
        stored = await s.get(Ticket, first.ticket.id)
        assert held == {c: getattr(stored, c) for c in Ticket.model_fields}
        assert stored.photos == ["p1"] and stored.status == TicketStatus.SIGNED
        linked = (await s.exec(select(TicketEvent).where(TicketEvent.ticket_id == stored.id,
                                                         TicketEvent.kind == TicketEventKind.LINKED))).one()
    assert (linked.actor, linked.from_status, linked.to_status, linked.note, linked.at) == (
        f"resident:{r.id}", TicketStatus.SIGNED, None, "楼上又在装修，太吵了", NOW)
    again = await confirm(any_db, r, "楼上装修还是太吵了", NOW + M)  # a follower again: joined, nothing recorded
    own = await confirm(any_db, author, "楼上装修又太吵了 ", NOW + 2 * M)  # its author again: the words kept
    assert again is not None and again.linked and not again.own and again.ticket.id == first.ticket.id
    assert own is not None and own.linked and own.own and own.ticket.id == first.ticket.id
    async with any_db.session() as s:
        notes = (await s.exec(select(TicketEvent.actor, TicketEvent.note).where(
            TicketEvent.ticket_id == first.ticket.id, TicketEvent.kind == TicketEventKind.LINKED)
            .order_by(col(TicketEvent.id)))).all()
    assert notes == [(f"resident:{r.id}", "楼上又在装修，太吵了"), (f"resident:{author.id}", "楼上装修又太吵了 ")]


@pytest.mark.parametrize(("text", "expected"), [
    ("楼上装修太吵了", "楼上装修太吵了"), ("10号楼楼上装修声音太吵", "楼上装修太吵了"),
    ("楼下商铺音响吵", "楼下商铺音响吵"),
    ("晚上广场舞音乐太响", "晚上广场舞音乐太响"),  # a case of the grid naming no building: compared too
    ("电梯里有人抽烟", "电梯里有人抽烟"), ("楼上又在装修，太吵了", "楼上装修太吵了"),
    ("楼上装修吵死了", "楼上装修太吵了"),  # the same words as a closed case: the open one is joined
    ("小区门口垃圾没人清理", None)])
async def test_the_check_under_the_lock_finds_what_the_look_and_its_check_find(any_db: Database, text: str,
                                                                                expected: str | None) -> None:
    """Cases at the building and the grid (and one in another building of the grid, and one closed): the candidates
    compared under the lock give the case a look before it and the check after it give, for each complaint."""
    texts = [("楼上装修太吵了", PLACE), ("楼下商铺音响吵", "10号楼"), ("楼上装修太吵", "12号楼3单元"),
             ("晚上广场舞音乐太响", None), ("电梯里有人抽烟", PLACE), ("楼上装修吵死了", PLACE)]
    residents = [await make_resident(any_db, 360 + i) for i in range(len(texts))]
    async with any_db.transaction() as s:
        for i, ((said, place), r) in enumerate(zip(texts, residents, strict=True)):
            await lifecycle.open_dispatched(s, resident=r, category="noise", text=said, location=place, photos=[],
                                            community=COMMUNITY, now=NOW - (10 - i) * M, grid_code="A03")
        closed = (await s.exec(select(Ticket).where(Ticket.text == "楼上装修吵死了"))).one()
        closed.status = TicketStatus.CLOSED
        s.add(closed)
    r = await make_resident(any_db, 399)
    found = []
    for looking in (False, True):
        case = intake.Intake(category="noise", text=text, location=PLACE, grid_code="A03")
        looked = None
        if looking:
            async with any_db.session() as s:
                looked = await intake.look(s, resident=r, intake=case, now=NOW)
        async with any_db.session() as s:
            check = await duplicates.Check.of(s, category="noise", text=text, grid_code="A03", location=PLACE,
                                              now=NOW, looked=looked)
            dup = await check.duplicate(s, await check.read(s))
            found.append(dup.text if dup is not None else None)
    assert found == [expected, expected]


async def test_the_grid_s_granted_workers_ride_in_the_draft_s_delete_on_both_engines(any_db: Database) -> None:
    """The workers an admin granted the case's grid get the card, read within the draft's DELETE … RETURNING."""
    r = await make_resident(any_db, 331)
    async with any_db.transaction() as s:
        for worker in (7001, 7002):
            await roles.grant(s, tg_user_id=worker, role=RoleName.GRIDWORKER, scope="A03", granted_by=1, now=NOW)
        await roles.grant(s, tg_user_id=7003, role=RoleName.GRIDWORKER, scope="A01", granted_by=1, now=NOW)
        s.add(Draft(resident_id=r.id, text="楼上装修太吵了", category="noise", location=PLACE, stage="confirming",
                    created_at=NOW, updated_at=NOW))
    case = intake.Intake(category="noise", text="楼上装修太吵了", location=PLACE, grid_code="A03")
    async with any_db.transaction() as s:
        opened = await intake.open_draft(s, resident=r, intake=case, community=COMMUNITY, staff_chat_id=-100,
                                         now=NOW, seen=NOW)
    assert opened is not None
    async with any_db.session() as s:
        cards = (await s.exec(select(OutboxMessage.chat_id).where(OutboxMessage.kind == OutboxKind.CARD))).all()
    assert {7001, 7002} <= set(cards) and 7003 not in cards
    assert roles.granted_from("A03", "7001,7002") == {"A03": [7001, 7002]} and roles.granted_from(None, "1") == {}


async def _known(db: Database, r: Resident, text: str, now: Any, **known: Any) -> intake.Opened | None:
    """确认 of a draft known without a read (``drafts.take_known``), in a transaction that rolls back on a miss."""
    draft = Draft(resident_id=r.id, text=text, category="noise", location=PLACE, stage="confirming",
                  created_at=now, updated_at=now)
    case = intake.Intake(category="noise", text=text, location=PLACE, grid_code="A03")
    async with db.transaction() as s:
        return await intake.open_draft(s, resident=r, intake=case, community=COMMUNITY, staff_chat_id=-100, now=now,
                                       seen=now, known=drafts.Known(**{"tg_user_id": r.tg_user_id, "resident": r,
                                                                       "draft": draft, **known}))


async def test_a_draft_known_without_a_read_is_taken_only_as_known_by_its_owner(any_db: Database) -> None:
    """The DELETE of a draft known without a read takes the presser's own draft only (its WHERE: the resident of the
    presser's Telegram id), only as it was known (every column but the shown message's id), with the resident's
    place as known; else nothing stands (``NotAsKnown``: the transaction rolled back, the draft kept). At the flood
    cap, ``Capped`` and nothing written either; below it, the case as an ordinary 确认 opens it."""
    owner, other = await make_resident(any_db, 370), await make_resident(any_db, 371)
    earlier = await confirm(any_db, owner, "电梯里有人抽烟", NOW - 2 * M)  # one complaint confirmed in the window
    assert earlier is not None and not earlier.linked
    async with any_db.transaction() as s:
        s.add(Draft(resident_id=owner.id, text="楼上装修太吵了", category="noise", location=PLACE, stage="confirming",
                    created_at=NOW, updated_at=NOW))
    with pytest.raises(drafts.NotAsKnown):  # another user's Telegram id pressing: not their draft
        await _known(any_db, owner, "楼上装修太吵了", NOW, tg_user_id=other.tg_user_id)
    with pytest.raises(drafts.NotAsKnown):  # the draft's words changed since (the same time: a frozen clock)
        await _known(any_db, owner, "楼上装修太吵了，晚上也吵", NOW)
    moved = Resident(**{**owner.model_dump(), "grid_code": "A01"})
    with pytest.raises(drafts.NotAsKnown):  # the resident's place is no longer as known
        await _known(any_db, moved, "楼上装修太吵了", NOW)
    assert (await count(any_db, Draft), await count(any_db, Ticket)) == (1, 1)
    with pytest.raises(drafts.Capped):
        await _known(any_db, owner, "楼上装修太吵了", NOW, cap=1, since=NOW - 10 * M)
    assert (await count(any_db, Draft), await count(any_db, Ticket)) == (1, 1)
    opened = await _known(any_db, owner, "楼上装修太吵了", NOW, cap=2, since=NOW - 10 * M)
    assert opened is not None and not opened.linked and opened.ticket.resident_id == owner.id
    assert (await count(any_db, Draft), await count(any_db, Ticket)) == (0, 2)
