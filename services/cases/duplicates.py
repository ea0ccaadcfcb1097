"""Duplicate complaints and early warnings (预警).

Ten residents reporting the same broken street lamp should make one case with ten followers, not ten
cases: :func:`find_duplicate` looks for an open ticket of the same category at the same building (or,
when a building is unknown, the same grid) opened within a window, whose text is similar (rapidfuzz
``token_set_ratio`` over jieba content words). :func:`link` makes the newcomer a follower who gets the
case's updates. :func:`check_hotspot` spots clusters (three noise complaints in one building in a day)
and raises each warning once per window, not on every message.
"""

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from rapidfuzz import fuzz
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intents.text import normalize, tokens
from services import require_aware
from services.cases.events import record_event, resident_actor
from storage.db import dialect_insert, dialect_name
from storage.models import (
    OPEN_STATUSES,
    HotspotWarning,
    Resident,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketFollower,
)

DUPLICATE_WINDOW = timedelta(hours=72)
SIMILARITY_THRESHOLD = 75.0  # 0–100; see tests/unit/test_duplicates.py for the pairs it separates
HOTSPOT_WINDOW = timedelta(hours=24)
HOTSPOT_COUNT = 3
MAX_CANDIDATES = 200  # newest open tickets compared; far more than one building sees in 72 h

_BUILDING = re.compile(r"(\d{1,4})\s*(?:号楼|栋|幢|座)")  # not 楼 (floor) nor 号 (street number)


class LinkStatus(StrEnum):
    LINKED = "linked"
    ALREADY_FOLLOWING = "already_following"
    OWN_TICKET = "own_ticket"  # the resident reported it already: nothing to link
    NOT_OPEN = "not_open"


@dataclass(frozen=True)
class LinkResult:
    status: LinkStatus
    event: TicketEvent | None = None

    @property
    def ok(self) -> bool:
        return self.status is LinkStatus.LINKED


class ScopeKind(StrEnum):
    BUILDING = "building"
    GRID = "grid"


@dataclass(frozen=True)
class Hotspot:
    """A cluster worth a warning to the grid worker: ``count`` complaints since ``since``."""

    category: str
    scope_kind: ScopeKind
    scope: str
    grid_code: str | None
    count: int
    since: datetime


# --- text and place ---------------------------------------------------------------------------------


def building_of(location: str | None) -> str | None:
    """``"10号楼2单元"``, ``"１０栋"`` → ``"10号楼"`` (the community file's spelling); None if absent."""
    if not location:
        return None
    match = _BUILDING.search(unicodedata.normalize("NFKC", location))
    return f"{int(match[1])}号楼" if match else None


def _content(text: str) -> str:
    """jieba words of two characters or more, and numbers: particles like 了/太 say nothing about sameness."""
    return " ".join(w for w in tokens(normalize(text)) if len(w) >= 2 or w.isdigit())


def similarity(a: str, b: str) -> float:
    """0–100: how much the two complaints say the same thing (order and extra words forgiven)."""
    ca, cb = _content(a), _content(b)
    if not ca or not cb:
        return 0.0
    return float(fuzz.token_set_ratio(ca, cb))


def _same_place(ticket: Ticket, grid_code: str | None, building: str | None) -> bool:
    """Same building when both are known (another building is another problem), else same grid."""
    other = building_of(ticket.location)
    if building and other:
        return building == other
    return grid_code is not None and ticket.grid_code == grid_code


# --- duplicates -------------------------------------------------------------------------------------


async def find_duplicate(
    session: AsyncSession,
    *,
    category: str,
    text: str,
    grid_code: str | None,
    location: str | None,
    now: datetime,
    window: timedelta = DUPLICATE_WINDOW,
    threshold: float = SIMILARITY_THRESHOLD,
) -> Ticket | None:
    """The most similar open ticket this complaint duplicates, or None to open a new one."""
    require_aware(now)
    building = building_of(location)
    if grid_code is None and building is None:
        return None  # nowhere to compare with
    stmt = (
        select(Ticket)
        .where(
            Ticket.category == category,
            col(Ticket.created_at) >= now - window,
            col(Ticket.status).in_(OPEN_STATUSES),
        )
        .order_by(col(Ticket.created_at).desc())
        .limit(MAX_CANDIDATES)
    )
    best: tuple[float, Ticket] | None = None
    for ticket in (await session.exec(stmt)).all():
        if not _same_place(ticket, grid_code, building):
            continue
        score = similarity(text, ticket.text)
        if score >= threshold and (best is None or score > best[0]):
            best = (score, ticket)
    return best[1] if best else None


