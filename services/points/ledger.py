"""积分: a points ledger with no stored balance, earnings that name who and why, and redemptions that can
never overdraw it.

A balance is ``SUM(delta)`` over the resident's ledger; remaining stock is the item's total minus its
redemptions in the ledger (a reversed redemption gives its item back). Redeeming reads the balance and
writes the spend in one transaction that first takes a lock (see :func:`lock_resident`), so concurrent
redemptions are applied one after the other and each sees the previous one's spend.

Points are earned only through :func:`earn`: one recorded event (a confirmed order, a fulfilled wish,
volunteering entered by staff, an activity check-in) of a kind in the community file's rule table
(``[points.rules]``), naming who caused it (``actor_tg_id``) and why (``note``, ``ref``), within the kind's
daily limit. It takes the same lock as a redemption, so the limit holds however many run at once. A line
is never edited: a correction is a reversing line (:func:`reverse`), at most one per line.
"""

import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlalchemy import select as sa_select  # rows of several columns (sqlmodel's gives scalars for one)
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import local, require_aware
from services.community.model import Community, PointsRules, ShopItem
from storage.db import Database, dialect_name
from storage.models import PointsEntry, Resident
from storage.rows import as_read

REDEEM = "redeem"  # PointsEntry.reason of a shop redemption; ref = item code, or "code#request" (see redeem)
REVERSAL = "reversal"  # a correction: the negated line it reverses is ``reverses_id``


class Kind(StrEnum):
    """The ways points are earned: each a row of ``[points.rules]`` and the reason of its ledger lines."""

    ORDER = "order"  # a partner's order the resident confirmed (ref "order:<id>")
    WISH = "wish"  # a micro-wish fulfilled and confirmed by the grid worker (ref "wish:<id>")
    VOLUNTEER = "volunteer"  # volunteering entered by staff or an admin (/award)
    ACTIVITY = "activity"  # an activity check-in (ref: the earn rule's code, or "act:<id>")


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


_E, _RES = PointsEntry.__table__, Resident.__table__  # type: ignore[attr-defined]
_RID = bindparam("resident_id", type_=_E.c.resident_id.type)
# The statements a resident's 积分 / 积分超市 read, built once with bound parameters: only the values change, so
# SQLAlchemy finds each compiled by its memoized cache key instead of constructing it on every call.
_BALANCE = sa_select(func.coalesce(func.sum(_E.c.delta), 0)).where(_E.c.resident_id == _RID)


def _redeemed(suffix: str = "") -> Any:
    """Redemptions of the item ``code{suffix}`` (its code, or ``code_prefix{suffix}``: "code#" for a request's), not
    reversed: how many of its stock are gone."""
    return sa_select(func.count()).select_from(_E).where(
        _E.c.reason == REDEEM, or_(_E.c.ref == bindparam(f"code{suffix}", type_=_E.c.ref.type),
                                   _E.c.ref.startswith(bindparam(f"code_prefix{suffix}", type_=_E.c.ref.type))),
        _E.c.id.not_in(sa_select(_E.c.reverses_id).where(_E.c.reverses_id.is_not(None))))


_STOCK_TAKEN = _redeemed()
_EARNED = sa_select(func.coalesce(func.sum(_E.c.delta), 0)).where(
    _E.c.resident_id == _RID, _E.c.reason == bindparam("reason", type_=_E.c.reason.type), _E.c.delta > 0,
    _E.c.at >= bindparam("start", type_=_E.c.at.type), _E.c.at < bindparam("end", type_=_E.c.at.type))
_TOUCH_RESIDENT = update(_RES).where(_RES.c.id == _RID).values(updated_at=_RES.c.updated_at)  # SQLite's lock
_NAMES = tuple(c.name for c in _E.c)


@cache
def _recent(limit: int) -> Any:
    return sa_select(*_E.c).where(_E.c.resident_id == _RID).order_by(_E.c.at.desc(), _E.c.id.desc()).limit(limit)


