"""The outbox: what the bot owes people because of a committed change. No Telegram here.

::

    a change (ticket opened, 签收, 办结, a reply, an escalation …) ──same transaction──▶ owe(...) rows
    claim_batch: the head of each chat's queue, due now, leased ──▶ the sender (bot.sender) sends it
    mark_sent / mark_retry (429 retry_after, 5xx and network errors with backoff) / mark_unreachable (403)
    / mark_failed (400, or too many attempts) ──▶ the next row of that chat becomes its head

Because rows are written with the change, a crash after the commit loses nothing: the rows are claimed again
once their lease runs out. A row is marked sent only after Telegram accepted it, so at most the rows in
flight at a crash can go twice. One chat's rows go strictly in order (a relay never overtakes the card it
is threaded under); different chats in priority order (the person who just acted first, then emergency
alerts, desk posts, background work).

Two clocks: a row's ``created_at`` is the domain time of the change that owed it (the bot's clock, which the
demo and the tests move); when it is due, leased or retried is transport time, the wall clock
(:func:`wall_now`), because Telegram's ``retry_after`` and a lease are real seconds whatever the demo says.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from enum import IntEnum
from typing import Any

from sqlalchemy import Integer, Table, and_, bindparam, exists, func, insert, or_, update
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.models import OutboxKind, OutboxMessage, OutboxStatus, TicketPost

LEASE = timedelta(minutes=2)  # a claimed row not marked within this is claimed again (another sender died)
MAX_ATTEMPTS = 12  # network errors and 5xx are retried with backoff up to this many tries
BACKOFF_FIRST = 2.0  # seconds before the second try; doubles each time
BACKOFF_MAX = 300.0
REDRAW_POSTS = "posts"  # a refresh row's payload: only these cards (TicketPost ids) of its chat, left by another
ST = OutboxStatus


def wall_now() -> datetime:
    """Transport time: when rows are due, leased, retried and sent."""
    return datetime.now(UTC)


class Priority(IntEnum):
    """Lower goes first (across chats, and within a chat before the order of owing)."""

    REPLY = 0  # to the person who just acted: the ticket number, an emergency's answer
    ALERT = 1  # emergency alerts to the desk and the grid worker
    DESK = 2  # cards, relays, progress to residents
    BACKGROUND = 3  # refreshes, reminders


@dataclass(frozen=True)
class Claim:
    """A leased row, with what the sender needs to send it."""

    id: int
    kind: OutboxKind
    chat_id: int
    ticket_id: int | None
    priority: int
    text: str | None
    payload: dict[str, Any]
    attempts: int


# The hot statements are built once, here, with bind parameters: SQLAlchemy then finds each one's compiled form by
# a memoized cache key instead of building and hashing a new statement on every call.
_T: Table = OutboxMessage.__table__  # type: ignore[attr-defined]
_COLUMNS = tuple(c.key for c in _T.c if c.key != "id")  # what owe_rows writes
_OWE = insert(_T)


def _claim_statement() -> Any:
    """One ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: the due heads of their chats' queues
    in priority order, leased."""
    head, earlier = _T.alias("head"), _T.alias("earlier")
    ahead = or_(earlier.c.priority < head.c.priority,
                and_(earlier.c.priority == head.c.priority, earlier.c.id < head.c.id))
    blocked = exists().where(earlier.c.chat_id == head.c.chat_id, earlier.c.status == ST.PENDING, ahead)
    picked = (core_select(head.c.id)
              .where(head.c.status == ST.PENDING, head.c.next_try_at <= bindparam("now"), ~blocked)
              .order_by(head.c.priority, head.c.id)
              .limit(bindparam("limit", type_=Integer))
              .with_for_update(skip_locked=True, of=head))
    return (update(_T).where(_T.c.id.in_(picked))
            .values(attempts=_T.c.attempts + 1, next_try_at=bindparam("lease", type_=_T.c.next_try_at.type))
            .returning(_T.c.id, _T.c.kind, _T.c.chat_id, _T.c.ticket_id, _T.c.priority, _T.c.text, _T.c.payload,
                       _T.c.attempts))


_CLAIM = _claim_statement()
_MARKS: dict[tuple[str, ...], Any] = {}  # by the columns a mark sets


def _mark_statement(keys: tuple[str, ...]) -> Any:
    stmt = _MARKS.get(keys)
    if stmt is None:
        stmt = _MARKS[keys] = update(_T).where(_T.c.id == bindparam("row_id"), _T.c.status == ST.PENDING).values(
            {k: bindparam(f"v_{k}", type_=_T.c[k].type) for k in keys})
    return stmt


def _claim(row: OutboxMessage) -> Claim:
    assert row.id is not None
    return Claim(row.id, row.kind, row.chat_id, row.ticket_id, row.priority, row.text, dict(row.payload),
                 row.attempts)


async def owe(session: AsyncSession, *, chat_id: int, now: datetime, kind: OutboxKind = OutboxKind.MESSAGE,
              text: str | None = None, ticket_id: int | None = None, priority: int = Priority.DESK,
              payload: dict[str, Any] | None = None, flush: bool = True) -> OutboxMessage:
    """Add one owed message to the caller's transaction (nothing is sent before it commits); due at once.

    ``flush=False`` leaves the row to the session's next flush. Several rows owed together: :func:`owe_rows`."""
    row = new_row(chat_id=chat_id, now=now, kind=kind, text=text, ticket_id=ticket_id, priority=priority,
                  payload=payload)
    session.add(row)
    if flush:
        await session.flush()
    return row


