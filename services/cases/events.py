"""History lines of a case (TicketEvent) and who acted: the lowest module of ``services.cases``.

Every other case module builds on this one (tickets, duplicates, lifecycle, sweep, follow-up), so the event
builder and the actor names live here and nothing loops.
"""

from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.models import OPEN_STATUSES, Ticket, TicketEvent, TicketEventKind, TicketStatus

SYSTEM_ACTOR = "system"


def resident_actor(resident_id: int | None) -> str:
    return f"resident:{resident_id}"


def staff_actor(staff_id: int | str) -> str:
    return f"staff:{staff_id}"


def new_event(
    ticket: Ticket,
    *,
    kind: TicketEventKind,
    actor: str,
    now: datetime,
    from_status: TicketStatus | None = None,
    to_status: TicketStatus | None = None,
    note: str | None = None,
    **extra: Any,
) -> TicketEvent:
    """A history line (not yet added to the session); ``extra`` fills level, unit, rating, mediation."""
    assert ticket.id is not None
    return TicketEvent(
        ticket_id=ticket.id,
        at=require_aware(now),
        actor=actor,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        note=note,
        **extra,
    )


async def record_event(
    session: AsyncSession,
    ticket: Ticket,
    *,
    kind: TicketEventKind,
    actor: str,
    now: datetime,
    to_status: TicketStatus | None = None,
    note: str | None = None,
) -> TicketEvent:
    """Append to the ticket's history; with ``to_status`` also move the ticket to that status."""
    require_aware(now)
    from_status = None if kind is TicketEventKind.CREATED else ticket.status
    if to_status is not None and kind is not TicketEventKind.CREATED:
        ticket.status = to_status
        ticket.updated_at = now
        if to_status not in OPEN_STATUSES and ticket.closed_at is None:
            ticket.closed_at = now
        elif to_status in OPEN_STATUSES:
            ticket.closed_at = None
        session.add(ticket)
    assert ticket.id is not None, "flush the ticket before recording events"
    event = new_event(ticket, kind=kind, actor=actor, now=now, from_status=from_status, to_status=to_status, note=note)
    session.add(event)
    await session.flush()
    return event


__all__ = ["SYSTEM_ACTOR", "new_event", "record_event", "resident_actor", "staff_actor"]