async def balance(session: AsyncSession, resident_id: int) -> int:
    return int((await session.exec(_BALANCE, params={"resident_id": resident_id})).scalar_one())  # type: ignore


async def recent_entries(session: AsyncSession, resident_id: int, limit: int = 10) -> list[PointsEntry]:
    """The resident's newest lines, newest first, as detached rows (read, not to be changed: a line is never
    edited)."""
    rows = (await session.exec(_recent(limit), params={"resident_id": resident_id})).all()  # type: ignore
    entries = []
    for row in rows:
        entry = as_read(PointsEntry, dict(zip(_NAMES, row, strict=True)))
        make_transient_to_detached(entry)  # as it was read: written back, it would be an UPDATE, not an INSERT
        entries.append(entry)
    return entries


async def award(
    session: AsyncSession, *, resident_id: int, delta: int, reason: str, now: datetime, ref: str | None = None,
    actor_tg_id: int | None = None, note: str | None = None,
) -> PointsEntry:
    """Credit points (delta > 0) with no rule applied; the bot's own paths go through :func:`earn`.
    Spending goes through :func:`redeem`, which guards the balance."""
    if delta <= 0:
        raise ValueError("award() only adds points; use redeem() to spend them")
    entry = PointsEntry(resident_id=resident_id, at=require_aware(now), delta=delta, reason=reason, ref=ref,
                        actor_tg_id=actor_tg_id, note=note[:255] if note else None)
    session.add(entry)
    await session.flush()
    return entry


@dataclass(frozen=True)
class Earned:
    """What :func:`earn` wrote: ``granted`` of the ``asked`` points (fewer when the daily limit was near)."""

    entry: PointsEntry | None
    asked: int
    granted: int

    @property
    def capped(self) -> bool:
        return self.granted < self.asked


async def earned_today(session: AsyncSession, resident_id: int, kind: Kind | str, now: datetime) -> int:
    """Points of ``kind`` the resident earned on ``now``'s Asia/Shanghai day (reversed lines still count: a
    correction must not reopen the day's limit)."""
    start = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    params = {"resident_id": resident_id, "reason": Kind(kind).value, "start": start, "end": start + timedelta(days=1)}
    return int((await session.exec(_EARNED, params=params)).scalar_one())  # type: ignore[call-overload]


async def earn(
    session: AsyncSession, *, resident_id: int, kind: Kind | str, points: int, rules: PointsRules, now: datetime,
    actor_tg_id: int | None, note: str, ref: str | None = None,
) -> Earned:
    """Write the points one recorded event earns, within its kind's daily limit (``[points.rules]``).

    Takes the resident's lock first (as :func:`redeem` does), so two events at once cannot both pass the
    limit and a redemption running meanwhile sees the balance before or after, never half. ``points`` is
    what the event asks for (the rule's, or what staff typed for volunteering); ValueError when not positive.
    """
    require_aware(now)
    kind = Kind(kind)
    if points <= 0:
        raise ValueError("earn() needs a positive number of points")
    await lock_resident(session, resident_id)
    limit = rules.of(kind.value).daily_limit
    left = points if limit is None else max(0, limit - await earned_today(session, resident_id, kind, now))
    granted = min(points, left)
    if not granted:
        return Earned(None, points, 0)
    entry = await award(session, resident_id=resident_id, delta=granted, reason=kind.value, ref=ref, now=now,
                        actor_tg_id=actor_tg_id, note=note)
    return Earned(entry, points, granted)


class ReverseStatus(StrEnum):
    OK = "ok"
    UNKNOWN = "unknown"  # no such line
    ALREADY = "already"  # reversed before (a line is reversed once)
    IS_REVERSAL = "is_reversal"  # a correction is not corrected again: enter a new line instead
    OVERDRAW = "overdraw"  # the points were spent meanwhile: taking them back would go below zero


