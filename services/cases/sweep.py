"""The periodic sweep: reminders (催办) and escalation (逐级上报) when clocks run out, plus SOS tickets.

Each open ticket stores ``next_check_at``, the next moment one of its clocks turns (yellow, red, sign-for
limit). The sweep reads ``WHERE next_check_at <= now`` through the index on that column, so its cost
follows the number of tickets that need action, not the number stored. For each it gives the alerts
not yet given, records them as events, and stores the following moment; a second sweep at the same
``now`` therefore finds nothing. The report lists who must be told, for the bot to post.

Escalation climbs the community file's levels one at a time: none → grid (网格员) → community (居委会)
→ street (街道), staying at street once there. The resident's 不满意 goes one level above the level that handled
the case (:func:`level_above_handling`): a case never escalated was handled at the grid's level, so it goes to the
community, never back to the grid worker.

A case is not dropped after its red escalation: each further period it stays red (its own time limit again, or the
file's ``[working_time] escalate_every_days`` working days) climbs one more level, and once it is held by the street
the street's chat is reminded once per period instead, but never sooner than ``remind_top_every_hours`` (default
24) after the last word to it: an emergency's period is a few hours (a late sweep gives one alert for all the
periods it missed, never a flood). A case waiting in 待补充 is chased: after ``info_remind_days`` working days without
an answer the resident is reminded, after ``info_desk_days`` the desk is told, once each; staff decide what follows
(call the resident, or close it with the [无法联系，办结] button under that word), the sweep closes nothing. Every
alert is marked on the row (``overdue_steps``, ``info_chased``) in the guarded write that moves ``next_check_at``
on, so it is given once across sweeps, overlapping leaders and restarts.
"""

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services import require_aware
from services.cases import clocks
from services.cases.events import SYSTEM_ACTOR, new_event
from services.cases.lifecycle import open_dispatched, write
from services.cases.working_time import deadline
from services.community.model import Category, Community, EscalationLevelName, WorkingTime
from storage.db import offloading
from storage.models import OPEN_STATUSES, Resident, Ticket, TicketEvent, TicketEventKind

LEVELS: tuple[EscalationLevelName, ...] = tuple(EscalationLevelName)
BATCH = 500
MAX_QUIET_STEPS = 10_000  # bounds quiet_at_top's walk whatever the file says (a period is at least a minute)


class ReminderKind(StrEnum):
    YELLOW = "yellow"  # 75 % of the resolution limit used
    SIGN_OVERDUE = "sign_overdue"  # nobody signed for it within the sign-for limit
    OVERDUE = "overdue"  # red for another period while the top level holds it: that level's chat reminded


class EscalationReason(StrEnum):
    BREACHED = "breached"  # resolution limit passed (red)
    SIGN_OVERDUE = "sign_overdue"
    SOS = "sos"
    UNSATISFIED = "unsatisfied"  # the resident rated 不满意
    MANUAL = "manual"  # a staff member pressed 升级
    OVERDUE = "overdue"  # still red a further period after its red escalation: one more level


class ChaseKind(StrEnum):
    RESIDENT = "info_resident"  # 待补充 unanswered: the resident reminded
    DESK = "info_desk"  # still unanswered: the desk told, to call the resident or close the case


@dataclass(frozen=True)
class Reminder:
    """Tell the handling unit (its chat) that ``number`` needs attention by ``due_at``."""

    ticket_id: int
    number: str
    unit: str
    chat_id: int | None
    kind: ReminderKind
    due_at: datetime


@dataclass(frozen=True)
class Escalation:
    """Tell the escalation level's chat (from the community file) about ``number``."""

    ticket_id: int
    number: str
    level: EscalationLevelName
    chat_id: int | None
    reason: EscalationReason


@dataclass(frozen=True)
class InfoChase:
    """A case in 待补充 since ``since`` whose resident has not answered: remind them, or tell the unit's chat."""

    ticket_id: int
    number: str
    unit: str
    chat_id: int | None
    kind: ChaseKind
    since: datetime


@dataclass(frozen=True)
class SweepReport:
    reminders: Sequence[Reminder] = ()
    escalations: Sequence[Escalation] = ()
    checked: int = 0  # tickets read because their next check had come
    conflicts: int = 0  # changed by someone else meanwhile; the next sweep looks again
    more: bool = False  # the batch was full: sweep again now
    chases: Sequence[InfoChase] = ()

    @property
    def empty(self) -> bool:
        return not self.reminders and not self.escalations and not self.chases


