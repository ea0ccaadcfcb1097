"""Follow-up: rating requests after the delay, 满意/基本满意 close, 不满意 reopens and escalates, silence
closes as 未评价 (counted apart), and the 三率 figures."""

from datetime import datetime, timedelta

import pytest

from services import SHANGHAI
from services.cases.events import staff_actor
from services.cases.followup import RateOutcome, due_followups, expire_unrated, mark_requested, rate, rates
from services.cases.lifecycle import transition
from services.cases.sweep import EscalationReason, escalate
from services.cases.tickets import history, open_ticket
from services.community.model import SAMPLE_COMMUNITY_FILE, EscalationLevelName, load_community
from services.people.residents import get_or_create_resident
from storage.db import Database
from storage.models import Rating, Resident, Ticket, TicketEventKind, TicketStatus

S = TicketStatus
COMMUNITY = load_community(SAMPLE_COMMUNITY_FILE)
NOW = datetime(2026, 11, 22, 9, 30, tzinfo=SHANGHAI)
H = timedelta(hours=1)
RESOLVE = (S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.RESOLVED)


async def make_resident(db: Database, tg_user_id: int = 1001) -> Resident:
    async with db.transaction() as s:
        return await get_or_create_resident(s, tg_user_id=tg_user_id, name="居民", now=NOW)


async def open_one(db: Database, resident: Resident, *, now: datetime = NOW, category: str = "noise") -> Ticket:
    async with db.transaction() as s:
        return await open_ticket(
            s,
            resident=resident,
            category=category,
            text="楼上装修太吵",
            location=None,
            photos=[],
            community=COMMUNITY,
            now=now,
        )


async def step(db: Database, ticket_id: int, to: TicketStatus, now: datetime) -> None:
    async with db.transaction() as s:
        ticket = await s.get(Ticket, ticket_id)
        result = await transition(s, ticket, to, actor=staff_actor(1), now=now, result="已处理")
    assert result.ok, (to, result)


async def resolved_ticket(db: Database, resident: Resident | None = None, *, at: datetime = NOW + H) -> Ticket:
    ticket = await open_one(db, resident or await make_resident(db))
    for to in RESOLVE:
        await step(db, ticket.id, to, at)
    return ticket


async def load(db: Database, ticket_id: int) -> Ticket:
    async with db.session() as s:
        return await s.get(Ticket, ticket_id)


async def give(db: Database, ticket_id: int, rating: Rating, comment: str | None = None, now: datetime = NOW + 3 * H):
    async with db.transaction() as s:
        ticket = await s.get(Ticket, ticket_id)
        return await rate(s, ticket, rating, comment, now, community=COMMUNITY)


# --- requests ---------------------------------------------------------------------------------------


async def test_rating_request_is_due_an_hour_after_resolution_and_sent_once(db: Database) -> None:
    ticket = await resolved_ticket(db)
    async with db.session() as s:
        assert await due_followups(s, NOW + 2 * H - timedelta(seconds=1)) == []
        assert [t.id for t in await due_followups(s, NOW + 2 * H)] == [ticket.id]
        assert [t.id for t in await due_followups(s, NOW + H, delay=timedelta(0))] == [ticket.id]
    async with db.transaction() as s:
        due = await due_followups(s, NOW + 2 * H)
        assert await mark_requested(s, due[0], NOW + 2 * H)
    async with db.session() as s:
        assert await due_followups(s, NOW + 5 * H) == []
    assert (await load(db, ticket.id)).version == len(RESOLVE)  # bookkeeping leaves buttons valid


# --- ratings ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("rating", [Rating.SATISFIED, Rating.BASICALLY_SATISFIED])
async def test_satisfied_closes_through_followed_up(db: Database, rating: Rating) -> None:
    ticket = await resolved_ticket(db)
    result = await give(db, ticket.id, rating, "  谢谢 ")
    assert (result.outcome, result.escalation) == (RateOutcome.OK, None)
    stored = await load(db, ticket.id)
    assert (stored.status, stored.rating, stored.rating_comment, stored.rated_at) == (
        S.CLOSED,
        rating,
        "谢谢",
        NOW + 3 * H,
    )
    async with db.session() as s:
        tail = [(e.kind, e.to_status, e.rating) for e in await history(s, ticket.id)][-3:]
    assert tail == [
        (TicketEventKind.RATED, None, rating),
        (TicketEventKind.STATUS_CHANGED, S.FOLLOWED_UP, None),
        (TicketEventKind.STATUS_CHANGED, S.CLOSED, None),
    ]


