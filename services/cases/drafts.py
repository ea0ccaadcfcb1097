"""The complaint a resident is still composing, kept in the database so a bot restart loses nothing.

Residents often type one complaint as several quick messages; text arriving within ``JOIN_WINDOW`` of
the previous message is appended to the same draft (also while the bot is asking to confirm or to pick
a category: the resident is still explaining), anything later starts a new one. A draft begun with a
photo alone waits for its words however long they take. While the bot asks for the place, the next
text is the place, not more of the complaint, so it never joins. A draft untouched for
``STALE_AFTER`` is treated as abandoned.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, bindparam, delete, false, select, update
from sqlmodel import col
from sqlmodel.ext.asyncio.session import AsyncSession

from services import flood, require_aware
from storage.db import dialect_insert, dialect_name
from storage.models import Draft, Resident
from storage.rows import as_read

JOIN_WINDOW = timedelta(seconds=60)
STALE_AFTER = timedelta(minutes=30)


class DraftStage(StrEnum):
    """Suggested stage names; the column is a plain string so handlers may add their own."""

    COLLECTING = "collecting"
    CHOOSING_CATEGORY = "choosing_category"
    ASKING_LOCATION = "asking_location"
    CONFIRMING = "confirming"


@dataclass(frozen=True)
class AppendResult:
    draft: Draft
    joined: bool  # True: appended to the running draft; False: this text started a new draft


class _Unset:
    pass


UNSET: Any = _Unset()


def is_stale(draft: Draft, now: datetime, stale_after: timedelta = STALE_AFTER) -> bool:
    return require_aware(now) - draft.updated_at > stale_after


async def get_draft(
    session: AsyncSession, resident_id: int, *, now: datetime, stale_after: timedelta = STALE_AFTER
) -> Draft | None:
    """The resident's live draft; None if there is none or it has gone stale."""
    draft = await session.get(Draft, resident_id, populate_existing=True)
    if draft is None or is_stale(draft, now, stale_after):
        return None
    return draft


def _fresh(resident_id: int, now: datetime) -> Draft:
    """A new empty draft, built as a row read is (``storage.rows``): ``Draft(…)`` leaves three default factories to
    SQLModel, which costs pydantic an ``inspect.signature(list)`` (about 80 µs) each."""
    return as_read(Draft, {"resident_id": resident_id, "text": "", "category": None, "candidates": [],
                           "location": None, "photos": [], "attachments": [], "stage": DraftStage.COLLECTING.value,
                           "created_at": now, "updated_at": now, "shown_message_id": None})


def _reset(draft: Draft, now: datetime) -> None:
    draft.text = ""
    draft.category = None
    draft.candidates = []
    draft.location = None
    draft.photos = []
    draft.attachments = []
    draft.stage = DraftStage.COLLECTING
    draft.created_at = now
    draft.shown_message_id = None


async def _fresh_or_joinable(
    session: AsyncSession, resident_id: int, now: datetime, join_window: timedelta
) -> tuple[Draft, bool]:
    draft = await session.get(Draft, resident_id, populate_existing=True)
    if draft is None:
        draft = Draft(resident_id=resident_id, created_at=now, updated_at=now)
        session.add(draft)
        return draft, False
    joinable = draft.stage != DraftStage.ASKING_LOCATION and (
        now - draft.updated_at <= join_window or not draft.text
    )
    if not joinable:
        _reset(draft, now)
    return draft, joinable


async def append_text(
    session: AsyncSession,
    resident_id: int,
    text: str,
    now: datetime,
    join_window: timedelta = JOIN_WINDOW,
) -> AppendResult:
    """Add a message to the draft: joined (newline) if within ``join_window``, else a new draft."""
    require_aware(now)
    draft, joined = await _fresh_or_joinable(session, resident_id, now, join_window)
    draft.text = "\n".join(part for part in (draft.text, text.strip()) if part)
    draft.updated_at = now
    session.add(draft)
    await session.flush()
    return AppendResult(draft, joined)


async def add_photo(
    session: AsyncSession,
    resident_id: int,
    file_id: str,
    now: datetime,
    join_window: timedelta = JOIN_WINDOW,
) -> AppendResult:
    """Attach a Telegram photo file id, with the same joining rule as text."""
    require_aware(now)
    draft, joined = await _fresh_or_joinable(session, resident_id, now, join_window)
    draft.photos = [*draft.photos, file_id]  # reassign: in-place JSON mutation is not tracked
    draft.updated_at = now
    session.add(draft)
    await session.flush()
    return AppendResult(draft, joined)


