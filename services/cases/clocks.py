"""The two clocks of a ticket, as pure functions of its fields and a given ``now``.

* The sign-for clock (签收): runs from opening (or reassignment, or reopening) to ``sign_due_at``
  while nobody has signed.
* The resolution clock (办结): runs from ``clock_started_at`` (``created_at`` if unset) for the
  category's limit. 待补充 (pending_info) stops it: ``paused_at`` marks the stop and on resume the
  stopped time is added to ``paused_seconds`` *and* to ``due_at``, so ``due_at`` is always the real
  deadline of a running clock and can be indexed. While the clock is stopped the deadline slides:
  :func:`effective_due` adds the ongoing pause.

Colour follows 接诉即办 practice: green below 75 % of the limit used, yellow from 75 %, red from 100 %.
:func:`next_check` says when the ticket next needs the sweep; it is stored, indexed, as
``next_check_at`` so the sweep only reads tickets whose moment has come.

After red the case is not forgotten: each further period it stays red (:func:`overdue_at`: its own limit again,
or the file's ``escalate_every_days`` working days) is one more alert, and a case waiting in 待补充 is chased
(:func:`info_at`: the resident reminded, then the desk told). Those periods come from the community file, which
only the sweep holds; without it (``working=None``, a status change in ``services.cases.lifecycle``)
:func:`next_check` answers a moment no later than the real one, and the sweep stores the real one when it looks.
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from services import require_aware
from services.cases.working_time import deadline
from services.community.model import LimitUnit, TimeLimit, WorkingTime
from storage.models import OPEN_STATUSES, TicketStatus

# Statuses in which nobody has signed for the ticket yet, so the sign-for clock runs.
UNSIGNED: frozenset[TicketStatus] = frozenset({TicketStatus.RECEIVED, TicketStatus.DISPATCHED, TicketStatus.REOPENED})
YELLOW_NUM, YELLOW_DEN = 3, 4  # yellow from 3/4 of the limit; integer maths keeps exactly 75 % exact
INFO_CHASES = 2  # a case in 待补充 is chased twice: 1, the resident reminded; 2, the desk told


class Colour(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class ClockFields(Protocol):
    """What the clock functions read: a Ticket, or a preview of one with pending changes."""

    status: TicketStatus
    emergency: bool
    created_at: datetime
    clock_started_at: datetime | None
    sign_due_at: datetime
    due_at: datetime
    paused_at: datetime | None
    paused_seconds: int
    resolved_at: datetime | None
    closed_at: datetime | None
    sign_reminded_at: datetime | None
    reminded_at: datetime | None
    breached_at: datetime | None
    overdue_steps: int
    info_chased: int


class Preview:
    """A ticket seen through pending column changes, to compute clocks before they are written."""

    def __init__(self, ticket: Any, changes: dict[str, Any]) -> None:
        self._ticket, self._changes = ticket, changes

    def __getattr__(self, name: str) -> Any:
        return self._changes[name] if name in self._changes else getattr(self._ticket, name)


def started_at(t: ClockFields) -> datetime:
    return t.clock_started_at or t.created_at


def limit(t: ClockFields) -> timedelta:
    """The resolution limit of the current clock (the deadline minus its start and completed pauses)."""
    return t.due_at - started_at(t) - timedelta(seconds=t.paused_seconds)


def _clock_now(t: ClockFields, now: datetime) -> datetime:
    """The instant the clock reads: frozen at the pause, or at resolution/closing for finished tickets."""
    require_aware(now)
    if t.paused_at is not None:
        return min(now, t.paused_at)
    if t.status not in OPEN_STATUSES:
        # resolution (or withdrawal/merge) of the current clock; a resolution before a reopening is older
        ends = [x for x in (t.resolved_at, t.closed_at) if x is not None and x >= started_at(t)]
        if ends:
            return min(now, *ends)
    return now


def elapsed(t: ClockFields, now: datetime) -> timedelta:
    """Running time of the resolution clock, pauses excluded."""
    return _clock_now(t, now) - started_at(t) - timedelta(seconds=t.paused_seconds)


def elapsed_fraction(t: ClockFields, now: datetime) -> float:
    """Share of the resolution limit used (0.0 at the start, 1.0 at the deadline, more when late)."""
    total = limit(t)
    return elapsed(t, now) / total if total > timedelta(0) else 1.0


def effective_due(t: ClockFields, now: datetime) -> datetime:
    """The deadline as it stands at ``now``: ``due_at`` plus the pause still in progress, if any."""
    require_aware(now)
    if t.paused_at is None:
        return t.due_at
    return t.due_at + max(now - t.paused_at, timedelta(0))


def resolution_colour(t: ClockFields, now: datetime) -> Colour:
    """Colour from the clock alone (what the sweep acts on)."""
    used, total = elapsed(t, now), limit(t)
    if used >= total:
        return Colour.RED
    if used * YELLOW_DEN >= total * YELLOW_NUM:
        return Colour.YELLOW
    return Colour.GREEN


def colour(t: ClockFields, now: datetime) -> Colour:
    """Display colour: the clock's, except that an open emergency (SOS) ticket is red from the start."""
    if t.emergency and t.status in OPEN_STATUSES:
        return Colour.RED
    return resolution_colour(t, now)