def new_row(*, chat_id: int, now: datetime, kind: OutboxKind = OutboxKind.MESSAGE, text: str | None = None,
            ticket_id: int | None = None, priority: int = Priority.DESK,
            payload: dict[str, Any] | None = None) -> OutboxMessage:
    """One owed message as a row, not yet written (:func:`owe` adds it to the session, :func:`owe_rows` inserts)."""
    require_aware(now)
    return OutboxMessage(kind=kind, chat_id=chat_id, ticket_id=ticket_id, priority=int(priority), text=text,
                         payload=payload or {}, created_at=now, next_try_at=wall_now())


async def owe_rows(session: AsyncSession, rows: Sequence[OutboxMessage]) -> None:
    """Rows a change owes together (:func:`new_row`), in one plain ``INSERT`` in their order, after whatever the
    session still holds (the ORM would send one statement a row: it wants each id back)."""
    if not rows:
        return
    await session.flush()
    await session.exec(_OWE, params=[{k: getattr(r, k) for k in _COLUMNS} for r in rows])  # type: ignore[call-overload]


async def owe_refresh(session: AsyncSession, *, ticket_id: int, chat_id: int, now: datetime) -> None:
    """Redraw the case's cards posted so far (``upto``: a card posted later is drawn fresh when it is sent),
    once: a refresh already waiting for the same cards draws the newest state anyway."""
    upto = (await session.exec(select(func.max(TicketPost.id)).where(TicketPost.ticket_id == ticket_id))).one()
    if any(REDRAW_POSTS not in p and p.get("upto") == upto for _, p in await _refreshes_waiting(session, ticket_id)):
        return  # (a row redrawing only some cards does not do: the others need redrawing too)
    await owe(session, chat_id=chat_id, now=now, kind=OutboxKind.REFRESH, ticket_id=ticket_id,
              priority=Priority.BACKGROUND, payload={"upto": upto})


async def owe_redraw(session: AsyncSession, *, ticket_id: int, chat_id: int, posts: list[int], upto: int | None,
                     now: datetime) -> None:
    """The cards ``posts`` of a case in ``chat_id`` that a refresh could not edit now (the chat's limit used up),
    owed as a refresh row of that chat: it waits for its chat as any row does, and draws the case as it is then.

    Only what no refresh waiting to start covers already (it draws the newest state anyway): a refresh of the whole
    case owed after these cards, one of this chat naming some of them, or, for a message combining several cases,
    one of this chat naming that message for another case (it is drawn whole). A desk's edits then take its
    twenty a minute once per card, not once per change of every case listed in it."""
    if not posts:
        return
    left = set(posts)
    for chat, p in await _refreshes_waiting(session, ticket_id):
        named = p.get(REDRAW_POSTS)
        if named is None and (p.get("upto") or 0) >= max(posts):
            return
        if named is not None and chat == chat_id:
            left -= set(named)
    left -= await _batches_waiting(session, chat_id, left)
    if left:
        await owe(session, chat_id=chat_id, now=now, kind=OutboxKind.REFRESH, ticket_id=ticket_id,
                  priority=Priority.BACKGROUND, payload={"upto": upto, REDRAW_POSTS: sorted(left)})


