"""The three lists (需求清单、资源清单、服务清单): views over orders, wishes and partners, per grid or community.

Needs: orders waiting for a partner and open wishes. Resources: approved partners and what they offer.
Services: orders done and wishes fulfilled in the period. Nothing is stored; a grid's monthly publication
(a notice, if the desk switched it on) only remembers the month it last went out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import local, require_aware
from storage.models import (
    ListPublication,
    OrderStatus,
    Partner,
    PartnerStatus,
    Resident,
    ServiceOrder,
    Wish,
    WishStatus,
)

FULFILLED = (WishStatus.FULFILLED, WishStatus.CONFIRMED)


@dataclass(frozen=True)
class Lists:
    grid_code: str | None  # None: the whole community
    open_orders: list[ServiceOrder]
    open_wishes: list[Wish]
    partners: list[tuple[Partner, Resident]]
    done_orders: list[ServiceOrder]
    done_wishes: list[Wish]


def month_start(now: datetime) -> datetime:
    """The first instant of ``now``'s month in Asia/Shanghai."""
    return local(now).replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def previous_month_start(now: datetime) -> datetime:
    first = month_start(now)
    return (first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1))


async def three_lists(session: AsyncSession, grid_code: str | None, *, since: datetime, until: datetime) -> Lists:
    """The lists of one grid (or the community): needs now, resources now, services done in [since, until)."""
    require_aware(since)

    def in_grid(stmt, column):  # type: ignore[no-untyped-def]
        return stmt if grid_code is None else stmt.where(column == grid_code)

    open_orders = (await session.exec(in_grid(select(ServiceOrder).where(
        col(ServiceOrder.status).in_((OrderStatus.OPEN, OrderStatus.DESK))), ServiceOrder.grid_code)
        .order_by(col(ServiceOrder.id)))).all()
    open_wishes = (await session.exec(in_grid(select(Wish).where(Wish.status == WishStatus.OPEN), Wish.grid_code)
                                      .order_by(col(Wish.id)))).all()
    partners = (await session.exec(in_grid(
        select(Partner, Resident).join(Resident, col(Resident.id) == col(Partner.resident_id))
        .where(Partner.status == PartnerStatus.APPROVED), Partner.grid_code).order_by(col(Partner.id)))).all()
    done_orders = (await session.exec(in_grid(select(ServiceOrder).where(
        ServiceOrder.status == OrderStatus.DONE, col(ServiceOrder.closed_at) >= since,
        col(ServiceOrder.closed_at) < until), ServiceOrder.grid_code).order_by(col(ServiceOrder.id)))).all()
    done_wishes = (await session.exec(in_grid(select(Wish).where(
        col(Wish.status).in_(FULFILLED), col(Wish.fulfilled_at) >= since, col(Wish.fulfilled_at) < until),
        Wish.grid_code).order_by(col(Wish.id)))).all()
    return Lists(grid_code, list(open_orders), list(open_wishes), [(p, r) for p, r in partners], list(done_orders),
                 list(done_wishes))


async def set_monthly(session: AsyncSession, grid_code: str, monthly: bool, now: datetime) -> None:
    row = await session.get(ListPublication, grid_code)
    if row is None:
        row = ListPublication(grid_code=grid_code, last_month=f"{local(now):%Y-%m}" if monthly else None)
    row.monthly, row.updated_at = monthly, require_aware(now)
    session.add(row)
    await session.flush()


async def due_publications(session: AsyncSession, now: datetime) -> list[str]:
    """Grids whose monthly lists have not gone out this month (switched on in an earlier month)."""
    month = f"{local(now):%Y-%m}"
    rows = (await session.exec(select(ListPublication).where(ListPublication.monthly == True))).all()  # noqa: E712
    return [r.grid_code for r in rows if r.last_month != month]


async def mark_published(session: AsyncSession, grid_code: str, now: datetime) -> bool:
    """Record this month's publication; False when it was recorded already (another tick was first)."""
    month = f"{local(now):%Y-%m}"
    table = ListPublication
    changed = await session.exec(update(table).where(  # type: ignore[call-overload]
        col(table.grid_code) == grid_code, or_(col(table.last_month).is_(None), col(table.last_month) != month),
    ).values(last_month=month, updated_at=require_aware(now)))
    return bool(changed.rowcount)


__all__ = [
    "Lists",
    "due_publications",
    "mark_published",
    "month_start",
    "previous_month_start",
    "set_monthly",
    "three_lists",
]