def yellow_at(t: ClockFields) -> datetime:
    """When a running clock turns yellow (75 % of the limit used)."""
    return started_at(t) + timedelta(seconds=t.paused_seconds) + limit(t) * YELLOW_NUM / YELLOW_DEN


def sign_overdue(t: ClockFields, now: datetime) -> bool:
    return t.status in UNSIGNED and require_aware(now) >= t.sign_due_at


def overdue_at(t: ClockFields, step: int, working: WorkingTime) -> datetime:
    """When a red case still not done has stayed red ``step`` (≥ 1) further periods: its own limit each, or the
    file's ``escalate_every_days`` working days (wall-clock days for an emergency)."""
    every = working.escalate_every_days
    if every is None:
        return t.due_at + step * limit(t)
    return deadline(t.due_at, TimeLimit(step * every, LimitUnit.WORKING_DAYS), working, emergency=t.emergency)


def overdue_steps(t: ClockFields, now: datetime, working: WorkingTime) -> int:
    """How many further periods the case has been red at ``now`` (never fewer than already alerted)."""
    require_aware(now)
    if t.paused_at is not None or now < t.due_at:
        return t.overdue_steps  # a stopped clock runs no further late
    step = t.overdue_steps
    if working.escalate_every_days is None and limit(t) > timedelta(0):
        step = max(step, (now - t.due_at) // limit(t))
    while overdue_at(t, step + 1, working) <= now:  # working days: one step per period since the last alert
        step += 1
    return step


def info_at(t: ClockFields, chase: int, working: WorkingTime) -> datetime:
    """When a case in 待补充 is chased the ``chase``-th time: 1, the resident reminded after ``info_remind_days``
    working days without an answer; 2, the desk told after ``info_desk_days`` (never before the reminder)."""
    assert t.paused_at is not None and 1 <= chase <= INFO_CHASES
    days = working.info_remind_days if chase == 1 else max(working.info_desk_days, working.info_remind_days)
    return deadline(t.paused_at, TimeLimit(days, LimitUnit.WORKING_DAYS), working, emergency=t.emergency)


def next_check(t: ClockFields, working: WorkingTime | None = None) -> datetime | None:
    """The next moment the sweep must look at the ticket: the earliest alert not yet given.

    None when nothing can happen (finished, or waiting for the resident after both chases). ``working``: the
    community file's [working_time]; without it the chasing moments are answered by a moment no later than theirs
    (the pause's start, the deadline), so the sweep, which has the file, looks and stores the real one.
    """
    if t.status not in OPEN_STATUSES:
        return None
    if t.status is TicketStatus.PENDING_INFO or t.paused_at is not None:
        if t.paused_at is None or t.info_chased >= INFO_CHASES:
            return None
        return t.paused_at if working is None else info_at(t, t.info_chased + 1, working)
    moments: list[datetime] = []
    if t.status in UNSIGNED and t.sign_reminded_at is None:
        moments.append(t.sign_due_at)
    if t.breached_at is None:
        moments.append(t.due_at)
        if t.reminded_at is None:
            moments.append(yellow_at(t))
    else:
        moments.append(t.due_at if working is None else overdue_at(t, t.overdue_steps + 1, working))
    return min(moments, default=None)


# --- changes: dictionaries of column values, written by services.cases.lifecycle under its guard ---------


def pause(t: ClockFields, now: datetime) -> dict[str, Any]:
    """Stop the resolution clock (entering 待补充); the resident has not been chased for this question yet."""
    return {"paused_at": require_aware(now), "info_chased": 0}


def resume(t: ClockFields, now: datetime) -> dict[str, Any]:
    """Restart a stopped clock: the stopped time moves the real deadline and is kept for the record."""
    require_aware(now)
    if t.paused_at is None:
        return {}
    stopped = max(now - t.paused_at, timedelta(0))
    return {
        "paused_at": None,
        "paused_seconds": t.paused_seconds + round(stopped.total_seconds()),
        "due_at": t.due_at + timedelta(seconds=round(stopped.total_seconds())),
    }


def restart(t: ClockFields, now: datetime, sign_limit: timedelta) -> dict[str, Any]:
    """Fresh clocks with the same resolution limit (a reopened case is handled again from scratch)."""
    require_aware(now)
    return {
        "clock_started_at": now,
        "due_at": now + limit(t),
        "sign_due_at": now + sign_limit,
        "signed_at": None,
        "paused_at": None,
        "paused_seconds": 0,
        "sign_reminded_at": None,
        "reminded_at": None,
        "breached_at": None,
        "overdue_steps": 0,
    }


__all__ = [
    "INFO_CHASES",
    "UNSIGNED",
    "ClockFields",
    "Colour",
    "Preview",
    "colour",
    "effective_due",
    "elapsed",
    "elapsed_fraction",
    "info_at",
    "limit",
    "next_check",
    "overdue_at",
    "overdue_steps",
    "pause",
    "resolution_colour",
    "restart",
    "resume",
    "sign_overdue",
    "started_at",
    "yellow_at",
]
