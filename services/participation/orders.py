"""居民点单，合伙人接单: a resident orders a service, matching partners are offered it, exactly one takes it.

::

    place ──▶ open ──take (first press wins)──▶ taken ──confirm + rating──▶ done (the partner's points written)
               │  └─window passes (expire)──▶ desk ──assign / take──▶ taken   │──no_show──▶ no_show
               └──cancel (resident)──▶ cancelled ◀────────────────────────────┤──give_back──▶ desk
                                                                              └──cancel──▶ cancelled

Taking is a compare-and-set on the status (``open`` or ``desk`` → ``taken``), so however many partners press
接单 at once exactly one UPDATE changes the row; the others see it taken. Confirming is one too, so a second
confirmation writes no second points. Every step is an :class:`~storage.models.OrderEvent` (who, when, why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.community.model import Community
from services.participation.common import fresh, swap
from services.points import ledger
from storage.models import OrderEvent, OrderStatus, Partner, PartnerStatus, Resident, ServiceOrder

OS = OrderStatus
TAKEABLE = (OS.OPEN, OS.DESK)
ACTIVE = (OS.OPEN, OS.DESK, OS.TAKEN)
MAX_TEXT = 500  # characters of an order's description
RATINGS = range(1, 6)


class TakeStatus(StrEnum):
    OK = "ok"
    TAKEN = "taken"  # another partner was first
    CLOSED = "closed"  # cancelled or over
    NOT_PARTNER = "not_partner"  # not an approved partner (never applied, paused, refused)
    NO_SERVICE = "no_service"  # the partner does not offer this service
    OWN = "own"  # a partner cannot take their own order


@dataclass(frozen=True)
class Taken:
    status: TakeStatus
    order: ServiceOrder | None = None
    partner: Partner | None = None

    @property
    def ok(self) -> bool:
        return self.status is TakeStatus.OK


class CloseStatus(StrEnum):
    OK = "ok"
    ALREADY = "already"  # confirmed (or otherwise closed) before: nothing written twice
    NOT_YOURS = "not_yours"
    NOT_TAKEN = "not_taken"  # nobody has it yet: nothing to confirm or report


@dataclass(frozen=True)
class Closed:
    status: CloseStatus
    order: ServiceOrder | None = None
    earned: ledger.Earned | None = None
    partner_id: int | None = None  # who had it (to be told)

    @property
    def ok(self) -> bool:
        return self.status is CloseStatus.OK


async def _event(session: AsyncSession, order_id: int, kind: str, now: datetime, *, actor: int | None = None,
                 partner_id: int | None = None, note: str | None = None) -> None:
    session.add(OrderEvent(order_id=order_id, at=now, kind=kind, actor_tg_id=actor, partner_id=partner_id,
                           note=note))
    await session.flush()


async def place(session: AsyncSession, *, resident: Resident, service: str, text: str, community: Community,
                now: datetime, when_text: str = "", place: str = "") -> ServiceOrder:
    """A new open order, to be taken within the community's window (``order_window_hours``)."""
    require_aware(now)
    if community.participation.service(service) is None:
        raise ValueError(f"unknown service {service!r}")
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError("an order needs a description of at most MAX_TEXT characters")
    assert resident.id is not None
    window = timedelta(hours=community.participation.order_window_hours)
    order = ServiceOrder(resident_id=resident.id, service=service, text=text, when_text=when_text.strip()[:255],
                         place=(place.strip() or resident.building or "")[:255], grid_code=resident.grid_code,
                         created_at=now, window_until=now + window, updated_at=now)
    session.add(order)
    await session.flush()
    assert order.id is not None
    await _event(session, order.id, "placed", now, actor=resident.tg_user_id)
    return order


async def take(session: AsyncSession, order_id: int, partner: Partner | None, *, actor_tg_id: int | None,
               now: datetime, assigned: bool = False) -> Taken:
    """The partner takes the order (接单), or staff assign it (``assigned``): the first wins, the rest are told."""
    require_aware(now)
    order = await fresh(session, ServiceOrder, order_id)
    if order is None:
        return Taken(TakeStatus.CLOSED)
    if partner is None or partner.status is not PartnerStatus.APPROVED:
        return Taken(TakeStatus.NOT_PARTNER, order)
    if partner.resident_id == order.resident_id:
        return Taken(TakeStatus.OWN, order)
    if order.service not in partner.services and not assigned:
        return Taken(TakeStatus.NO_SERVICE, order, partner)
    if not await swap(session, ServiceOrder, order_id, TAKEABLE, status=OS.TAKEN, partner_id=partner.id,
                      taken_at=now, updated_at=now):
        order = await fresh(session, ServiceOrder, order_id)
        assert order is not None
        gone = order.status is OS.TAKEN or order.status is OS.DONE or order.status is OS.NO_SHOW
        return Taken(TakeStatus.TAKEN if gone else TakeStatus.CLOSED, order)
    await _event(session, order_id, "assigned" if assigned else "taken", now, actor=actor_tg_id,
                 partner_id=partner.id)
    return Taken(TakeStatus.OK, await fresh(session, ServiceOrder, order_id), partner)


