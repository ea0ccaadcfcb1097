"""Tickets (工单): opening, numbering, listing for their owner and history (withdrawal is a move of
``lifecycle``).

Every function works inside the caller's transaction (``async with db.transaction() as s``), so a
ticket, its number and its first event are committed together or not at all.
"""

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Integer, String, and_, bindparam, func, insert, literal, not_, or_
from sqlalchemy import select as core_select
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import local, require_aware
from services.cases.events import record_event, resident_actor
from services.cases.working_time import deadline
from services.community.model import SIGN_HOURS, Category, Community
from storage.db import Database, dialect_insert, dialect_name, read_rows
from storage.models import (
    OPEN_STATUSES,
    DailyCounter,
    Resident,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketFollower,
    TicketStatus,
)
from storage.rows import as_read

SIGN_LIMIT = timedelta(hours=SIGN_HOURS)  # 签收 within two hours, unless the community file counts working hours
NUMBER_PREFIX = "LL"
_BUILDING = re.compile(r"(\d{1,4})\s*(?:号楼|栋|幢|座)")  # not 楼 (floor) nor 号 (street number)


def building_of(location: str | None) -> str | None:
    """``"10号楼2单元"``, ``"１０栋"`` → ``"10号楼"`` (the community file's spelling); None if absent.

    Kept on the ticket (``Ticket.building``) beside its location, so the cases at one building are found in SQL."""
    if not location:
        return None
    match = _BUILDING.search(unicodedata.normalize("NFKC", location))
    return f"{int(match[1])}号楼" if match else None


@dataclass(frozen=True)
class TicketSummary:
    ticket: Ticket
    latest_event: TicketEvent | None


# --- numbers ----------------------------------------------------------------------------------------

_DASHES = dict.fromkeys(map(ord, "‐‑‒–—―−－ー_"), "-")
_NUMBER = r"LL[\s-]*(\d{8})[\s-]*(\d{4,6})"
_FULL = re.compile(rf"^{_NUMBER}$", re.ASCII)
_IN_TEXT = re.compile(rf"(?<![A-Z0-9]){_NUMBER}(?!\d)", re.ASCII)


def format_ticket_number(day: str, seq: int) -> str:
    return f"{NUMBER_PREFIX}-{day}-{seq:04d}"


def _canonical(match: re.Match[str]) -> str | None:
    day, seq = match[1], int(match[2])
    try:
        datetime.strptime(day, "%Y%m%d")
    except ValueError:
        return None
    return format_ticket_number(day, seq) if seq > 0 else None


def _prepare(text: str) -> str:
    return unicodedata.normalize("NFKC", text).translate(_DASHES).upper()


def parse_ticket_number(text: str) -> str | None:
    """``"ll-20261122-0007"``, ``"ＬＬ－２０２６１１２２－０００７"``, ``"LL202611220007"`` →
    ``"LL-20261122-0007"``; None if the text is not exactly one valid number."""
    match = _FULL.match(_prepare(text).strip())
    return _canonical(match) if match else None


def find_ticket_number(text: str) -> str | None:
    """The first valid ticket number inside free text ("查询LL-20261122-0007进度")."""
    for match in _IN_TEXT.finditer(_prepare(text)):
        number = _canonical(match)
        if number:
            return number
    return None


async def allocate_number(session: AsyncSession, now: datetime) -> str:
    """Next number of the Asia/Shanghai day of ``now``, from the day's counter row (PostgreSQL's allocator), with
    one atomic upsert ... RETURNING.

    The counter row is bumped inside the caller's transaction, so a rolled-back ticket gives its
    number back and concurrent openers never share one (the row lock orders them). A ticket is numbered this way on
    PostgreSQL; on SQLite :func:`insert_ticket` numbers it in its own INSERT (see there).
    """
    day = local(now).strftime("%Y%m%d")
    table = DailyCounter.__table__
    insert_ = dialect_insert(await dialect_name(session))
    stmt = (
        insert_(table)
        .values(day=day, last=1)
        .on_conflict_do_update(index_elements=[table.c.day], set_={"last": table.c.last + 1})
        .returning(table.c.last)
    )
    seq = (await session.exec(stmt)).scalar_one()
    return format_ticket_number(day, seq)


_TK = Ticket.__table__  # type: ignore[attr-defined]
_INSERTED = [c for c in _TK.c if c.name != "id"]
_DAY_FROM = len(f"{NUMBER_PREFIX}-00000000-") + 1  # where the sequence starts in a number (1-based, for substr)


