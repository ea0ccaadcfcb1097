"""Follow-up (回访) after 办结, the resident's rating, and the 三率 figures staff are judged by.

A resolved ticket asks its resident for a rating after ``FOLLOWUP_DELAY``. 满意 and 基本满意 close the
case through 已回访; 不满意 reopens it and escalates it one level above the level that handled it (a case the grid's
level handled goes to the community). Nobody answering within ``ANSWER_WINDOW`` closes it as 未评价
(``Rating.UNRATED``): counted on its own, never as satisfied.

The neighbours whose complaints joined the case (its followers, told at 办结 that they will be asked) are asked
with its resident, each once a round of 办结, and answer on their own row (``TicketFollower.rating``; the case's
rating stays its author's). A follower's 不满意 reopens and escalates the case as its author's does; so the
author's 满意 stops at 已回访 while a follower who was asked has not answered, and the case closes with the last
answer, or when ``ANSWER_WINDOW`` passes.

A case the desk closed because its resident could not be reached (无法联系, ``services.cases.desk``) is not asked:
nobody answered the desk's question, so there is nobody to ask whether it was handled well. Its rating is
``Rating.UNREACHABLE`` from that 办结 on: no rating request goes (to its resident, a recorder or the desk), it counts
neither in 满意率 nor as 未评价 but on its own (``unreachable``), and it is closed, as it is, when
``ANSWER_WINDOW`` passes. Until then the resident's reply reopens it (``reopen_unreachable``).
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases.events import SYSTEM_ACTOR, new_event, resident_actor
from services.cases.lifecycle import Refusal, TransitionResult, transition, write
from services.cases.sweep import Escalation, EscalationReason, escalate, level_above_handling
from services.community.model import Community
from storage.models import Rating, Resident, Ticket, TicketEventKind, TicketFollower, TicketStatus

FOLLOWUP_DELAY = timedelta(hours=1)
ANSWER_WINDOW = timedelta(days=3)
SATISFIED: frozenset[Rating] = frozenset({Rating.SATISFIED, Rating.BASICALLY_SATISFIED})
RATED: frozenset[Rating] = SATISFIED | {Rating.UNSATISFIED}
RATABLE: frozenset[TicketStatus] = frozenset({TicketStatus.RESOLVED, TicketStatus.FOLLOWED_UP})


class RateOutcome(StrEnum):
    OK = "ok"
    NOT_RATABLE = "not_ratable"  # not resolved (yet, or any more)
    INVALID_RATING = "invalid_rating"  # 未评价 is the system's verdict, not a resident's choice
    CONFLICT = "conflict"
    NOT_FOLLOWER = "not_follower"  # neither the case's resident nor a neighbour following it


@dataclass(frozen=True)
class RateResult:
    outcome: RateOutcome
    escalation: Escalation | None = None  # set when 不满意 escalated the reopened case

    @property
    def ok(self) -> bool:
        return self.outcome is RateOutcome.OK


async def due_followups(
    session: AsyncSession, now: datetime, *, delay: timedelta = FOLLOWUP_DELAY, limit: int = 100
) -> list[Ticket]:
    """Resolved tickets whose rating request is due and not sent yet (index on status, resolved_at); 已回访 ones
