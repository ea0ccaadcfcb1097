"""积分超市: a points ledger with no stored balance, and redemptions that can never overdraw it.

A balance is ``SUM(delta)`` over the resident's ledger; remaining stock is the item's total minus its
redemptions in the ledger. Redeeming reads the balance and writes the spend in one transaction that
first takes a lock (see :func:`lock_resident`), so concurrent redemptions are applied one after the
other and each sees the previous one's spend.
"""

import zlib
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import func, or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.community.model import Community, ShopItem
from storage.db import Database, dialect_name
from storage.models import PointsEntry, Resident

REDEEM = "redeem"  # PointsEntry.reason of a shop redemption; ref = item code, or "code#request" (see redeem)


class RedeemStatus(StrEnum):
    OK = "ok"
    INSUFFICIENT = "insufficient"
    UNKNOWN_ITEM = "unknown_item"
    OUT_OF_STOCK = "out_of_stock"
    ALREADY_DONE = "already_done"  # the same request (a double tap on one button) was redeemed before


@dataclass(frozen=True)
class RedeemResult:
    status: RedeemStatus
    balance_after: int
    item: ShopItem | None = None

    @property
    def ok(self) -> bool:
        return self.status is RedeemStatus.OK


async def balance(session: AsyncSession, resident_id: int) -> int:
    stmt = select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(PointsEntry.resident_id == resident_id)
    return int((await session.exec(stmt)).one())


async def recent_entries(session: AsyncSession, resident_id: int, limit: int = 10) -> list[PointsEntry]:
    stmt = (
        select(PointsEntry)
        .where(PointsEntry.resident_id == resident_id)
        .order_by(col(PointsEntry.at).desc(), col(PointsEntry.id).desc())
        .limit(limit)
    )
    return list((await session.exec(stmt)).all())


async def award(
    session: AsyncSession, *, resident_id: int, delta: int, reason: str, now: datetime, ref: str | None = None
) -> PointsEntry:
    """Credit points (delta > 0). Spending goes through :func:`redeem`, which guards the balance."""
    if delta <= 0:
        raise ValueError("award() only adds points; use redeem() to spend them")
    entry = PointsEntry(resident_id=resident_id, at=require_aware(now), delta=delta, reason=reason, ref=ref)
    session.add(entry)
    await session.flush()
    return entry


async def award_activity(
    session: AsyncSession, *, resident_id: int, activity_code: str, community: Community, now: datetime
) -> PointsEntry | None:
    """Credit the points the community file gives for an activity; None for an unknown activity."""
    rule = community.earn_rule(activity_code)
    if rule is None:
        return None
    return await award(
        session, resident_id=resident_id, delta=rule.points, reason="activity", ref=rule.code, now=now
    )


async def stock_left(session: AsyncSession, item: ShopItem) -> int | None:
    """Remaining stock derived from the ledger; None when the item is unlimited."""
    if item.stock is None:
        return None
    of_item = or_(PointsEntry.ref == item.code, col(PointsEntry.ref).startswith(f"{item.code}#"))
    stmt = select(func.count()).where(PointsEntry.reason == REDEEM, of_item)
    return item.stock - int((await session.exec(stmt)).one())


async def lock_resident(session: AsyncSession, resident_id: int, item: ShopItem | None = None) -> None:
    """Serialise redemptions before the balance is read (dialect branches, on purpose).

    SQLite: take the database write lock with a no-op UPDATE. Inside ``Database.transaction()`` the
    lock is already held (BEGIN IMMEDIATE); in a fresh deferred transaction this first write takes it,
    waiting on the busy timeout. PostgreSQL: ``SELECT ... FOR UPDATE`` on the resident row, plus a
    transaction advisory lock per stocked item so two residents cannot take the last one together.
    """
    name = await dialect_name(session)
    if name == "sqlite":
        table = Resident.__table__
        await session.exec(
            update(table).where(table.c.id == resident_id).values(updated_at=table.c.updated_at)
        )
        return
    await session.exec(select(Resident.id).where(Resident.id == resident_id).with_for_update())
    if name == "postgresql" and item is not None and item.stock is not None:
        key = zlib.crc32(f"linli:shop:{item.code}".encode())
        await session.exec(select(func.pg_advisory_xact_lock(key)))


async def redeem(
    target: Database | AsyncSession,
    *,
    resident_id: int,
    item_code: str,
    community: Community,
    now: datetime,
    request: str | None = None,
) -> RedeemResult:
    """Spend points on a shop item; never takes a balance below zero, however many run at once.

    ``request`` names one redemption (the confirm button's nonce): the same request twice redeems
    once, so a double tap never buys two. Pass the Database to get a transaction of its own, or a
    session from ``db.transaction()`` to make the redemption part of a larger action.
    """
    require_aware(now)
    if isinstance(target, Database):
        async with target.transaction() as session:
            return await _redeem(session, resident_id, item_code, community, now, request)
    return await _redeem(target, resident_id, item_code, community, now, request)


async def _redeem(
    session: AsyncSession, resident_id: int, item_code: str, community: Community, now: datetime,
    request: str | None,
) -> RedeemResult:
    item = community.shop_item(item_code)
    await lock_resident(session, resident_id, item)
    current = await balance(session, resident_id)
    if item is None:
        return RedeemResult(RedeemStatus.UNKNOWN_ITEM, current)
    ref = f"{item.code}#{request}" if request else item.code
    if request:
        seen = select(PointsEntry.id).where(
            PointsEntry.resident_id == resident_id, PointsEntry.reason == REDEEM, PointsEntry.ref == ref
        )
        if (await session.exec(seen)).first() is not None:
            return RedeemResult(RedeemStatus.ALREADY_DONE, current, item)
    left = await stock_left(session, item)
    if left is not None and left <= 0:
        return RedeemResult(RedeemStatus.OUT_OF_STOCK, current, item)
    if current < item.cost:
        return RedeemResult(RedeemStatus.INSUFFICIENT, current, item)
    session.add(PointsEntry(resident_id=resident_id, at=now, delta=-item.cost, reason=REDEEM, ref=ref))
    await session.flush()
    return RedeemResult(RedeemStatus.OK, current - item.cost, item)


__all__ = [
    "REDEEM",
    "RedeemResult",
    "RedeemStatus",
    "award",
    "award_activity",
    "balance",
    "lock_resident",
    "recent_entries",
    "redeem",
    "stock_left",
]
