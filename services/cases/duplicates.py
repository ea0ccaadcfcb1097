"""Duplicate complaints and early warnings (预警).

Ten residents reporting the same broken street lamp should make one case with ten followers, not ten
cases: :func:`find_duplicate` looks for an open ticket of the same category at the same building (or,
when a building is unknown, the same grid) opened within a window, whose text is similar (rapidfuzz
``token_set_ratio`` over jieba content words). :func:`link` makes the newcomer a follower who gets the
case's updates. :func:`check_hotspot` spots clusters (three noise complaints in one building in a day)
and raises each warning once per window, not on every message.

Both are bounded by the place in SQL (``Ticket.building`` and ``grid_code``, indexed with the category and the
time): their cost follows the cases at that place in the window, not the tickets stored. The new text is
tokenised once. The bot's 确认 makes the whole check under the write lock: :class:`Check`'s columns ride in the
draft's ``DELETE … RETURNING`` with the candidates' texts, compared there (their content words cached), and the
hotspot counts before the complaint is written. :func:`look` can make the check before the lock instead; the check
under it (``find_duplicate(…, looked=…)``) then reads only what is new since, or the matches it found.
"""

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache, lru_cache
from typing import Any

from rapidfuzz import fuzz
from sqlalchemy import ColumnElement, String, and_, bindparam, cast, desc, func, insert, literal, null, or_, union_all
from sqlalchemy import select as sa_select  # rows of several columns (sqlmodel's gives scalars for one)
from sqlalchemy.orm import make_transient_to_detached
from sqlalchemy.orm.util import identity_key
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from intents.text import normalize, tokens
from services import require_aware
from services.cases.events import record_event, resident_actor
from services.cases.tickets import building_of
from storage.db import Database, dialect_insert, dialect_name, read_rows
from storage.models import (
    OPEN_STATUSES,
    HotspotWarning,
    Resident,
    Ticket,
    TicketEvent,
    TicketEventKind,
    TicketFollower,
)
from storage.rows import as_read

DUPLICATE_WINDOW = timedelta(hours=72)
SIMILARITY_THRESHOLD = 75.0  # 0–100; see tests/unit/test_duplicates.py for the pairs it separates
HOTSPOT_WINDOW = timedelta(hours=24)
HOTSPOT_COUNT = 3
MAX_CANDIDATES = 200  # newest open tickets at the place compared; far more than one building sees in 72 h


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


@lru_cache(maxsize=4096)
def _content(text: str) -> str:
    """jieba words of two characters or more, and numbers: particles like 了/太 say nothing about sameness. Kept for
    the texts seen last (an open case's text is compared with every complaint at its place for 72 hours, under the
    write lock when the check reads the candidates there)."""
    return " ".join(w for w in tokens(normalize(text)) if len(w) >= 2 or w.isdigit())


def similarity(a: str, b: str) -> float:
    """0–100: how much the two complaints say the same thing (order and extra words forgiven)."""
    return _similar(_content(a), b)


