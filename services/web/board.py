"""The board's queries: which cases a signed-in person may see, the case list with its filters (one page at a
time, newest first, keyset-paged so page 500 costs what page 1 does), the red/yellow/green counts per unit and
grid, and one case with its history.

What a person may see is the permission table's ``ticket.view`` (``services.people.roles``) written as SQL: an
admin or an unscoped supervisor everything, staff their unit's cases and those escalated to their level, a grid
worker their grid's. The case page checks ``roles.can`` on the case itself as well.

The colour of a case is the clocks' (``services.cases.clocks.colour``) computed in SQL, so the list can be filtered
by colour without reading every case: the clock's reading ``T`` (now, or frozen at the pause, or at the end of a
finished case), its start ``S`` (start plus paused seconds) and deadline ``D`` give red ``T ≥ D``, yellow
``4T ≥ 3D + S``, green otherwise; an open emergency is red.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Float, and_, case, false, func, literal, or_, true
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.functions import FunctionElement
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import SHANGHAI, require_aware
from services.cases import clocks
from services.cases.tickets import history
from services.community.model import Community
from services.people.roles import Action, Grant, can, ticket_scope
from storage.db import offloading
from storage.models import (
    OPEN_STATUSES,
    Channel,
    Resident,
    RoleName,
    Ticket,
    TicketEvent,
    TicketFollower,
    TicketStatus,
)

PAGE_SIZE = 50
OPEN_VALUES = tuple(s.value for s in OPEN_STATUSES)
COLOURS = tuple(c.value for c in (clocks.Colour.RED, clocks.Colour.YELLOW, clocks.Colour.GREEN))


# --- what a person may see ---------------------------------------------------------------------------------------


def visible(grants: Iterable[Grant], community: Community) -> ColumnElement[bool] | None:
    """SQL for the cases ``ticket.view`` lets these roles read; None: every case. (``false()`` when none.)"""
    grants = list(grants)
    if any(g.role is RoleName.ADMIN or (g.role is RoleName.SUPERVISOR and not g.scope) for g in grants):
        return None
    levels = [e.level.value for e in community.escalation]
    found: list[ColumnElement[bool]] = []
    for g in grants:
        if not g.scope or g.role not in (RoleName.STAFF, RoleName.SUPERVISOR, RoleName.GRIDWORKER):
            continue
        if g.role is RoleName.GRIDWORKER:
            found.append(col(Ticket.grid_code) == g.scope)
        elif g.scope in levels:  # staff of a level: cases escalated that far or further
            found.append(col(Ticket.escalation_level).in_(levels[levels.index(g.scope):]))
        else:
            found.append(col(Ticket.unit) == g.scope)
    return or_(*found) if found else false()


def may_view(grants: Iterable[Grant], ticket: Ticket, community: Community) -> bool:
    return can(grants, Action.CASE_VIEW, ticket_scope(ticket, community))


def may_act(grants: Iterable[Grant], ticket: Ticket, community: Community) -> bool:
    """The desk that handles the case (staff of its unit or level, its grid's worker, an admin)."""
    return can(grants, Action.TICKET_ACT, ticket_scope(ticket, community))


# --- the colour in SQL ---------------------------------------------------------------------------------------------


class epoch(FunctionElement[float]):
    """Seconds since 1970 of a naive-UTC datetime column, on SQLite and PostgreSQL."""

    type = Float()
    inherit_cache = True


@compiles(epoch, "sqlite")
def _epoch_sqlite(element: Any, compiler: Any, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch, "postgresql")
def _epoch_pg(element: Any, compiler: Any, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


def _least(a: Any, b: Any) -> Any:
    return case((a < b, a), else_=b)


def colour_expr(now: datetime) -> ColumnElement[str]:
    """'red' / 'yellow' / 'green' for each ticket, as :func:`services.cases.clocks.colour` says at ``now``."""
    t = Ticket
    n = literal(require_aware(now).timestamp(), Float())
    start = epoch(func.coalesce(col(t.clock_started_at), col(t.created_at)))
    is_open = col(t.status).in_(OPEN_VALUES)
    ended = func.coalesce(
        case((and_(col(t.resolved_at).is_not(None), epoch(col(t.resolved_at)) >= start), epoch(col(t.resolved_at)))),
        case((and_(col(t.closed_at).is_not(None), epoch(col(t.closed_at)) >= start), epoch(col(t.closed_at)))),
    )
    finished_at = case((and_(col(t.resolved_at).is_not(None), epoch(col(t.resolved_at)) >= start,
                             col(t.closed_at).is_not(None), epoch(col(t.closed_at)) >= start),
                        _least(epoch(col(t.resolved_at)), epoch(col(t.closed_at)))), else_=ended)
    reading = case(
        (col(t.paused_at).is_not(None), _least(n, epoch(col(t.paused_at)))),
        (and_(~is_open, finished_at.is_not(None)), _least(n, finished_at)),
        else_=n,
    )
    s = start + col(t.paused_seconds)
    d = epoch(col(t.due_at))
    return case(
        (and_(col(t.emergency) == true(), is_open), literal("red")),
        (reading >= d, literal("red")),
        (reading * 4 >= d * 3 + s, literal("yellow")),
        else_=literal("green"),
    )


# --- the case list --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseFilter:
    """The list's filters; empty strings mean "any". ``status``: open, closed, or one status value."""

    status: str = ""
    colour: str = ""
    category: str = ""
    unit: str = ""
    grid: str = ""
    channel: str = ""
    since: date | None = None  # local days, inclusive
    until: date | None = None

    def where(self, now: datetime) -> list[ColumnElement[bool]]:
        t = Ticket
        found: list[ColumnElement[bool]] = []
        if self.status == "open":
            found.append(col(t.status).in_(OPEN_VALUES))
        elif self.status == "closed":
            found.append(col(t.status).not_in(OPEN_VALUES))
        elif self.status in {s.value for s in TicketStatus}:
            found.append(col(t.status) == self.status)
        if self.colour in COLOURS:
            found.append(colour_expr(now) == self.colour)
        if self.category:
            found.append(col(t.category) == self.category)
        if self.unit:
            found.append(col(t.unit) == self.unit)
        if self.grid:
            found.append(col(t.grid_code) == self.grid)
        if self.channel in {c.value for c in Channel}:
            found.append(col(t.channel) == self.channel)
        if self.since:
            found.append(col(t.created_at) >= datetime.combine(self.since, time(0), SHANGHAI))
        if self.until:
            found.append(col(t.created_at) < datetime.combine(self.until + timedelta(days=1), time(0), SHANGHAI))
        return found


@dataclass(frozen=True)
class CaseRow:
    id: int
    number: str
    category: str
    unit: str
    grid_code: str | None
    channel: Channel
    status: TicketStatus
    colour: clocks.Colour
    created_at: datetime
    due: datetime
    location: str | None
    emergency: bool


@dataclass(frozen=True)
class Page:
    rows: Sequence[CaseRow]
    next_before: int | None  # the id to page on from (None: this was the last page)
    total: int | None = None  # matches of the filters, counted on the first page only


_LIST_COLUMNS = (Ticket.id, Ticket.number, Ticket.category, Ticket.unit, Ticket.grid_code, Ticket.channel,
                 Ticket.status, Ticket.emergency, Ticket.created_at, Ticket.clock_started_at, Ticket.sign_due_at,
                 Ticket.due_at, Ticket.paused_at, Ticket.paused_seconds, Ticket.resolved_at, Ticket.closed_at,
                 Ticket.location)


@offloading  # counts over the store: not on the loop's thread (storage.sqlite_async)
async def case_page(s: AsyncSession, *, scope: ColumnElement[bool] | None, filt: CaseFilter, now: datetime,
                    before: int | None = None, size: int = PAGE_SIZE, count: bool = True) -> Page:
    """One page of cases, newest first, after ``before`` (an id from the previous page)."""
    conditions = [*([scope] if scope is not None else []), *filt.where(now)]
    stmt = select(*_LIST_COLUMNS).where(*conditions)
    if before is not None:
        stmt = stmt.where(col(Ticket.id) < before)
    rows = list((await s.exec(stmt.order_by(col(Ticket.id).desc()).limit(size + 1))).all())
    more = len(rows) > size
    rows = rows[:size]
    total = None
    if count and before is None:
        total = int((await s.exec(select(func.count()).select_from(Ticket).where(*conditions))).one())
    out = [CaseRow(r.id, r.number, r.category, r.unit, r.grid_code, r.channel, r.status, clocks.colour(r, now),
                   r.created_at, clocks.effective_due(r, now), r.location, r.emergency) for r in rows]
    return Page(out, out[-1].id if more and out else None, total)


# --- the board: open cases by colour, per unit and per grid --------------------------------------------------


@dataclass
class Tally:
    red: int = 0
    yellow: int = 0
    green: int = 0

    def add(self, colour: str, n: int) -> None:
        setattr(self, colour, getattr(self, colour) + n)

    @property
    def total(self) -> int:
        return self.red + self.yellow + self.green


@dataclass
class Board:
    whole: Tally = field(default_factory=Tally)
    units: dict[str, Tally] = field(default_factory=dict)
    grids: dict[str, Tally] = field(default_factory=dict)  # "" for cases with no grid


@offloading  # counts over the store: not on the loop's thread (storage.sqlite_async)
async def board(s: AsyncSession, *, scope: ColumnElement[bool] | None, now: datetime) -> Board:
    """Open cases by colour: the whole, each unit, each grid (grouped in SQL)."""
    colour = colour_expr(now).label("colour")
    stmt = (select(col(Ticket.unit), col(Ticket.grid_code), colour, func.count())
            .where(col(Ticket.status).in_(OPEN_VALUES), *([scope] if scope is not None else []))
            .group_by(col(Ticket.unit), col(Ticket.grid_code), colour))
    found = Board()
    for unit, grid, c, n in (await s.exec(stmt)).all():
        found.whole.add(c, n)
        found.units.setdefault(unit, Tally()).add(c, n)
        found.grids.setdefault(grid or "", Tally()).add(c, n)
    return found


# --- one case ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseView:
    ticket: Ticket
    events: Sequence[TicketEvent]
    resident: Resident | None
    followers: int


async def case_view(s: AsyncSession, number: str) -> CaseView | None:
    t = (await s.exec(select(Ticket).where(Ticket.number == number))).first()
    if t is None or t.id is None:
        return None
    followers = int((await s.exec(select(func.count()).select_from(TicketFollower)
                                  .where(TicketFollower.ticket_id == t.id))).one())
    return CaseView(t, await history(s, t.id), await s.get(Resident, t.resident_id), followers)


__all__ = ["PAGE_SIZE", "Board", "CaseFilter", "CaseRow", "CaseView", "Page", "Tally", "board", "case_page",
           "case_view", "colour_expr", "epoch", "may_act", "may_view", "visible"]
