"""Roles: who may send which notices, act on tickets, manage roles. One permission table, no Telegram.

A resident holds no row (the role is implicit). A grid worker's scope is a grid code, a staff member's
a handling unit code, an admin's "". Admins can also be bootstrapped from ``LINLI_ADMINS`` (Telegram
user ids, comma-separated), read by the wiring and passed in as ``admins``; the community file's
``worker_tg_id`` makes that user the grid worker of the grid.

``can(roles, action, scope)``: the scope of a grid or building notice is the grid code (the caller maps a
building to its grid), of ``ticket.act`` the unit code, of community notices and role management "".
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.community import Community
from storage.models import Role, RoleName

ADMINS_ENV = "LINLI_ADMINS"


class Action(StrEnum):
    NOTICE_GRID = "notice.grid"
    NOTICE_BUILDING = "notice.building"
    NOTICE_COMMUNITY = "notice.community"
    TICKET_ACT = "ticket.act"
    ROLES_MANAGE = "roles.manage"


SCOPED = "scoped"  # the grant's scope must equal the action's scope
ANY = "any"  # the role may act whatever the scope

# action -> role -> how: the one permission table. A role not listed may not do the action.
PERMISSIONS: Mapping[Action, Mapping[RoleName, str]] = {
    Action.NOTICE_GRID: {RoleName.GRIDWORKER: SCOPED, RoleName.ADMIN: ANY},
    Action.NOTICE_BUILDING: {RoleName.GRIDWORKER: SCOPED, RoleName.ADMIN: ANY},
    Action.NOTICE_COMMUNITY: {RoleName.ADMIN: ANY},
    Action.TICKET_ACT: {RoleName.STAFF: SCOPED, RoleName.ADMIN: ANY},
    Action.ROLES_MANAGE: {RoleName.ADMIN: ANY},
}


@dataclass(frozen=True)
class Grant:
    role: RoleName
    scope: str = ""


RESIDENT = Grant(RoleName.RESIDENT)


def can(user_roles: Iterable[Grant], action: Action | str, scope: str = "") -> bool:
    """Whether any of the roles allows ``action`` in ``scope``."""
    rules = PERMISSIONS[Action(action)]
    for grant in user_roles:
        how = rules.get(grant.role)
        if how == ANY or (how == SCOPED and grant.scope and grant.scope == scope):
            return True
    return False


class GrantError(ValueError):
    """A role with a scope it cannot have; ``reason`` is one of the codes below."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


BAD_ROLE, SCOPE_REQUIRED, SCOPE_UNEXPECTED, UNKNOWN_GRID, UNKNOWN_UNIT = (
    "bad_role", "scope_required", "scope_unexpected", "unknown_grid", "unknown_unit",
)


def check_grant(role: str, scope: str, community: Community | None = None) -> Grant:
    """A valid grant from user input, else GrantError (residents are implicit, never granted)."""
    try:
        name = RoleName(role.strip().lower())
    except ValueError:
        raise GrantError(BAD_ROLE) from None
    scope = scope.strip()
    if name is RoleName.RESIDENT:
        raise GrantError(BAD_ROLE)
    if name is RoleName.ADMIN:
        if scope:
            raise GrantError(SCOPE_UNEXPECTED)
        return Grant(name)
    if not scope:
        raise GrantError(SCOPE_REQUIRED)
    if community is not None:
        if name is RoleName.GRIDWORKER and community.grid(scope) is None:
            raise GrantError(UNKNOWN_GRID)
        if name is RoleName.STAFF and community.unit(scope) is None:
            raise GrantError(UNKNOWN_UNIT)
    return Grant(name, scope)


def admins_from(value: str | None) -> frozenset[int]:
    """User ids from ``LINLI_ADMINS`` ("123, 456"); anything that is not a number is ignored."""
    return frozenset(int(p) for p in (value or "").replace(";", ",").split(",") if p.strip().lstrip("-").isdigit())


async def grant(session: AsyncSession, *, tg_user_id: int, role: RoleName, scope: str = "",
                granted_by: int | None, now: datetime) -> bool:
    """Record a role; False if the user already had it (nothing changes)."""
    require_aware(now)
    g = check_grant(str(role), scope)
    exists = (await session.exec(select(Role).where(
        Role.tg_user_id == tg_user_id, Role.role == g.role, Role.scope == g.scope))).first()
    if exists is not None:
        return False
    session.add(Role(tg_user_id=tg_user_id, role=g.role, scope=g.scope, granted_by=granted_by, granted_at=now))
    await session.flush()
    return True


async def revoke(session: AsyncSession, *, tg_user_id: int, role: RoleName, scope: str = "") -> bool:
    """Remove a role; False if the user did not have it."""
    result = await session.exec(delete(Role).where(  # type: ignore[call-overload]
        col(Role.tg_user_id) == tg_user_id, col(Role.role) == RoleName(role), col(Role.scope) == scope.strip()))
    return bool(result.rowcount)


async def roles_of(session: AsyncSession, tg_user_id: int, *, admins: Iterable[int] = (),
                   community: Community | None = None) -> frozenset[Grant]:
    """Every role of the user: granted rows, ``admins`` bootstrap, grid worker by the community file."""
    rows = (await session.exec(select(Role).where(Role.tg_user_id == tg_user_id))).all()
    found = {Grant(r.role, r.scope) for r in rows}
    if tg_user_id in set(admins):
        found.add(Grant(RoleName.ADMIN))
    if community is not None:
        found |= {Grant(RoleName.GRIDWORKER, g.code) for g in community.grids if g.worker_tg_id == tg_user_id}
    return frozenset(found or {RESIDENT})


async def all_roles(session: AsyncSession) -> list[Role]:
    return list((await session.exec(select(Role).order_by(Role.tg_user_id, Role.role, Role.scope))).all())


def grids_of(user_roles: Iterable[Grant]) -> list[str]:
    """Grid codes the user works as grid worker, sorted."""
    return sorted({g.scope for g in user_roles if g.role is RoleName.GRIDWORKER and g.scope})


def is_admin(user_roles: Iterable[Grant]) -> bool:
    return any(g.role is RoleName.ADMIN for g in user_roles)


__all__ = [
    "ADMINS_ENV",
    "PERMISSIONS",
    "RESIDENT",
    "Action",
    "Grant",
    "GrantError",
    "admins_from",
    "all_roles",
    "can",
    "check_grant",
    "grant",
    "grids_of",
    "is_admin",
    "revoke",
    "roles_of",
]
