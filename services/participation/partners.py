"""社区合伙人: residents, volunteers, shops or professionals who offer services from the community's list.

::

    apply ──▶ pending ──decide(approve)──▶ approved ⇄ paused (the partner's own switch)
                  └──decide(refuse, reason)──▶ refused ──apply again──▶ pending

A decision is a compare-and-set on ``pending``: two staff pressing 通过 and 拒绝 at once, one wins.
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
from storage.models import Partner, PartnerStatus, Resident

P = PartnerStatus
MAX_FIELD = 120  # characters of "when" and "where"


class ApplyStatus(StrEnum):
    OK = "ok"  # a new application, or a refused one sent again
    UPDATED = "updated"  # a pending application changed
    ALREADY = "already"  # already a partner (approved or paused): nothing to apply for
    NO_SERVICE = "no_service"  # none of the services is on the community's list


@dataclass(frozen=True)
class Applied:
    status: ApplyStatus
    partner: Partner | None = None


async def partner_of(session: AsyncSession, resident_id: int) -> Partner | None:
    return (await session.exec(select(Partner).where(Partner.resident_id == resident_id))).first()


async def apply(session: AsyncSession, *, resident: Resident, services: list[str], available: str, area: str,
                community: Community, now: datetime, name: str | None = None) -> Applied:
    """A resident applies (or applies again after a refusal) to be a partner for ``services``."""
    require_aware(now)
    offered = [c for c in dict.fromkeys(services) if community.participation.service(c) is not None]
    if not offered:
        return Applied(ApplyStatus.NO_SERVICE)
    assert resident.id is not None
    row = await partner_of(session, resident.id)
    if row is not None and row.status in (P.APPROVED, P.PAUSED):
        return Applied(ApplyStatus.ALREADY, row)
    status = ApplyStatus.UPDATED if row is not None and row.status is P.PENDING else ApplyStatus.OK
    if row is None:
        row = Partner(resident_id=resident.id, created_at=now)
    row.name = (name or resident.name or "").strip()[:128]
    row.services, row.available, row.area = offered, available.strip()[:MAX_FIELD], area.strip()[:MAX_FIELD]
    row.grid_code, row.status, row.reason = resident.grid_code, P.PENDING, None
    row.decided_by, row.decided_at = None, None
    row.updated_at = now
    session.add(row)
    await session.flush()
    return Applied(status, row)


async def decide(session: AsyncSession, partner_id: int, *, approve: bool, reason: str | None, by: int,
                 now: datetime) -> Partner | None:
    """Approve, or refuse with a reason, a pending application; None if it was decided already (or is gone)."""
    require_aware(now)
    status = P.APPROVED if approve else P.REFUSED
    if not await swap(session, Partner, partner_id, P.PENDING, status=status, reason=None if approve else reason,
                      decided_by=by, decided_at=now, updated_at=now):
        return None
    return await fresh(session, Partner, partner_id)


async def set_paused(session: AsyncSession, partner_id: int, paused: bool, now: datetime) -> Partner | None:
    """The partner stops (or resumes) taking orders; None when they are not an approved or paused partner."""
    require_aware(now)
    expected, status = (P.APPROVED, P.PAUSED) if paused else (P.PAUSED, P.APPROVED)
    if not await swap(session, Partner, partner_id, expected, status=status, updated_at=now):
        return None
    return await fresh(session, Partner, partner_id)


async def matching(session: AsyncSession, service: str, *, exclude_resident: int | None = None
                   ) -> list[tuple[Partner, Resident]]:
    """Approved (not paused) partners offering ``service``, oldest first, with their resident rows."""
    rows = (await session.exec(
        select(Partner, Resident).join(Resident, col(Resident.id) == col(Partner.resident_id))
        .where(Partner.status == P.APPROVED).order_by(col(Partner.id)))).all()
    return [(p, r) for p, r in rows if service in p.services and r.id != exclude_resident]


async def by_status(session: AsyncSession, *statuses: PartnerStatus) -> list[tuple[Partner, Resident]]:
    rows = (await session.exec(
        select(Partner, Resident).join(Resident, col(Resident.id) == col(Partner.resident_id))
        .where(col(Partner.status).in_(statuses)).order_by(col(Partner.id)))).all()
    return [(p, r) for p, r in rows]


__all__ = ["Applied", "ApplyStatus", "apply", "by_status", "decide", "matching", "partner_of", "set_paused"]
