"""督办 (supervision): a supervisor (e.g. the street's 纪工委) presses the handling unit on a case with a reason and a
reply deadline; the unit's answer is tracked against that deadline.

A supervisor never handles a case: a 督办 changes nothing of the case's workflow (no version bump, no status). It is
a ``supervised`` event in the case's history plus a :class:`~storage.models.Supervision` row that the answer (a
``supervision_answered`` event) closes. Reports count the 督办 and the answers given by the deadline.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases.events import SYSTEM_ACTOR, new_event
from storage.models import Supervision, Ticket, TicketEvent, TicketEventKind, TicketStatus


def supervisor_actor(tg_user_id: int | None) -> str:
    return f"supervisor:{tg_user_id if tg_user_id is not None else 'cli'}"


class SuperviseRefusal(StrEnum):
    REASON_REQUIRED = "reason_required"
    DEADLINE_PASSED = "deadline_passed"  # the reply deadline must lie ahead
    NOT_ACTIVE = "not_active"  # withdrawn or merged: there is no case to press
    ALREADY_ANSWERED = "already_answered"
    EMPTY_ANSWER = "empty_answer"


@dataclass(frozen=True)
class SuperviseResult:
    supervision: Supervision | None = None
    event: TicketEvent | None = None
    reason: SuperviseRefusal | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


async def supervise(session: AsyncSession, ticket: Ticket, *, reason: str, reply_by: datetime,
                    supervisor_tg_id: int | None, now: datetime) -> SuperviseResult:
    """Issue a 督办 on ``ticket``; the caller has checked the role (``roles.Action.SUPERVISE``)."""
    require_aware(now)
    require_aware(reply_by)
    if not reason.strip():
        return SuperviseResult(reason=SuperviseRefusal.REASON_REQUIRED)
    if reply_by <= now:
        return SuperviseResult(reason=SuperviseRefusal.DEADLINE_PASSED)
    if ticket.status in {TicketStatus.WITHDRAWN, TicketStatus.MERGED}:
        return SuperviseResult(reason=SuperviseRefusal.NOT_ACTIVE)
    assert ticket.id is not None
    row = Supervision(ticket_id=ticket.id, supervisor_tg_id=supervisor_tg_id, reason=reason.strip(),
                      issued_at=now, reply_by=reply_by)
    event = new_event(ticket, kind=TicketEventKind.SUPERVISED, actor=supervisor_actor(supervisor_tg_id), now=now,
                      note=reason.strip(), meeting_at=reply_by)  # meeting_at: the reply deadline
    session.add_all([row, event])
    await session.flush()
    return SuperviseResult(row, event)


async def answer(session: AsyncSession, supervision: Supervision, *, text: str, actor: str,
                 now: datetime) -> SuperviseResult:
    """The handling unit answers a 督办 (once); on time when ``now`` is not after ``reply_by``."""
    require_aware(now)
    if not text.strip():
        return SuperviseResult(reason=SuperviseRefusal.EMPTY_ANSWER)
    if supervision.answered_at is not None:
        return SuperviseResult(supervision, reason=SuperviseRefusal.ALREADY_ANSWERED)
    supervision.answered_at, supervision.answered_by, supervision.answer = now, actor, text.strip()
    session.add(supervision)
    event = TicketEvent(ticket_id=supervision.ticket_id, at=now, actor=actor,
                        kind=TicketEventKind.SUPERVISION_ANSWERED, note=text.strip())
    session.add(event)
    await session.flush()
    return SuperviseResult(supervision, event)


def on_time(supervision: Supervision) -> bool | None:
    """True/False once answered; None while unanswered (late only when the deadline passes: see :func:`overdue`)."""
    if supervision.answered_at is None:
        return None
    return supervision.answered_at <= supervision.reply_by


async def supervisions_of(session: AsyncSession, ticket_id: int) -> list[Supervision]:
    stmt = select(Supervision).where(Supervision.ticket_id == ticket_id).order_by(col(Supervision.id))
    return list((await session.exec(stmt)).all())


async def pending(session: AsyncSession, ticket_id: int) -> Supervision | None:
    """The oldest unanswered 督办 of a case (what an answer from the desk closes)."""
    stmt = (select(Supervision).where(Supervision.ticket_id == ticket_id, col(Supervision.answered_at).is_(None))
            .order_by(col(Supervision.id)).limit(1))
    return (await session.exec(stmt)).first()


async def overdue(session: AsyncSession, now: datetime) -> list[Supervision]:
    """Unanswered 督办 past their reply deadline (index on reply_by), earliest first."""
    stmt = (select(Supervision).where(col(Supervision.answered_at).is_(None),
                                      col(Supervision.reply_by) <= require_aware(now))
            .order_by(col(Supervision.reply_by)))
    return list((await session.exec(stmt)).all())


def overdue_note(supervision: Supervision) -> str:
    """The internal note that records a 督办's deadline passing unanswered (so the alert goes once)."""
    return f"督办逾期未答复（督办#{supervision.id}）"


async def overdue_unalerted(session: AsyncSession, now: datetime) -> list[tuple[Supervision, Ticket]]:
    """Unanswered 督办 past their reply deadline whose passing nobody was told of yet, earliest first."""
    rows = (await session.exec(
        select(Supervision, Ticket).join(Ticket, col(Ticket.id) == col(Supervision.ticket_id))
        .where(col(Supervision.answered_at).is_(None), col(Supervision.reply_by) <= require_aware(now))
        .order_by(col(Supervision.reply_by), col(Supervision.id)))).all()
    if not rows:
        return []
    told = set((await session.exec(
        select(TicketEvent.note).where(col(TicketEvent.ticket_id).in_({t.id for _, t in rows}),
                                       TicketEvent.kind == TicketEventKind.NOTE))).all())
    return [(sup, t) for sup, t in rows if overdue_note(sup) not in told]


async def overdue_alerted(session: AsyncSession, supervision: Supervision, ticket: Ticket, now: datetime) -> None:
    """Record, as an internal note in the case's history, that the 督办's passing deadline was told."""
    session.add(new_event(ticket, kind=TicketEventKind.NOTE, actor=SYSTEM_ACTOR, now=require_aware(now),
                          from_status=ticket.status, to_status=ticket.status, note=overdue_note(supervision)))
    await session.flush()


async def unanswered(session: AsyncSession, units: Iterable[str] | None = None) -> list[tuple[Supervision, Ticket]]:
    """Every 督办 still waiting for its answer, with its case (of ``units`` only, when given), earliest deadline
    first: what a desk's list and board show."""
    stmt = (select(Supervision, Ticket).join(Ticket, col(Ticket.id) == col(Supervision.ticket_id))
            .where(col(Supervision.answered_at).is_(None)).order_by(col(Supervision.reply_by), col(Supervision.id)))
    if units is not None:
        stmt = stmt.where(col(Ticket.unit).in_(sorted(set(units))))
    return [(sup, t) for sup, t in (await session.exec(stmt)).all()]


__all__ = [
    "SuperviseRefusal",
    "SuperviseResult",
    "answer",
    "on_time",
    "overdue",
    "overdue_alerted",
    "overdue_note",
    "overdue_unalerted",
    "pending",
    "supervise",
    "supervisions_of",
    "supervisor_actor",
    "unanswered",
]
