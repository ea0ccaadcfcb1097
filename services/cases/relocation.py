"""A resident putting the place of a case right just after filing it ("不对 是4号楼").

Residents often notice a wrong building only once the receipt is in front of them. Within a short window (the
``CORRECTION_WINDOW_MINUTES`` setting) the case they just filed is found; while nobody is working on it at the old
place yet it moves to the new one, with a history line so the desk sees what changed and when. Later, or on a case
they joined as a neighbour's (the place is that case's, not theirs), the desk corrects it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases import events, lifecycle
from services.cases.tickets import building_of
from storage.models import OPEN_STATUSES, Ticket, TicketEvent, TicketEventKind, TicketFollower, TicketStatus

S = TicketStatus
# not yet worked on at the place given: a correction only redirects whoever will go there
MOVABLE: frozenset[TicketStatus] = frozenset({S.RECEIVED, S.DISPATCHED, S.SIGNED, S.PENDING_INFO})


@dataclass(frozen=True)
class JustFiled:
    """The resident's newest filing within the window: their own case, or a neighbour's they joined."""

    ticket: Ticket
    own: bool

    @property
    def movable(self) -> bool:
        return self.own and self.ticket.status in MOVABLE and not self.ticket.emergency


async def just_filed(s: AsyncSession, resident_id: int, *, now: datetime, window: timedelta) -> JustFiled | None:
    """The case the resident filed (or joined) at most ``window`` ago, the newest; None: nothing that recent."""
    since = require_aware(now) - window
    own = (await s.exec(select(Ticket).where(Ticket.resident_id == resident_id, col(Ticket.created_at) >= since)
                        .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()).limit(1))).first()
    link = (await s.exec(select(TicketFollower).where(TicketFollower.resident_id == resident_id,
                                                      col(TicketFollower.linked_at) >= since)
                         .order_by(col(TicketFollower.linked_at).desc()).limit(1))).first()
    if link is not None and (own is None or link.linked_at > own.created_at):
        joined = await s.get(Ticket, link.ticket_id)
        return JustFiled(joined, False) if joined is not None else None
    return JustFiled(own, True) if own is not None else None


async def just_answered(s: AsyncSession, resident_id: int, *, now: datetime, window: timedelta) -> str | None:
    """The number of the open case whose 需补充 the resident answered at most ``window`` ago: where words that go on
    with the answer belong ("2单元" … "15楼，1502，晚上十点以后还在敲"). None: no answer that recent."""
    since = require_aware(now) - window
    found = (await s.exec(
        select(Ticket.number).join(TicketEvent, col(TicketEvent.ticket_id) == col(Ticket.id))
        .where(TicketEvent.actor == events.resident_actor(resident_id), col(TicketEvent.at) >= since,
               TicketEvent.kind == TicketEventKind.STATUS_CHANGED,
               TicketEvent.from_status == TicketStatus.PENDING_INFO, col(Ticket.status).in_(OPEN_STATUSES))
        .order_by(col(TicketEvent.at).desc()).limit(1))).first()
    return found


async def move(s: AsyncSession, t: Ticket, *, place: str, grid_code: str | None, actor: str,
               now: datetime) -> bool:
    """The case's place (and the grid of a building the community file knows) set to ``place``, recorded as a
    note in its history. False, nothing written: it changed meanwhile (another hand got there first)."""
    before = t.location
    changes = {"location": place[:255], "building": building_of(place), "updated_at": require_aware(now)}
    if grid_code:
        changes["grid_code"] = grid_code
    # no new version: the buttons staff hold act on the case's status, which a place does not change
    if not await lifecycle.write(s, t, changes, bump=False, guard=("location",)):
        return False
    await events.record_event(s, t, kind=TicketEventKind.NOTE, actor=actor, now=now,
                              note=f"居民更正地点：{before or '未填写'} → {t.location}")
    return True


__all__ = ["MOVABLE", "JustFiled", "just_answered", "just_filed", "move"]
