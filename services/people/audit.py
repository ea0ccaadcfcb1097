"""The audit trail: every attempt to act on a case — who, from which chat, when, what, allowed or refused — and the
queries behind ``linli audit --case / --user / --from --to`` (and the chat's ``/history``).

Two sources make one trail: ``audit_log`` rows (refusals, and allowed actions the handlers record with their chat)
and the cases' own history (``ticket_events``: every change, its actor and time), so nothing done to a case is
missing even where no handler wrote an audit row.

Refusals are reported by :func:`services.people.roles.refused`, which has no session: it keeps them here
(:func:`keep_refusal`, in memory, bounded) and :func:`flush_refusals` stores them in the next transaction the
caller opens (the access check does after each refusal).
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.models import AuditEntry, Ticket, TicketEvent

MAX_KEPT = 10_000  # refusals waiting to be stored; a flood beyond this keeps the newest
_kept: deque[dict[str, Any]] = deque(maxlen=MAX_KEPT)
_lock = threading.Lock()


@dataclass(frozen=True)
class AuditLine:
    """One line of the trail, from either source."""

    at: datetime
    actor: str  # "user:<tg id>", or an event's actor ("staff:1", "resident:3", "system", "supervisor:7")
    chat_id: int | None
    action: str  # an Action value, or "event:<kind>" for a case history line
    allowed: bool
    number: str  # the case's number, "" when none
    via: str
    note: str


def _chat_of(scope: str) -> int | None:
    if scope.startswith("chat:"):
        tail = scope[5:]
        if tail.lstrip("-").isdigit():
            return int(tail)
    return None


def keep_refusal(*, user_id: int | None, action: str, scope: str, via: str, now: datetime | None,
                 chat_id: int | None = None, ticket_id: int | None = None) -> None:
    """Remember a refusal until :func:`flush_refusals` stores it (thread-safe, bounded)."""
    entry = {"at": require_aware(now) if now is not None else datetime.now(UTC), "tg_user_id": user_id,
             "chat_id": chat_id if chat_id is not None else _chat_of(scope), "action": action[:64], "allowed": False,
             "ticket_id": ticket_id, "scope": scope[:255], "via": via[:255]}
    with _lock:
        _kept.append(entry)


def has_kept() -> bool:
    return bool(_kept)


async def flush_refusals(session: AsyncSession) -> int:
    """Store the refusals kept so far (in the caller's transaction); how many."""
    with _lock:
        entries = list(_kept)
        _kept.clear()
    session.add_all(AuditEntry(**e) for e in entries)
    await session.flush()
    return len(entries)


async def record(session: AsyncSession, *, user_id: int | None, action: str, allowed: bool, now: datetime,
                 chat_id: int | None = None, ticket_id: int | None = None, scope: str = "", via: str = "",
                 note: str | None = None) -> AuditEntry:
    """Store one attempt (an allowed action with its chat, or a refusal with its session at hand)."""
    entry = AuditEntry(at=require_aware(now), tg_user_id=user_id, chat_id=chat_id, action=action[:64],
                       allowed=allowed, ticket_id=ticket_id, scope=scope[:255], via=via[:255], note=note)
    session.add(entry)
    await session.flush()
    return entry


# --- queries --------------------------------------------------------------------------------------------------


def _from_entry(e: AuditEntry, numbers: dict[int, str]) -> AuditLine:
    return AuditLine(e.at, f"user:{e.tg_user_id}" if e.tg_user_id is not None else "user:?", e.chat_id, e.action,
                     e.allowed, numbers.get(e.ticket_id, "") if e.ticket_id else "", e.via, e.note or e.scope)


def _from_event(e: TicketEvent, numbers: dict[int, str]) -> AuditLine:
    detail = " ".join(x for x in (
        f"{e.from_status.value if e.from_status else ''}→{e.to_status.value}" if e.to_status else "",
        f"level={e.level}" if e.level else "", f"unit={e.unit}" if e.unit else "",
        f"rating={e.rating.value}" if e.rating else "",
        f"stage={e.mediation_stage.value}" if e.mediation_stage else "", e.note or "") if x)
    return AuditLine(e.at, e.actor, None, f"event:{e.kind.value}", True, numbers.get(e.ticket_id, ""), "", detail)


async def _numbers(session: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = (await session.exec(select(Ticket.id, Ticket.number).where(col(Ticket.id).in_(sorted(ids))))).all()
    return {i: n for i, n in rows if i is not None}


async def _merge(session: AsyncSession, entries: Sequence[AuditEntry],
                 events: Sequence[TicketEvent]) -> list[AuditLine]:
    numbers = await _numbers(session, {e.ticket_id for e in entries if e.ticket_id} | {e.ticket_id for e in events})
    lines = [_from_entry(e, numbers) for e in entries] + [_from_event(e, numbers) for e in events]
    return sorted(lines, key=lambda line: line.at)


async def for_case(session: AsyncSession, ticket_id: int) -> list[AuditLine]:
    """Everything tried and done on one case, oldest first."""
    entries = (await session.exec(select(AuditEntry).where(AuditEntry.ticket_id == ticket_id)
                                  .order_by(col(AuditEntry.at), col(AuditEntry.id)))).all()
    events = (await session.exec(select(TicketEvent).where(TicketEvent.ticket_id == ticket_id)
                                 .order_by(col(TicketEvent.at), col(TicketEvent.id)))).all()
    return await _merge(session, entries, events)


def _window(column: Any, since: datetime | None, until: datetime | None) -> list[Any]:
    found = []
    if since is not None:
        found.append(column >= require_aware(since))
    if until is not None:
        found.append(column < require_aware(until))
    return found


async def for_user(session: AsyncSession, tg_user_id: int, *, since: datetime | None = None,
                   until: datetime | None = None) -> list[AuditLine]:
    """Everything one staff member or supervisor tried (audit rows) and did (case events under their actor name)."""
    entries = (await session.exec(select(AuditEntry).where(
        AuditEntry.tg_user_id == tg_user_id, *_window(col(AuditEntry.at), since, until)))).all()
    actors = [f"staff:{tg_user_id}", f"supervisor:{tg_user_id}"]
    events = (await session.exec(select(TicketEvent).where(
        col(TicketEvent.actor).in_(actors), *_window(col(TicketEvent.at), since, until)))).all()
    return await _merge(session, entries, events)


async def between(session: AsyncSession, since: datetime, until: datetime, *, limit: int = 50_000) -> list[AuditLine]:
    """The whole trail of a time window (audit rows and case events), oldest first, at most ``limit`` of each."""
    entries = (await session.exec(select(AuditEntry).where(*_window(col(AuditEntry.at), since, until))
                                  .order_by(col(AuditEntry.at)).limit(limit))).all()
    events = (await session.exec(select(TicketEvent).where(*_window(col(TicketEvent.at), since, until))
                                 .order_by(col(TicketEvent.at)).limit(limit))).all()
    return await _merge(session, entries, events)


__all__ = [
    "MAX_KEPT",
    "AuditLine",
    "between",
    "flush_refusals",
    "for_case",
    "for_user",
    "has_kept",
    "keep_refusal",
    "record",
]