def _sqlite_number() -> Any:
    """SQLite: the next number of the day (``num_day``), as a scalar subquery of the ticket's own INSERT: one more
    than the greatest of the day's numbers and of the day's counter row (a database numbered by the counter before
    keeps counting after it). Run under SQLite's write lock (every writer's ``BEGIN IMMEDIATE``), so no two
    transactions, in this process or another, see the same greatest number; the unique index on ``number`` stands
    behind it. It reads the day's numbers on the ``number`` index (the day's range only)."""
    seq = func.max(func.cast(func.substr(_TK.c.number, _DAY_FROM), Integer))
    day = bindparam("num_day", type_=String)
    counted = (core_select(DailyCounter.last).where(DailyCounter.day == day)  # type: ignore[arg-type]
               .scalar_subquery())
    greatest = func.max(func.coalesce(seq, 0), func.coalesce(counted, 0)) + 1
    number = literal(f"{NUMBER_PREFIX}-") + day + literal("-") + func.printf("%04d", greatest)
    return (core_select(number)
            .where(_TK.c.number >= bindparam("num_from", type_=String),
                   _TK.c.number < bindparam("num_upto", type_=String))
            .scalar_subquery())


_INSERT_NUMBERED = insert(_TK).values(number=_sqlite_number()).returning(_TK.c.id, _TK.c.number)
_INSERT = insert(_TK).returning(_TK.c.id)


def _row_of(ticket: Ticket) -> dict[str, Any]:
    """The INSERT's parameters: every column but the key, as the ORM would write them (an unset value with a
    column default takes that default)."""
    values = ticket.__dict__
    row = {c.name: values.get(c.name) for c in _INSERTED}
    if row["next_check_at"] is None:  # the column's insert default (models._created_at)
        row["next_check_at"] = row["created_at"]
    return row


async def insert_ticket(session: AsyncSession, ticket: Ticket) -> Ticket:
    """Write a new ticket (from :func:`new_ticket`) with its number, in one plain INSERT on SQLite, and return it as
    a row of the session (as ``session.add`` and a flush would leave it: its id and number set, nothing pending).

    SQLite numbers it in the INSERT itself, under the write lock (:func:`_sqlite_number`): no counter row is
    written. PostgreSQL writers run side by side, so there the day's counter row is bumped first
    (:func:`allocate_number`, its row lock orders concurrent openers) and the number bound into the INSERT."""
    row = _row_of(ticket)
    if await dialect_name(session) == "sqlite":
        day = local(ticket.created_at).strftime("%Y%m%d")
        prefix = f"{NUMBER_PREFIX}-{day}"
        del row["number"]
        got = (await session.exec(_INSERT_NUMBERED, params={  # type: ignore[call-overload]
            **row, "num_day": day, "num_from": f"{prefix}-", "num_upto": f"{prefix}."})).one()
        ticket.id, ticket.number = got[0], got[1]
    else:
        row["number"] = await allocate_number(session, ticket.created_at)
        ticket.id = (await session.exec(_INSERT, params=row)).scalar_one()  # type: ignore[call-overload]
        ticket.number = row["number"]
    make_transient_to_detached(ticket)  # as loaded: no pending change, its key known
    session.add(ticket)  # a row of this session again, as a flush leaves it (no statement)
    return ticket


# --- opening ----------------------------------------------------------------------------------------


async def new_ticket(
    session: AsyncSession,
    *,
    resident: Resident,
    category: str,
    text: str,
    location: str | None,
    photos: Sequence[str],
    community: Community,
    now: datetime,
    grid_code: str | None = None,
    emergency: bool = False,
    **intake: Any,
) -> Ticket:
    """A received ticket routed by the community file, not yet written nor numbered (:func:`insert_ticket` does both).

    ``grid_code``: the grid of the place named (a building), else the resident's own. ``intake``: how the case
    came in (``channel``, ``recorded_by``, ``contact_name``, ``contact_phone``, ``attachments``). Its deadlines
    follow the file's limits, in working time where it says so (an ``emergency``'s on the wall clock)."""
    require_aware(now)
    cat = Category(category)
    unit = community.unit_for(cat)
    place = location.strip() if location and location.strip() else None
    return Ticket(
        number="",  # given by insert_ticket
        resident_id=resident.id,
        category=cat.value,
        text=text.strip(),
        location=place,
        building=building_of(place),
        photos=list(photos),
        status=TicketStatus.RECEIVED,
        unit=unit.code,
        grid_code=grid_code or resident.grid_code,
        created_at=now,
        updated_at=now,
        emergency=emergency,
        sign_due_at=deadline(now, community.sign_limit(), community.working_time, emergency=emergency),
        due_at=deadline(now, community.time_limit(cat), community.working_time, emergency=emergency),
        **intake,
    )


