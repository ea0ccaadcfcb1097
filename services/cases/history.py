"""One case's whole story for ``/history``: what was done (its events) and what was tried (the audit rows, refusals
included), merged into one list, oldest first.

The same two sources as ``services.people.audit.for_case``, kept structured here so the chat can say who did
what in which chat: an allowed attempt (the desk's ``may_act`` records it with its chat) followed within
:data:`MERGE_WITHIN` by an event of the same person that such an attempt makes (:data:`PRODUCES`) is one line, the
event's, with the attempt's chat and button; an attempt that changed nothing (a refusal, a button that only opens
a prompt) stays a line of its own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from storage.models import AuditEntry, KnownUser, Resident, TicketEvent

MERGE_WITHIN = timedelta(minutes=2)
_STATUS = "status_changed"
PRODUCES: dict[str, frozenset[str]] = {  # the command or button of an allowed attempt -> events it can make
    "button:ss": frozenset({_STATUS}),
    "button:se": frozenset({"escalated", _STATUS}),
    "button:sru": frozenset({"reassigned", "dispatched", _STATUS}),
    "button:skc": frozenset({"note", "reassigned", "dispatched", _STATUS}),
    "/note": frozenset({"note"}),
    "/mediate": frozenset({"mediation", _STATUS}),
    "/supervise": frozenset({"supervised"}),
    "/answer": frozenset({"supervision_answered"}),
    "reply:supervision": frozenset({"supervision_answered"}),
}
REPLY_EVENTS = frozenset({"reply", "note", _STATUS})  # a reply to a card, a relay or a 办结/需补充 prompt


@dataclass(frozen=True)
class Step:
    """One line of a case's history."""

    at: datetime
    actor: str  # "staff:1", "supervisor:7", "resident:3", "system", or "user:1" for an attempt
    chat_id: int | None  # where it was done, when known
    action: str  # an event kind ("status_changed") or, for an attempt, an Action value ("ticket.act")
    allowed: bool
    via: str = ""  # the command or button of an attempt ("button:ss", "/note", "reply:relay")
    event: TicketEvent | None = None
    note: str | None = None

    @property
    def user_id(self) -> int | None:
        """The Telegram id behind a staff, supervisor or attempt actor."""
        kind, _, tail = self.actor.partition(":")
        return int(tail) if kind in {"staff", "supervisor", "user"} and tail.lstrip("-").isdigit() else None

    @property
    def resident_id(self) -> int | None:
        kind, _, tail = self.actor.partition(":")
        return int(tail) if kind == "resident" and tail.isdigit() else None


def _attempt(e: AuditEntry) -> Step:
    return Step(e.at, f"user:{e.tg_user_id}" if e.tg_user_id is not None else "user:?", e.chat_id, e.action,
                e.allowed, e.via, None, e.note)


def _done(e: TicketEvent) -> Step:
    return Step(e.at, e.actor, None, e.kind.value, True, "", e, e.note)


def _produces(via: str) -> frozenset[str]:
    if via in PRODUCES:
        return PRODUCES[via]
    return REPLY_EVENTS if via.startswith("reply:") else frozenset()


def merge(attempts: list[AuditEntry], events: list[TicketEvent]) -> list[Step]:
    """Attempts and events (each oldest first) as one story: an event takes the chat and button of the allowed
    attempt that made it — the same person's, just before it, one that can make such an event — and the other
    events of that act (the same moment) take them too."""
    steps = [_attempt(a) for a in attempts]
    used_at: dict[int, datetime] = {}  # attempt index -> when the event it made happened
    done: list[Step] = []
    for e in events:
        step = _done(e)
        uid = step.user_id
        fits = [i for i, a in enumerate(steps) if uid is not None and a.allowed and a.user_id == uid
                and timedelta(0) <= e.at - a.at <= MERGE_WITHIN and e.kind.value in _produces(a.via)]
        fresh = [i for i in fits if i not in used_at]
        again = [i for i in fits if used_at.get(i) == e.at]
        pick = fresh[0] if fresh else (again[-1] if again else None)
        if pick is not None:
            step = replace(step, chat_id=steps[pick].chat_id, via=steps[pick].via)
            used_at.setdefault(pick, e.at)
        done.append(step)
    kept = [s for i, s in enumerate(steps) if i not in used_at]
    return sorted(kept + done, key=lambda s: (s.at, s.event is not None))


async def of_case(session: AsyncSession, ticket_id: int) -> list[Step]:
    """Everything done and tried on one case, oldest first."""
    attempts = list((await session.exec(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
                                        .order_by(col(AuditEntry.at), col(AuditEntry.id)))).all())
    events = list((await session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                      .order_by(col(TicketEvent.at), col(TicketEvent.id)))).all())
    return merge(attempts, events)


async def names(session: AsyncSession, steps: list[Step]) -> tuple[dict[int, str], dict[int, str]]:
    """(Telegram id → name the bot knows them by, resident id → name) for the people in ``steps``."""
    users = sorted({s.user_id for s in steps if s.user_id is not None})
    residents = sorted({s.resident_id for s in steps if s.resident_id is not None})
    known: dict[int, str] = {}
    if users:
        rows = (await session.exec(select(KnownUser).where(col(KnownUser.tg_user_id).in_(users)))).all()
        known = {u.tg_user_id: u.name for u in rows if u.name}
    people: dict[int, str] = {}
    if residents:
        rows = (await session.exec(select(Resident).where(col(Resident.id).in_(residents)))).all()
        people = {r.id: r.name for r in rows if r.id is not None and r.name}
    return known, people


__all__ = ["MERGE_WITHIN", "PRODUCES", "Step", "merge", "names", "of_case"]
