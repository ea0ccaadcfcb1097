"""Small pieces the participation services share: compare-and-set, fresh reads, a person's Telegram id."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy import update
from sqlmodel import SQLModel, col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services.community.model import Community
from services.people import roles
from storage.models import Resident

M = TypeVar("M", bound=SQLModel)


async def swap(session: AsyncSession, model: type[M], row_id: int, expected: Any, **values: Any) -> bool:
    """Compare-and-set on ``model.status``: set ``values`` only if the row's status is (one of) ``expected``.

    True for the one caller whose UPDATE changed the row; everyone racing it gets False, on SQLite (one writer
    at a time) and PostgreSQL (the second UPDATE waits for the first's row lock, then finds the status moved)."""
    statuses = list(expected) if isinstance(expected, list | tuple | set | frozenset) else [expected]
    table: Any = model
    changed = await session.exec(update(table).where(  # type: ignore[call-overload]
        col(table.id) == row_id, col(table.status).in_(statuses)).values(**values))
    return bool(changed.rowcount)


async def fresh(session: AsyncSession, model: type[M], row_id: int | None) -> M | None:
    """The row as the database has it now (not a stale copy from this session's identity map)."""
    if row_id is None:
        return None
    table: Any = model
    stmt = select(table).where(col(table.id) == row_id).execution_options(populate_existing=True)
    return (await session.exec(stmt)).first()


async def tg_of(session: AsyncSession, resident_id: int | None) -> int | None:
    """The Telegram id of a resident (None for someone recorded without Telegram, or nobody)."""
    person = await session.get(Resident, resident_id) if resident_id is not None else None
    return person.tg_user_id if person else None


async def grid_workers(session: AsyncSession, community: Community, grid_code: str | None) -> list[int]:
    """Telegram ids of a grid's workers: the community file's and those granted the role for it."""
    if grid_code is None:
        return []
    granted = await roles.granted_workers(session, [grid_code])
    return roles.grid_worker_ids(community, grid_code, granted.get(grid_code, ()))


__all__ = ["fresh", "grid_workers", "swap", "tg_of"]