async def _batches_waiting(session: AsyncSession, chat_id: int, posts: set[int]) -> set[int]:
    """Those of ``posts`` that are combined messages another refresh row of the chat, not yet started, redraws."""
    combined = (await session.exec(select(TicketPost.id, TicketPost.message_id).where(
        col(TicketPost.id).in_(posts), col(TicketPost.batch)))).all() if posts else []
    if not combined:
        return set()
    named: set[int] = set()
    for payload in (await session.exec(select(OutboxMessage.payload).where(
            OutboxMessage.chat_id == chat_id, OutboxMessage.kind == OutboxKind.REFRESH,
            OutboxMessage.status == ST.PENDING, OutboxMessage.attempts == 0))).all():
        named.update(payload.get(REDRAW_POSTS) or ())
    if not named:
        return set()
    drawn = set((await session.exec(select(TicketPost.message_id).where(
        col(TicketPost.id).in_(named), TicketPost.chat_id == chat_id, col(TicketPost.batch)))).all())
    return {post for post, message in combined if message in drawn}


async def _refreshes_waiting(session: AsyncSession, ticket_id: int) -> list[tuple[int, dict[str, Any]]]:
    """(chat, payload) of the case's refresh rows not yet started (never claimed, or given back unsent)."""
    found = await session.exec(select(OutboxMessage.chat_id, OutboxMessage.payload).where(
        OutboxMessage.ticket_id == ticket_id, OutboxMessage.kind == OutboxKind.REFRESH,
        OutboxMessage.status == ST.PENDING, OutboxMessage.attempts == 0))
    return [(chat, payload) for chat, payload in found.all()]


async def claim_batch(session: AsyncSession, now: datetime, limit: int) -> list[Claim]:
    """The head row of each chat's queue that is due at ``now``, up to ``limit``, leased to the caller.

    A chat's queue is ordered by priority, then by when the row was owed: an emergency alert goes before older
    cards, a card before older warnings, and rows of one priority keep their order (a relay never overtakes the
    card it is threaded under). A chat's next row becomes its head only once the head is marked (sent,
    unreachable or failed); on PostgreSQL the heads are locked ``SKIP LOCKED`` while leased."""
    require_aware(now)
    rows = (await session.exec(_CLAIM, params={  # type: ignore[call-overload]
        "now": now, "lease": now + LEASE, "limit": limit})).all()
    return [Claim(r.id, r.kind, r.chat_id, r.ticket_id, r.priority, r.text, r.payload, r.attempts)
            for r in sorted(rows, key=lambda r: (r.priority, r.id))]  # RETURNING keeps no order


async def claim_following(session: AsyncSession, head: Claim, kind: OutboxKind, limit: int,
                          now: datetime) -> list[Claim]:
    """Rows of ``kind`` waiting behind ``head`` in its chat, oldest first, leased too: a desk's backlog of cards is
    posted as one combined message instead of one card a slot. Rows of other kinds between them (a warning)
    keep their place and go next; only the cards move up, which changes nothing a reader relies on."""
    require_aware(now)
    taken = list((await session.exec(
        select(OutboxMessage).where(OutboxMessage.chat_id == head.chat_id, OutboxMessage.status == ST.PENDING,
                                    OutboxMessage.kind == kind, OutboxMessage.id > head.id)
        .order_by(col(OutboxMessage.id)).limit(limit)
    )).all())
    if taken:
        await session.exec(update(OutboxMessage).where(  # type: ignore[call-overload]
            col(OutboxMessage.id).in_([r.id for r in taken]),
        ).values(attempts=OutboxMessage.attempts + 1, next_try_at=now + LEASE).execution_options(
            synchronize_session=False))
    return [replace(_claim(r), attempts=r.attempts + 1) for r in taken]


async def backlog(session: AsyncSession, chat_id: int) -> int:
    """Rows still waiting for one chat (its head included)."""
    return int((await session.exec(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.chat_id == chat_id, OutboxMessage.status == ST.PENDING))).one())


async def _mark(session: AsyncSession, row_id: int, **values: object) -> bool:
    changed = await session.exec(_mark_statement(tuple(values)), params={  # type: ignore[call-overload]
        "row_id": row_id, **{f"v_{k}": v for k, v in values.items()}})
    return bool(changed.rowcount)


