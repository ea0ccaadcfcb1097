"""The speaker read (one statement built once, two variants) on both engines: every part of what it answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.cases import drafts, intake
from services.cases.tickets import with_owner
from services.community.model import load_community
from services.flood import confirmed_since
from services.people import conversations, directory, speakers
from services.people.residents import create_resident
from storage.db import Database
from storage.models import Channel, Conversation, Draft, Resident, Ticket, TicketStatus

NOW = datetime(2026, 3, 17, 2, 0, tzinfo=UTC)


async def test_a_stranger_is_nobody_yet(any_db: Database) -> None:
    async with any_db.session() as s:
        who = await speakers.speaker(s, 4_000_000_001)
        counted = await speakers.speaker(s, 4_000_000_001, confirmed_since=NOW - timedelta(seconds=10))
    assert (who.tg_user_id, who.resident, who.draft, who.conversation, who.pending_info, who.known, who.confirmed) \
        == (4_000_000_001, None, None, None, None, None, None)
    assert counted.confirmed == 0 and counted.resident is None


async def test_one_read_answers_everything_and_counts_what_the_flood_cap_counts(any_db: Database) -> None:
    community = load_community(None)
    big = 5_000_000_000  # beyond 32 bits: Telegram ids are BIGINT
    async with any_db.transaction() as s:
        r = await create_resident(s, tg_user_id=big, name="赵大爷", now=NOW)
        other = await create_resident(s, tg_user_id=78, name="钱阿姨", now=NOW)
        await directory.remember(s, tg_user_id=big, username="@Zhao_DY", name="赵大爷", now=NOW)
        for i, (who, channel, recorded) in enumerate([(r, Channel.TELEGRAM, None), (r, Channel.PHONE, 3001),
                                                      (other, Channel.TELEGRAM, None)]):
            opened = await intake.open_case(s, resident=who, intake=intake.Intake(
                category="repair", text=f"{i + 1}号楼楼道灯坏了", location=f"{i + 1}号楼", channel=channel,
                recorded_by=recorded), community=community, staff_chat_id=None, now=NOW)
            if i == 1:
                opened.ticket.status = TicketStatus.PENDING_INFO
                s.add(opened.ticket)
        joined = await intake.open_case(s, resident=r, intake=intake.Intake(
            category="repair", text="3号楼楼道灯坏了", location="3号楼"), community=community, staff_chat_id=None,
            now=NOW)
        assert joined.linked
        draft = drafts.changed(drafts.appended(None, r.id, "楼道灯又坏了", NOW).draft, now=NOW,
                               photos=["p1"], attachments=[{"kind": "voice", "file_id": "v1"}], candidates=["repair"])
        assert await drafts.save(s, draft, seen=None)
        await conversations.save(s, big, "notice", {"step": 2, "text": "停水"}, NOW)
    async with any_db.session() as s:
        who = await speakers.speaker(s, big)
        counted = await speakers.speaker(s, big, confirmed_since=NOW - timedelta(seconds=10))
        later = await speakers.speaker(s, big, confirmed_since=NOW + timedelta(seconds=1))
        expected = await confirmed_since(s, big, NOW - timedelta(seconds=10))
        with pytest.raises(ValueError):
            await speakers.speaker(s, big, confirmed_since=NOW.replace(tzinfo=None))
    assert isinstance(who.resident, Resident) and who.resident.id == r.id and who.resident.name == "赵大爷"
    assert who.resident.tg_user_id == big and who.resident.created_at == NOW
    assert isinstance(who.draft, Draft) and who.draft.text == "楼道灯又坏了" and who.draft.photos == ["p1"]
    assert who.draft.attachments == [{"kind": "voice", "file_id": "v1"}] and who.draft.candidates == ["repair"]
    assert who.draft.updated_at == NOW and who.draft.updated_at.tzinfo is not None
    assert isinstance(who.conversation, Conversation) and who.flow(NOW) == "notice"
    assert who.flow_data("notice", NOW) == {"step": 2, "text": "停水"}
    assert who.pending_info is not None and who.known == ("zhao_dy", "赵大爷") and who.confirmed is None
    assert counted.confirmed == expected == 2 and later.confirmed == 0
    assert counted.resident is not None and counted.resident.id == r.id
    # the same read on a connection of its own (what the bot does for every update) answers the same, field by field
    alone = await speakers.speaker(any_db, big, confirmed_since=NOW - timedelta(seconds=10))
    assert alone == counted
    assert alone.resident.model_dump() == counted.resident.model_dump()
    assert alone.draft.model_dump() == counted.draft.model_dump() and alone.draft.updated_at.tzinfo is not None


async def test_a_case_and_its_owner_in_one_read_on_both_engines(any_db: Database) -> None:
    community = load_community(None)
    async with any_db.transaction() as s:
        r = await create_resident(s, tg_user_id=91, name="孙奶奶", now=NOW)
        opened = await intake.open_case(s, resident=r, intake=intake.Intake(
            category="repair", text="5号楼电梯坏了", location="5号楼"), community=community, staff_chat_id=None,
            now=NOW)
        case_id = opened.ticket.id
    async with any_db.session() as s:
        loaded = await s.get(Ticket, case_id)
        in_session = await with_owner(s, case_id)
    alone = await with_owner(any_db, case_id)
    assert alone is not None and in_session is not None and loaded is not None
    assert alone[1] == in_session[1] == "孙奶奶"
    assert alone[0].model_dump() == in_session[0].model_dump() == loaded.model_dump()
    assert alone[0].due_at.tzinfo is not None and alone[0].number.startswith("LL-")
    assert await with_owner(any_db, case_id + 1000) is None
