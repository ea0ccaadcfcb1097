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
"""

from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any, Protocol

from services import require_aware
from storage.models import OPEN_STATUSES, TicketStatus

# Statuses in which nobody has signed for the ticket yet, so the sign-for clock runs.
UNSIGNED: frozenset[TicketStatus] = frozenset({TicketStatus.RECEIVED, TicketStatus.DISPATCHED, TicketStatus.REOPENED})
YELLOW_NUM, YELLOW_DEN = 3, 4  # yellow from 3/4 of the limit; integer maths keeps exactly 75 % exact


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


def next_check(t: ClockFields) -> datetime | None:
    """The next moment the sweep must look at the ticket: the earliest alert not yet given.

    None when nothing can happen (finished, or clock stopped while waiting for the resident).
    """
    if t.status not in OPEN_STATUSES or t.status is TicketStatus.PENDING_INFO or t.paused_at is not None:
        return None
    moments: list[datetime] = []
    if t.status in UNSIGNED and t.sign_reminded_at is None:
        moments.append(t.sign_due_at)
    if t.breached_at is None:
        moments.append(t.due_at)
        if t.reminded_at is None:
            moments.append(yellow_at(t))
    return min(moments, default=None)


# --- changes: dictionaries of column values, written by services.cases.lifecycle under its guard ---------


def pause(t: ClockFields, now: datetime) -> dict[str, Any]:
    """Stop the resolution clock (entering 待补充)."""
    return {"paused_at": require_aware(now)}


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
    }


__all__ = [
    "UNSIGNED",
    "ClockFields",
    "Colour",
    "Preview",
    "colour",
    "effective_due",
    "elapsed",
    "elapsed_fraction",
    "limit",
    "next_check",
    "pause",
    "resolution_colour",
    "restart",
    "resume",
    "sign_overdue",
    "started_at",
    "yellow_at",
]
