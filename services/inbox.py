"""The inbox: Telegram updates accepted before they are acknowledged, then handled once by any worker. No Telegram
here (``bot.intake`` reads the update; this module stores and hands out rows).

::

    webhook POST / getUpdates batch ──accept (INSERT … ON CONFLICT DO NOTHING)──▶ pending row ──▶ 200 / next offset
    claim_batch: the oldest pending row of each chat, leased to one worker (FOR UPDATE SKIP LOCKED on PostgreSQL)
    the worker handles it, renewing the lease meanwhile ──▶ mark_done (the chat's next row becomes its head)
    a worker killed mid-update: its lease runs out ──▶ the row is claimed again; after MAX_ATTEMPTS claims: failed

``update_id`` is the primary key, so a repeated delivery inserts nothing. One chat's rows are handed out strictly in
``update_id`` order, one at a time across all workers (a row is claimable only when no earlier row of its chat is
pending); different chats in parallel. Times here are transport time (the wall clock, like the outbox's leases), not
the bot's domain clock.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import (
    Boolean,
    Integer,
    String,
    Table,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    literal,
    null,
    or_,
    update,
)
from sqlalchemy import select as core_select
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.db import Database, dialect_insert, dialect_name
from storage.models import InboxStatus, InboxUpdate

LEASE = timedelta(seconds=15)  # a claim not renewed within this is taken again (its worker died)
MAX_ATTEMPTS = 5  # claims of one update before it is given up (it killed its worker every time)
KEEP = timedelta(days=2)  # handled rows are kept this long so a late repeat is still recognised
ST = InboxStatus
GIVEN_UP = "given up: its worker died on it each time"


@dataclass(frozen=True)
class Incoming:
    """One update to accept: its id, the chat whose order it keeps, the JSON Telegram sent, and whether it could be
    read at all (an unreadable one is stored as skipped: recognised when repeated, never handled)."""

    update_id: int
    chat_key: int
    payload: dict[str, Any]
    readable: bool = True


@dataclass(frozen=True)
class Claim:
    update_id: int
    chat_key: int
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class Lag:
    pending: int  # rows not yet handled (claimed ones included)
    oldest_seconds: float  # how long the oldest of them has waited (0 when none)


# The hot statements are built once, here, with bind parameters: SQLAlchemy then finds each one's compiled form by
# a memoized cache key instead of building and hashing a new statement on every call (most of its CPU per update).
_T: Table = InboxUpdate.__table__  # type: ignore[attr-defined]
_ACCEPT: dict[str, Any] = {}  # by dialect: INSERT … ON CONFLICT DO NOTHING RETURNING update_id


def _accept_statement(dialect: str) -> Any:
    stmt = _ACCEPT.get(dialect)
    if stmt is None:
        stmt = _ACCEPT[dialect] = (dialect_insert(dialect)(_T).on_conflict_do_nothing(index_elements=["update_id"])
                                   .returning(_T.c.update_id))
    return stmt


def _claim_statement() -> Any:
    """One ``UPDATE … WHERE update_id IN (SELECT … FOR UPDATE SKIP LOCKED) RETURNING``: the heads of their chats,
    not leased, oldest first, leased to the worker; a head claimed MAX_ATTEMPTS times already is given up instead
    (every SET sees the row as it was, so each CASE asks the same question)."""
    head, earlier = _T.alias("head"), _T.alias("earlier")
    blocked = exists().where(earlier.c.chat_key == head.c.chat_key, earlier.c.status == ST.PENDING,
                             earlier.c.update_id < head.c.update_id)
    picked = (core_select(head.c.update_id)
              .where(head.c.status == ST.PENDING,
                     or_(head.c.lease_until.is_(None), head.c.lease_until <= bindparam("now")), ~blocked)
              .order_by(head.c.update_id)
              .limit(bindparam("limit", type_=Integer))
              .with_for_update(skip_locked=True, of=head))
    spent = _T.c.attempts >= MAX_ATTEMPTS
    now = bindparam("now", type_=_T.c.done_at.type)
    return (update(_T).where(_T.c.update_id.in_(picked)).values(
        status=case((spent, literal(ST.FAILED, _T.c.status.type)), else_=_T.c.status),
        attempts=case((spent, _T.c.attempts), else_=_T.c.attempts + 1),
        lease_until=case((spent, null()), else_=bindparam("lease", type_=_T.c.lease_until.type)),
        claimed_by=case((spent, _T.c.claimed_by), else_=bindparam("worker", type_=_T.c.claimed_by.type)),
        done_at=case((spent, now), else_=_T.c.done_at),
        error=case((spent, literal(GIVEN_UP, _T.c.error.type)), else_=_T.c.error),
    ).returning(_T.c.update_id, _T.c.chat_key, _T.c.payload, _T.c.attempts, _T.c.status))


_CLAIM = _claim_statement()


def _take_statement() -> Any:
    """PostgreSQL, one update: ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING``, the row leased to the worker
    at once when it may (``take``) and no earlier row of its chat is pending, with a ``pg_notify`` (payload: the
    worker) for the other workers when it is not. One statement, committed on its own: one trip to the server
    instead of BEGIN, INSERT, NOTIFY, the claim and COMMIT. The claim's visibility is the claim loop's: rows
    committed by others before this statement runs."""
    earlier = _T.alias("earlier")
    blocked = exists().where(earlier.c.chat_key == bindparam("chat_key", type_=_T.c.chat_key.type),
                             earlier.c.status == ST.PENDING,
                             earlier.c.update_id < bindparam("update_id", type_=_T.c.update_id.type))
    flag = core_select(and_(bindparam("take", type_=Boolean), ~blocked).label("take")).subquery("flag")
    take = flag.c.take
    values = core_select(
        bindparam("update_id", type_=_T.c.update_id.type), bindparam("chat_key", type_=_T.c.chat_key.type),
        bindparam("payload", type_=_T.c.payload.type), literal(ST.PENDING, _T.c.status.type),
        case((take, 1), else_=0), bindparam("now", type_=_T.c.received_at.type),
        case((take, bindparam("lease", type_=_T.c.lease_until.type)), else_=null()),
        case((take, bindparam("worker", type_=_T.c.claimed_by.type)), else_=null()),
        null(), null()).select_from(flag)
    columns = ["update_id", "chat_key", "payload", "status", "attempts", "received_at", "lease_until", "claimed_by",
               "done_at", "error"]
    told = case((_T.c.claimed_by.is_(None), func.pg_notify(bindparam("channel", type_=String),
                                                             bindparam("worker", type_=String)).cast(String)),
                else_=null())
    return (dialect_insert("postgresql")(_T).from_select(columns, values)
            .on_conflict_do_nothing(index_elements=["update_id"])
            .returning(_T.c.update_id, _T.c.claimed_by, told.label("told")))


_TAKE = _take_statement()
_DONE = update(_T).where(_T.c.update_id.in_(bindparam("ids", expanding=True)), _T.c.status == ST.PENDING).values(
    status=ST.DONE, done_at=bindparam("now"), lease_until=None, payload={})
_DONE_WITH_ERROR = update(_T).where(_T.c.update_id == bindparam("id"), _T.c.status.in_([ST.PENDING, ST.DONE])).values(
    status=ST.DONE, done_at=bindparam("now"), lease_until=None, payload={}, error=bindparam("message"))


async def accept(session: AsyncSession, rows: Sequence[Incoming], now: datetime) -> list[int]:
    """Insert the updates not seen before, in the caller's transaction; returns the ids that were new."""
    require_aware(now)
    if not rows:
        return []
    unique = list({r.update_id: r for r in rows}.values())
    values = [{"update_id": r.update_id, "chat_key": r.chat_key, "payload": r.payload if r.readable else {},
               "status": ST.PENDING if r.readable else ST.SKIPPED, "attempts": 0, "received_at": now,
               "done_at": None if r.readable else now} for r in unique]
    result = await session.exec(_accept_statement(await dialect_name(session)),  # type: ignore[call-overload]
                                params=values)
    return sorted(int(i) for i in result.scalars().all())