async def add_attachment(
    session: AsyncSession,
    resident_id: int,
    item: dict[str, Any],
    now: datetime,
    join_window: timedelta = JOIN_WINDOW,
) -> AppendResult:
    """Attach a voice message or a file (``{"kind": "voice"|"document", "file_id": …}``), joining as text does."""
    require_aware(now)
    draft, joined = await _fresh_or_joinable(session, resident_id, now, join_window)
    draft.attachments = [*draft.attachments, dict(item)]
    draft.updated_at = now
    session.add(draft)
    await session.flush()
    return AppendResult(draft, joined)


async def update_draft(
    session: AsyncSession,
    resident_id: int,
    *,
    now: datetime,
    stage: str = UNSET,
    category: str | None = UNSET,
    candidates: Sequence[Any] = UNSET,
    location: str | None = UNSET,
    photos: Sequence[str] = UNSET,
    attachments: Sequence[dict[str, Any]] = UNSET,
) -> Draft | None:
    """Change the given fields of an existing draft; None if the resident has no draft."""
    require_aware(now)
    draft = await session.get(Draft, resident_id, populate_existing=True)
    if draft is None:
        return None
    if stage is not UNSET:
        draft.stage = str(stage)
    if category is not UNSET:
        draft.category = category
    if candidates is not UNSET:
        draft.candidates = list(candidates)
    if location is not UNSET:
        draft.location = location
    if photos is not UNSET:
        draft.photos = list(photos)
    if attachments is not UNSET:
        draft.attachments = [dict(a) for a in attachments]
    draft.updated_at = now
    session.add(draft)
    await session.flush()
    return draft


async def clear_draft(session: AsyncSession, resident_id: int) -> bool:
    """Drop the draft (submitted or cancelled). True if there was one."""
    result = await session.exec(delete(Draft).where(col(Draft.resident_id) == resident_id))
    return bool(result.rowcount)


# --- the hot path: a draft read once, changed in hand, written in one guarded statement --------------------

_COLUMNS = ("text", "category", "candidates", "location", "photos", "attachments", "stage", "created_at",
            "updated_at", "shown_message_id")


def live(draft: Draft | None, now: datetime, stale_after: timedelta = STALE_AFTER) -> Draft | None:
    """``get_draft`` for a row already read: None if there is none or it has gone stale."""
    return None if draft is None or is_stale(draft, now, stale_after) else draft


def stamp(draft: Draft) -> str:
    """Which draft a button belongs to: its start time, short (drafts are one per resident)."""
    return format(int(draft.created_at.timestamp()), "x")


def copied(draft: Draft, **changes: Any) -> Draft:
    """A detached copy of ``draft`` with ``changes`` (lists copied: the original is never touched)."""
    values = {c: getattr(draft, c) for c in _COLUMNS}
    values.update(candidates=list(draft.candidates), photos=list(draft.photos),
                  attachments=[dict(a) for a in draft.attachments])
    values.update(changes)
    return as_read(Draft, {"resident_id": draft.resident_id, **values})


def appended(row: Draft | None, resident_id: int, text: str, now: datetime,
             join_window: timedelta = JOIN_WINDOW) -> AppendResult:
    """``append_text`` on a row already read (stale or not, as it is in the table), without a session: the draft
    to write with :func:`save`."""
    require_aware(now)
    if row is None:
        draft, joined = _fresh(resident_id, now), False
    else:
        draft = copied(row)
        joined = draft.stage != DraftStage.ASKING_LOCATION and (now - draft.updated_at <= join_window or not draft.text)
        if not joined:
            _reset(draft, now)
    draft.text = "\n".join(part for part in (draft.text, text.strip()) if part)
    draft.updated_at = now
    return AppendResult(draft, joined)


def changed(draft: Draft, *, now: datetime, **fields: Any) -> Draft:
    """``update_draft`` in hand: a copy with the fields given (``stage``, ``category``, ``candidates``,
    ``location``, ``photos``, ``attachments``), touched at ``now``."""
    require_aware(now)
    if "stage" in fields:
        fields["stage"] = str(fields["stage"])
    return copied(draft, **fields, updated_at=now)


ANY: Any = _Unset()  # ``save(…, seen=ANY)``: write whatever the row is now


_T = Draft.__table__  # type: ignore[attr-defined]
# The hot statements, built once (per dialect for the upsert) with bound parameters: only the values change, so
# SQLAlchemy finds each compiled by its memoized cache key instead of constructing it on every call.
_READ = select(*_T.c).where(_T.c.resident_id == bindparam("draft_resident_id", type_=_T.c.resident_id.type))
_TAKE = delete(_T).where(_T.c.resident_id == bindparam("draft_resident_id", type_=_T.c.resident_id.type),
                         _T.c.updated_at == bindparam("draft_seen", type_=_T.c.updated_at.type))