@dataclass
class _Plan:
    changes: dict[str, Any] = field(default_factory=dict)
    reminders: list[Reminder] = field(default_factory=list)
    escalations: list[Escalation] = field(default_factory=list)
    chases: list[InfoChase] = field(default_factory=list)


def next_level(current: str | None) -> EscalationLevelName:
    """One level up from ``current`` (None: not escalated yet); the top level stays the top level."""
    if current is None:
        return LEVELS[0]
    i = LEVELS.index(EscalationLevelName(current))
    return LEVELS[min(i + 1, len(LEVELS) - 1)]


def level_above_handling(current: str | None) -> EscalationLevelName:
    """Where 不满意 sends a case: one level above the one that handled it, never the same. A case never escalated
    was handled at the first level (its unit and the grid's worker), so it goes to the second (the community); one
    the community held goes to the street; the top stays the top (nobody above it)."""
    return next_level(current or LEVELS[0])


def _escalation(
    ticket: Ticket, level: EscalationLevelName, reason: EscalationReason, community: Community
) -> Escalation:
    assert ticket.id is not None
    target = community.escalation_level(level)
    return Escalation(ticket.id, ticket.number, level, target.chat_id if target else None, reason)


def _reminder(ticket: Ticket, kind: ReminderKind, due_at: datetime, community: Community) -> Reminder:
    assert ticket.id is not None
    unit = community.unit(ticket.unit)
    return Reminder(ticket.id, ticket.number, ticket.unit, unit.chat_id if unit else None, kind, due_at)


def _chase(ticket: Ticket, kind: ChaseKind, community: Community) -> InfoChase:
    assert ticket.id is not None and ticket.paused_at is not None
    unit = community.unit(ticket.unit)
    return InfoChase(ticket.id, ticket.number, ticket.unit, unit.chat_id if unit else None, kind, ticket.paused_at)


def _chase_info(ticket: Ticket, now: datetime, community: Community, plan: _Plan) -> None:
    """待补充 unanswered: the resident reminded, then the desk told, each once per question."""
    chased = ticket.info_chased
    for chase, kind in ((1, ChaseKind.RESIDENT), (2, ChaseKind.DESK)):
        if chased < chase and clocks.info_at(ticket, chase, community.working_time) <= now:
            chased = chase
            plan.chases.append(_chase(ticket, kind, community))
    if chased != ticket.info_chased:
        plan.changes["info_chased"] = chased


def _still_red(ticket: Ticket, now: datetime, community: Community, level: str | None, plan: _Plan) -> str | None:
    """Red a further period since the last alert: one level up, or at the top a reminder to the level's chat."""
    steps = clocks.overdue_steps(ticket, now, community.working_time)
    if steps <= ticket.overdue_steps:
        return level
    plan.changes["overdue_steps"] = steps
    if level == LEVELS[-1]:
        assert ticket.id is not None
        target = community.escalation_level(level)
        plan.reminders.append(Reminder(ticket.id, ticket.number, ticket.unit, target.chat_id if target else None,
                                       ReminderKind.OVERDUE, ticket.due_at))
        plan.changes["overdue_steps"] = quiet_at_top(ticket, steps, community.working_time)
        return level
    up = next_level(level)
    plan.escalations.append(_escalation(ticket, up, EscalationReason.OVERDUE, community))
    if up == LEVELS[-1]:
        plan.changes["overdue_steps"] = quiet_at_top(ticket, steps, community.working_time)
    return up