@dataclass(frozen=True)
class Reversed:
    status: ReverseStatus
    original: PointsEntry | None = None
    entry: PointsEntry | None = None
    balance_after: int = 0

    @property
    def ok(self) -> bool:
        return self.status is ReverseStatus.OK


async def reverse(session: AsyncSession, *, entry_id: int, actor_tg_id: int | None, note: str,
                  now: datetime) -> Reversed:
    """Correct a line by writing its negation (never by editing it): once per line, never below zero.

    Reversing a redemption gives its points and its item back."""
    require_aware(now)
    original = await session.get(PointsEntry, entry_id)
    if original is None:
        return Reversed(ReverseStatus.UNKNOWN)
    if original.reason == REVERSAL:
        return Reversed(ReverseStatus.IS_REVERSAL, original)
    await lock_resident(session, original.resident_id)
    current = await balance(session, original.resident_id)
    done = (await session.exec(select(PointsEntry).where(PointsEntry.reverses_id == entry_id))).first()
    if done is not None:
        return Reversed(ReverseStatus.ALREADY, original, done, current)
    if current - original.delta < 0:
        return Reversed(ReverseStatus.OVERDRAW, original, None, current)
    entry = PointsEntry(resident_id=original.resident_id, at=now, delta=-original.delta, reason=REVERSAL,
                        ref=original.ref, actor_tg_id=actor_tg_id, note=note[:255] or None, reverses_id=original.id)
    session.add(entry)
    await session.flush()
    return Reversed(ReverseStatus.OK, original, entry, current - original.delta)


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
    params = {"code": item.code, "code_prefix": f"{item.code}#"}
    return item.stock - int((await session.exec(_STOCK_TAKEN, params=params)).scalar_one())  # type: ignore


@cache
def _shop_statement(stocked: int) -> Any:
    taken = (_redeemed(f"_{i}").scalar_subquery().label(f"taken_{i}") for i in range(stocked))
    return sa_select(_BALANCE.scalar_subquery().label("balance"), *taken)


async def shop_view(session: AsyncSession, resident_id: int,
                    items: Sequence[ShopItem]) -> tuple[int, list[int | None]]:
    """积分超市 in one statement: the resident's :func:`balance` and each item's :func:`stock_left` (None when
    unlimited), in the order given."""
    stocked = [item for item in items if item.stock is not None]
    params: dict[str, Any] = {"resident_id": resident_id}
    for i, item in enumerate(stocked):
        params[f"code_{i}"], params[f"code_prefix_{i}"] = item.code, f"{item.code}#"
    row = (await session.exec(_shop_statement(len(stocked)), params=params)).one()  # type: ignore[call-overload]
    taken = iter(row[1:])
    return int(row[0]), [None if item.stock is None else item.stock - int(next(taken)) for item in items]


async def lock_resident(session: AsyncSession, resident_id: int, item: ShopItem | None = None) -> None:
    """Serialise redemptions before the balance is read (dialect branches, on purpose).

    SQLite: take the database write lock with a no-op UPDATE. Inside ``Database.transaction()`` the
    lock is already held (BEGIN IMMEDIATE); in a fresh deferred transaction this first write takes it,
    waiting on the busy timeout. PostgreSQL: ``SELECT ... FOR UPDATE`` on the resident row, plus a
    transaction advisory lock per stocked item so two residents cannot take the last one together.
    """
    name = await dialect_name(session)
    if name == "sqlite":
        await session.exec(_TOUCH_RESIDENT, params={"resident_id": resident_id})  # type: ignore[call-overload]
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
    "REVERSAL",
    "Earned",
    "Kind",
    "RedeemResult",
    "RedeemStatus",
    "ReverseStatus",
    "Reversed",
    "award",
    "award_activity",
    "balance",
    "earn",
    "earned_today",
    "lock_resident",
    "recent_entries",
    "redeem",
    "reverse",
    "shop_view",
    "stock_left",
]
