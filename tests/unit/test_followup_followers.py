"""回访 for the neighbours following a case (their complaints joined it): each rates it once a round of 办结 on their
own row, the case's rating stays its author's; a follower's 不满意 reopens and escalates as the author's does; the
author's 满意 waits at 已回访 for the followers asked, closed by the last answer or when the window passes. And the
message a draft is shown in, kept so a typed 确认 edits it. On both engines."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlmodel import select

from services.cases import drafts, duplicates
from services.cases.drafts import DraftStage
from services.cases.events import staff_actor
from services.cases.followup import (
    RateOutcome,
    due_followups,
    expire_unrated,
    mark_requested,
    rate,
    rate_as_follower,
    unrated_followers,
)
from services.cases.lifecycle import transition
from services.cases.sweep import EscalationReason
from services.cases.tickets import open_ticket
from services.community.model import SAMPLE_COMMUNITY_FILE, load_community
from services.people.residents import get_or_create_resident
from storage.db import Database
from storage.models import Rating, Resident, Ticket, TicketEvent, TicketEventKind, TicketFollower, TicketStatus

S = TicketStatus
COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 11, 22, 1, 30, tzinfo=UTC)
H = timedelta(hours=1)


async def person(db: Database, tg: int | None, name: str = "居民") -> Resident:
    async with db.transaction() as s:
        if tg is None:
            r = Resident(name=name, created_at=NOW, updated_at=NOW)
            s.add(r)
            await s.flush()
            return r
        return await get_or_create_resident(s, tg_user_id=tg, name=name, now=NOW)


async def followed_case(db: Database, *followers: Resident, base: int = 7_000_000_000) -> tuple[Ticket, Resident]:
    """A resolved case of its author with ``followers`` linked to it while it was open."""
    owner = await person(db, base, "作者")
    async with db.transaction() as s:
        t = await open_ticket(s, resident=owner, category="noise", text="楼上装修太吵", location="9号楼", photos=[],
                              community=COMMUNITY, now=NOW)
        for f in followers:
            assert (await duplicates.link(s, t, f, NOW, text="太吵了")).status == duplicates.LinkStatus.LINKED
    for to in (S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.RESOLVED):
        await step(db, t.id, to, NOW + H)
    return await load(db, t.id), owner


async def step(db: Database, ticket_id: int, to: TicketStatus, now: datetime) -> None:
    async with db.transaction() as s:
        t = await s.get(Ticket, ticket_id)
        assert (await transition(s, t, to, actor=staff_actor(1), now=now, result="已处理")).ok, to


async def load(db: Database, ticket_id: int) -> Ticket:
    async with db.session() as s:
        return await s.get(Ticket, ticket_id)


async def by_author(db: Database, ticket_id: int, rating: Rating, now: datetime):  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        return await rate(s, await s.get(Ticket, ticket_id), rating, None, now, community=COMMUNITY)


async def by_follower(db: Database, ticket_id: int, who: Resident, rating: Rating, now: datetime,
                      comment: str | None = None):  # type: ignore[no-untyped-def]
    async with db.transaction() as s:
        return await rate_as_follower(s, await s.get(Ticket, ticket_id), who.id, rating, comment, now,
                                      community=COMMUNITY)


async def row_of(db: Database, ticket_id: int, who: Resident) -> TicketFollower:
    async with db.session() as s:
        stmt = select(TicketFollower).where(TicketFollower.ticket_id == ticket_id, TicketFollower.resident_id == who.id)
        return (await s.exec(stmt)).one()


async def test_a_follower_rates_on_their_own_row_once_a_round(any_db: Database) -> None:
    zhao, stranger = await person(any_db, 7_000_000_101, "赵大爷"), await person(any_db, 7_000_000_102)
    t, _ = await followed_case(any_db, zhao)
    assert (await by_follower(any_db, t.id, zhao, Rating.UNRATED, NOW + 2 * H)).outcome is RateOutcome.INVALID_RATING
    assert (await by_follower(any_db, t.id, stranger, Rating.SATISFIED, NOW + 2 * H)).outcome is \
        RateOutcome.NOT_FOLLOWER
    assert (await by_follower(any_db, t.id, zhao, Rating.SATISFIED, NOW + 2 * H, " 挺好 ")).ok
    row = await row_of(any_db, t.id, zhao)
    assert (row.rating, row.rated_at, row.rating_comment) == (Rating.SATISFIED, NOW + 2 * H, "挺好")
    stored = await load(any_db, t.id)
    assert (stored.status, stored.rating, stored.rated_at) == (S.RESOLVED, None, None)  # the author's, to come
    again = await by_follower(any_db, t.id, zhao, Rating.UNSATISFIED, NOW + 3 * H)
    assert again.outcome is RateOutcome.NOT_RATABLE  # once a round
    assert (await row_of(any_db, t.id, zhao)).rating is Rating.SATISFIED
    async with any_db.session() as s:
        events = (await s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                         TicketEvent.kind == TicketEventKind.RATED))).all()
    assert [(e.actor, e.rating, e.note) for e in events] == [(f"resident:{zhao.id}", Rating.SATISFIED, "挺好")]


async def test_the_author_s_satisfied_waits_at_followed_up_for_the_followers_asked(any_db: Database) -> None:
    zhao, qian = await person(any_db, 7_000_000_111, "赵大爷"), await person(any_db, 7_000_000_112, "钱阿姨")
    t, _ = await followed_case(any_db, zhao, qian)
    assert (await by_author(any_db, t.id, Rating.SATISFIED, NOW + 2 * H)).ok
    stored = await load(any_db, t.id)
    assert (stored.status, stored.rating) == (S.FOLLOWED_UP, Rating.SATISFIED)
    assert (await by_author(any_db, t.id, Rating.UNSATISFIED, NOW + 3 * H)).outcome is RateOutcome.NOT_RATABLE
    assert (await by_follower(any_db, t.id, zhao, Rating.BASICALLY_SATISFIED, NOW + 3 * H)).ok
    assert (await load(any_db, t.id)).status == S.FOLLOWED_UP  # 钱阿姨 still owes hers
    async with any_db.session() as s:
        assert [r.id for r in await unrated_followers(s, await s.get(Ticket, t.id))] == [qian.id]
    assert (await by_follower(any_db, t.id, qian, Rating.SATISFIED, NOW + 4 * H)).ok
    stored = await load(any_db, t.id)
    assert (stored.status, stored.rating, stored.closed_at) == (S.CLOSED, Rating.SATISFIED, NOW + H)  # 办结's


async def test_a_follower_s_unsatisfied_reopens_and_escalates_and_the_next_round_asks_again(any_db: Database) -> None:
    zhao = await person(any_db, 7_000_000_121, "赵大爷")
    t, _ = await followed_case(any_db, zhao)
    assert (await by_author(any_db, t.id, Rating.SATISFIED, NOW + 2 * H)).ok
    result = await by_follower(any_db, t.id, zhao, Rating.UNSATISFIED, NOW + 3 * H, "晚上还在敲")
    assert result.ok and result.escalation is not None
    assert result.escalation.reason is EscalationReason.UNSATISFIED
    stored = await load(any_db, t.id)
    assert (stored.status, stored.escalation_level, stored.rating) == (S.REOPENED, "community", Rating.SATISFIED)
    async with any_db.session() as s:
        reopened = (await s.exec(select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                                           TicketEvent.to_status == S.REOPENED))).one()
    assert (reopened.actor, reopened.note) == (f"resident:{zhao.id}", "晚上还在敲")
    # done again and resolved: a new round, the neighbour asked and answering again
    for to in (S.SIGNED, S.IN_PROGRESS, S.RESOLVED):
        await step(any_db, t.id, to, NOW + 5 * H)
    async with any_db.session() as s:
        assert [r.id for r in await unrated_followers(s, await s.get(Ticket, t.id))] == [zhao.id]
    assert (await by_follower(any_db, t.id, zhao, Rating.SATISFIED, NOW + 6 * H)).ok
    assert (await by_author(any_db, t.id, Rating.SATISFIED, NOW + 6 * H)).ok
    assert (await load(any_db, t.id)).status == S.CLOSED


async def test_followers_the_bot_cannot_reach_are_not_waited_for(any_db: Database) -> None:
    blocked, offline = await person(any_db, 7_000_000_131, "孙阿姨"), await person(any_db, None, "周大爷")
    async with any_db.transaction() as s:
        r = await s.get(Resident, blocked.id)
        r.unreachable_at = NOW
        s.add(r)
    t, _ = await followed_case(any_db, blocked, offline)
    assert (await by_author(any_db, t.id, Rating.SATISFIED, NOW + 2 * H)).ok
    assert (await load(any_db, t.id)).status == S.CLOSED


async def test_followers_are_asked_when_the_author_rated_first_and_the_window_closes_the_wait(
        any_db: Database) -> None:
    zhao = await person(any_db, 7_000_000_141, "赵大爷")
    t, _ = await followed_case(any_db, zhao)
    assert (await by_author(any_db, t.id, Rating.SATISFIED, NOW + H + timedelta(minutes=5))).ok  # before 回访
    async with any_db.transaction() as s:
        due = await due_followups(s, NOW + 2 * H)
        assert [x.id for x in due] == [t.id]  # 已回访, its neighbour not asked yet: asked now
        assert await mark_requested(s, due[0], NOW + 2 * H)
    async with any_db.transaction() as s:
        assert await expire_unrated(s, NOW + 2 * H + 72 * H - timedelta(seconds=1)) == []
        assert [x.id for x in await expire_unrated(s, NOW + 2 * H + 72 * H)] == [t.id]
    stored = await load(any_db, t.id)
    assert (stored.status, stored.rating) == (S.CLOSED, Rating.SATISFIED)
    assert (await row_of(any_db, t.id, zhao)).rating is None


async def test_the_message_showing_a_draft_is_kept_for_that_draft_only(any_db: Database) -> None:
    r = await person(any_db, 7_000_000_151)
    draft = drafts.changed(drafts.appended(None, r.id, "楼道灯坏了", NOW).draft, now=NOW, category="repair",
                           stage=DraftStage.CONFIRMING)
    async with any_db.transaction() as s:
        assert await drafts.save(s, draft, seen=None)
        for message_id, seen, written in ((41, NOW - timedelta(seconds=1), 0), (42, NOW, 1)):  # 41: not the draft shown
            statement, params = drafts.shown_hint(r.id, message_id, seen=seen)
            assert (await s.exec(statement, params=params)).rowcount == written  # type: ignore[call-overload]
        row = await drafts.read(s, r.id)
    assert (row.shown_message_id, row.updated_at) == (42, NOW)  # not a change: the join window is the same
    joined = drafts.appended(row, r.id, "三楼", NOW + timedelta(seconds=20)).draft
    assert joined.shown_message_id == 42  # until shown again, the yes edits the message the resident saw
    late = drafts.appended(row, r.id, "水管漏水", NOW + timedelta(minutes=5)).draft
    assert late.shown_message_id is None  # a new draft: that message was another's
    async with any_db.transaction() as s:
        assert await drafts.save(s, late, seen=NOW)
        assert (await drafts.read(s, r.id)).shown_message_id is None  # type: ignore[union-attr]