def quiet_at_top(ticket: Ticket, steps: int, working: WorkingTime) -> int:
    """The periods to count as alerted once the top level was told of a red case at period ``steps`` (0: at its
    deadline), so that its next reminder comes no sooner than ``remind_top_every_hours`` after that period began.
    An emergency's period is its few hours' limit: without this the street would be reminded all night. Measured
    from the period's own moment, not the sweep's, so a period as long as the gap is not skipped for a late tick."""
    begun = ticket.due_at if steps <= 0 else clocks.overdue_at(ticket, steps, working)
    until = begun + timedelta(hours=working.remind_top_every_hours)
    quiet = steps
    period = clocks.limit(ticket)
    if working.escalate_every_days is None and period > timedelta(0):  # the limit again each period: arithmetic
        quiet = max(quiet, -((ticket.due_at - until) // period) - 1)  # ceil((until - due) / period) - 1
    for _ in range(MAX_QUIET_STEPS):  # working days: one period at a time (a few per gap)
        if clocks.overdue_at(ticket, quiet + 1, working) >= until:
            break
        quiet += 1
    return quiet


def _plan(ticket: Ticket, now: datetime, community: Community) -> _Plan:
    """What the sweep owes this ticket at ``now``: alerts not given yet, and the next check time."""
    plan = _Plan()
    if ticket.status not in OPEN_STATUSES:
        plan.changes["next_check_at"] = None
        return plan
    level = ticket.escalation_level
    if ticket.paused_at is not None:
        _chase_info(ticket, now, community, plan)
    if clocks.sign_overdue(ticket, now) and ticket.sign_reminded_at is None:
        plan.changes["sign_reminded_at"] = now
        plan.reminders.append(_reminder(ticket, ReminderKind.SIGN_OVERDUE, ticket.sign_due_at, community))
        level = next_level(level)
        plan.escalations.append(_escalation(ticket, level, EscalationReason.SIGN_OVERDUE, community))
    if ticket.paused_at is None:
        colour = clocks.resolution_colour(ticket, now)
        if colour is clocks.Colour.RED and ticket.breached_at is None:
            plan.changes["breached_at"] = now
            if ticket.reminded_at is None:
                plan.changes["reminded_at"] = now  # red supersedes the yellow reminder it skipped
            level = next_level(level)
            plan.escalations.append(_escalation(ticket, level, EscalationReason.BREACHED, community))
            # the periods a late sweep missed are covered by this escalation: the next one is a period on
            plan.changes["overdue_steps"] = clocks.overdue_steps(ticket, now, community.working_time)
            if level == LEVELS[-1]:  # the top told already (an emergency held by the community breached)
                plan.changes["overdue_steps"] = quiet_at_top(ticket, plan.changes["overdue_steps"],
                                                             community.working_time)
        elif colour is clocks.Colour.RED:
            level = _still_red(ticket, now, community, level, plan)
        elif colour is clocks.Colour.YELLOW and ticket.reminded_at is None:
            plan.changes["reminded_at"] = now
            plan.reminders.append(_reminder(ticket, ReminderKind.YELLOW, ticket.due_at, community))
    if level != ticket.escalation_level:
        plan.changes["escalation_level"] = level
    upcoming = clocks.next_check(clocks.Preview(ticket, plan.changes), community.working_time)
    assert upcoming is None or upcoming > now, "an alert due at or before now was not given"
    plan.changes["next_check_at"] = upcoming
    return plan


def _reminded(ticket: Ticket, reminder: Reminder, now: datetime) -> TicketEvent:
    return new_event(ticket, kind=TicketEventKind.REMINDED, actor=SYSTEM_ACTOR, now=now, note=reminder.kind.value)


def _chased(ticket: Ticket, chase: InfoChase, now: datetime) -> TicketEvent:
    return new_event(ticket, kind=TicketEventKind.REMINDED, actor=SYSTEM_ACTOR, now=now, note=chase.kind.value)


def _escalated(ticket: Ticket, escalation: Escalation, actor: str, now: datetime) -> TicketEvent:
    return new_event(
        ticket,
        kind=TicketEventKind.ESCALATED,
        actor=actor,
        now=now,
        note=escalation.reason.value,
        level=escalation.level,
    )


def due_query(now: datetime, limit: int = BATCH) -> SelectOfScalar[Ticket]:
    """Tickets whose next check has come, earliest first: a range scan of ix_tickets_next_check_at."""
    return (
        select(Ticket)
        .where(col(Ticket.next_check_at) <= require_aware(now))
        .order_by(col(Ticket.next_check_at))
        .limit(limit)
    )


@offloading  # up to a batch of due cases, found by index: long only on a large store
async def due_for_check(session: AsyncSession, now: datetime, limit: int = BATCH) -> list[Ticket]:
    return list((await session.exec(due_query(now, limit))).all())


async def sweep(session: AsyncSession, now: datetime, community: Community, *, batch: int = BATCH) -> SweepReport:
    """Give every alert that has come due, record it, and report whom to tell. Idempotent per ``now``."""
    require_aware(now)
    tickets = await due_for_check(session, now, batch)
    reminders: list[Reminder] = []
    escalations: list[Escalation] = []
    chases: list[InfoChase] = []
    events: list[TicketEvent] = []  # added at the end: one batched insert instead of a flush per ticket
    conflicts = 0
    for ticket in tickets:
        plan = _plan(ticket, now, community)
        # bump=False: alert marks must not invalidate the buttons staff hold for this ticket; so the guard is the
        # next check the plan was made from: a sweep that overlapped this one (a leader that lost the lead while it
        # swept, and the next) and gave these alerts first has moved it on, and this one gives them no second time
        if not await write(session, ticket, plan.changes, bump=False, guard=("next_check_at",)):
            conflicts += 1
            continue
        events += (_reminded(ticket, r, now) for r in plan.reminders)
        events += (_escalated(ticket, e, SYSTEM_ACTOR, now) for e in plan.escalations)
        events += (_chased(ticket, c, now) for c in plan.chases)
        reminders += plan.reminders
        escalations += plan.escalations
        chases += plan.chases
    session.add_all(events)
    await session.flush()
    return SweepReport(
        reminders=tuple(reminders),
        escalations=tuple(escalations),
        checked=len(tickets),
        conflicts=conflicts,
        more=len(tickets) == batch,
        chases=tuple(chases),
    )


async def escalate(
    session: AsyncSession,
    ticket: Ticket,
    *,
    reason: EscalationReason,
    actor: str,
    now: datetime,
    community: Community,
    level: EscalationLevelName | None = None,
) -> Escalation | None:
    """Raise the ticket to ``level`` (default: one up) with an "escalated" event; None on a conflict."""
    require_aware(now)
    target = level or next_level(ticket.escalation_level)
    if not await write(session, ticket, {"escalation_level": target, "updated_at": now}):
        return None
    escalation = _escalation(ticket, target, reason, community)
    session.add(_escalated(ticket, escalation, actor, now))
    await session.flush()
    return escalation


# --- emergencies ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SosResult:
    ticket: Ticket
    escalation: Escalation


async def open_sos(
    session: AsyncSession,
    *,
    resident: Resident,
    text: str,
    location: str | None,
    photos: Sequence[str],
    community: Community,
    now: datetime,
    category: Category = Category.SAFETY,
    grid_code: str | None = None,
    kind: str | None = None,
) -> SosResult:
    """An emergency (``kind``: medical, fire, … or None): opened, dispatched and red at once, escalated straight
    to the community. ``category`` picks the unit that holds it (``services.cases.emergencies`` decides).

    Its resolution clock still runs, on the emergency's own limit (:meth:`Community.emergency_limit`), not its
    category's: a fall routed to the community as "other" would otherwise have seven days. Breaching it escalates
    on to the street.
    """
    ticket = await open_dispatched(
        session,
        note=EscalationReason.SOS,
        emergency=True,  # wall-clock limits, whatever the file says of working time
        resident=resident,
        category=category,
        text=text,
        location=location,
        photos=photos,
        community=community,
        now=now,
        grid_code=grid_code,
    )
    due = deadline(now, community.emergency_limit(), community.working_time, emergency=True)
    marked: dict[str, Any] = {"emergency": True, "emergency_kind": kind, "due_at": due,
                              "reminded_at": now}  # red from the start: no reminder
    marked["next_check_at"] = clocks.next_check(clocks.Preview(ticket, marked))
    written = await write(session, ticket, marked)
    assert written, "a ticket opened in this transaction cannot have changed"
    escalation = await escalate(
        session,
        ticket,
        reason=EscalationReason.SOS,
        actor=SYSTEM_ACTOR,
        now=now,
        community=community,
        level=EscalationLevelName.COMMUNITY,
    )
    assert escalation is not None
    return SosResult(ticket, escalation)


__all__ = [
    "BATCH",
    "LEVELS",
    "ChaseKind",
    "Escalation",
    "EscalationReason",
    "InfoChase",
    "Reminder",
    "ReminderKind",
    "SosResult",
    "SweepReport",
    "due_for_check",
    "due_query",
    "escalate",
    "level_above_handling",
    "next_level",
    "open_sos",
    "quiet_at_top",
    "sweep",
]
