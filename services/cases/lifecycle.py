"""The case lifecycle (办理流程): one table of legal moves, applied under an optimistic guard.

受理 received → 派单 dispatched → 签收 signed → 办理 in_progress → 办结 resolved → 回访 followed_up
→ closed, with side roads: withdrawn (撤回) and merged (合并) from any open state, 待补充 pending_info
from signed/in_progress and back to where it came from, reopened (重新办理) from resolved/followed_up.

Every write to a ticket's state goes through :func:`write`: ``UPDATE tickets ... WHERE id = ? AND
version = ? AND status = ?`` and a rowcount check. A second staff member pressing 签收 on the same
ticket therefore loses cleanly (``CONFLICT``) on SQLite and PostgreSQL alike, instead of overwriting
the first. Refusals are reason enums; nothing is ever half applied.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import insert, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases import clocks
from services.cases.duplicates import add_follower
from services.cases.events import SYSTEM_ACTOR, new_event, resident_actor, staff_actor
from services.cases.tickets import SIGN_LIMIT, insert_ticket, new_ticket, parse_ticket_number
from services.cases.working_time import deadline
from services.community.model import Category, Community
from storage.models import (
    OPEN_STATUSES,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketStatus,
)

S = TicketStatus
# built once: the same compiled statement for every case opened (rows as executemany parameters; a multi-row
# VALUES would be a new statement to compile each time)
_INSERT_EVENTS = insert(TicketEvent.__table__)  # type: ignore[attr-defined]
_ANY_OPEN_EXIT = frozenset({S.WITHDRAWN, S.MERGED})

TRANSITIONS: Mapping[TicketStatus, frozenset[TicketStatus]] = {
    S.RECEIVED: frozenset({S.DISPATCHED}) | _ANY_OPEN_EXIT,
    S.DISPATCHED: frozenset({S.SIGNED}) | _ANY_OPEN_EXIT,
    S.SIGNED: frozenset({S.IN_PROGRESS, S.PENDING_INFO}) | _ANY_OPEN_EXIT,
    S.IN_PROGRESS: frozenset({S.RESOLVED, S.PENDING_INFO}) | _ANY_OPEN_EXIT,
    S.PENDING_INFO: frozenset({S.SIGNED, S.IN_PROGRESS}) | _ANY_OPEN_EXIT,  # only back where it came from
    S.REOPENED: frozenset({S.DISPATCHED, S.SIGNED}) | _ANY_OPEN_EXIT,  # goes on like received/dispatched
    S.RESOLVED: frozenset({S.FOLLOWED_UP, S.REOPENED, S.CLOSED}),
    S.FOLLOWED_UP: frozenset({S.CLOSED, S.REOPENED}),
    S.CLOSED: frozenset(),
    S.WITHDRAWN: frozenset(),
    S.MERGED: frozenset(),
}
"""Legal moves. Everything not listed is refused; see :func:`check` for the extra conditions."""

FINAL: frozenset[TicketStatus] = frozenset(s for s, targets in TRANSITIONS.items() if not targets)
REASSIGNABLE: frozenset[TicketStatus] = frozenset({S.RECEIVED, S.DISPATCHED, S.SIGNED, S.IN_PROGRESS, S.REOPENED})

_EVENT_KIND = {
    S.WITHDRAWN: TicketEventKind.WITHDRAWN,
    S.MERGED: TicketEventKind.MERGED,
    S.DISPATCHED: TicketEventKind.DISPATCHED,
}


class Outcome(StrEnum):
    OK = "ok"
    ILLEGAL = "illegal"  # refused by the rules; ``reason`` says which
    CONFLICT = "conflict"  # someone changed the ticket first; it was reloaded, nothing was applied


class Refusal(StrEnum):
    NOT_ALLOWED = "not_allowed"  # not in the table of transitions
    FINAL = "final"  # closed, withdrawn or merged: nothing more happens
    SAME_STATUS = "same_status"
    RESULT_REQUIRED = "result_required"  # 办结 needs a result text
    NOT_PREVIOUS_STATUS = "not_previous_status"  # 待补充 returns only to the status it came from
    MERGE_TARGET_REQUIRED = "merge_target_required"
    MERGE_TARGET_INVALID = "merge_target_invalid"  # itself, or a ticket that is not open
    REASON_REQUIRED = "reason_required"  # 转派 needs a reason
    UNKNOWN_UNIT = "unknown_unit"
    SAME_UNIT = "same_unit"


@dataclass(frozen=True)
class TransitionResult:
    outcome: Outcome
    reason: Refusal | None = None
    event: TicketEvent | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK

    @classmethod
    def done(cls, event: TicketEvent) -> "TransitionResult":
        return cls(Outcome.OK, event=event)

    @classmethod
    def illegal(cls, reason: Refusal) -> "TransitionResult":
        return cls(Outcome.ILLEGAL, reason=reason)

    @classmethod
    def conflict(cls) -> "TransitionResult":
        return cls(Outcome.CONFLICT)


class WithdrawStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # no such number, or not this resident's (never tell which)
    ALREADY_WITHDRAWN = "already_withdrawn"
    NOT_OPEN = "not_open"  # resolved, closed, merged ...: too late to withdraw


@dataclass(frozen=True)
class WithdrawResult:
    status: WithdrawStatus
    ticket: Ticket | None = None

    @property
    def ok(self) -> bool:
        return self.status is WithdrawStatus.OK


# --- the rules --------------------------------------------------------------------------------------


def check(
    ticket: Ticket,
    to: TicketStatus,
    *,
    result: str | None = None,
    merged_into: Ticket | None = None,
) -> Refusal | None:
    """Why ``ticket`` may not move to ``to`` (None: it may). Pure; reads only the ticket in hand."""
    frm = ticket.status
    if frm in FINAL:
        return Refusal.FINAL
    if to == frm:
        return Refusal.SAME_STATUS
    if to not in TRANSITIONS[frm]:
        return Refusal.NOT_ALLOWED
    if frm is S.PENDING_INFO and to in OPEN_STATUSES and to != ticket.resume_status:
        return Refusal.NOT_PREVIOUS_STATUS
    if to is S.RESOLVED and not (result and result.strip()):
        return Refusal.RESULT_REQUIRED
    if to is S.MERGED:
        if merged_into is None:
            return Refusal.MERGE_TARGET_REQUIRED
        if merged_into.id == ticket.id or merged_into.status not in OPEN_STATUSES:
            return Refusal.MERGE_TARGET_INVALID
    return None


def _changes(
    ticket: Ticket, to: TicketStatus, now: datetime, result: str | None, merged_into: Ticket | None
) -> dict[str, Any]:
    """Column values a legal move writes, clocks included."""
    frm = ticket.status
    changes: dict[str, Any] = {"status": to, "updated_at": now}
    if to in OPEN_STATUSES:
        changes["closed_at"] = None
    elif ticket.closed_at is None:
        changes["closed_at"] = now
    if to is S.PENDING_INFO:
        changes |= {"resume_status": frm, **clocks.pause(ticket, now)}
    elif frm is S.PENDING_INFO:
        changes |= {"resume_status": None, **clocks.resume(ticket, now)}
    elif to is S.SIGNED:
        changes["signed_at"] = now
    if to is S.SIGNED and (ticket.first_signed_at is None or now < ticket.first_signed_at):
        changes["first_signed_at"] = now  # kept for reports, with the event that says it (the first ever)
    if to is S.RESOLVED:
        changes |= {"result": (result or "").strip(), "resolved_at": now, "followup_sent_at": None,
                    "resolved_count": ticket.resolved_count + 1}
    elif to is S.REOPENED:
        changes |= {"followup_sent_at": None, "reopened_count": ticket.reopened_count + 1,
                    **clocks.restart(ticket, now, SIGN_LIMIT)}
    elif to is S.MERGED:
        assert merged_into is not None
        changes["merged_into_id"] = merged_into.id
    changes["next_check_at"] = clocks.next_check(clocks.Preview(ticket, changes))
    return changes


# --- writing ----------------------------------------------------------------------------------------


async def write(session: AsyncSession, ticket: Ticket, changes: Mapping[str, Any], *, bump: bool = True,
                guard: Sequence[str] = ()) -> bool:
    """Apply ``changes`` only if the row still has the version and status of the ticket in hand (and the values of
    the ``guard`` columns).

    Returns False (and writes nothing) when another transaction got there first. ``bump=False`` is for
    bookkeeping that must not invalidate buttons staff already hold (the sweep's alert marks); such a write needs a
    ``guard`` of its own, since the version does not tell two of them apart.
    """
    assert ticket.id is not None, "flush the ticket first"
    await session.flush()  # pending ORM changes first, so they cannot overwrite ours later
    table = Ticket.__table__
    values = dict(changes)
    if bump:
        values["version"] = ticket.version + 1
    same = [table.c[name].is_(None) if getattr(ticket, name) is None else table.c[name] == getattr(ticket, name)
            for name in guard]
    stmt = (
        update(table)
        .where(table.c.id == ticket.id, table.c.version == ticket.version, table.c.status == ticket.status, *same)
        .values(values)
    )
    if (await session.exec(stmt)).rowcount != 1:
        return False
    for key, value in values.items():
        set_committed_value(ticket, key, value)  # in step with the row, and not dirty for the ORM
    return True


async def _conflict(session: AsyncSession, ticket: Ticket) -> TransitionResult:
    await session.refresh(ticket)  # show the caller what the other side did
    return TransitionResult.conflict()


async def transition(
    session: AsyncSession,
    ticket: Ticket,
    to: TicketStatus,
    *,
    actor: str,
    now: datetime,
    note: str | None = None,
    result: str | None = None,
    merged_into: Ticket | None = None,
    expected_version: int | None = None,
) -> TransitionResult:
    """Move ``ticket`` to ``to`` if the table allows it, with its event; refusals change nothing.

    ``expected_version`` is the version the actor saw (e.g. carried in a button's callback data): if
    the ticket moved on since, the press is a CONFLICT even when the move would still be legal.
    """
    require_aware(now)
    if expected_version is not None and expected_version != ticket.version:
        return TransitionResult.conflict()
    refusal = check(ticket, to, result=result, merged_into=merged_into)
    if refusal is not None:
        return TransitionResult.illegal(refusal)
    frm = ticket.status
    if not await write(session, ticket, _changes(ticket, to, now, result, merged_into)):
        return await _conflict(session, ticket)
    event = new_event(
        ticket,
        kind=_EVENT_KIND.get(to, TicketEventKind.STATUS_CHANGED),
        actor=actor,
        now=now,
        from_status=frm,
        to_status=to,
        note=note if note is not None or to is not S.RESOLVED else ticket.result,
    )
    session.add(event)
    if to is S.MERGED and merged_into is not None and merged_into.id is not None:
        # the duplicate's author follows the surviving case from now on
        await add_follower(session, merged_into.id, ticket.resident_id, now, text=ticket.text)
    await session.flush()
    return TransitionResult.done(event)


async def open_dispatched(session: AsyncSession, *, note: str | None = None, **open_args: Any) -> Ticket:
    """Open a ticket (``tickets.new_ticket`` arguments) routed to its unit at once: 受理 and 派单 in one step,
    since the community file already names the unit. Every way a ticket is opened goes through here.

    The row is written once, already dispatched (as :func:`transition` would leave it: version 1, its clocks
    armed), with its two events ("created", then "dispatched") in one insert: the same rows as opening and then
    moving it, in two statements instead of four."""
    now = open_args["now"]
    ticket = await new_ticket(session, **open_args)
    assert check(ticket, S.DISPATCHED) is None, "a received ticket can always be dispatched"
    for key, value in _changes(ticket, S.DISPATCHED, now, None, None).items():
        setattr(ticket, key, value)
    ticket.version = 1
    await insert_ticket(session, ticket)  # numbered in its INSERT on SQLite (tickets.insert_ticket)
    events = [
        new_event(ticket, kind=TicketEventKind.CREATED, actor=resident_actor(ticket.resident_id), now=now,
                  to_status=S.RECEIVED),
        new_event(ticket, kind=TicketEventKind.DISPATCHED, actor=SYSTEM_ACTOR, now=now, from_status=S.RECEIVED,
                  to_status=S.DISPATCHED, note=note),
    ]  # one plain INSERT for both rows (the ORM would send one a row: it wants each id back)
    await session.exec(_INSERT_EVENTS, params=[e.model_dump(exclude={"id"}) for e in events])  # type: ignore[call-overload]
    return ticket


async def answer_info(
    session: AsyncSession, ticket: Ticket, *, actor: str, now: datetime, note: str | None = None
) -> TransitionResult:
    """The resident supplied what 待补充 asked for: back to the previous status, clock running again."""
    if ticket.status is not S.PENDING_INFO or ticket.resume_status is None:
        return TransitionResult.illegal(Refusal.NOT_ALLOWED if ticket.status not in FINAL else Refusal.FINAL)
    return await transition(session, ticket, ticket.resume_status, actor=actor, now=now, note=note)


async def reassign(
    session: AsyncSession,
    ticket: Ticket,
    *,
    unit: str,
    reason: str,
    actor: str,
    now: datetime,
    community: Community,
    expected_version: int | None = None,
) -> TransitionResult:
    """转派: another unit takes the case and must sign for it anew; the resident's deadline stands."""
    require_aware(now)
    if expected_version is not None and expected_version != ticket.version:
        return TransitionResult.conflict()
    if ticket.status in FINAL:
        return TransitionResult.illegal(Refusal.FINAL)
    if ticket.status not in REASSIGNABLE:
        return TransitionResult.illegal(Refusal.NOT_ALLOWED)
    if not reason.strip():
        return TransitionResult.illegal(Refusal.REASON_REQUIRED)
    target = community.unit(unit)
    if target is None:
        return TransitionResult.illegal(Refusal.UNKNOWN_UNIT)
    if target.code == ticket.unit:
        return TransitionResult.illegal(Refusal.SAME_UNIT)
    frm = ticket.status
    changes: dict[str, Any] = {
        "unit": target.code,
        "status": S.DISPATCHED,
        "updated_at": now,
        "sign_due_at": deadline(now, community.sign_limit(), community.working_time, emergency=ticket.emergency),
        "signed_at": None,
        "sign_reminded_at": None,
    }
    changes["next_check_at"] = clocks.next_check(clocks.Preview(ticket, changes))
    if not await write(session, ticket, changes):
        return await _conflict(session, ticket)
    event = new_event(
        ticket,
        kind=TicketEventKind.REASSIGNED,
        actor=actor,
        now=now,
        from_status=frm,
        to_status=S.DISPATCHED,
        note=reason.strip(),
        unit=target.code,
    )
    session.add(event)
    await session.flush()
    return TransitionResult.done(event)


# --- the resident says it is fixed; staff correct the category -------------------------------------------


RESIDENT_RESOLVED = "居民反馈问题已解决"  # the result written when the resident confirms it is fixed


async def confirm_resolved(session: AsyncSession, ticket: Ticket, *, actor: str, now: datetime) -> TransitionResult:
    """The resident confirms the problem is gone ("已经修好了") while the case is still open: resolved from any open
    status, outside the staff's table of moves (nobody needs to sign for what is already fixed). The follow-up
    (回访) comes as after any 办结."""
    require_aware(now)
    if ticket.status in FINAL or ticket.status not in OPEN_STATUSES:
        return TransitionResult.illegal(Refusal.FINAL if ticket.status in FINAL else Refusal.NOT_ALLOWED)
    frm = ticket.status
    if not await write(session, ticket, _changes(ticket, S.RESOLVED, now, RESIDENT_RESOLVED, None)):
        return await _conflict(session, ticket)
    event = new_event(ticket, kind=TicketEventKind.STATUS_CHANGED, actor=actor, now=now, from_status=frm,
                      to_status=S.RESOLVED, note=RESIDENT_RESOLVED)
    session.add(event)
    await session.flush()
    return TransitionResult.done(event)


async def recategorize(session: AsyncSession, ticket: Ticket, *, category: str, actor: str, now: datetime,
                       community: Community, expected_version: int | None = None) -> TransitionResult:
    """Staff correct a case's category (改类别); when another unit handles the new category, the case is handed
    to it as in 转派 (it must be signed for anew; the resident's deadline stands)."""
    require_aware(now)
    if expected_version is not None and expected_version != ticket.version:
        return TransitionResult.conflict()
    if ticket.status not in OPEN_STATUSES:
        return TransitionResult.illegal(Refusal.FINAL if ticket.status in FINAL else Refusal.NOT_ALLOWED)
    new = Category(category)
    if new.value == ticket.category:
        return TransitionResult.illegal(Refusal.SAME_STATUS)
    old = ticket.category
    if not await write(session, ticket, {"category": new.value, "updated_at": now}):
        return await _conflict(session, ticket)
    session.add(new_event(ticket, kind=TicketEventKind.NOTE, actor=actor, now=now, note=f"类别更正：{old} → {new}"))
    unit = community.unit_for(new)
    if unit.code != ticket.unit and ticket.status in REASSIGNABLE:
        return await reassign(session, ticket, unit=unit.code, reason=f"类别更正为{new.value}", actor=actor, now=now,
                              community=community)
    await session.flush()
    return TransitionResult(Outcome.OK)


# --- withdrawal (撤回) by the resident -------------------------------------------------------------------------------


async def withdraw(
    session: AsyncSession, *, resident_id: int, number: str, now: datetime, note: str | None = None
) -> WithdrawResult:
    """Withdraw (撤回) one's own open ticket; refusals come back as a status, nothing is raised."""
    require_aware(now)
    canonical = parse_ticket_number(number)
    if canonical is None:
        return WithdrawResult(WithdrawStatus.NOT_FOUND)
    stmt = (
        select(Ticket)
        .where(Ticket.number == canonical, Ticket.resident_id == resident_id)
        .with_for_update()  # PostgreSQL: row lock against a concurrent staff update; SQLite ignores it
    )
    ticket = (await session.exec(stmt)).first()
    if ticket is None:
        return WithdrawResult(WithdrawStatus.NOT_FOUND)
    if ticket.status == TicketStatus.WITHDRAWN:
        return WithdrawResult(WithdrawStatus.ALREADY_WITHDRAWN, ticket)
    if ticket.status not in OPEN_STATUSES:
        return WithdrawResult(WithdrawStatus.NOT_OPEN, ticket)
    # through the state machine, so the version guard, clocks and sweep bookkeeping stay right
    done = await transition(session, ticket, TicketStatus.WITHDRAWN, actor=resident_actor(resident_id), now=now,
                            note=note)
    if not done.ok:  # a staff action moved it at the same moment: report what it is now
        return WithdrawResult(
            WithdrawStatus.ALREADY_WITHDRAWN if ticket.status == TicketStatus.WITHDRAWN else WithdrawStatus.NOT_OPEN,
            ticket,
        )
    return WithdrawResult(WithdrawStatus.OK, ticket)


__all__ = [
    "FINAL",
    "REASSIGNABLE",
    "RESIDENT_RESOLVED",
    "TRANSITIONS",
    "Outcome",
    "Refusal",
    "TransitionResult",
    "WithdrawResult",
    "WithdrawStatus",
    "answer_info",
    "check",
    "confirm_resolved",
    "open_dispatched",
    "reassign",
    "recategorize",
    "staff_actor",
    "transition",
    "withdraw",
    "write",
]