async def add_follower(session: AsyncSession, ticket_id: int, resident_id: int, now: datetime, text: str = "") -> bool:
    """Make a resident follow a case; False if they already did (one atomic insert, no race)."""
    table = TicketFollower.__table__
    insert = dialect_insert(await dialect_name(session))
    stmt = (
        insert(table)
        .values(ticket_id=ticket_id, resident_id=resident_id, linked_at=require_aware(now), text=text)
        .on_conflict_do_nothing(index_elements=[table.c.ticket_id, table.c.resident_id])
    )
    return (await session.exec(stmt)).rowcount == 1


async def link(
    session: AsyncSession, ticket: Ticket, resident: Resident, now: datetime, *, text: str = ""
) -> LinkResult:
    """Attach a duplicate complaint to ``ticket`` instead of opening one; records a "linked" event."""
    require_aware(now)
    assert ticket.id is not None and resident.id is not None
    if ticket.resident_id == resident.id:
        return LinkResult(LinkStatus.OWN_TICKET)
    if ticket.status not in OPEN_STATUSES:
        return LinkResult(LinkStatus.NOT_OPEN)
    if not await add_follower(session, ticket.id, resident.id, now, text=text.strip()):
        return LinkResult(LinkStatus.ALREADY_FOLLOWING)
    event = await record_event(
        session, ticket, kind=TicketEventKind.LINKED, actor=resident_actor(resident.id), now=now, note=text.strip()
    )
    return LinkResult(LinkStatus.LINKED, event)


async def followers(session: AsyncSession, ticket_id: int) -> list[int]:
    """Resident ids to tell about the case's updates, besides its owner."""
    stmt = (
        select(TicketFollower.resident_id)
        .where(TicketFollower.ticket_id == ticket_id)
        .order_by(col(TicketFollower.id))
    )
    return list((await session.exec(stmt)).all())


# --- early warning ----------------------------------------------------------------------------------


async def _complaints(
    session: AsyncSession, category: str, grid_code: str | None, building: str | None, since: datetime
) -> tuple[int, int]:
    """(in the building, in the grid): tickets opened plus duplicates linked since ``since``."""
    opened = select(Ticket.location, Ticket.grid_code).where(
        Ticket.category == category, col(Ticket.created_at) >= since
    )
    linked = (
        select(Ticket.location, Ticket.grid_code)
        .join(TicketFollower, col(TicketFollower.ticket_id) == col(Ticket.id))
        .where(Ticket.category == category, col(TicketFollower.linked_at) >= since)
    )
    in_building = in_grid = 0
    for stmt in (opened, linked):
        for location, grid in (await session.exec(stmt)).all():
            if building is not None and building_of(location) == building:
                in_building += 1
            if grid_code is not None and grid == grid_code:
                in_grid += 1
    return in_building, in_grid


async def check_hotspot(
    session: AsyncSession,
    *,
    category: str,
    grid_code: str | None,
    location: str | None,
    now: datetime,
    window: timedelta = HOTSPOT_WINDOW,
    threshold: int = HOTSPOT_COUNT,
) -> Hotspot | None:
    """A new warning if complaints of ``category`` at this building (else grid) reached ``threshold``
    within ``window`` and none was raised for it in that window; call after opening or linking."""
    require_aware(now)
    building = building_of(location)
    since = now - window
    in_building, in_grid = await _complaints(session, category, grid_code, building, since)
    if building is not None and in_building >= threshold:
        kind, scope, count = ScopeKind.BUILDING, building, in_building
    elif grid_code is not None and in_grid >= threshold:
        kind, scope, count = ScopeKind.GRID, grid_code, in_grid
    else:
        return None
    raised = select(HotspotWarning.id).where(
        HotspotWarning.category == category,
        HotspotWarning.scope_kind == kind.value,
        HotspotWarning.scope == scope,
        col(HotspotWarning.raised_at) > since,
    )
    if (await session.exec(raised)).first() is not None:
        return None
    session.add(HotspotWarning(category=category, scope_kind=kind.value, scope=scope, raised_at=now, count=count))
    await session.flush()
    return Hotspot(category=category, scope_kind=kind, scope=scope, grid_code=grid_code, count=count, since=since)


__all__ = [
    "DUPLICATE_WINDOW",
    "HOTSPOT_COUNT",
    "HOTSPOT_WINDOW",
    "SIMILARITY_THRESHOLD",
    "Hotspot",
    "LinkResult",
    "LinkStatus",
    "ScopeKind",
    "add_follower",
    "building_of",
    "check_hotspot",
    "find_duplicate",
    "followers",
    "link",
    "similarity",
]
