"""Notices (通知) to residents of a grid, a building or the whole community. No Telegram here.

::

    create_draft ──▶ draft ──confirm──▶ confirmed (one NoticeDelivery row per recipient, one transaction)
                       └──cancel──▶ cancelled          │
    claim_batch (pending rows due now, leased) ◀───────┘ ──▶ sending
    mark_sent / mark_unreachable (403) / mark_retry (429 retry_after) / mark_failed
    finish ──▶ done when no row is pending

Resumable: a claimed row is leased (``next_try_at`` moved ``LEASE`` ahead) and only marked sent after
Telegram accepted it, so after a crash the unsent rows are claimed again once the lease runs out; only
a row in flight at the crash (accepted, its mark not yet committed) can go twice: at most one per sender
task (``bot/sender.py``). Marks are guarded by status only (``pending``), not by the lease: the
first terminal mark wins and a later one returns False/0. On PostgreSQL ``claim_batch`` locks the rows it
leases (``FOR UPDATE SKIP LOCKED``), so concurrent claimers never get the same row. Muted residents get
only urgent notices.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlalchemy import func, update
from sqlalchemy.ext.asyncio import AsyncConnection
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.db import dialect_insert, dialect_name, offloading
from storage.models import (
    AudienceKind,
    DeliveryStatus,
    Mute,
    Notice,
    NoticeDelivery,
    NoticeKind,
    NoticeStatus,
    Resident,
)

URGENT_KINDS: frozenset[NoticeKind] = frozenset({NoticeKind.OUTAGE, NoticeKind.FRAUD})
LEASE = timedelta(minutes=2)  # a claimed row not marked within this is claimed again (crash resume)
MAX_ATTEMPTS = 5  # tries (429s and transient errors) before a row is failed
ACTIVE: tuple[NoticeStatus, ...] = (NoticeStatus.CONFIRMED, NoticeStatus.SENDING)
D = DeliveryStatus


@dataclass(frozen=True)
class Claim:
    delivery_id: int
    notice_id: int
    tg_user_id: int
    attempts: int
    lease_until: datetime


@dataclass(frozen=True)
class Progress:
    total: int
    sent: int
    unreachable: int
    failed: int
    pending: int
    status: NoticeStatus

    @property
    def finished(self) -> int:
        return self.sent + self.unreachable + self.failed


def grid_codes(notice: Notice) -> list[str]:
    return [c for c in notice.audience_value.split(",") if c]


async def create_draft(session: AsyncSession, *, author_tg_id: int, kind: NoticeKind, text: str,
                       audience_kind: AudienceKind, audience_value: str = "", now: datetime,
                       photo_file_id: str | None = None, send_at: datetime | None = None) -> Notice:
    """A draft notice; urgent (reaches muted residents) for 停水停电 and 反诈提醒."""
    require_aware(now)
    kind = NoticeKind(kind)
    text = text.strip()
    if not text:
        raise ValueError("a notice needs text")
    notice = Notice(author_tg_id=author_tg_id, kind=kind, urgent=kind in URGENT_KINDS, text=text,
                    photo_file_id=photo_file_id, audience_kind=AudienceKind(audience_kind),
                    audience_value=audience_value, send_at=send_at, created_at=now)
    session.add(notice)
    await session.flush()
    return notice


async def recipients(session: AsyncSession, notice: Notice) -> list[int]:
    """Telegram ids of the residents in the audience, muted ones left out unless the notice is urgent."""
    stmt = select(Resident.tg_user_id)
    if notice.audience_kind is AudienceKind.GRID:
        stmt = stmt.where(col(Resident.grid_code).in_(grid_codes(notice)))
    elif notice.audience_kind is AudienceKind.BUILDING:
        stmt = stmt.where(Resident.building == notice.audience_value)
    if not notice.urgent:
        stmt = stmt.where(col(Resident.tg_user_id).not_in(select(Mute.tg_user_id)))
    return list((await session.exec(stmt.order_by(Resident.tg_user_id))).all())


@cache
def _fan_out(dialect: str) -> Any:
    """The deliveries of a confirmed notice, one row a recipient: built once per dialect."""
    return dialect_insert(dialect)(NoticeDelivery.__table__).on_conflict_do_nothing()  # type: ignore[attr-defined]


@offloading  # one row a recipient (thousands): not on the loop's thread (storage.sqlite_async)
async def confirm(session: AsyncSession, notice_id: int, now: datetime) -> int | None:
    """Draft → confirmed with one pending delivery per recipient; None if it was no longer a draft.

    The status change is a compare-and-set, so two presses of 确认发送 materialise the rows once.
    """
    require_aware(now)
    changed = await session.exec(update(Notice).where(  # type: ignore[call-overload]
        col(Notice.id) == notice_id, col(Notice.status) == NoticeStatus.DRAFT,
    ).values(status=NoticeStatus.CONFIRMED, confirmed_at=now))
    if not changed.rowcount:
        return None
    notice = await session.get(Notice, notice_id)
    assert notice is not None
    await session.refresh(notice)
    people = await recipients(session, notice)
    due = max(notice.send_at, now) if notice.send_at else now
    if people:
        rows = [{"notice_id": notice_id, "tg_user_id": p, "status": D.PENDING, "attempts": 0, "next_try_at": due}
                for p in people]  # executemany: a multi-row VALUES is compiled anew each time, and long
        await session.exec(_fan_out(await dialect_name(session)), params=rows)  # type: ignore[call-overload]
    notice.total = len(people)
    session.add(notice)
    await session.flush()
    return len(people)


async def cancel(session: AsyncSession, notice_id: int, now: datetime) -> bool:
    """Cancel a draft, or withdraw a confirmed notice whose send time is still ahead (its rows are not due,
    so no sender holds one); False once it has started, finished or was cancelled already.

    A withdrawal in the very second the send time arrives may race a sender's first claim: it waits for the
    claim, then finds the notice sending and refuses (the broadcast goes on whole, never half withdrawn)."""
    require_aware(now)
    # lock order as claim_batch's (delivery rows, then the notice), so a withdrawal racing the first claim
    # on PostgreSQL waits for it instead of deadlocking; SQLite has one writer anyway
    await session.exec(select(NoticeDelivery.id).where(
        NoticeDelivery.notice_id == notice_id, NoticeDelivery.status == D.PENDING).with_for_update())
    waiting = (col(Notice.status) == NoticeStatus.CONFIRMED) & (col(Notice.send_at) > now)
    changed = await session.exec(update(Notice).where(  # type: ignore[call-overload]
        col(Notice.id) == notice_id, (col(Notice.status) == NoticeStatus.DRAFT) | waiting,
    ).values(status=NoticeStatus.CANCELLED, finished_at=now))
    if not changed.rowcount:
        return False
    await session.exec(delete(NoticeDelivery).where(  # type: ignore[call-overload]
        col(NoticeDelivery.notice_id) == notice_id, col(NoticeDelivery.status) == D.PENDING))
    return True


async def schedule(session: AsyncSession, notice_id: int, send_at: datetime | None) -> Notice | None:
    """Set (or, with None, clear) a draft's send time; None if it is no longer a draft."""
    changed = await session.exec(update(Notice).where(  # type: ignore[call-overload]
        col(Notice.id) == notice_id, col(Notice.status) == NoticeStatus.DRAFT,
    ).values(send_at=require_aware(send_at) if send_at is not None else None))
    if not changed.rowcount:
        return None
    notice = await session.get(Notice, notice_id)
    assert notice is not None
    await session.refresh(notice)
    return notice


