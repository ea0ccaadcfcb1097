"""Follow-up (回访) after 办结, the resident's rating, and the 三率 figures staff are judged by.

A resolved ticket asks its resident for a rating after ``FOLLOWUP_DELAY``. 满意 and 基本满意 close the
case through 已回访; 不满意 reopens it and escalates one level. Nobody answering within
``ANSWER_WINDOW`` closes it as 未评价 (``Rating.UNRATED``): counted on its own, never as satisfied.
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases.events import SYSTEM_ACTOR, new_event, resident_actor
from services.cases.lifecycle import TransitionResult, transition, write
from services.cases.sweep import Escalation, EscalationReason, escalate
from services.community.model import Community
from storage.models import Rating, Ticket, TicketEventKind, TicketStatus

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
    """Resolved tickets whose rating request is due and not sent yet (index on status, resolved_at)."""
    stmt = (
        select(Ticket)
        .where(
            Ticket.status == TicketStatus.RESOLVED,
            col(Ticket.resolved_at) <= require_aware(now) - delay,
            col(Ticket.followup_sent_at).is_(None),
        )
        .order_by(col(Ticket.resolved_at))
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


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
    """Record the resident's rating; satisfied closes the case, unsatisfied reopens and escalates it."""
    require_aware(now)
    if rating not in RATED:
        return RateResult(RateOutcome.INVALID_RATING)
    if ticket.status not in RATABLE:
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
        for step in steps:
            await _must(transition(session, ticket, step, actor=who, now=now))
        return RateResult(RateOutcome.OK)
    await _must(transition(session, ticket, TicketStatus.REOPENED, actor=who, now=now, note=text))
    escalation = await escalate(
        session, ticket, reason=EscalationReason.UNSATISFIED, actor=SYSTEM_ACTOR, now=now, community=community
    )
    return RateResult(RateOutcome.OK, escalation)


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
    they should have been asked, if the request never went out)."""
    require_aware(now)
    stmt = (
        select(Ticket)
        .where(Ticket.status == TicketStatus.RESOLVED, col(Ticket.resolved_at) <= now - after)
        .order_by(col(Ticket.resolved_at))
        .limit(limit)
    )
    closed: list[Ticket] = []
    for ticket in (await session.exec(stmt)).all():
        assert ticket.resolved_at is not None
        asked = ticket.followup_sent_at or ticket.resolved_at + delay
        if asked > now - after:
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
    resolution: Rate  # resolved within the resolution limit
    satisfaction: Rate  # 满意 + 基本满意 over all rated (未评价 excluded)
    unrated: int  # closed as 未评价


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
    signed_ok = signed_total = resolved_ok = resolved_total = happy = rated = unrated = 0
    for created, started, sign_due, signed, due, paused, resolved, closed, rating in (await session.exec(stmt)).all():
        open_until = as_of if closed is None else min(as_of, closed)
        if paused is not None:  # 待补充: the deadline slides while the resident is being waited for
            due += max(open_until - paused, timedelta(0))
        if signed is not None:
            signed_total += 1
            signed_ok += signed <= sign_due
        elif sign_due <= open_until:
            signed_total += 1  # overdue and still unsigned (or closed unsigned after the deadline)
        if resolved is not None and resolved >= (started or created):
            resolved_total += 1
            resolved_ok += resolved <= due
        elif due <= open_until:
            resolved_total += 1  # overdue and unresolved (or withdrawn only after the deadline)
        if rating in RATED:
            rated += 1
            happy += rating in SATISFIED
        elif rating is Rating.UNRATED:
            unrated += 1
    return Rates(
        response=Rate(signed_ok, signed_total),
        resolution=Rate(resolved_ok, resolved_total),
        satisfaction=Rate(happy, rated),
        unrated=unrated,
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
    "due_followups",
    "expire_unrated",
    "mark_requested",
    "rate",
    "rates",
]
