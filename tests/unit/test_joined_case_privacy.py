"""A case joined by a neighbour's duplicate complaint has two residents: each reads its progress and their own
words, never the other's (the case's text, a 补充说明, an answer to 需补充, a rating comment). Staff replies are
relayed to both, so both read them. The chat's 我的工单 list and the detail read these services."""

from datetime import timedelta

from services.cases import duplicates, lifecycle
from services.cases.events import record_event, resident_actor, staff_actor
from services.cases.tickets import list_for_resident, resident_view
from storage.db import Database
from storage.models import Ticket, TicketEventKind, TicketStatus
from tests.unit.test_tickets import NOW, make_resident, open_one

AUTHOR_TEXT = "9号楼602每天晚上十点以后还在装修，电钻声音特别大"
AUTHOR_MORE = "我是601的王桂芳，电话13911112222，孩子要高考"
AUTHOR_ANSWER = "是602，业主姓刘，施工队电话13700001111"
NEIGHBOUR_TEXT = "楼上装修太吵，晚上睡不着觉"
NEIGHBOUR_MORE = "我家老人心脏不好，703的李大爷"
STAFF_REPLY = "已联系物业上门劝导，今晚起十点后停工"


async def _joined_case(db: Database) -> tuple[Ticket, int, int]:
    author, neighbour = await make_resident(db, 2101), await make_resident(db, 2102)
    t = await open_one(db, author, text=AUTHOR_TEXT)
    at = NOW + timedelta(minutes=5)
    async with db.transaction() as s:
        t = await s.get(Ticket, t.id)
        linked = await duplicates.link(s, t, neighbour, at, text=NEIGHBOUR_TEXT)
        assert linked.ok
        await record_event(s, t, kind=TicketEventKind.REPLY, actor=resident_actor(author.id), now=at,
                           note=AUTHOR_MORE)
        for step in (TicketStatus.DISPATCHED, TicketStatus.SIGNED, TicketStatus.PENDING_INFO):
            assert (await lifecycle.transition(s, t, step, actor=staff_actor(3001), now=at,
                                               note="请问是哪一户在装修？")).ok
        assert (await lifecycle.answer_info(s, t, actor=resident_actor(author.id), now=at + timedelta(minutes=1),
                                            note=AUTHOR_ANSWER)).ok
        await record_event(s, t, kind=TicketEventKind.REPLY, actor=resident_actor(neighbour.id),
                           now=at + timedelta(minutes=2), note=NEIGHBOUR_MORE)
        await record_event(s, t, kind=TicketEventKind.REPLY, actor=staff_actor(3001),
                           now=at + timedelta(minutes=3), note=STAFF_REPLY)
    return t, author.id, neighbour.id


def _said(events) -> str:
    return " ".join(e.note or "" for e in events)


async def test_a_neighbour_reads_the_progress_and_their_own_words_only(db: Database) -> None:
    t, _, neighbour = await _joined_case(db)
    async with db.session() as s:
        view = await resident_view(s, await s.get(Ticket, t.id), [neighbour])
    said = _said(view.events)
    assert not view.author and view.words == NEIGHBOUR_TEXT
    assert view.place == "10号楼"  # the building, not the author's flat
    for theirs in (AUTHOR_TEXT, AUTHOR_MORE, AUTHOR_ANSWER, "13911112222", "13700001111"):
        assert theirs not in said
    assert STAFF_REPLY in said and NEIGHBOUR_MORE in said
    kinds = [e.kind for e in view.events]  # every step of the progress is there
    assert kinds.count(TicketEventKind.STATUS_CHANGED) == 3
    assert {e.to_status for e in view.events} >= {TicketStatus.SIGNED, TicketStatus.PENDING_INFO}


async def test_the_author_does_not_read_the_neighbours_words(db: Database) -> None:
    t, author, _ = await _joined_case(db)
    async with db.session() as s:
        view = await resident_view(s, await s.get(Ticket, t.id), [author])
    said = _said(view.events)
    assert view.author and view.words == AUTHOR_TEXT
    assert NEIGHBOUR_TEXT not in said and NEIGHBOUR_MORE not in said
    assert AUTHOR_MORE in said and AUTHOR_ANSWER in said and STAFF_REPLY in said


async def test_the_chat_list_line_never_carries_the_other_residents_words(db: Database) -> None:
    """我的工单: each case's latest line. The author's words were the newest for the neighbour's list."""
    t, author, neighbour = await _joined_case(db)
    async with db.transaction() as s:
        row = await s.get(Ticket, t.id)
        await record_event(s, row, kind=TicketEventKind.REPLY, actor=resident_actor(author),
                           now=NOW + timedelta(minutes=20), note=AUTHOR_MORE)
    async with db.session() as s:
        [line] = await list_for_resident(s, neighbour)
        [own] = await list_for_resident(s, author)
    assert line.ticket.id == t.id and line.latest_event is not None
    assert line.latest_event.note == STAFF_REPLY  # the newest step they may read
    assert own.latest_event is not None and own.latest_event.note == AUTHOR_MORE
    async with db.transaction() as s:
        row = await s.get(Ticket, t.id)
        await record_event(s, row, kind=TicketEventKind.REPLY, actor=resident_actor(neighbour),
                           now=NOW + timedelta(minutes=30), note=NEIGHBOUR_MORE)
    async with db.session() as s:
        [own] = await list_for_resident(s, author)
    assert own.latest_event is not None and own.latest_event.note == AUTHOR_MORE