async def claim_batch(session: AsyncSession, now: datetime, limit: int) -> list[Claim]:
    """Up to ``limit`` pending rows due at ``now``, leased to the caller (attempts counted).

    One SELECT (``FOR UPDATE … SKIP LOCKED`` on PostgreSQL, so concurrent claimers pass over each other's
    rows) and one UPDATE for the whole batch: on SQLite the write lock is held that briefly, which matters
    to the sender's marks waiting behind it."""
    require_aware(now)
    stmt = (
        select(NoticeDelivery.id, NoticeDelivery.notice_id, NoticeDelivery.tg_user_id, NoticeDelivery.attempts)
        .join(Notice, col(Notice.id) == col(NoticeDelivery.notice_id))
        .where(NoticeDelivery.status == D.PENDING, col(NoticeDelivery.next_try_at) <= now,
               col(Notice.status).in_(ACTIVE))
        .order_by(col(NoticeDelivery.next_try_at), col(NoticeDelivery.id))
        .limit(limit)
        .with_for_update(skip_locked=True, of=NoticeDelivery)
    )
    rows = list((await session.exec(stmt)).all())
    if not rows:
        return []
    lease = now + LEASE
    await session.exec(update(NoticeDelivery).where(  # type: ignore[call-overload]
        col(NoticeDelivery.id).in_([r[0] for r in rows]),
    ).values(attempts=NoticeDelivery.attempts + 1, next_try_at=lease).execution_options(synchronize_session=False))
    await session.exec(update(Notice).where(  # type: ignore[call-overload]
        col(Notice.id).in_({r[1] for r in rows}), col(Notice.status) == NoticeStatus.CONFIRMED,
    ).values(status=NoticeStatus.SENDING))
    return [Claim(delivery_id, notice_id, tg_user_id, attempts + 1, lease)
            for delivery_id, notice_id, tg_user_id, attempts in rows]


