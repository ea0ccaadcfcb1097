"""Residents: who is talking to the bot, which grid and building they belong to."""

import re
import unicodedata
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import bindparam, update
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.community.model import Community, GridInfo
from storage.db import dialect_insert, dialect_name
from storage.models import AgeBand, Grid, Resident
from storage.rows import as_read


class BindResult(StrEnum):
    OK = "ok"
    UNKNOWN_GRID = "unknown_grid"


async def get_resident(session: AsyncSession, tg_user_id: int) -> Resident | None:
    return (await session.exec(select(Resident).where(Resident.tg_user_id == tg_user_id))).first()


async def offline_resident(session: AsyncSession, *, name: str, phone: str | None, building: str | None,
                           grid_code: str | None, now: datetime) -> Resident:
    """Someone whose case staff record for them (代录): no Telegram account. The same phone number is the same
    person (their cases are found together); without one, each recording is a new person."""
    require_aware(now)
    phone = (phone or "").strip() or None
    if phone:
        found = (await session.exec(select(Resident).where(Resident.phone == phone,
                                                           col(Resident.tg_user_id).is_(None)))).first()
        if found is not None:
            if name.strip() and found.name != name.strip():
                found.name, found.updated_at = name.strip(), now
                session.add(found)
                await session.flush()
            return found
    person = Resident(tg_user_id=None, name=name.strip()[:128], phone=phone, building=building, grid_code=grid_code,
                      created_at=now, updated_at=now)
    session.add(person)
    await session.flush()
    return person


async def get_or_create_resident(
    session: AsyncSession, *, tg_user_id: int, name: str, now: datetime
) -> Resident:
    """The resident for a Telegram user, created on first contact; the display name is kept current.

    Uses INSERT ... ON CONFLICT DO NOTHING so two first messages arriving at once cannot both insert.
    """
    require_aware(now)
    name = name.strip()
    resident = await get_resident(session, tg_user_id)
    if resident is None:
        insert = dialect_insert(await dialect_name(session))
        stmt = insert(Resident.__table__).values(
            tg_user_id=tg_user_id, name=name, created_at=now, updated_at=now
        )
        await session.exec(stmt.on_conflict_do_nothing(index_elements=["tg_user_id"]))
        resident = await get_resident(session, tg_user_id)
        assert resident is not None
    elif name and resident.name != name:
        resident.name = name
        resident.updated_at = now
        session.add(resident)
        await session.flush()
    return resident


_RES = Resident.__table__  # type: ignore[attr-defined]
_NOW = bindparam("resident_now", type_=_RES.c.created_at.type)
_CREATES: dict[str, Any] = {}  # dialect -> the first contact's upsert, built once


def _create_statement(dialect: str) -> Any:
    stmt = _CREATES.get(dialect)
    if stmt is None:
        stmt = _CREATES[dialect] = (
            dialect_insert(dialect)(_RES)
            .values(tg_user_id=bindparam("resident_tg", type_=_RES.c.tg_user_id.type),
                    name=bindparam("resident_name", type_=_RES.c.name.type), created_at=_NOW, updated_at=_NOW)
            .on_conflict_do_nothing(index_elements=["tg_user_id"]).returning(*_RES.c))
    return stmt


async def create_resident(session: AsyncSession, *, tg_user_id: int, name: str, now: datetime) -> Resident:
    """A first contact's resident in one statement (INSERT … ON CONFLICT DO NOTHING RETURNING); if another update
    created it meanwhile, the row as ``get_or_create_resident`` finds it. Either way the row is in ``session``
    (changed and added, it is updated)."""
    require_aware(now)
    stmt = _create_statement(await dialect_name(session))
    params = {"resident_tg": tg_user_id, "resident_name": name.strip(), "resident_now": now}
    row = (await session.exec(stmt, params=params)).mappings().first()  # type: ignore[call-overload]
    if row is None:
        return await get_or_create_resident(session, tg_user_id=tg_user_id, name=name, now=now)
    resident = as_read(Resident, row)
    make_transient_to_detached(resident)  # as if loaded: nothing to write yet
    session.add(resident)
    return resident


async def rename(session: AsyncSession, *, tg_user_id: int, name: str, now: datetime) -> None:
    """Keep a resident's display name current (one UPDATE, nothing when they have no row or the same name)."""
    name = name.strip()
    if not name:
        return
    table = Resident.__table__  # type: ignore[attr-defined]
    await session.exec(update(table).where(table.c.tg_user_id == tg_user_id, table.c.name != name)  # type: ignore[call-overload]
                       .values(name=name, updated_at=require_aware(now)))


async def sync_grids(session: AsyncSession, community: Community) -> None:
    """Mirror the community file's grids into the grids table (run at startup)."""
    for info in community.grids:
        await _ensure_grid(session, info)
    await session.flush()


async def _ensure_grid(session: AsyncSession, info: GridInfo) -> Grid:
    grid = await session.get(Grid, info.code)
    if grid is None:
        grid = Grid(code=info.code, name=info.name)
    grid.name = info.name
    grid.worker_name = info.worker_name
    grid.worker_tg_id = info.worker_tg_id
    grid.buildings = list(info.buildings)
    session.add(grid)
    return grid


async def bind_grid(
    session: AsyncSession, resident: Resident, grid_code: str, *, community: Community, now: datetime
) -> BindResult:
    """Attach the resident to a grid named in the community file."""
    info = community.grid(grid_code)
    if info is None:
        return BindResult.UNKNOWN_GRID
    await _ensure_grid(session, info)
    resident.grid_code = info.code
    resident.updated_at = require_aware(now)
    session.add(resident)
    await session.flush()
    return BindResult.OK


_BUILDING = re.compile(r"^(\d{1,3})\s*(?:号楼|号|栋|幢|座|楼|#)?$")


def normalize_building(text: str) -> str:
    """``"3栋"``, ``"3幢"``, ``"３号"``, ``"3"`` → ``"3号楼"``; anything else is kept (trimmed)."""
    cleaned = unicodedata.normalize("NFKC", text).strip()
    match = _BUILDING.match(cleaned)
    return f"{int(match[1])}号楼" if match else cleaned


async def set_building(
    session: AsyncSession,
    resident: Resident,
    *,
    building: str,
    unit: str | None = None,
    community: Community | None = None,
    now: datetime,
) -> Resident:
    """Record building (and 单元); if the building belongs to a grid, bind that grid too."""
    resident.building = normalize_building(building)
    resident.unit = unit.strip() if unit and unit.strip() else None
    resident.updated_at = require_aware(now)
    if community is not None:
        info = community.grid_for_building(resident.building)
        if info is not None:
            await _ensure_grid(session, info)
            resident.grid_code = info.code
    session.add(resident)
    await session.flush()
    return resident


async def set_age_band(
    session: AsyncSession, resident: Resident, band: AgeBand, *, now: datetime
) -> Resident:
    resident.age_band = AgeBand(band)
    resident.updated_at = require_aware(now)
    session.add(resident)
    await session.flush()
    return resident


__all__ = [
    "BindResult",
    "bind_grid",
    "create_resident",
    "get_or_create_resident",
    "get_resident",
    "normalize_building",
    "offline_resident",
    "rename",
    "set_age_band",
    "set_building",
    "sync_grids",
]