async def open_ticket(session: AsyncSession, *, resident: Resident, now: datetime, **args: Any) -> Ticket:
    """Create a received ticket (``new_ticket``'s arguments) with its "created" event."""
    ticket = await insert_ticket(session, await new_ticket(session, resident=resident, now=now, **args))
    await record_event(
        session,
        ticket,
        kind=TicketEventKind.CREATED,
        actor=resident_actor(resident.id),
        now=now,
        to_status=TicketStatus.RECEIVED,
    )
    return ticket


# --- reading ----------------------------------------------------------------------------------------

_T, _R = Ticket.__table__, Resident.__table__  # type: ignore[attr-defined]
_WITH_OWNER = (core_select(*_T.c, _R.c.name.label("owner_name"))
               .select_from(_T.outerjoin(_R, _R.c.id == _T.c.resident_id))
               .where(_T.c.id == bindparam("ticket_id")))  # built once: only the id changes


async def with_owner(source: AsyncSession | Database, ticket_id: int) -> tuple[Ticket, str] | None:
    """A case and its resident's name (\"\" if none), in one statement (what a receipt or a card is written
    from); a detached copy. None if there is no such case."""
    rows = await read_rows(source, _WITH_OWNER, {"ticket_id": ticket_id})
    if not rows:
        return None
    row = rows[0]
    return as_read(Ticket, {c.name: row[c.name] for c in _T.c}), row["owner_name"] or ""



def _visible_to(resident_id: int) -> ColumnElement[bool]:
    """Own tickets, and the open cases the resident was linked to as a duplicate (read-only for them)."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.resident_id == resident_id)
    return or_(Ticket.resident_id == resident_id, col(Ticket.id).in_(followed))


async def get_for_resident(session: AsyncSession, resident_id: int, number: str) -> Ticket | None:
    """A ticket the resident may see by number; None for unknown numbers and for other people's alike.

    "May see" is their own tickets plus the cases their duplicate complaints were linked to; only the
    owner can withdraw (see ``withdraw``).
    """
    canonical = parse_ticket_number(number)
    if canonical is None:
        return None
    stmt = select(Ticket).where(Ticket.number == canonical, _visible_to(resident_id))
    return (await session.exec(stmt)).first()


async def list_for_resident(session: AsyncSession, resident_id: int, limit: int = 10) -> list[TicketSummary]:
    """The resident's newest tickets (own and followed), each with its latest history event."""
    stmt = (
        select(Ticket)
        .where(_visible_to(resident_id))
        .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc())
        .limit(limit)
    )
    tickets = list((await session.exec(stmt)).all())
    if not tickets:
        return []
    ids = [t.id for t in tickets]
    theirs = and_(col(TicketEvent.kind).in_(list(_WORDS)), col(TicketEvent.actor).startswith("resident:"),
                  TicketEvent.actor != resident_actor(resident_id))  # a neighbour's words: never their line
    latest_ids = (  # internal notes are for staff only: never the line a resident sees
        select(func.max(TicketEvent.id))
        .where(col(TicketEvent.ticket_id).in_(ids), TicketEvent.kind != TicketEventKind.NOTE, not_(theirs))
        .group_by(TicketEvent.ticket_id)
    )
    events = (await session.exec(select(TicketEvent).where(col(TicketEvent.id).in_(latest_ids)))).all()
    by_ticket = {e.ticket_id: e for e in events}
    authors = {t.id: t.resident_id == resident_id for t in tickets}
    shown = {i: next(iter(for_resident([e], [resident_id], author=authors[i])), None) for i, e in by_ticket.items()}
    return [TicketSummary(t, shown.get(t.id)) for t in tickets]


async def open_cases(session: AsyncSession, resident_id: int, *, category: str | None = None,
                     limit: int = 20) -> list[Ticket]:
    """The resident's own open cases (of ``category`` only, when given), newest first."""
    stmt = select(Ticket).where(Ticket.resident_id == resident_id, col(Ticket.status).in_(list(OPEN_STATUSES)))
    if category is not None:
        stmt = stmt.where(Ticket.category == category)
    stmt = stmt.order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()).limit(limit)
    return list((await session.exec(stmt)).all())