async def reclaim(session: AsyncSession, claim: Claim, due: datetime, now: datetime) -> Claim | None:
    """Lease again a row this caller rescheduled to ``due`` (a 429 retry), unless someone else took it."""
    lease = require_aware(now) + LEASE
    changed = await session.exec(update(NoticeDelivery).where(  # type: ignore[call-overload]
        col(NoticeDelivery.id) == claim.delivery_id, col(NoticeDelivery.status) == D.PENDING,
        col(NoticeDelivery.next_try_at) == due,
    ).values(next_try_at=lease, attempts=NoticeDelivery.attempts + 1))
    if not changed.rowcount:
        return None
    return Claim(claim.delivery_id, claim.notice_id, claim.tg_user_id, claim.attempts + 1, lease)


async def release_all(session: AsyncSession, now: datetime) -> int:
    """At the start of the one sender: rows a sender that died had claimed are due at once, so nobody waits out
    ``LEASE`` after a crash (rows waiting for a 429 retry too, which at worst try once early). Rows never claimed
    (``attempts`` 0: a scheduled notice not yet due) keep their time."""
    changed = await session.exec(update(NoticeDelivery).where(  # type: ignore[call-overload]
        NoticeDelivery.status == D.PENDING, col(NoticeDelivery.attempts) > 0,
        col(NoticeDelivery.next_try_at) > require_aware(now),
    ).values(next_try_at=now))
    return int(changed.rowcount)


async def _mark(session: AsyncSession, delivery_id: int, **values: object) -> bool:
    changed = await session.exec(update(NoticeDelivery).where(  # type: ignore[call-overload]
        col(NoticeDelivery.id) == delivery_id, col(NoticeDelivery.status) == D.PENDING,
    ).values(**values))
    return bool(changed.rowcount)


async def mark_sent(session: AsyncSession, delivery_id: int, now: datetime) -> bool:
    return await _mark(session, delivery_id, status=D.SENT, sent_at=require_aware(now), error=None)


async def mark_sent_many(db: AsyncSession | AsyncConnection, delivery_ids: list[int], now: datetime) -> int:
    """``mark_sent`` for several rows in one UPDATE (the sender's group commit); returns how many changed.

    ``db`` is a session, or a plain connection: the sender holds one for a run, which costs about a third
    less CPU per commit than a session. Rows loaded in a session are not refreshed."""
    require_aware(now)
    if not delivery_ids:
        return 0
    stmt = update(NoticeDelivery).where(
        col(NoticeDelivery.id).in_(delivery_ids), col(NoticeDelivery.status) == D.PENDING,
    ).values(status=D.SENT, sent_at=now, error=None)
    if isinstance(db, AsyncConnection):
        changed = await db.execute(stmt)
    else:
        changed = await db.exec(stmt.execution_options(synchronize_session=False))  # type: ignore[call-overload]
    return int(changed.rowcount)


