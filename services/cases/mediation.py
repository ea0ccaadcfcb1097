"""人民调解 of dispute tickets: the stages in order (申请 → 登记 → 会议 → 协商 → 协议 → 回访) and meeting reminders.

Recorded as MEDIATION events beside the case's lifecycle; the case's status is the lifecycle's business.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases.events import SYSTEM_ACTOR, new_event
from services.community.model import Category
from storage.models import OPEN_STATUSES, MediationStage, Ticket, TicketEvent, TicketEventKind, TicketStatus

S = TicketStatus

MEDIATION_ORDER: tuple[MediationStage, ...] = tuple(MediationStage)


class MediationRefusal(StrEnum):
    NOT_DISPUTE = "not_dispute"
    NOT_ACTIVE = "not_active"  # withdrawn or merged
    OUT_OF_ORDER = "out_of_order"
    MEETING_TIME_REQUIRED = "meeting_time_required"
    MEETING_TIME_UNEXPECTED = "meeting_time_unexpected"  # only the 会议 stage has a time


@dataclass(frozen=True)
class MediationResult:
    event: TicketEvent | None = None
    reason: MediationRefusal | None = None

    @property
    def ok(self) -> bool:
        return self.reason is None


async def mediation_stage(session: AsyncSession, ticket_id: int) -> MediationStage | None:
    """The latest recorded stage of a dispute's mediation, None before 申请."""
    stmt = (
        select(TicketEvent.mediation_stage)
        .where(TicketEvent.ticket_id == ticket_id, TicketEvent.kind == TicketEventKind.MEDIATION)
        .order_by(col(TicketEvent.id).desc())
        .limit(1)
    )
    return (await session.exec(stmt)).first()


async def record_mediation(
    session: AsyncSession,
    ticket: Ticket,
    stage: MediationStage,
    *,
    actor: str,
    now: datetime,
    meeting_at: datetime | None = None,
    note: str | None = None,
) -> MediationResult:
    """Record the next mediation stage, in order; 会议 again while at 会议 reschedules the meeting."""
    require_aware(now)
    if ticket.category != Category.DISPUTE:
        return MediationResult(reason=MediationRefusal.NOT_DISPUTE)
    if ticket.status in {S.WITHDRAWN, S.MERGED}:
        return MediationResult(reason=MediationRefusal.NOT_ACTIVE)
    assert ticket.id is not None
    current = await mediation_stage(session, ticket.id)
    expected = MEDIATION_ORDER[0] if current is None else _after(current)
    if stage != expected and not (stage is current is MediationStage.MEETING):
        return MediationResult(reason=MediationRefusal.OUT_OF_ORDER)
    if stage is MediationStage.MEETING and meeting_at is None:
        return MediationResult(reason=MediationRefusal.MEETING_TIME_REQUIRED)
    if stage is not MediationStage.MEETING and meeting_at is not None:
        return MediationResult(reason=MediationRefusal.MEETING_TIME_UNEXPECTED)
    event = new_event(
        ticket,
        kind=TicketEventKind.MEDIATION,
        actor=actor,
        now=now,
        note=note,
        mediation_stage=stage,
        meeting_at=require_aware(meeting_at) if meeting_at is not None else None,
    )
    session.add(event)
    await session.flush()
    return MediationResult(event=event)


def _after(stage: MediationStage) -> MediationStage | None:
    i = MEDIATION_ORDER.index(stage)
    return MEDIATION_ORDER[i + 1] if i + 1 < len(MEDIATION_ORDER) else None


MEETING_REMINDER = "meeting"  # the note of the REMINDED event that records a meeting's reminder


async def meetings_to_remind(session: AsyncSession, now: datetime, lead: timedelta) -> list[TicketEvent]:
    """Mediation meetings of open cases starting within ``lead`` of ``now`` that have not been reminded yet.

    Only each ticket's latest schedule counts (a rescheduled meeting is reminded for its new time), and a
    reminder is a REMINDED event carrying the meeting's time, so the answer survives restarts."""
    now = require_aware(now)
    latest = (
        select(func.max(TicketEvent.id))
        .where(TicketEvent.kind == TicketEventKind.MEDIATION, TicketEvent.mediation_stage == MediationStage.MEETING)
        .group_by(TicketEvent.ticket_id)
    )
    reminded = aliased(TicketEvent)
    done = (
        select(reminded.id)
        .where(reminded.ticket_id == TicketEvent.ticket_id, reminded.kind == TicketEventKind.REMINDED,
               reminded.note == MEETING_REMINDER, reminded.meeting_at == TicketEvent.meeting_at,
               reminded.id > TicketEvent.id)
        .exists()
    )
    stmt = (
        select(TicketEvent)
        .join(Ticket, col(Ticket.id) == TicketEvent.ticket_id)
        .where(col(TicketEvent.id).in_(latest), col(TicketEvent.meeting_at) >= now,
               col(TicketEvent.meeting_at) < now + lead, ~done, col(Ticket.status).in_(OPEN_STATUSES))
        .order_by(col(TicketEvent.meeting_at))
    )
    return list((await session.exec(stmt)).all())


async def meeting_reminded(session: AsyncSession, meeting: TicketEvent, now: datetime) -> None:
    """Record that ``meeting`` (an event from :func:`meetings_to_remind`) was reminded."""
    session.add(TicketEvent(ticket_id=meeting.ticket_id, at=require_aware(now), actor=SYSTEM_ACTOR,
                            kind=TicketEventKind.REMINDED, note=MEETING_REMINDER, meeting_at=meeting.meeting_at))
    await session.flush()


__all__ = [
    "MEDIATION_ORDER",
    "MEETING_REMINDER",
    "MediationRefusal",
    "MediationResult",
    "mediation_stage",
    "meeting_reminded",
    "meetings_to_remind",
    "record_mediation",
]