too (their resident rated before being asked), for the neighbours following them."""
    stmt = (
        select(Ticket)
        .where(
            col(Ticket.status).in_(RATABLE),
            col(Ticket.resolved_at) <= require_aware(now) - delay,
            col(Ticket.followup_sent_at).is_(None),
            or_(col(Ticket.rating).is_(None), col(Ticket.rating) != Rating.UNREACHABLE),  # nobody to ask
        )
        .order_by(col(Ticket.resolved_at))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def not_asked(session: AsyncSession, ticket: Ticket) -> bool:
    """The case was just 办结 because its resident could not be reached: no 回访 (see the module's docstring). In the
    transaction of that 办结; False if the ticket moved meanwhile."""
    if ticket.status is not TicketStatus.RESOLVED:
        return False
    return await write(session, ticket, {"rating": Rating.UNREACHABLE, "rated_at": None}, bump=False)


def closed_unreachable(ticket: Ticket) -> bool:
    """Whether the case stands 办结 as 无法联系 (not asked, still open to its resident's reply)."""
    return ticket.status is TicketStatus.RESOLVED and ticket.rating is Rating.UNREACHABLE


async def reopen_unreachable(session: AsyncSession, ticket: Ticket, *, actor: str, now: datetime,
                             note: str | None) -> TransitionResult:
    """The resident (or a neighbour following the case) answered after all, while the case closed as 无法联系 still
    waits out its window: it is done again (重新办理, to be signed for anew), with their words as the move's note.
    Not an escalation: nobody was unhappy with how it was handled."""
    if not closed_unreachable(ticket):
        return TransitionResult.illegal(Refusal.NOT_ALLOWED)
    done = await transition(session, ticket, TicketStatus.REOPENED, actor=actor, now=now, note=note)
    if done.ok:  # no longer closed as 无法联系: its next 办结 is asked about and counted as any other
        written = await write(session, ticket, {"rating": None}, bump=False, guard=("rating",))
        assert written, "the row is held by the move just written"
    return done


async def mark_requested(session: AsyncSession, ticket: Ticket, now: datetime) -> bool:
    """The bot sent the rating request: starts the answer window. False if the ticket moved meanwhile."""
    return await write(session, ticket, {"followup_sent_at": require_aware(now)}, bump=False)


async def rate(
    session: AsyncSession,
    ticket: Ticket,
    rating: Rating,
    comment: str | None,
    now: datetime,
    *,
    community: Community,
    actor: str | None = None,
) -> RateResult:
    """Record the resident's rating; satisfied closes the case (at 已回访 while neighbours following it still owe
their answer), unsatisfied reopens and escalates it."""
    require_aware(now)
    if rating not in RATED:
        return RateResult(RateOutcome.INVALID_RATING)
    if ticket.status not in RATABLE or (ticket.status is TicketStatus.FOLLOWED_UP
                                        and this_round(ticket, ticket.rated_at)):
        return RateResult(RateOutcome.NOT_RATABLE)
    who = actor or resident_actor(ticket.resident_id)
    text = comment.strip() if comment and comment.strip() else None
    if not await write(session, ticket, {"rating": rating, "rated_at": now, "rating_comment": text}):
        await session.refresh(ticket)
        return RateResult(RateOutcome.CONFLICT)
    session.add(new_event(ticket, kind=TicketEventKind.RATED, actor=who, now=now, note=text, rating=rating))
    # our UPDATE holds the row (PostgreSQL) or the database (SQLite): the moves below cannot conflict
    if rating in SATISFIED:
        steps = [TicketStatus.CLOSED]
        if ticket.status is TicketStatus.RESOLVED:
            steps.insert(0, TicketStatus.FOLLOWED_UP)
        if await unrated_followers(session, ticket):
            steps.remove(TicketStatus.CLOSED)  # 已回访: closed with the last neighbour's answer, or the window
        for step in steps:
            await _must(transition(session, ticket, step, actor=who, now=now))
        return RateResult(RateOutcome.OK)
    return await _unsatisfied(session, ticket, who, text, now, community)


async def _unsatisfied(session: AsyncSession, ticket: Ticket, who: str, text: str | None, now: datetime,
                       community: Community) -> RateResult:
    """不满意 (the resident's or a follower's): the case is done again, one level above the level that handled it
    (``sweep.level_above_handling``): a case the grid's level handled goes to the community, never back to the
    grid worker the resident was unhappy with."""
    await _must(transition(session, ticket, TicketStatus.REOPENED, actor=who, now=now, note=text))
    escalation = await escalate(
        session, ticket, reason=EscalationReason.UNSATISFIED, actor=SYSTEM_ACTOR, now=now, community=community,
        level=level_above_handling(ticket.escalation_level),
    )
    return RateResult(RateOutcome.OK, escalation)


def this_round(ticket: Ticket, rated_at: datetime | None) -> bool:
    """Whether a rating given at ``rated_at`` answers the case's latest 办结 (not one before a reopening)."""
    return rated_at is not None and ticket.resolved_at is not None and rated_at >= ticket.resolved_at


async def unrated_followers(session: AsyncSession, ticket: Ticket) -> list[Resident]:
    """The neighbours following the case who are asked for their rating and have not given it for its latest
    办结: those the bot can reach (on Telegram, not blocked)."""
    f, r = TicketFollower, Resident
    stmt = (select(r).join(f, col(f.resident_id) == col(r.id))
            .where(f.ticket_id == ticket.id, col(r.tg_user_id).is_not(None), col(r.unreachable_at).is_(None),
                   or_(col(f.rated_at).is_(None), col(f.rated_at) < ticket.resolved_at))
            .order_by(col(f.id)))
    return list((await session.exec(stmt)).all())


FOLLOWER_TRIES = 3  # neighbours answering at one instant take turns on the case's row


async def rate_as_follower(
    session: AsyncSession,
    ticket: Ticket,
    resident_id: int,
    rating: Rating,
    comment: str | None,
    now: datetime,
    *,
    community: Community,
) -> RateResult:
    """Record a follower's rating on their own row, once for the case's latest 办结, with a "rated" event of theirs;
    the case's rating stays its resident's. Unsatisfied reopens and escalates the case as its resident's does;
    the last answer owed closes a case its resident already rated satisfied (已回访)."""
    require_aware(now)
    if rating not in RATED:
        return RateResult(RateOutcome.INVALID_RATING)
    f = TicketFollower
    row = (await session.exec(select(f).where(f.ticket_id == ticket.id, f.resident_id == resident_id))).first()
    if row is None:
        return RateResult(RateOutcome.NOT_FOLLOWER)
    for _ in range(FOLLOWER_TRIES):
        if ticket.status not in RATABLE or this_round(ticket, row.rated_at):
            return RateResult(RateOutcome.NOT_RATABLE)
        if await write(session, ticket, {"updated_at": now}):  # holds the case: the moves below cannot conflict
            break
        await session.refresh(ticket)
        await session.refresh(row)
    else:
        return RateResult(RateOutcome.CONFLICT)
    who = resident_actor(resident_id)
    text = comment.strip() if comment and comment.strip() else None
    await session.exec(update(f).where(col(f.id) == row.id)  # type: ignore[call-overload]
                       .values(rating=rating, rated_at=now, rating_comment=text))
    await session.refresh(row)
    session.add(new_event(ticket, kind=TicketEventKind.RATED, actor=who, now=now, note=text, rating=rating))
    if rating not in SATISFIED:
        return await _unsatisfied(session, ticket, who, text, now, community)
    if ticket.status is TicketStatus.FOLLOWED_UP and not await unrated_followers(session, ticket):
        await _must(transition(session, ticket, TicketStatus.CLOSED, actor=who, now=now))
    return RateResult(RateOutcome.OK)


async def _must(pending: Awaitable[TransitionResult]) -> None:
    result = await pending
    if not result.ok:  # a bug, not a user error: the table allows these moves from RATABLE
        raise RuntimeError(f"rating transition refused: {result.outcome} {result.reason}")


async def expire_unrated(
    session: AsyncSession,
    now: datetime,
    *,
    after: timedelta = ANSWER_WINDOW,
    delay: timedelta = FOLLOWUP_DELAY,
    limit: int = 500,
) -> list[Ticket]:
    """Close as 未评价 the resolved tickets nobody rated within ``after`` of being asked (or of when
    they should have been asked, if the request never went out); and close the 已回访 ones (their resident
    satisfied) whose followers did not all answer in that time."""
    require_aware(now)
    waited = (select(Ticket).where(Ticket.status == TicketStatus.FOLLOWED_UP, col(Ticket.resolved_at) <= now - after)
              .order_by(col(Ticket.resolved_at)).limit(limit))
    closed: list[Ticket] = []
    for ticket in (await session.exec(waited)).all():
        assert ticket.resolved_at is not None
        if (ticket.followup_sent_at or ticket.resolved_at + delay) > now - after:
            continue
        if (await transition(session, ticket, TicketStatus.CLOSED, actor=SYSTEM_ACTOR, now=now,
                             note="followers unrated")).ok:
            closed.append(ticket)
    stmt = (
        select(Ticket)
        .where(Ticket.status == TicketStatus.RESOLVED, col(Ticket.resolved_at) <= now - after)
        .order_by(col(Ticket.resolved_at))
        .limit(limit)
    )
    for ticket in (await session.exec(stmt)).all():
        assert ticket.resolved_at is not None
        asked = ticket.followup_sent_at or ticket.resolved_at + delay
        if asked > now - after:
            continue
        if ticket.rating is Rating.UNREACHABLE:  # never asked: closed as it stands, not as 未评价
            if (await transition(session, ticket, TicketStatus.CLOSED, actor=SYSTEM_ACTOR, now=now,
                                 note="unreachable")).ok:
                closed.append(ticket)
            continue
        if not await write(session, ticket, {"rating": Rating.UNRATED, "rated_at": None}):
            continue  # rated or reopened meanwhile
        if (await transition(session, ticket, TicketStatus.CLOSED, actor=SYSTEM_ACTOR, now=now, note="unrated")).ok:
            closed.append(ticket)
    return closed


# --- 三率: response, resolution, satisfaction ---------------------------------------------------------


@dataclass(frozen=True)
class Rate:
    hits: int
    total: int

    @property
    def value(self) -> float | None:
        """hits / total, None when there is nothing to measure (never a misleading 0 % or 100 %)."""
        return self.hits / self.total if self.total else None


@dataclass(frozen=True)
class Rates:
    response: Rate  # signed within the sign-for limit
    resolution: Rate  # resolved within the resolution limit (办结 as 无法联系 is no resolution: a miss once overdue)
    satisfaction: Rate  # 满意 + 基本满意 over all rated (未评价 and 无法联系 excluded)
    unrated: int  # closed as 未评价
    unreachable: int = 0  # 办结 as 无法联系: nobody to ask


async def rates(session: AsyncSession, since: datetime, until: datetime, *, now: datetime | None = None) -> Rates:
    """三率 over the tickets opened in [since, until), as things stand at ``now`` (default ``until``).

    A deadline counts once it has passed (met or missed); an open ticket within its limits is not judged
    yet. Merged duplicates are not cases of their own; a ticket withdrawn before a deadline is not judged
    against it. A reopened case is judged on its current round.
    """
    require_aware(since)
    as_of = require_aware(now or until)
    t = Ticket
    stmt = select(
        t.created_at, t.clock_started_at, t.sign_due_at, t.signed_at, t.due_at, t.paused_at, t.resolved_at,
        t.closed_at, t.rating,
    ).where(col(t.created_at) >= since, col(t.created_at) < until, t.status != TicketStatus.MERGED)
    signed_ok = signed_total = resolved_ok = resolved_total = happy = rated = unrated = unreachable = 0
    for created, started, sign_due, signed, due, paused, resolved, closed, rating in (await session.exec(stmt)).all():
        open_until = as_of if closed is None else min(as_of, closed)
        if paused is not None:  # 待补充: the deadline slides while the resident is being waited for
            due += max(open_until - paused, timedelta(0))
        if signed is not None:
            signed_total += 1
            signed_ok += signed <= sign_due
        elif sign_due <= open_until:
            signed_total += 1  # overdue and still unsigned (or closed unsigned after the deadline)
        if resolved is not None and resolved >= (started or created) and rating is not Rating.UNREACHABLE:
            resolved_total += 1  # 无法联系 is no resolution: judged below as unresolved (services.reports.figures)
            resolved_ok += resolved <= due
        elif due <= open_until:
            resolved_total += 1  # overdue and unresolved (or withdrawn only after the deadline)
        if rating in RATED:
            rated += 1
            happy += rating in SATISFIED
        elif rating is Rating.UNRATED:
            unrated += 1
        elif rating is Rating.UNREACHABLE:
            unreachable += 1
    return Rates(
        response=Rate(signed_ok, signed_total),
        resolution=Rate(resolved_ok, resolved_total),
        satisfaction=Rate(happy, rated),
        unrated=unrated,
        unreachable=unreachable,
    )


__all__ = [
    "ANSWER_WINDOW",
    "FOLLOWUP_DELAY",
    "RATABLE",
    "RATED",
    "SATISFIED",
    "Rate",
    "RateOutcome",
    "RateResult",
    "Rates",
    "closed_unreachable",
    "due_followups",
    "expire_unrated",
    "mark_requested",
    "not_asked",
    "rate",
    "rate_as_follower",
    "rates",
    "reopen_unreachable",
    "this_round",
    "unrated_followers",
]