async def mark_unreachable(session: AsyncSession, delivery_id: int, now: datetime, error: str = "") -> bool:
    """403: the resident blocked the bot (or deleted the account); never retried."""
    require_aware(now)
    return await _mark(session, delivery_id, status=D.UNREACHABLE, error=error[:255] or None)


async def mark_failed(session: AsyncSession, delivery_id: int, now: datetime, error: str = "") -> bool:
    require_aware(now)
    return await _mark(session, delivery_id, status=D.FAILED, error=error[:255] or None)


async def mark_retry(session: AsyncSession, delivery_id: int, now: datetime, retry_after: float,
                     error: str = "") -> datetime | None:
    """Try again ``retry_after`` seconds from now; after MAX_ATTEMPTS tries the row fails instead.

    Returns the new due time, or None when the row failed (or was not pending)."""
    require_aware(now)
    row = await session.get(NoticeDelivery, delivery_id)
    if row is None or row.status is not D.PENDING:
        return None
    if row.attempts >= MAX_ATTEMPTS:
        await mark_failed(session, delivery_id, now, error or "too many attempts")
        return None
    due = now + timedelta(seconds=max(0.0, retry_after))
    await _mark(session, delivery_id, next_try_at=due, error=error[:255] or None)
    return due


async def progress(session: AsyncSession, notice_id: int) -> Progress | None:
    notice = await session.get(Notice, notice_id)
    if notice is None:
        return None
    counts = dict((await session.exec(
        select(NoticeDelivery.status, func.count()).where(NoticeDelivery.notice_id == notice_id)
        .group_by(NoticeDelivery.status)
    )).all())
    return Progress(total=notice.total, sent=counts.get(D.SENT, 0), unreachable=counts.get(D.UNREACHABLE, 0),
                    failed=counts.get(D.FAILED, 0), pending=counts.get(D.PENDING, 0), status=notice.status)


async def finish(session: AsyncSession, now: datetime) -> list[int]:
    """Mark done every confirmed/sending notice with no pending row left; returns their ids."""
    require_aware(now)
    pending = select(NoticeDelivery.notice_id).where(NoticeDelivery.status == D.PENDING)
    ids = list((await session.exec(select(Notice.id).where(
        col(Notice.status).in_(ACTIVE), col(Notice.id).not_in(pending)))).all())
    if ids:
        await session.exec(update(Notice).where(col(Notice.id).in_(ids)).values(  # type: ignore[call-overload]
            status=NoticeStatus.DONE, finished_at=now))
    return [i for i in ids if i is not None]


async def set_report(session: AsyncSession, notice_id: int, chat_id: int, message_id: int) -> None:
    """Where the author watches progress (the preview message, edited)."""
    notice = await session.get(Notice, notice_id)
    if notice is not None:
        notice.report_chat_id, notice.report_message_id = chat_id, message_id
        session.add(notice)
        await session.flush()


async def mute(session: AsyncSession, tg_user_id: int, now: datetime) -> bool:
    """Stop non-urgent notices; False if already muted."""
    if await session.get(Mute, tg_user_id) is not None:
        return False
    session.add(Mute(tg_user_id=tg_user_id, muted_at=require_aware(now)))
    await session.flush()
    return True


async def unmute(session: AsyncSession, tg_user_id: int) -> bool:
    found = await session.get(Mute, tg_user_id)
    if found is None:
        return False
    await session.delete(found)
    await session.flush()
    return True


__all__ = [
    "LEASE",
    "MAX_ATTEMPTS",
    "URGENT_KINDS",
    "Claim",
    "Progress",
    "cancel",
    "claim_batch",
    "confirm",
    "create_draft",
    "finish",
    "grid_codes",
    "mark_failed",
    "mark_retry",
    "mark_sent",
    "mark_sent_many",
    "mark_unreachable",
    "mute",
    "progress",
    "recipients",
    "reclaim",
    "release_all",
    "schedule",
    "set_report",
    "unmute",
]