async def accept_one(db: Database, row: Incoming, now: datetime, worker: str, *, take: bool,
                     channel: str) -> tuple[bool, Claim | None]:
    """One readable update on PostgreSQL, committed when this returns: (new, the claim when it was leased to
    ``worker`` at once). A row left unclaimed is announced on ``channel`` (with ``worker`` as the payload, so the
    worker that sent it can tell its own); a repeat (not new) changes nothing and announces nothing."""
    require_aware(now)
    if not row.readable:
        raise ValueError("an unreadable update is stored as skipped: accept() stores it")
    rows = await db.write_one(_TAKE, {"update_id": row.update_id, "chat_key": row.chat_key, "payload": row.payload,
                                      "now": now, "lease": now + LEASE, "worker": worker[:64], "take": take,
                                      "channel": channel})
    if not rows:
        return False, None
    taken = rows[0]["claimed_by"] is not None
    return True, Claim(row.update_id, row.chat_key, row.payload, 1) if taken else None


async def claim_batch(session: AsyncSession, now: datetime, limit: int, worker: str) -> list[Claim]:
    """Up to ``limit`` rows, each the oldest pending row of its chat and not leased to anyone, leased to ``worker``.

    A row claimed ``MAX_ATTEMPTS`` times already is marked failed instead (it took its worker down each time) and
    its chat moves on."""
    require_aware(now)
    taken: list[Claim] = []
    params = {"now": now, "lease": now + LEASE, "worker": worker[:64]}
    for _ in range(3):  # rows given up free their chats' next rows: look again (a few times at most)
        if len(taken) >= limit:
            break
        rows = sorted((await session.exec(_CLAIM, params={  # type: ignore[call-overload]
            **params, "limit": limit - len(taken)})).all(), key=lambda r: r[0])
        taken += [Claim(update_id, chat_key, dict(payload), attempts)
                  for update_id, chat_key, payload, attempts, status in rows if status is ST.PENDING]
        if all(status is ST.PENDING for *_, status in rows):
            break
    return taken