async def mark_sent(session: AsyncSession, row_id: int, now: datetime, message_id: int | None = None, *,
                    error: str | None = None) -> bool:
    """Telegram took it; False when the row was marked already (a second sender, a late mark). ``error``: what
    went wrong after it went (where it went could not be recorded)."""
    return await _mark(session, row_id, status=ST.SENT, sent_at=require_aware(now), message_id=message_id,
                       error=error[:255] if error else None)


async def mark_unreachable(session: AsyncSession, row_id: int, now: datetime, error: str = "") -> bool:
    require_aware(now)
    return await _mark(session, row_id, status=ST.UNREACHABLE, error=error[:255] or None)


async def mark_failed(session: AsyncSession, row_id: int, now: datetime, error: str = "") -> bool:
    require_aware(now)
    return await _mark(session, row_id, status=ST.FAILED, error=error[:255] or None)


def backoff(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failed ones: 2, 4, 8 … up to five minutes."""
    return min(BACKOFF_MAX, BACKOFF_FIRST * 2 ** max(0, attempts - 1))


async def mark_retry(session: AsyncSession, row_id: int, now: datetime, seconds: float | None,
                     error: str = "") -> datetime | None:
    """Try again after ``seconds`` (429's retry_after) or the backoff; after MAX_ATTEMPTS the row fails.

    Returns the new due time, or None when the row failed (or was not pending)."""
    require_aware(now)
    row = await session.get(OutboxMessage, row_id)
    if row is None or row.status is not ST.PENDING:
        return None
    if row.attempts >= MAX_ATTEMPTS:
        await mark_failed(session, row_id, now, error or "too many attempts")
        return None
    due = now + timedelta(seconds=max(0.0, backoff(row.attempts) if seconds is None else seconds))
    await _mark(session, row_id, next_try_at=due, error=error[:255] or None)
    return due


async def release(session: AsyncSession, row_ids: list[int], now: datetime) -> None:
    """Give leased rows back, due at ``now`` and their attempt not counted: at once on a graceful stop (the next
    start sends them without waiting the lease), or later when their chat cannot take them yet."""
    if row_ids:
        await session.exec(update(OutboxMessage).where(  # type: ignore[call-overload]
            col(OutboxMessage.id).in_(row_ids), col(OutboxMessage.status) == ST.PENDING,
        ).values(next_try_at=require_aware(now), attempts=OutboxMessage.attempts - 1))


async def release_all(session: AsyncSession, now: datetime) -> int:
    """At the start of the one sender: rows leased by a sender that died are due at once (rows waiting for a
    retry too, which at worst try once early), so nobody waits out a lease after a restart."""
    changed = await session.exec(update(OutboxMessage).where(  # type: ignore[call-overload]
        col(OutboxMessage.status) == ST.PENDING, col(OutboxMessage.next_try_at) > require_aware(now),
    ).values(next_try_at=now))
    return int(changed.rowcount)


async def recent_group_sends(session: AsyncSession, since: datetime) -> list[tuple[int, datetime]]:
    """(chat, sent_at) of what went to groups since ``since``: a sender that starts again knows how much of each
    group's 20-a-minute it (or the one before it) used already. One message is one send: the rows of a desk's
    backlog combined into one message (one message id) count once, else a new leader would take a sweep's forty
    combined cards for forty sends and hold the desk's chat back for a minute it has not used."""
    rows = await session.exec(select(OutboxMessage.chat_id, OutboxMessage.sent_at, OutboxMessage.message_id).where(
        OutboxMessage.status == ST.SENT, col(OutboxMessage.chat_id) < 0, col(OutboxMessage.sent_at) >= since,
    ).order_by(col(OutboxMessage.sent_at), col(OutboxMessage.id)))
    seen: set[tuple[int, int]] = set()
    sends: list[tuple[int, datetime]] = []
    for chat, at, message_id in rows.all():
        if at is None or (message_id is not None and (chat, message_id) in seen):
            continue
        if message_id is not None:
            seen.add((chat, message_id))
        sends.append((chat, at))
    return sends


async def pending(session: AsyncSession) -> int:
    return int((await session.exec(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == ST.PENDING))).one())


__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "REDRAW_POSTS",
    "Claim",
    "Priority",
    "backlog",
    "backoff",
    "claim_batch",
    "claim_following",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "mark_unreachable",
    "new_row",
    "owe",
    "owe_redraw",
    "owe_refresh",
    "owe_rows",
    "pending",
    "recent_group_sends",
    "release",
    "release_all",
    "wall_now",
]