async def confirm(session: AsyncSession, order_id: int, *, resident_id: int, rating: int, community: Community,
                  actor_tg_id: int | None, now: datetime) -> Closed:
    """The resident confirms the service happened and rates it (1–5): only now the partner's points are
    written, with the order as the reason. A second confirmation finds the order done and writes nothing."""
    require_aware(now)
    if rating not in RATINGS:
        raise ValueError("a rating is 1 to 5 stars")
    order = await fresh(session, ServiceOrder, order_id)
    if order is None or order.resident_id != resident_id:
        return Closed(CloseStatus.NOT_YOURS, order)
    if not await swap(session, ServiceOrder, order_id, OS.TAKEN, status=OS.DONE, rating=rating, closed_at=now,
                      updated_at=now):
        order = await fresh(session, ServiceOrder, order_id)
        return Closed(CloseStatus.NOT_TAKEN if order and order.status in TAKEABLE else CloseStatus.ALREADY, order)
    order = await fresh(session, ServiceOrder, order_id)
    assert order is not None and order.partner_id is not None
    partner = await session.get(Partner, order.partner_id)
    assert partner is not None
    offer = community.participation.service(order.service)
    rule = community.points_rules.order
    earned = await ledger.earn(session, resident_id=partner.resident_id, kind=ledger.Kind.ORDER, points=rule.points,
                               rules=community.points_rules, now=now, actor_tg_id=actor_tg_id,
                               note=f"点单 #{order_id} {offer.name if offer else order.service}",
                               ref=f"order:{order_id}")
    if earned.entry is not None:
        order.points_entry_id = earned.entry.id
        session.add(order)
    await _event(session, order_id, "done", now, actor=actor_tg_id, partner_id=partner.id, note=f"{rating}★")
    await session.flush()
    return Closed(CloseStatus.OK, order, earned, partner.id)


async def no_show(session: AsyncSession, order_id: int, *, resident_id: int, actor_tg_id: int | None,
                  now: datetime) -> Closed:
    """The resident says nobody came: recorded against the partner, no points."""
    return await _close_taken(session, order_id, resident_id, OS.NO_SHOW, "no_show", actor_tg_id, now)


async def _close_taken(session: AsyncSession, order_id: int, resident_id: int, status: OrderStatus, kind: str,
                       actor_tg_id: int | None, now: datetime) -> Closed:
    require_aware(now)
    order = await fresh(session, ServiceOrder, order_id)
    if order is None or order.resident_id != resident_id:
        return Closed(CloseStatus.NOT_YOURS, order)
    partner_id = order.partner_id
    if not await swap(session, ServiceOrder, order_id, OS.TAKEN, status=status, closed_at=now, updated_at=now):
        order = await fresh(session, ServiceOrder, order_id)
        return Closed(CloseStatus.NOT_TAKEN if order and order.status in TAKEABLE else CloseStatus.ALREADY, order)
    await _event(session, order_id, kind, now, actor=actor_tg_id, partner_id=partner_id)
    return Closed(CloseStatus.OK, await fresh(session, ServiceOrder, order_id), None, partner_id)


async def cancel(session: AsyncSession, order_id: int, *, resident_id: int, actor_tg_id: int | None,
                 now: datetime, reason: str | None = None) -> Closed:
    """The resident cancels an order not yet done (the partner who had it, if any, is named to be told)."""
    require_aware(now)
    order = await fresh(session, ServiceOrder, order_id)
    if order is None or order.resident_id != resident_id:
        return Closed(CloseStatus.NOT_YOURS, order)
    partner_id = order.partner_id if order.status is OS.TAKEN else None
    if not await swap(session, ServiceOrder, order_id, ACTIVE, status=OS.CANCELLED, closed_at=now, updated_at=now):
        return Closed(CloseStatus.ALREADY, await fresh(session, ServiceOrder, order_id))
    await _event(session, order_id, "cancelled", now, actor=actor_tg_id, partner_id=partner_id, note=reason)
    return Closed(CloseStatus.OK, await fresh(session, ServiceOrder, order_id), None, partner_id)