_VALUES = ("resident_id", *_COLUMNS)
_SAVES: dict[tuple[str, str], Any] = {}  # (dialect, guard) -> the upsert
_TAKES_WITH: dict[tuple[int, ...], tuple[tuple[Any, ...], Any]] = {}  # ids of the columns -> (columns, statement)


def _kept(cache: dict[tuple[int, ...], tuple[tuple[Any, ...], Any]], columns: tuple[Any, ...],
          build: Callable[[tuple[Any, ...]], Any]) -> Any:
    """The statement built for these very column objects (``duplicates.Check.columns`` gives the same ones each time
    for a shape), built once; columns built anew each time keep no more than a few."""
    key = tuple(map(id, columns))
    kept = cache.get(key)
    if kept is None or any(a is not b for a, b in zip(kept[0], columns, strict=True)):
        if len(cache) >= 64:
            cache.clear()
        kept = cache[key] = (columns, build(columns))
    return kept[1]


def _save_statement(dialect: str, guard: str) -> Any:
    """The guarded upsert for ``dialect``; ``guard``: "seen" (the row as read), "none" (no row), "any"."""
    stmt = _SAVES.get((dialect, guard))
    if stmt is None:
        stmt = dialect_insert(dialect)(_T).values({c: bindparam(f"draft_{c}", type_=_T.c[c].type) for c in _VALUES})
        where = {"seen": _T.c.updated_at == bindparam("draft_seen", type_=_T.c.updated_at.type), "none": false(),
                 "any": None}[guard]
        stmt = _SAVES[(dialect, guard)] = stmt.on_conflict_do_update(
            index_elements=[_T.c.resident_id], set_={c: stmt.excluded[c] for c in _COLUMNS}, where=where)
    return stmt


async def read(session: AsyncSession, resident_id: int) -> Draft | None:
    """The resident's draft row as it is (stale or not), detached."""
    row = (await session.exec(_READ, params={"draft_resident_id": resident_id})  # type: ignore[call-overload]
           ).mappings().first()
    return as_read(Draft, row) if row is not None else None


async def save(session: AsyncSession, draft: Draft, *, seen: datetime | None) -> bool:
    """Write ``draft`` as it is, in one statement (INSERT … ON CONFLICT DO UPDATE), only if the row is still as
    it was read: ``seen`` is the ``updated_at`` read (None: there was no row; ``ANY``: unguarded). False when it
    changed since (nothing written): read it again and decide again."""
    params = {f"draft_{c}": getattr(draft, c) for c in _VALUES}
    if seen is ANY:
        guard = "any"
    elif seen is None:
        guard = "none"
    else:
        guard, params["draft_seen"] = "seen", seen
    stmt = _save_statement(await dialect_name(session), guard)
    return bool((await session.exec(stmt, params=params)).rowcount)  # type: ignore[call-overload]


async def take(session: AsyncSession, resident_id: int, *, seen: datetime) -> bool:
    """Remove the draft being submitted if it is still the one read (``seen``: its ``updated_at``): True for the
    one press that takes it, False for any other (a second tap, a newer draft)."""
    params = {"draft_resident_id": resident_id, "draft_seen": seen}
    return bool((await session.exec(_TAKE, params=params)).rowcount)  # type: ignore[call-overload]


async def take_with(session: AsyncSession, resident_id: int, *, seen: datetime, returning: Sequence[Any],
                    params: dict[str, Any] | None = None) -> dict[str, Any] | None:
    """:func:`take` that also reads ``returning`` (labelled scalar subqueries of other tables, with their ``params``)
    in the same ``DELETE … RETURNING``: what the write that follows needs to know, at no extra statement. None: not
    taken. The statement is kept for the columns given (``duplicates.Check.columns`` gives the same ones each time
    for a shape), so it is built once for each."""
    stmt = _kept(_TAKES_WITH, tuple(returning), lambda columns: _TAKE.returning(_T.c.resident_id, *columns))
    values = {**(params or {}), "draft_resident_id": resident_id, "draft_seen": seen}
    row = (await session.exec(stmt, params=values)).mappings().first()  # type: ignore[call-overload]
    return dict(row) if row is not None else None


class NotAsKnown(Exception):
    """The draft known without a read (:func:`take_known`) was not taken as known: nothing of the transaction may
    stand (the caller's transaction rolls back on it, and the press is taken the ordinary way)."""


class Capped(Exception):
    """:func:`take_known` found the presser at the flood cap of complaints confirmed: the draft stays (the
    transaction rolls back on it)."""


@dataclass(frozen=True)
class Known:
    """A draft confirmed as this process last wrote it, with its resident as read then (no read this update): the
    presser's Telegram id, and the flood cap to hold (0: none) with the window's start."""

    tg_user_id: int
    resident: Resident
    draft: Draft
    cap: int = 0
    since: datetime | None = None