async def test_unsatisfied_reopens_and_escalates_one_level_above_the_one_that_handled_it(db: Database) -> None:
    """A case never escalated was handled at the grid's level (its unit, the grid's worker): 不满意 sends it to the
    community, never back to the grid worker (the trial's 升级至网格员); then to the street, which stays the top."""
    ticket = await resolved_ticket(db)
    when = NOW + 3 * H
    result = await give(db, ticket.id, Rating.UNSATISFIED, "还是很吵", now=when)
    assert result.ok and result.escalation is not None
    assert (result.escalation.level, result.escalation.reason) == (
        EscalationLevelName.COMMUNITY,
        EscalationReason.UNSATISFIED,
    )
    stored = await load(db, ticket.id)
    assert (stored.status, stored.rating, stored.escalation_level) == (S.REOPENED, Rating.UNSATISFIED, "community")
    assert (stored.clock_started_at, stored.due_at, stored.next_check_at) == (when, when + 168 * H, when + 2 * H)
    async with db.session() as s:
        tail = [(e.kind, e.to_status, e.level) for e in await history(s, ticket.id)][-3:]
    assert tail == [
        (TicketEventKind.RATED, None, None),
        (TicketEventKind.STATUS_CHANGED, S.REOPENED, None),
        (TicketEventKind.ESCALATED, None, "community"),
    ]
    # handled again and resolved: a second 不满意 climbs one more level, a third stays at the top
    for level in (EscalationLevelName.STREET, EscalationLevelName.STREET):
        for to in (S.SIGNED, S.IN_PROGRESS, S.RESOLVED):
            await step(db, ticket.id, to, when + H)
        again = await give(db, ticket.id, Rating.UNSATISFIED, now=when + 2 * H)
        assert again.escalation.level is level


async def test_unsatisfied_with_a_case_the_grid_level_held_goes_to_the_community(db: Database) -> None:
    """A case escalated to the grid (late) and handled there: 不满意 goes one above the grid, not to it again."""
    ticket = await open_one(db, await make_resident(db))
    async with db.transaction() as s:
        t = await s.get(Ticket, ticket.id)
        assert await escalate(s, t, reason=EscalationReason.SIGN_OVERDUE, actor="system", now=NOW + H,
                              community=COMMUNITY)
    assert (await load(db, ticket.id)).escalation_level == "grid"
    for to in RESOLVE:
        await step(db, ticket.id, to, NOW + 2 * H)
    result = await give(db, ticket.id, Rating.UNSATISFIED, "网格员根本没来", now=NOW + 3 * H)
    assert result.escalation.level is EscalationLevelName.COMMUNITY
    assert (await load(db, ticket.id)).escalation_level == "community"


async def test_rating_refusals(db: Database) -> None:
    resident = await make_resident(db)
    open_ticket_ = await open_one(db, resident)
    assert (await give(db, open_ticket_.id, Rating.SATISFIED)).outcome is RateOutcome.NOT_RATABLE
    resolved = await resolved_ticket(db, resident)
    assert (await give(db, resolved.id, Rating.UNRATED)).outcome is RateOutcome.INVALID_RATING
    assert (await give(db, resolved.id, Rating.SATISFIED)).ok
    assert (await give(db, resolved.id, Rating.UNSATISFIED)).outcome is RateOutcome.NOT_RATABLE  # closed


async def test_rating_with_a_stale_ticket_is_a_conflict(db: Database) -> None:
    ticket = await resolved_ticket(db)
    async with db.session() as s:
        stale = await s.get(Ticket, ticket.id)
        await s.commit()
        assert (await give(db, ticket.id, Rating.SATISFIED)).ok
        result = await rate(s, stale, Rating.UNSATISFIED, None, NOW + 4 * H, community=COMMUNITY)
        await s.commit()
    assert result.outcome is RateOutcome.CONFLICT
    assert (await load(db, ticket.id)).rating is Rating.SATISFIED


# --- silence ----------------------------------------------------------------------------------------