async def give_back(session: AsyncSession, order_id: int, *, partner: Partner, actor_tg_id: int | None,
                    now: datetime) -> Closed:
    """The partner who took the order cannot do it after all: recorded, and the order goes to the desk."""
    require_aware(now)
    order = await fresh(session, ServiceOrder, order_id)
    if order is None or order.partner_id != partner.id:
        return Closed(CloseStatus.NOT_YOURS, order)
    table = ServiceOrder  # the one compare-and-set that also checks who holds the order
    changed = await session.exec(update(table).where(  # type: ignore[call-overload]
        col(table.id) == order_id, col(table.status) == OS.TAKEN, col(table.partner_id) == partner.id,
    ).values(status=OS.DESK, partner_id=None, taken_at=None, updated_at=now))
    if not changed.rowcount:
        return Closed(CloseStatus.ALREADY, await fresh(session, ServiceOrder, order_id))
    await _event(session, order_id, "given_back", now, actor=actor_tg_id, partner_id=partner.id)
    return Closed(CloseStatus.OK, await fresh(session, ServiceOrder, order_id), None, partner.id)


async def expire(session: AsyncSession, now: datetime, limit: int = 100) -> list[ServiceOrder]:
    """Open orders nobody took within their window go to the desk (each once: a compare-and-set)."""
    require_aware(now)
    due = (await session.exec(select(ServiceOrder.id).where(
        ServiceOrder.status == OS.OPEN, col(ServiceOrder.window_until) <= now)
        .order_by(col(ServiceOrder.window_until)).limit(limit))).all()
    moved = []
    for order_id in due:
        if await swap(session, ServiceOrder, order_id, OS.OPEN, status=OS.DESK, updated_at=now):
            await _event(session, order_id, "to_desk", now)
            order = await fresh(session, ServiceOrder, order_id)
            assert order is not None
            moved.append(order)
    return moved


async def to_desk(session: AsyncSession, order_id: int, now: datetime, *, note: str | None = None) -> bool:
    """An open order goes to the desk at once (no partner offers its service); False if it was not open."""
    require_aware(now)
    if not await swap(session, ServiceOrder, order_id, OS.OPEN, status=OS.DESK, updated_at=now):
        return False
    await _event(session, order_id, "to_desk", now, note=note)
    return True


async def open_orders(session: AsyncSession, limit: int = 50) -> list[ServiceOrder]:
    """Orders waiting for a partner (open, or at the desk), oldest first."""
    return list((await session.exec(select(ServiceOrder).where(col(ServiceOrder.status).in_(TAKEABLE))
                                    .order_by(col(ServiceOrder.id)).limit(limit))).all())


async def of_resident(session: AsyncSession, resident_id: int, limit: int = 10) -> list[ServiceOrder]:
    return list((await session.exec(select(ServiceOrder).where(ServiceOrder.resident_id == resident_id)
                                    .order_by(col(ServiceOrder.id).desc()).limit(limit))).all())


async def of_partner(session: AsyncSession, partner_id: int, limit: int = 10) -> list[ServiceOrder]:
    return list((await session.exec(select(ServiceOrder).where(ServiceOrder.partner_id == partner_id)
                                    .order_by(col(ServiceOrder.id).desc()).limit(limit))).all())


@dataclass(frozen=True)
class PartnerRecord:
    """A partner's history in figures: orders done, no-shows, given back, mean rating."""

    done: int
    no_shows: int
    given_back: int
    mean_rating: float | None


async def record_of(session: AsyncSession, partner_id: int) -> PartnerRecord:
    events = (await session.exec(select(OrderEvent.kind).where(OrderEvent.partner_id == partner_id))).all()
    ratings = [r for r in (await session.exec(select(ServiceOrder.rating).where(
        ServiceOrder.partner_id == partner_id, ServiceOrder.status == OS.DONE))).all() if r is not None]
    return PartnerRecord(done=sum(1 for k in events if k == "done"), no_shows=sum(1 for k in events if k == "no_show"),
                         given_back=sum(1 for k in events if k == "given_back"),
                         mean_rating=round(sum(ratings) / len(ratings), 1) if ratings else None)


__all__ = [
    "ACTIVE",
    "MAX_TEXT",
    "RATINGS",
    "TAKEABLE",
    "CloseStatus",
    "Closed",
    "PartnerRecord",
    "TakeStatus",
    "Taken",
    "cancel",
    "confirm",
    "expire",
    "give_back",
    "no_show",
    "of_partner",
    "of_resident",
    "open_orders",
    "place",
    "record_of",
    "take",
    "to_desk",
]
