"""Staff desk data: TicketPost routing lookups, which chat sees which queue, the board, and migration 0003."""

import dataclasses
from datetime import datetime, timedelta

from alembic import command
from alembic.config import Config
from sqlalchemy import create_engine, inspect

from services import SHANGHAI
from services.cases import desk as reports
from services.cases.lifecycle import transition
from services.cases.tickets import open_ticket
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community
from services.people.residents import get_or_create_resident
from storage.db import MIGRATIONS_DIR, Database, sync_url
from storage.models import PostKind, Resident, Ticket, TicketStatus

_SAMPLE = load_community(SAMPLE_COMMUNITY_FILE)
COMMUNITY = dataclasses.replace(
    _SAMPLE,
    units=tuple(dataclasses.replace(u, chat_id=-100 - i) for i, u in enumerate(_SAMPLE.units)),
    escalation=tuple(dataclasses.replace(e, chat_id=-900 - i) for i, e in enumerate(_SAMPLE.escalation)),
)
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
STAFF = -555


async def resident(db: Database, tg: int = 1001) -> Resident:
    async with db.transaction() as s:
        return await get_or_create_resident(s, tg_user_id=tg, name="居民", now=NOW)


async def open_one(db: Database, r: Resident, category: str = "noise", now: datetime = NOW) -> Ticket:
    async with db.transaction() as s:
        return await open_ticket(s, resident=r, category=category, text="楼上装修太吵", location="10号楼",
                                 photos=[], community=COMMUNITY, now=now)


async def test_posts_are_found_by_chat_and_message_and_the_unit_card_comes_first(db: Database) -> None:
    t = await open_one(db, await resident(db))
    async with db.transaction() as s:
        await reports.record_post(s, t.id, -100, 7, PostKind.TICKET, NOW)
        await reports.record_post(s, t.id, -900, 3, PostKind.ESCALATION, NOW)
        await reports.record_post(s, t.id, -100, 9, PostKind.RELAY, NOW)
        await reports.record_post(s, t.id, -100, 10, PostKind.ASK_RESULT, NOW)
    async with db.session() as s:
        assert (await reports.find_post(s, -100, 10)).kind is PostKind.ASK_RESULT
        assert await reports.find_post(s, -101, 10) is None  # message ids are per chat
        assert [p.message_id for p in await reports.posts_of(s, t.id)] == [7, 3]  # cards only
        assert (await reports.latest_card(s, t.id)).message_id == 7  # the unit's card, not the escalation's
        assert (await reports.latest_card(s, t.id, chat_id=-900)).message_id == 3
        assert await reports.latest_card(s, t.id, chat_id=-555) is None


async def test_one_row_per_message_and_case_and_recording_it_again_changes_nothing(any_db: Database) -> None:
    """A card recorded twice (a combined message listing the case twice, a mark committed again) stays one row,
    on SQLite and on PostgreSQL; other cases under the same combined message keep their own rows."""
    r = await resident(any_db)
    t, other = await open_one(any_db, r), await open_one(any_db, r, "repair")
    async with any_db.transaction() as s:
        assert await reports.record_post(s, t.id, -100, 7, PostKind.TICKET, NOW, batch=True)
        assert not await reports.record_post(s, t.id, -100, 7, PostKind.ESCALATION, NOW, batch=True)
        assert await reports.record_post(s, other.id, -100, 7, PostKind.TICKET, NOW, batch=True)
    async with any_db.transaction() as s:
        assert not await reports.record_post(s, t.id, -100, 7, PostKind.TICKET, NOW, batch=True)
    async with any_db.session() as s:
        posts = await reports.find_posts(s, -100, 7)
        assert [(p.ticket_id, p.kind) for p in posts] == [(t.id, PostKind.TICKET), (other.id, PostKind.TICKET)]
        assert [x.id for x in await reports.batch_tickets(s, -100, 7)] == [t.id, other.id]


def test_desk_units_by_chat() -> None:
    juweihui = COMMUNITY.unit_for("noise")
    assert reports.desk_units(COMMUNITY, juweihui.chat_id, STAFF) == {juweihui.code}
    assert reports.desk_units(COMMUNITY, STAFF, STAFF) is None  # the staff chat sees every unit
    assert reports.desk_units(COMMUNITY, -900, STAFF) is None  # so do escalation chats
    assert reports.desk_units(COMMUNITY, -1234, STAFF) is False
    assert reports.desk_units(COMMUNITY, -1234, None) is False


async def test_queue_board_and_pending(db: Database) -> None:
    r = await resident(db)
    noise = await open_one(db, r)
    repair = await open_one(db, r, "repair", NOW - timedelta(hours=20))  # 24 h limit: yellow by now
    async with db.transaction() as s:
        t = await s.get(Ticket, noise.id)
        assert (await transition(s, t, TicketStatus.DISPATCHED, actor="system", now=NOW)).ok
        assert (await transition(s, t, TicketStatus.SIGNED, actor="staff:1", now=NOW)).ok
        assert (await transition(s, t, TicketStatus.PENDING_INFO, actor="staff:1", now=NOW)).ok
    async with db.session() as s:
        every = await reports.open_tickets(s, None)
        assert [t.id for t in every] == [repair.id, noise.id]  # earliest deadline first
        assert [t.id for t in await reports.open_tickets(s, {"juweihui"})] == [noise.id]
        groups = reports.by_colour(every, NOW)
        assert [[t.id for t in g] for g in groups.values()] == [[], [repair.id], [noise.id]]
        assert reports.board_rows(every, NOW, COMMUNITY) == [
            (COMMUNITY.unit("wuye").name, 0, 1, 0), (COMMUNITY.unit("juweihui").name, 0, 0, 1)]
        assert await reports.pending_info_number(s, r.tg_user_id) == noise.number
        assert await reports.pending_info_number(s, 4242) is None
        assert await reports.tg_ids(s, [r.id, r.id, 999]) == [r.tg_user_id]


async def test_migration_0003_downgrades_and_upgrades(db: Database) -> None:
    async def tables() -> set[str]:
        async with db.engine.connect() as conn:
            return set(await conn.run_sync(lambda c: inspect(c).get_table_names()))

    assert "ticket_posts" in await tables()
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    engine = create_engine(sync_url(db.url))
    try:
        with engine.begin() as conn:
            config.attributes["connection"] = conn
            command.downgrade(config, "0002")
    finally:
        engine.dispose()
    assert "ticket_posts" not in await tables()
    await db.migrate_async()
    assert "ticket_posts" in await tables()
