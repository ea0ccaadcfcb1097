"""微心愿: a small wish of a resident in difficulty, claimed by one partner or volunteer, confirmed by the grid.

::

    post ──▶ open ──claim (first wins)──▶ claimed ──fulfil (the claimer)──▶ fulfilled ──confirm (grid)──▶ confirmed
               └──────────── cancel (the poster) ───────┘                                   (points written)

Claiming and confirming are compare-and-sets: two volunteers claiming at once, one gets it; a second
confirmation writes no second points.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.community.model import Community
from services.participation.common import fresh, swap
from services.points import ledger
from storage.models import Wish, WishStatus

WS = WishStatus
MAX_TEXT = 300


class WishResult(StrEnum):
    OK = "ok"
    TAKEN = "taken"  # someone else claimed it first
    WRONG_STATE = "wrong_state"  # not (or no longer) at the step this acts on
    NOT_YOURS = "not_yours"
    OWN = "own"  # nobody claims their own wish


@dataclass(frozen=True)
class WishChange:
    status: WishResult
    wish: Wish | None = None
    earned: ledger.Earned | None = None

    @property
    def ok(self) -> bool:
        return self.status is WishResult.OK


async def post(session: AsyncSession, *, text: str, grid_code: str | None, posted_by: int,
               resident_id: int | None, now: datetime) -> Wish:
    """A new open wish in ``grid_code`` (a resident's own, or posted by the grid worker for someone)."""
    require_aware(now)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError("a wish needs a text of at most MAX_TEXT characters")
    wish = Wish(grid_code=grid_code, resident_id=resident_id, posted_by=posted_by, text=text, created_at=now,
                updated_at=now)
    session.add(wish)
    await session.flush()
    return wish


async def claim(session: AsyncSession, wish_id: int, *, claimer_id: int, now: datetime) -> WishChange:
    require_aware(now)
    wish = await fresh(session, Wish, wish_id)
    if wish is None:
        return WishChange(WishResult.WRONG_STATE)
    if wish.resident_id == claimer_id:
        return WishChange(WishResult.OWN, wish)
    if not await swap(session, Wish, wish_id, WS.OPEN, status=WS.CLAIMED, claimer_id=claimer_id, claimed_at=now,
                      updated_at=now):
        wish = await fresh(session, Wish, wish_id)
        assert wish is not None
        taken = wish.status in (WS.CLAIMED, WS.FULFILLED, WS.CONFIRMED)
        return WishChange(WishResult.TAKEN if taken else WishResult.WRONG_STATE, wish)
    return WishChange(WishResult.OK, await fresh(session, Wish, wish_id))


async def fulfil(session: AsyncSession, wish_id: int, *, claimer_id: int, now: datetime) -> WishChange:
    """The claimer says the wish is fulfilled; the grid worker is asked to confirm."""
    require_aware(now)
    wish = await fresh(session, Wish, wish_id)
    if wish is None or wish.claimer_id != claimer_id:
        return WishChange(WishResult.NOT_YOURS, wish)
    if not await swap(session, Wish, wish_id, WS.CLAIMED, status=WS.FULFILLED, fulfilled_at=now, updated_at=now):
        return WishChange(WishResult.WRONG_STATE, await fresh(session, Wish, wish_id))
    return WishChange(WishResult.OK, await fresh(session, Wish, wish_id))


async def confirm(session: AsyncSession, wish_id: int, *, by: int, community: Community,
                  now: datetime) -> WishChange:
    """The grid worker confirms a fulfilled wish: the claimer's points are written, with the wish as reason."""
    require_aware(now)
    if not await swap(session, Wish, wish_id, WS.FULFILLED, status=WS.CONFIRMED, confirmed_at=now, confirmed_by=by,
                      updated_at=now):
        return WishChange(WishResult.WRONG_STATE, await fresh(session, Wish, wish_id))
    wish = await fresh(session, Wish, wish_id)
    assert wish is not None and wish.claimer_id is not None
    earned = await ledger.earn(session, resident_id=wish.claimer_id, kind=ledger.Kind.WISH,
                               points=community.points_rules.wish.points, rules=community.points_rules, now=now,
                               actor_tg_id=by, note=f"微心愿 #{wish_id}", ref=f"wish:{wish_id}")
    if earned.entry is not None:
        wish.points_entry_id = earned.entry.id
        session.add(wish)
        await session.flush()
    return WishChange(WishResult.OK, wish, earned)


async def cancel(session: AsyncSession, wish_id: int, *, by: int, now: datetime) -> WishChange:
    """The one who posted it withdraws a wish not yet fulfilled."""
    require_aware(now)
    wish = await fresh(session, Wish, wish_id)
    if wish is None or wish.posted_by != by:
        return WishChange(WishResult.NOT_YOURS, wish)
    if not await swap(session, Wish, wish_id, (WS.OPEN, WS.CLAIMED), status=WS.CANCELLED, updated_at=now):
        return WishChange(WishResult.WRONG_STATE, await fresh(session, Wish, wish_id))
    return WishChange(WishResult.OK, await fresh(session, Wish, wish_id))


async def open_wishes(session: AsyncSession, grid_code: str | None = None, limit: int = 30) -> list[Wish]:
    stmt = select(Wish).where(Wish.status == WS.OPEN)
    if grid_code is not None:
        stmt = stmt.where(Wish.grid_code == grid_code)
    return list((await session.exec(stmt.order_by(col(Wish.id)).limit(limit))).all())


__all__ = ["MAX_TEXT", "WishChange", "WishResult", "cancel", "claim", "confirm", "fulfil", "open_wishes", "post"]