_R = Resident.__table__  # type: ignore[attr-defined]
_KNOWN_RESIDENT = bindparam("known_resident", type_=_R.c.id.type)
_TAKE_KNOWN = delete(_T).where(  # the presser's own draft, still as written: the WHERE checks both
    _T.c.resident_id == select(_R.c.id).where(_R.c.tg_user_id == bindparam("known_tg", type_=BigInteger))
    .scalar_subquery(),
    _T.c.updated_at == bindparam("draft_seen", type_=_T.c.updated_at.type))
_KNOWN_COLUMNS = (  # what the case is made of besides the draft: the resident's place now, and the flood count
    select(_R.c.grid_code).where(_R.c.id == _KNOWN_RESIDENT).scalar_subquery().label("known_grid"),
    select(_R.c.building).where(_R.c.id == _KNOWN_RESIDENT).scalar_subquery().label("known_building"),
    flood.confirmed_count(_KNOWN_RESIDENT, flood.since_param("known_since")).label("known_confirmed"),
)
_COMPARED = ("resident_id", *(c for c in _COLUMNS if c != "shown_message_id"))  # the hint is no change of it
_TAKES_KNOWN: dict[tuple[int, ...], tuple[tuple[Any, ...], Any]] = {}


async def take_known(session: AsyncSession, known: Known, *, returning: Sequence[Any],
                     params: dict[str, Any] | None = None) -> dict[str, Any]:
    """:func:`take_with` for a draft known without a read this update (``known``: as this process last wrote it):
    one ``DELETE … RETURNING`` whose WHERE takes only the presser's own draft as written then, and which returns
    the row taken, the resident's place and (``known.cap``) the flood count besides ``returning``. Raises
    :class:`NotAsKnown` when nothing was taken, or the row taken or the resident's place differ from what was known
    (the caller rolls back and reads as usual), :class:`Capped` when the count has reached the cap; so a case is
    only ever made of the row as it is, as after a read."""
    stmt = _kept(_TAKES_KNOWN, tuple(returning),
                 lambda columns: _TAKE_KNOWN.returning(*_T.c, *_KNOWN_COLUMNS, *columns))
    draft, resident = known.draft, known.resident
    values = {**(params or {}), "known_tg": known.tg_user_id, "draft_seen": draft.updated_at,
              "known_resident": resident.id, "known_since": known.since or draft.updated_at}
    row = (await session.exec(stmt, params=values)).mappings().first()  # type: ignore[call-overload]
    if row is None or any(row[c] != getattr(draft, c) for c in _COMPARED) \
            or (row["known_grid"], row["known_building"]) != (resident.grid_code, resident.building):
        raise NotAsKnown
    if known.cap > 0 and int(row["known_confirmed"]) >= known.cap:
        raise Capped
    return dict(row)


_SHOWN = (update(_T).where(_T.c.resident_id == bindparam("draft_resident_id", type_=_T.c.resident_id.type),
                          _T.c.updated_at == bindparam("draft_seen", type_=_T.c.updated_at.type))
          .values(shown_message_id=bindparam("draft_shown", type_=_T.c.shown_message_id.type)))


def shown_hint(resident_id: int, message_id: int, *, seen: datetime) -> tuple[Any, dict[str, Any]]:
    """The draft as written at ``seen`` (its ``updated_at``) is shown with 确认提交 in ``message_id``: kept so a yes
    typed instead of pressed edits that message as the button does. A statement and its parameters, for a write
    behind (``storage.db.Database.hint``): it may be lost without harm; it is not a change of the draft
    (``updated_at`` stays, and with it the join window and every guard), and changes nothing if the draft changed
    since."""
    return _SHOWN, {"draft_resident_id": resident_id, "draft_seen": seen, "draft_shown": message_id}


async def purge_stale(session: AsyncSession, now: datetime, stale_after: timedelta = STALE_AFTER) -> int:
    """Delete abandoned drafts; returns how many (for a periodic job)."""
    cutoff = require_aware(now) - stale_after
    result = await session.exec(delete(Draft).where(col(Draft.updated_at) < cutoff))
    return int(result.rowcount or 0)


__all__ = [
    "ANY",
    "JOIN_WINDOW",
    "STALE_AFTER",
    "UNSET",
    "AppendResult",
    "Capped",
    "DraftStage",
    "Known",
    "NotAsKnown",
    "add_attachment",
    "add_photo",
    "append_text",
    "appended",
    "changed",
    "clear_draft",
    "copied",
    "get_draft",
    "is_stale",
    "live",
    "purge_stale",
    "read",
    "save",
    "shown_hint",
    "stamp",
    "take",
    "take_known",
    "take_with",
    "update_draft",
]