async def followed_open(session: AsyncSession, resident_id: int, *, limit: int = 5) -> list[Ticket]:
    """The open cases the resident follows (their complaint joined a neighbour's), not their own, newest first:
    what a take-back from them can be about, though only the owner may withdraw."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.resident_id == resident_id)
    stmt = (select(Ticket).where(col(Ticket.id).in_(followed), Ticket.resident_id != resident_id,
                                 col(Ticket.status).in_(list(OPEN_STATUSES)))
            .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()).limit(limit))
    return list((await session.exec(stmt)).all())


async def open_of(session: AsyncSession, resident_id: int, category: str) -> Ticket | None:
    """The resident's own newest open case of ``category`` (what "已经修好了" most likely speaks of)."""
    found = await open_cases(session, resident_id, category=category, limit=1)
    return found[0] if found else None


# --- what a resident may read of a case ------------------------------------------------------------------

# kinds whose note is a resident's own words: another resident's never reaches a neighbour (their line is left out)
_WORDS = frozenset({TicketEventKind.REPLY, TicketEventKind.LINKED})


def _another_residents(e: TicketEvent, own: frozenset[str]) -> bool:
    """Whether the event's note may hold words of a resident other than the reader: their own reply, link, answer
    to 需补充 or rating comment, or an answer staff took down by phone on the author's behalf (resuming 待补充)."""
    if e.actor.startswith("resident:"):
        return e.actor not in own
    return e.from_status is TicketStatus.PENDING_INFO and e.kind is TicketEventKind.STATUS_CHANGED


def for_resident(events: Sequence[TicketEvent], resident_ids: Sequence[int], *,
                 author: bool) -> list[TicketEvent]:
    """A case's history as one resident may read it (``resident_ids``: the ids they have been known by): every
    step of its progress, but never another resident's words (a merged case has several residents: a neighbour
    whose complaint joined it, and its author). Internal notes are for staff only. Events whose words are
    dropped are detached copies, so nothing read here can be written back. ``author``: the reader filed the case
    (the answers given for it by phone are theirs)."""
    own = frozenset(resident_actor(i) for i in resident_ids)
    shown: list[TicketEvent] = []
    for e in events:
        if e.kind is TicketEventKind.NOTE:
            continue
        if (not author or e.actor.startswith("resident:")) and _another_residents(e, own):
            if e.kind in _WORDS:
                continue
            if e.note:
                e = TicketEvent(**{**e.model_dump(), "note": None})
        shown.append(e)
    return shown


@dataclass(frozen=True)
class ResidentView:
    """One resident's view of a case: their own words (the case's text for its author, the words of their own
    complaint that joined it for a neighbour) and its history without anyone else's words."""

    ticket: Ticket
    author: bool
    words: str
    place: str | None  # the author's place as they wrote it (a flat number, 602室); a neighbour's: the building
    events: list[TicketEvent]


async def resident_view(session: AsyncSession, ticket: Ticket, resident_ids: Sequence[int]) -> ResidentView:
    """What ``ticket``'s page or detail shows the resident known by ``resident_ids`` (see :func:`for_resident`)."""
    assert ticket.id is not None
    ids = list(dict.fromkeys(resident_ids))
    author = ticket.resident_id in ids
    words = ticket.text
    if not author:
        said = (await session.exec(
            select(TicketFollower.text).where(TicketFollower.ticket_id == ticket.id,
                                              col(TicketFollower.resident_id).in_(ids))
            .order_by(col(TicketFollower.id)))).all()
        words = "\n".join(w for w in said if w)
    place = ticket.location if author else ticket.building
    return ResidentView(ticket, author, words, place,
                        for_resident(await history(session, ticket.id), ids, author=author))


async def history(session: AsyncSession, ticket_id: int) -> list[TicketEvent]:
    stmt = (
        select(TicketEvent)
        .where(TicketEvent.ticket_id == ticket_id)
        .order_by(col(TicketEvent.at), col(TicketEvent.id))
    )
    return list((await session.exec(stmt)).all())


__all__ = [
    "SIGN_LIMIT",
    "ResidentView",
    "TicketSummary",
    "allocate_number",
    "building_of",
    "find_ticket_number",
    "followed_open",
    "for_resident",
    "format_ticket_number",
    "get_for_resident",
    "history",
    "insert_ticket",
    "list_for_resident",
    "new_ticket",
    "open_cases",
    "open_of",
    "open_ticket",
    "parse_ticket_number",
    "resident_view",
]