async def test_no_answer_in_three_days_closes_as_unrated(db: Database) -> None:
    asked, never_asked, answered = [await resolved_ticket(db, await make_resident(db, i)) for i in (1, 2, 3)]
    async with db.transaction() as s:
        await mark_requested(s, await s.get(Ticket, asked.id), NOW + 10 * H)
    await give(db, answered.id, Rating.BASICALLY_SATISFIED)
    async with db.transaction() as s:
        # never_asked counts from when it should have been asked (resolved + 1 h = NOW + 2 h)
        assert [t.id for t in await expire_unrated(s, NOW + 2 * H + 72 * H)] == [never_asked.id]
    async with db.transaction() as s:
        assert await expire_unrated(s, NOW + 10 * H + 72 * H - timedelta(seconds=1)) == []
        assert [t.id for t in await expire_unrated(s, NOW + 10 * H + 72 * H)] == [asked.id]
    for ticket_id in (asked.id, never_asked.id):
        stored = await load(db, ticket_id)
        assert (stored.status, stored.rating, stored.rated_at) == (S.CLOSED, Rating.UNRATED, None)


# --- 三率 ----------------------------------------------------------------------------------------------


async def test_rates(db: Database) -> None:
    resident = await make_resident(db)
    t = [await open_one(db, resident) for _ in range(6)]
    # 0: signed in time, resolved in time, satisfied
    for to in RESOLVE:
        await step(db, t[0].id, to, NOW + H)
    await give(db, t[0].id, Rating.SATISFIED)
    # 1: signed late, resolved late, unsatisfied (reopened, still counted by its rating)
    await step(db, t[1].id, S.DISPATCHED, NOW)
    await step(db, t[1].id, S.SIGNED, NOW + 3 * H)
    await step(db, t[1].id, S.IN_PROGRESS, NOW + 3 * H)
    await step(db, t[1].id, S.RESOLVED, NOW + 200 * H)
    await give(db, t[1].id, Rating.UNSATISFIED, now=NOW + 201 * H)
    # 2: signed in time, resolved in time, closed unrated
    for to in RESOLVE:
        await step(db, t[2].id, to, NOW + H)
    async with db.transaction() as s:
        await expire_unrated(s, NOW + 100 * H)
    # 3: never signed, deadline passed: a miss on both counts
    # 4: withdrawn within the first hour: judged against nothing
    async with db.transaction() as s:
        await transition(s, await s.get(Ticket, t[4].id), S.WITHDRAWN, actor="resident:1", now=NOW + H / 2)
    # 5: merged duplicate: not a case of its own
    async with db.transaction() as s:
        dup, into = await s.get(Ticket, t[5].id), await s.get(Ticket, t[3].id)
        assert (await transition(s, dup, S.MERGED, actor=staff_actor(1), now=NOW, merged_into=into)).ok
    # one ticket outside the window
    await open_one(db, resident, now=NOW - 48 * H)

    async with db.session() as s:
        soon = await rates(s, NOW - H, NOW + H)  # as of the window's end
        later = await rates(s, NOW - H, NOW + H, now=NOW + 500 * H)
    # soon: t3's sign-for deadline (NOW + 2 h) has not passed; t1 is judged on its reopened round
    assert (soon.response.hits, soon.response.total) == (2, 2)  # t0, t2
    assert (soon.resolution.hits, soon.resolution.total) == (2, 2)  # t0, t2
    assert (soon.satisfaction.hits, soon.satisfaction.total, soon.unrated) == (1, 2, 1)  # t0 of t0, t1; t2
    assert soon.satisfaction.value == pytest.approx(0.5)
    # later: t3 missed both deadlines, and t1's second round ran out too
    assert (later.response.hits, later.response.total) == (2, 4)
    assert (later.resolution.hits, later.resolution.total) == (2, 4)


async def test_rates_judge_open_tickets_only_once_their_deadline_passed(db: Database) -> None:
    resident = await make_resident(db)
    unsigned = await open_one(db, resident)
    async with db.session() as s:
        early = await rates(s, NOW - H, NOW + H)
        late = await rates(s, NOW - H, NOW + 500 * H)
    assert (early.response.total, early.resolution.total) == (0, 0)
    assert early.response.value is None
    assert (late.response.hits, late.response.total, late.resolution.hits, late.resolution.total) == (0, 1, 0, 1)
    # pending_info: the deadline slides while waiting, so a long wait is not a miss
    for to in (S.DISPATCHED, S.SIGNED, S.PENDING_INFO):
        await step(db, unsigned.id, to, NOW + H)
    async with db.session() as s:
        waiting = await rates(s, NOW - H, NOW + 500 * H)
    assert (waiting.response.hits, waiting.response.total, waiting.resolution.total) == (1, 1, 0)
