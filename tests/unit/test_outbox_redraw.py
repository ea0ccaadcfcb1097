"""Refresh rows that redraw only some of a case's cards (left by a refresh whose chat could not take them): owed
once for what no waiting refresh covers yet, and never taken for a refresh of the whole case."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime

from sqlmodel import col, select

from services import SHANGHAI, outbox
from services.cases import desk as reports
from services.cases.tickets import open_ticket
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community
from services.people.residents import get_or_create_resident
from storage.db import Database
from storage.models import OutboxKind, OutboxMessage, PostKind, Ticket

_SAMPLE = load_community(SAMPLE_COMMUNITY_FILE)
COMMUNITY = dataclasses.replace(
    _SAMPLE, units=tuple(dataclasses.replace(u, chat_id=-300 - i) for i, u in enumerate(_SAMPLE.units)))
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
UNIT, GRID, WORKER = -300, -701, 8801


async def case_with_cards(db: Database, tg: int = 1001) -> tuple[Ticket, dict[str, int]]:
    """A case with its card in its unit's chat, its escalation card in the grid level's chat and a grid worker's
    private card: (ticket, post id by where)."""
    async with db.transaction() as s:
        person = await get_or_create_resident(s, tg_user_id=tg, name="居民", now=NOW)
        t = await open_ticket(s, resident=person, category="noise", text="楼上装修太吵", location="10号楼",
                              photos=[], community=COMMUNITY, now=NOW)
        await reports.record_post(s, t.id, UNIT, 7, PostKind.TICKET, NOW)
        await reports.record_post(s, t.id, GRID, 31, PostKind.ESCALATION, NOW)
        await reports.record_post(s, t.id, WORKER, 5, PostKind.TICKET, NOW)
    async with db.session() as s:
        posts = await reports.posts_of(s, t.id, reports.DRAWN_KINDS)
    return t, {"unit": posts[0].id, "grid": posts[1].id, "worker": posts[2].id}  # type: ignore[dict-item]


async def refreshes(db: Database) -> list[tuple[int, dict]]:
    async with db.session() as s:
        rows = (await s.exec(select(OutboxMessage).where(OutboxMessage.kind == OutboxKind.REFRESH)
                             .order_by(col(OutboxMessage.id)))).all()
    return [(r.chat_id, dict(r.payload)) for r in rows]


async def start_heads(db: Database) -> None:
    """Each chat's first refresh claimed (being sent): it may have drawn the case before the change that owes the
    next one."""
    async with db.transaction() as s:
        assert await outbox.claim_batch(s, datetime.now(UTC), 50)


async def test_a_redraw_waiting_for_one_chat_does_not_stand_in_for_a_refresh_of_every_card(any_db: Database) -> None:
    db = any_db
    t, posts = await case_with_cards(db)
    assert t.id is not None
    async with db.transaction() as s:
        await outbox.owe_redraw(s, ticket_id=t.id, chat_id=GRID, posts=[posts["grid"]], upto=posts["worker"],
                                now=NOW)
        await outbox.owe_refresh(s, ticket_id=t.id, chat_id=UNIT, now=NOW)  # the case changed again
    assert await refreshes(db) == [
        (GRID, {"upto": posts["worker"], "posts": [posts["grid"]]}),
        (UNIT, {"upto": posts["worker"]}),  # owed all the same: the unit's card and the worker's need it too
    ]


async def test_a_redraw_is_owed_once_for_cards_no_waiting_refresh_covers(any_db: Database) -> None:
    db = any_db
    t, posts = await case_with_cards(db)
    other, other_posts = await case_with_cards(db, tg=1002)
    assert t.id is not None and other.id is not None
    grid, worker = [posts["grid"]], [posts["worker"]]
    async with db.transaction() as s:
        await outbox.owe_redraw(s, ticket_id=t.id, chat_id=GRID, posts=grid, upto=posts["worker"], now=NOW)
        await outbox.owe_redraw(s, ticket_id=t.id, chat_id=GRID, posts=grid, upto=posts["worker"], now=NOW)  # same
        await outbox.owe_redraw(s, ticket_id=t.id, chat_id=WORKER, posts=worker, upto=posts["worker"], now=NOW)
        await outbox.owe_redraw(s, ticket_id=other.id, chat_id=GRID, posts=[other_posts["grid"]],  # another case
                                upto=other_posts["worker"], now=NOW)
        await outbox.owe_redraw(s, ticket_id=t.id, chat_id=GRID, posts=[], upto=None, now=NOW)  # nothing left
    assert [chat for chat, _ in await refreshes(db)] == [GRID, WORKER, GRID]
    await start_heads(db)
    async with db.transaction() as s:  # started rows may have drawn the case before this change: owed again
        await outbox.owe_redraw(s, ticket_id=t.id, chat_id=GRID, posts=grid, upto=posts["worker"], now=NOW)
        await outbox.owe_refresh(s, ticket_id=t.id, chat_id=UNIT, now=NOW)
        # a refresh of the whole case, not started, covers every card posted by its upto: nothing more owed
        await outbox.owe_redraw(s, ticket_id=t.id, chat_id=WORKER, posts=worker, upto=posts["worker"], now=NOW)
    assert [chat for chat, _ in await refreshes(db)] == [GRID, WORKER, GRID, GRID, UNIT]


async def test_a_combined_message_waiting_to_be_redrawn_for_one_case_is_not_owed_again_for_another(
        any_db: Database) -> None:
    """Two cases listed in one combined message in the grid chat (a sweep's backlog): the message is redrawn whole,
    so a redraw waiting for it on behalf of one case covers the other's change too; a card of its own does not."""
    db = any_db
    first, _ = await case_with_cards(db)
    second, own = await case_with_cards(db, tg=1002)
    assert first.id is not None and second.id is not None
    async with db.transaction() as s:
        await reports.record_post(s, first.id, GRID, 40, PostKind.ESCALATION, NOW, batch=True)
        await reports.record_post(s, second.id, GRID, 40, PostKind.ESCALATION, NOW, batch=True)
    async with db.session() as s:
        combined = {t: next(p.id for p in await reports.posts_of(s, t, reports.DRAWN_KINDS) if p.batch)
                    for t in (first.id, second.id)}
    async with db.transaction() as s:
        await outbox.owe_redraw(s, ticket_id=first.id, chat_id=GRID, posts=[combined[first.id]], upto=None, now=NOW)
        await outbox.owe_redraw(s, ticket_id=second.id, chat_id=GRID, posts=[own["grid"], combined[second.id]],
                                upto=None, now=NOW)
    assert [(chat, p["posts"]) for chat, p in await refreshes(db)] == [
        (GRID, [combined[first.id]]), (GRID, [own["grid"]])]  # the second case's own card only
    await start_heads(db)
    async with db.transaction() as s:  # being sent already, perhaps drawn before this change: owed again
        await outbox.owe_redraw(s, ticket_id=second.id, chat_id=GRID, posts=[combined[second.id]], upto=None,
                                now=NOW)
    assert [p["posts"] for _, p in await refreshes(db)][-1] == [combined[second.id]]