def _place_key(category: str, grid_code: str | None, building: str | None) -> int:
    """A signed 64-bit advisory lock key for the cases of one category at one place (the grid, else the building)."""
    digest = hashlib.blake2b(f"linli:dup:{category}:{grid_code or building}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def _similar(content: str, other: str) -> float:
    """``similarity`` with the first text's content words already worked out (a new text is tokenised once)."""
    theirs = _content(other)
    if not content or not theirs:
        return 0.0
    return float(fuzz.token_set_ratio(content, theirs))


def _place(grid_code: str | None, building: str | None) -> tuple[str, dict[str, Any]]:
    """Where to compare, as a statement shape and its parameters: the same building when both are known (another
    building is another problem), else the same grid. "": nowhere to compare with."""
    if building is None:
        return ("grid", {"dup_grid": grid_code}) if grid_code is not None else ("", {})
    return ("building", {"dup_building": building}) if grid_code is None else \
        ("both", {"dup_building": building, "dup_grid": grid_code})


def _at_place(shape: str) -> list[ColumnElement[bool]]:
    """Tickets at the place of ``shape`` (``_place``), in SQL, as branches, each searched with its own place index
    (``(category, building, created_at)``; ``(category, grid_code, created_at)`` for the grid's cases naming no
    building) and merged, never as one OR, which SQLite answers from the category's whole window."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    same_building, same_grid = t.building == bindparam("dup_building"), t.grid_code == bindparam("dup_grid")
    return {"building": [same_building], "grid": [same_grid],
            "both": [same_building, and_(same_grid, t.building.is_(None))]}[shape]


def _same_place(ticket: Ticket, grid_code: str | None, building: str | None) -> bool:
    """``_place`` for a ticket in hand."""
    return _same_place_of(ticket.building, ticket.grid_code, grid_code, building)


def _same_place_of(other_building: str | None, other_grid: str | None, grid_code: str | None,
                   building: str | None) -> bool:
    """``_same_place`` for a case's building and grid."""
    if building and other_building:
        return building == other_building
    return grid_code is not None and other_grid == grid_code


# --- duplicates -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Candidate:
    """An open case a complaint duplicates, as the check under the lock found it: its key and its resident."""

    id: int
    resident_id: int | None


@dataclass(frozen=True)
class Looked:
    """A duplicate check made before the write lock: the tickets that matched then (best first) and the newest
    ticket id it could have seen; the check under the lock reads only those and anything newer."""

    content: str
    matches: tuple[int, ...]
    upto: int


@cache
def _candidates(shape: str, *, ids: bool, since_look: bool = False, texts: bool = False) -> Any:
    """The newest ``MAX_CANDIDATES`` open tickets of a category in the window at a place of ``shape``, newest first
    (the later one on a tie): the rows with the newest ticket id (``ids=False``, the look) or their ids, or (``texts``)
    what comparing them takes (id, time, place, text); with ``since_look``, only those newer than a look or among its
    matches. Built once a shape (building a statement costs
    more than running it); parameters: ``_params``."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    where = [or_(t.id > bindparam("dup_upto"), t.id.in_(bindparam("dup_matches", expanding=True)))] \
        if since_look else []

    def branch(place: ColumnElement[bool], *columns: Any) -> Any:
        return select(*columns).where(t.category == bindparam("dup_category"), t.created_at >= bindparam("dup_since"),
                                      t.status.in_(sorted(OPEN_STATUSES)), place, *where)

    what = (t.id, t.created_at, t.building, t.grid_code, t.text, t.resident_id) if texts else \
        (col(Ticket.id),) if ids else \
        (*t, func.coalesce(select(func.max(Ticket.id)).scalar_subquery(), 0).label("upto"))
    newest = (t.created_at.desc(), t.id.desc())
    places = _at_place(shape)
    if len(places) == 1:
        return branch(places[0], *what).order_by(*newest).limit(MAX_CANDIDATES)
    merged = (union_all(*(branch(p, t.id, t.created_at) for p in places))
              .order_by(desc("created_at"), desc("id")).limit(MAX_CANDIDATES).subquery())
    return select(*what).where(t.id.in_(select(merged.c.id))).order_by(*newest)


def _params(category: str, place: dict[str, Any], now: datetime, window: timedelta,
            looked: "Looked | None" = None) -> dict[str, Any]:
    """The parameters of ``_candidates``."""
    out = {"dup_category": category, "dup_since": now - window, **place}
    if looked is not None:
        out.update(dup_upto=looked.upto, dup_matches=list(looked.matches))
    return out


def _ranked(tickets: Sequence[Ticket], content: str, grid_code: str | None, building: str | None,
            threshold: float) -> list[tuple[float, Ticket]]:
    """The tickets at the place as similar as ``threshold`` or more, the most similar first (newest on a tie)."""
    scored = [(_similar(content, t.text), t) for t in tickets if _same_place(t, grid_code, building)]
    return sorted(((score, t) for score, t in scored if score >= threshold), key=lambda p: -p[0])


async def look(
    source: AsyncSession | Database,
    *,
    category: str,
    text: str,
    grid_code: str | None,
    location: str | None,
    now: datetime,
    window: timedelta = DUPLICATE_WINDOW,
    threshold: float = SIMILARITY_THRESHOLD,
) -> Looked:
    """The duplicate check made outside the write lock (a read): what matched, and how far it looked. ``source``: a
    session, or the database (a connection of its own for this one read)."""
    require_aware(now)
    content = _content(text)
    building = building_of(location)
    shape, place = _place(grid_code, building)
    if not shape:
        return Looked(content, (), 0)  # nowhere to compare with: nothing to read, now or under the lock
    rows = await read_rows(source, _candidates(shape, ids=False), _params(category, place, now, window))
    columns = [c.name for c in Ticket.__table__.c]  # type: ignore[attr-defined]
    tickets = [as_read(Ticket, {name: row[name] for name in columns}) for row in rows]
    upto = int(rows[0]["upto"]) if rows else 0  # nothing there: the check under the lock reads the place again, whole
    ranked = _ranked(tickets, content, grid_code, building, threshold)
    return Looked(content, tuple(t.id for _, t in ranked if t.id is not None), upto)


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
    looked: Looked | None = None,
) -> Ticket | None:
    """The most similar open ticket this complaint duplicates, or None to open a new one.

    ``looked``: the same check made earlier (:func:`look`); then only its matches and the tickets opened since
    are read under the write lock (their ids, then the case to join, if any), with the answer a full check would
    give. ``intake.open_case`` reads the ids as columns of a statement it runs anyway (:class:`Check`)."""
    check = await Check.of(session, category=category, text=text, grid_code=grid_code, location=location, now=now,
                           looked=looked, window=window, threshold=threshold)
    await check.lock(session)
    return await check.duplicate(session, await check.read(session, hotspot=False))


@dataclass(frozen=True)
class Check:
    """The duplicate check and the hotspot count of one complaint under the write lock, as columns of a statement
    the caller runs anyway (the draft's ``DELETE … RETURNING``, else one ``SELECT``) and the place's counts before
    this complaint. After a look, the ids of the cases to compare (those it did not see, and its matches still open),
    the cases themselves read only when there is one to compare with or join; with no look, the candidates' texts
    (and places) as one JSON array, compared here, under the lock: the case joined, if any, is the only one read
    (a look before costs a statement of its own; its content words are cached, so the texts compared under the lock
    are mostly worked out already)."""

    category: str
    content: str
    grid_code: str | None
    building: str | None
    now: datetime
    looked: Looked | None  # None: a full check (no look, or PostgreSQL, where a case committed meanwhile may
    #                      carry a lower id than the look saw)
    postgres: bool
    window: timedelta = DUPLICATE_WINDOW
    threshold: float = SIMILARITY_THRESHOLD
    hotspot_window: timedelta = HOTSPOT_WINDOW
    hotspot_threshold: int = HOTSPOT_COUNT

    @property
    def dialect(self) -> str:
        return "postgresql" if self.postgres else "sqlite"

    @classmethod
    async def of(cls, session: AsyncSession, *, category: str, text: str, grid_code: str | None,
                 location: str | None, now: datetime, looked: Looked | None = None, **limits: Any) -> "Check":
        require_aware(now)
        postgres = await dialect_name(session) == "postgresql"
        looked = None if postgres else looked
        content = looked.content if looked is not None else _content(text)
        return cls(category, content, grid_code, building_of(location), now, looked, postgres, **limits)

    async def lock(self, session: AsyncSession) -> None:
        """PostgreSQL: one complaint at a time per category and place until commit (SQLite's write lock is one)."""
        if self.postgres and _place(self.grid_code, self.building)[0]:
            key = _place_key(self.category, self.grid_code, self.building)
            await session.exec(select(func.pg_advisory_xact_lock(key)))

    def columns(self, *, hotspot: bool = True) -> list[Any]:
        """The labelled scalar subqueries to read under the lock, with :meth:`params` (none when the complaint names
        no place)."""
        shape = _place(self.grid_code, self.building)[0]
        return list(_check_columns(shape, self.looked is not None, self.building is not None,
                                   self.grid_code is not None, hotspot, self.dialect)) if shape else []

    def params(self) -> dict[str, Any]:
        """The parameters of :meth:`columns`."""
        _, place = _place(self.grid_code, self.building)
        return {**_params(self.category, place, self.now, self.window, self.looked),
                **_hotspot_params(self.category, self.building, self.grid_code, self.now - self.hotspot_window)}

    async def read(self, session: AsyncSession, *, hotspot: bool = True) -> dict[str, Any]:
        """The columns in a statement of their own (a caller with no statement to carry them)."""
        columns = self.columns(hotspot=hotspot)
        if not columns:
            return {}
        row = (await session.exec(sa_select(*columns), params=self.params())).mappings().one()  # type: ignore
        return dict(row)

    async def duplicate(self, session: AsyncSession, values: Mapping[str, Any]) -> Ticket | None:
        """The most similar open case at the place, from what :meth:`columns` read (as :func:`find_duplicate`)."""
        if "dup_rows" in values:  # the candidates themselves: compared here, the one joined read by its key
            best = self.candidate(values)
            return await session.get(Ticket, best.id) if best is not None else None
        ids = [int(i) for i in (values.get("dup_ids") or "").split(",") if i]
        if not ids:
            return None
        looked = self.looked
        rank = {tid: i for i, tid in enumerate(looked.matches)} if looked is not None else {}
        still = sorted((i for i in ids if i in rank), key=rank.__getitem__)  # matched, and still open
        if still and len(still) == len(ids):  # nothing new since the look: its best match stands
            return await session.get(Ticket, still[0])
        stmt = (select(Ticket).where(col(Ticket.id).in_(ids))  # newest first, the later one on a tie
                .order_by(col(Ticket.created_at).desc(), col(Ticket.id).desc()))
        tickets = (await session.exec(stmt)).all()
        if looked is None:
            ranked = _ranked(tickets, self.content, self.grid_code, self.building, self.threshold)
            return ranked[0][1] if ranked else None
        matched = sorted((t for t in tickets if t.id in rank), key=lambda t: rank[t.id])
        newer = _ranked([t for t in tickets if t.id not in rank], self.content, self.grid_code, self.building,
                        self.threshold)
        if matched and (not newer or _similar(self.content, matched[0].text) > newer[0][0]):  # a tie: the newest
            return matched[0]
        return newer[0][1] if newer else None

    def candidate(self, values: Mapping[str, Any]) -> "Candidate | None":
        """The most similar candidate of the ``dup_rows`` array :meth:`columns` read (open when read, at the place),
        as similar as the threshold or more (the newest on a tie, as ``_ranked``); None if none is. Its key and
        author only: the case itself is read when joined, with the statement that joins it (:func:`record_link`)."""
        found = values.get("dup_rows")
        rows = json.loads(found) if isinstance(found, str | bytes) else (found or [])
        rows.sort(key=lambda r: (str(r[1]), r[0]), reverse=True)  # newest first, the later one on a tie
        best, score = None, self.threshold
        for tid, _, building, grid_code, text, author in rows:
            if not _same_place_of(building, grid_code, self.grid_code, self.building):
                continue
            similar = _similar(self.content, text)
            if similar >= score and (best is None or similar > score):
                best, score = Candidate(int(tid), int(author) if author is not None else None), similar
        return best

    async def hotspot(self, session: AsyncSession, values: Mapping[str, Any], *,
                      added: Ticket | None) -> "Hotspot | None":
        """:func:`check_hotspot` from the counts :meth:`columns` read before this complaint was written; ``added``:
        the case this complaint was counted with (opened, or joined as a new follower), None if it added none."""
        if "hot_building" not in values:
            return None
        extra_b = int(added is not None and self.building is not None and added.building == self.building)
        extra_g = int(added is not None and self.grid_code is not None and added.grid_code == self.grid_code)
        return await _raise(session, self.category, self.building, self.grid_code, self.now,
                            self.now - self.hotspot_window, self.hotspot_threshold,
                            (values["hot_building"] + extra_b, values["hot_grid"] + extra_g,
                             values["raised_building"], values["raised_grid"]))


async def add_follower(session: AsyncSession, ticket_id: int, resident_id: int, now: datetime, text: str = "") -> bool:
    """Make a resident follow a case; False if they already did (one atomic insert, no race)."""
    stmt = _follow(await dialect_name(session))
    params = {"ticket_id": ticket_id, "resident_id": resident_id, "linked_at": require_aware(now), "text": text}
    return (await session.exec(stmt, params=params)).rowcount == 1  # type: ignore[call-overload]


@cache
def _follow(dialect: str) -> Any:
    """:func:`add_follower`'s insert, built once per dialect (its values bound at execution)."""
    table = TicketFollower.__table__  # type: ignore[attr-defined]
    return (dialect_insert(dialect)(table)
            .on_conflict_do_nothing(index_elements=[table.c.ticket_id, table.c.resident_id]))


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


def _linking() -> Any:
    """The LINKED event's INSERT, which also reads the case it links (every column, as scalar subqueries by its key,
    ``t_<column>``) and takes the event's ``from_status`` from it: the case joined is read by the statement that
    records the joining, not by one of its own. Built once (parameters ``link_ticket``, ``link_at``, ``link_actor``,
    ``link_note``)."""
    e, t = TicketEvent.__table__, Ticket.__table__  # type: ignore[attr-defined]
    key = bindparam("link_ticket", type_=t.c.id.type)

    def of(column: Any) -> Any:
        return sa_select(column).where(t.c.id == key).scalar_subquery()

    return (insert(e).values(ticket_id=key, at=bindparam("link_at", type_=e.c.at.type),
                             actor=bindparam("link_actor", type_=e.c.actor.type), kind=TicketEventKind.LINKED.value,
                             from_status=of(t.c.status), to_status=null(),
                             note=bindparam("link_note", type_=e.c.note.type), level=null(), unit=null(),
                             rating=null(), mediation_stage=null(), meeting_at=null())
            .returning(e.c.id, *(of(c).label(f"t_{c.name}") for c in t.c)))


_LINKING = _linking()
_TICKET_COLUMNS = tuple(c.name for c in Ticket.__table__.c)  # type: ignore[attr-defined]


async def record_link(session: AsyncSession, ticket_id: int, resident_id: int, now: datetime, *,
                      note: str) -> Ticket:
    """:func:`record_event` of a LINKED event for the case ``ticket_id``, read in the same statement: the case is
    returned as a row of the session (as ``session.get`` would leave it), the event written as ``record_event``
    writes it (``from_status`` the case's status, the resident as actor)."""
    params = {"link_ticket": ticket_id, "link_at": require_aware(now), "link_actor": resident_actor(resident_id),
              "link_note": note}
    row = (await session.exec(_LINKING, params=params)).mappings().one()  # type: ignore[call-overload]
    held = session.identity_map.get(identity_key(Ticket, ticket_id))
    if held is not None:  # already a row of this session: that one (its status as read now is the same)
        return held  # type: ignore[no-any-return]
    ticket = as_read(Ticket, {name: row[f"t_{name}"] for name in _TICKET_COLUMNS})
    make_transient_to_detached(ticket)  # as loaded: no pending change, its key known
    session.add(ticket)
    return ticket


async def followers(session: AsyncSession, ticket_id: int) -> list[int]:
    """Resident ids to tell about the case's updates, besides its owner."""
    stmt = (
        select(TicketFollower.resident_id)
        .where(TicketFollower.ticket_id == ticket_id)
        .order_by(col(TicketFollower.id))
    )
    return list((await session.exec(stmt)).all())


# --- early warning ----------------------------------------------------------------------------------


def _count(category: str, since: datetime, where: ColumnElement[bool]) -> Any:
    """Tickets of ``category`` at a place opened since ``since``, plus duplicates linked to them since."""
    t, f = Ticket.__table__.c, TicketFollower.__table__.c  # type: ignore[attr-defined]
    opened = select(func.count()).where(t.category == category, t.created_at >= since, where).scalar_subquery()
    # driven by the links of the window (ix_ticket_followers_linked_at), each case looked up by its key: never by
    # every case ever opened at the place
    theirs = select(literal(1)).where(t.id == f.ticket_id, t.category == category, where).exists()
    linked = select(func.count()).select_from(TicketFollower.__table__).where(f.linked_at >= since, theirs)
    linked = linked.scalar_subquery()
    return opened + linked


def _raised(category: str, kind: ScopeKind, scope: str, since: datetime) -> Any:
    h = HotspotWarning.__table__.c  # type: ignore[attr-defined]
    return (select(h.id).where(h.category == category, h.scope_kind == kind.value, h.scope == scope,
                               h.raised_at > since).limit(1).scalar_subquery())


@cache
def _hotspot_columns(building: bool, grid: bool) -> tuple[Any, ...]:
    """Both places' counts and both earlier warnings, as labelled scalar subqueries (indexed by category, place and
    time), for a place with a building and/or a grid; built once a shape, parameters: ``_hotspot_params``."""
    t = Ticket.__table__.c  # type: ignore[attr-defined]
    category, since = bindparam("hot_category"), bindparam("hot_since")
    in_building, in_grid = bindparam("hot_building"), bindparam("hot_grid")
    none = literal(0)
    return (
        (_count(category, since, t.building == in_building) if building else none).label("hot_building"),
        (_count(category, since, t.grid_code == in_grid) if grid else none).label("hot_grid"),
        (_raised(category, ScopeKind.BUILDING, in_building, since) if building
         else literal(None)).label("raised_building"),
        (_raised(category, ScopeKind.GRID, in_grid, since) if grid else literal(None)).label("raised_grid"),
    )


def _hotspot_params(category: str, building: str | None, grid_code: str | None, since: datetime) -> dict[str, Any]:
    out: dict[str, Any] = {"hot_category": category, "hot_since": since}
    if building is not None:
        out["hot_building"] = building
    if grid_code is not None:
        out["hot_grid"] = grid_code
    return out


@cache
def _check_columns(shape: str, since_look: bool, building: bool, grid: bool, hotspot: bool,
                   dialect: str = "") -> tuple[Any, ...]:
    """``Check.columns`` for one shape, built once: the candidates' ids after a look (``dup_ids``), else (``dialect``
    given) the candidates themselves as one JSON array of ``[id, created_at, building, grid_code, text, resident_id]``
    (``dup_rows``), so the check with no look before it reads no case of its own unless one is joined."""
    if since_look or not dialect:
        ids = _candidates(shape, ids=True, since_look=since_look).subquery()
        found = select(func.aggregate_strings(cast(ids.c.id, String), ",")).scalar_subquery().label("dup_ids")
    else:
        rows = _candidates(shape, ids=True, texts=True).subquery()
        array, group = ((func.json_build_array, func.json_agg) if dialect == "postgresql"
                        else (func.json_array, func.json_group_array))
        one = array(rows.c.id, rows.c.created_at, rows.c.building, rows.c.grid_code, rows.c.text, rows.c.resident_id)
        found = select(group(one)).scalar_subquery().label("dup_rows")
    return (found, *(_hotspot_columns(building, grid) if hotspot else ()))


async def _raise(session: AsyncSession, category: str, building: str | None, grid_code: str | None, now: datetime,
                 since: datetime, threshold: int, counted: tuple[int, int, Any, Any]) -> Hotspot | None:
    """The warning the counts call for, written, unless one was raised for that place in the window."""
    in_building, in_grid, raised_building, raised_grid = counted
    if building is not None and in_building >= threshold:
        kind, scope, count, raised = ScopeKind.BUILDING, building, in_building, raised_building
    elif grid_code is not None and in_grid >= threshold:
        kind, scope, count, raised = ScopeKind.GRID, grid_code, in_grid, raised_grid
    else:
        return None
    if raised is not None:
        return None
    session.add(HotspotWarning(category=category, scope_kind=kind.value, scope=scope, raised_at=now, count=count))
    await session.flush()
    return Hotspot(category=category, scope_kind=kind, scope=scope, grid_code=grid_code, count=count, since=since)


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
    within ``window`` and none was raised for it in that window; call after opening or linking.

    One statement counts both places and looks for both warnings (indexed by category, place and time)."""
    require_aware(now)
    building = building_of(location)
    if building is None and grid_code is None:
        return None  # no place: nothing to count
    since = now - window
    stmt = sa_select(*_hotspot_columns(building is not None, grid_code is not None))
    counted = (await session.exec(stmt, params=_hotspot_params(category, building, grid_code, since))).one()  # type: ignore
    return await _raise(session, category, building, grid_code, now, since, threshold, tuple(counted))  # type: ignore


__all__ = [
    "DUPLICATE_WINDOW",
    "HOTSPOT_COUNT",
    "HOTSPOT_WINDOW",
    "SIMILARITY_THRESHOLD",
    "Candidate",
    "Check",
    "Hotspot",
    "LinkResult",
    "LinkStatus",
    "Looked",
    "ScopeKind",
    "add_follower",
    "building_of",
    "check_hotspot",
    "find_duplicate",
    "followers",
    "link",
    "look",
    "record_link",
    "similarity",
]