async def mark_done(session: AsyncSession, update_ids: Sequence[int], now: datetime,
                    errors: dict[int, str] | None = None) -> int:
    """Handled: the chat's next row becomes its head. The payload is dropped (the row stays to recognise
    repeats). ``errors``: updates whose handling raised past the error handler, noted on the row."""
    require_aware(now)
    if not update_ids:
        return 0
    errors = errors or {}
    plain = [i for i in update_ids if i not in errors]
    changed = 0
    if plain:
        changed += (await session.exec(_DONE, params={"ids": plain, "now": now})).rowcount  # type: ignore[call-overload]
    for update_id, error in errors.items():
        changed += (await session.exec(_DONE_WITH_ERROR, params={  # type: ignore[call-overload]
            "id": update_id, "now": now, "message": error[:255]})).rowcount
    return int(changed)


async def renew(session: AsyncSession, update_ids: Sequence[int], now: datetime, worker: str) -> int:
    """Extend this worker's leases on the rows it is still handling."""
    require_aware(now)
    if not update_ids:
        return 0
    changed = await session.exec(update(InboxUpdate).where(  # type: ignore[call-overload]
        col(InboxUpdate.update_id).in_(list(update_ids)), col(InboxUpdate.status) == ST.PENDING,
        col(InboxUpdate.claimed_by) == worker[:64],
    ).values(lease_until=now + LEASE))
    return int(changed.rowcount)


async def release(session: AsyncSession, update_ids: Sequence[int], worker: str) -> int:
    """A graceful stop: claimed rows this worker has not started are free at once (the claim not counted)."""
    if not update_ids:
        return 0
    changed = await session.exec(update(InboxUpdate).where(  # type: ignore[call-overload]
        col(InboxUpdate.update_id).in_(list(update_ids)), col(InboxUpdate.status) == ST.PENDING,
        col(InboxUpdate.claimed_by) == worker[:64],
    ).values(lease_until=None, claimed_by=None, attempts=InboxUpdate.attempts - 1))
    return int(changed.rowcount)


async def free_orphans(session: AsyncSession, alive: Collection[str], now: datetime,
                       settled: timedelta = timedelta(seconds=3)) -> int:
    """Leases of workers known to be dead end now, not when they run out: the rows of a worker not in ``alive``
    (the workers that are up, as the leader sees them) whose lease was taken or renewed at least ``settled`` ago
    (so a worker that just started, and is not yet seen, keeps its claims). The claim stays counted."""
    require_aware(now)
    changed = await session.exec(update(InboxUpdate).where(  # type: ignore[call-overload]
        col(InboxUpdate.status) == ST.PENDING, col(InboxUpdate.lease_until).is_not(None),
        col(InboxUpdate.lease_until) <= now + LEASE - settled,
        or_(col(InboxUpdate.claimed_by).is_(None), col(InboxUpdate.claimed_by).not_in([a[:64] for a in alive])),
    ).values(lease_until=None).execution_options(synchronize_session=False))
    return int(changed.rowcount)


async def purge(session: AsyncSession, now: datetime, keep: timedelta = KEEP) -> int:
    """Forget handled rows older than ``keep`` (Telegram redelivers an update for a day at most)."""
    changed = await session.exec(delete(InboxUpdate).where(  # type: ignore[call-overload]
        col(InboxUpdate.status) != ST.PENDING, col(InboxUpdate.received_at) < require_aware(now) - keep))
    return int(changed.rowcount)


async def lag(session: AsyncSession, now: datetime) -> Lag:
    """How much is waiting to be handled, and for how long the oldest has waited."""
    require_aware(now)
    count, oldest = (await session.exec(select(func.count(), func.min(InboxUpdate.received_at)).where(
        InboxUpdate.status == ST.PENDING))).one()
    return Lag(int(count), max(0.0, (now - oldest).total_seconds()) if oldest is not None else 0.0)


async def last_update_id(session: AsyncSession) -> int:
    """The highest update id the inbox holds (0: none): a local Bot API that numbers its updates from 1 again on
    every start must number them after it, or they are taken for repeats and dropped."""
    return int((await session.exec(select(func.coalesce(func.max(InboxUpdate.update_id), 0)))).one())


async def counts(session: AsyncSession) -> dict[str, int]:
    """Rows by status (for the metrics)."""
    rows = await session.exec(select(InboxUpdate.status, func.count()).group_by(InboxUpdate.status))
    return {str(getattr(s, "value", s)): int(n) for s, n in rows.all()}


async def stale_claims(session: AsyncSession, now: datetime) -> int:
    """Pending rows whose lease ran out (their worker died and nobody has taken them yet)."""
    return int((await session.exec(select(func.count()).select_from(InboxUpdate).where(
        InboxUpdate.status == ST.PENDING, and_(col(InboxUpdate.lease_until).is_not(None),
                                               col(InboxUpdate.lease_until) <= require_aware(now))))).one())


__all__ = ["KEEP", "LEASE", "MAX_ATTEMPTS", "Claim", "Incoming", "Lag", "accept", "accept_one", "claim_batch", "counts",
           "free_orphans", "lag", "mark_done", "purge", "release", "renew", "stale_claims"]
