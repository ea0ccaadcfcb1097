"""Roles: who may send which notices, act on tickets, manage roles. One permission table, no Telegram.

A resident holds no row (the role is implicit). A grid worker's scope is a grid code, a staff member's
a handling unit code, an admin's "". Admins can also be bootstrapped from ``LINLI_ADMINS`` (Telegram
user ids, comma-separated), read by the wiring and passed in as ``admins``; the community file's
``worker_tg_id`` makes that user the grid worker of the grid.

A staff member's scope may also be an escalation level ("community", "street"): the staff who take the
cases escalated that far.

``can(roles, action, scope)``: a grid worker's grant must name one of ``scope.grids``, a staff grant one of
``scope.units``, an admin's matches everywhere. A grid or building notice lands on a grid (the caller maps a
building to its grid); a ticket on its grid, its handling unit and every escalation level it has reached
(:func:`ticket_scope`); community notices, role management and the desk views on no scope at all.

A supervisor (督办, e.g. the street's 纪工委) reads every case in its scope and may issue a 督办, but never handles a
case (no TICKET_ACT); its scope is "" (every case) or a unit code / escalation level.

Every refusal goes through :func:`refused`: one line on the ``linli.audit`` logger naming who tried what, and a row
of the audit table (``services.people.audit``).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import String, bindparam, cast, func
from sqlalchemy import select as sa_select
from sqlmodel import col, delete, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.community.model import Community
from storage.models import Resident, Role, RoleName, Ticket

ADMINS_ENV = "LINLI_ADMINS"
audit = logging.getLogger("linli.audit")


class Action(StrEnum):
    NOTICE_GRID = "notice.grid"
    NOTICE_BUILDING = "notice.building"
    NOTICE_COMMUNITY = "notice.community"
    TICKET_ACT = "ticket.act"  # 签收 转派 需补充 办结 升级, replies to the resident, /note, /mediate
    TICKET_RECORD = "ticket.record"  # /record: a case taken by phone, at the desk, by letter or on a visit (代录)
    DESK_VIEW = "desk.view"  # /queue /board /rates /report in a desk chat
    ROLES_MANAGE = "roles.manage"
    CASE_VIEW = "ticket.view"  # read a case and its history (/history), never act on it
    SUPERVISE = "ticket.supervise"  # issue a 督办 on a case
    PARTICIPATION = "participation.manage"  # 合伙人审核, 指派点单, 答复码上议, 议事会, 民生实事, three lists
    POINTS_AWARD = "points.award"  # /award volunteering, /reverse a ledger line
    GRID_SERVICE = "grid.service"  # 活动签到, 微心愿 posted for someone and confirmed


SCOPED = "scoped"  # the grant's scope must equal the action's scope
ANY = "any"  # the role may act whatever the scope
SCOPED_OR_ALL = "scoped_or_all"  # a grant with a scope is SCOPED, one without (the street's 纪工委) is ANY

# action -> role -> how: the one permission table. A role not listed may not do the action.
PERMISSIONS: Mapping[Action, Mapping[RoleName, str]] = {
    Action.NOTICE_GRID: {RoleName.GRIDWORKER: SCOPED, RoleName.ADMIN: ANY},
    Action.NOTICE_BUILDING: {RoleName.GRIDWORKER: SCOPED, RoleName.ADMIN: ANY},
    Action.NOTICE_COMMUNITY: {RoleName.ADMIN: ANY},
    Action.TICKET_ACT: {RoleName.STAFF: SCOPED, RoleName.GRIDWORKER: SCOPED, RoleName.ADMIN: ANY},
    Action.DESK_VIEW: {RoleName.STAFF: ANY, RoleName.GRIDWORKER: ANY, RoleName.SUPERVISOR: ANY, RoleName.ADMIN: ANY},
    Action.TICKET_RECORD: {RoleName.STAFF: ANY, RoleName.GRIDWORKER: ANY, RoleName.ADMIN: ANY},
    Action.ROLES_MANAGE: {RoleName.ADMIN: ANY},
    Action.CASE_VIEW: {RoleName.STAFF: SCOPED, RoleName.GRIDWORKER: SCOPED, RoleName.SUPERVISOR: SCOPED_OR_ALL,
                       RoleName.ADMIN: ANY},
    Action.SUPERVISE: {RoleName.SUPERVISOR: SCOPED_OR_ALL, RoleName.ADMIN: ANY},
    Action.PARTICIPATION: {RoleName.STAFF: ANY, RoleName.ADMIN: ANY},
    Action.POINTS_AWARD: {RoleName.STAFF: ANY, RoleName.ADMIN: ANY},
    Action.GRID_SERVICE: {RoleName.GRIDWORKER: SCOPED, RoleName.STAFF: ANY, RoleName.ADMIN: ANY},
}


@dataclass(frozen=True)
class Scope:
    """Where an action lands: grids (matched by grid workers' grants), units or escalation levels (by staff)."""

    grids: frozenset[str] = field(default_factory=frozenset)
    units: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def grid(cls, code: str) -> Scope:
        return cls(grids=frozenset({code}))

    @classmethod
    def unit(cls, code: str) -> Scope:
        return cls(units=frozenset({code}))

    def __str__(self) -> str:
        return ",".join([*(f"grid:{g}" for g in sorted(self.grids)), *(f"unit:{u}" for u in sorted(self.units))]) or "-"


NOWHERE = Scope()  # actions on the whole community: only roles allowed ANY scope


@dataclass(frozen=True)
class Grant:
    role: RoleName
    scope: str = ""


RESIDENT = Grant(RoleName.RESIDENT)


def can(user_roles: Iterable[Grant], action: Action | str, scope: Scope = NOWHERE) -> bool:
    """Whether any of the roles allows ``action`` in ``scope``."""
    rules = PERMISSIONS[Action(action)]
    for g in user_roles:
        how = rules.get(g.role)
        if how == ANY or (how == SCOPED_OR_ALL and not g.scope):
            return True
        if how == SCOPED_OR_ALL:
            how = SCOPED
        if how == SCOPED and g.scope:
            within = scope.grids if g.role is RoleName.GRIDWORKER else scope.units
            if g.scope in within:
                return True
    return False


def ticket_scope(ticket: Ticket, community: Community) -> Scope:
    """A case's scope: its grid, its handling unit, and each escalation level up to the one it reached
    (the community's staff keep a case the street has taken; the street's do not see one never sent up)."""
    units = {ticket.unit}
    if ticket.escalation_level:
        for level in community.escalation:
            units.add(level.level.value)
            if level.level.value == ticket.escalation_level:
                break
    return Scope(grids=frozenset({ticket.grid_code} if ticket.grid_code else ()), units=frozenset(units))


def refused(user_id: int | None, action: Action | str, scope: Scope | str = NOWHERE, via: str = "", *,
            now: datetime | None = None, chat_id: int | None = None, ticket_id: int | None = None) -> None:
    """Log a refused attempt (who, what, where, through which command or button) on ``linli.audit``, and keep it
    for the audit table: :func:`services.people.audit.flush_refusals` stores what was kept (the caller has no
    session here). ``chat_id`` defaults to the one a ``"chat:<id>"`` scope names."""
    audit.warning("refused user=%s action=%s scope=%s via=%s", user_id, action, scope, via or "-")
    from services.people import audit as trail  # audit imports nothing of roles: no circle, just late

    trail.keep_refusal(user_id=user_id, action=str(action), scope=str(scope), via=via, now=now, chat_id=chat_id,
                       ticket_id=ticket_id)


class GrantError(ValueError):
    """A role with a scope it cannot have; ``reason`` is one of the codes below."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


BAD_ROLE, SCOPE_REQUIRED, SCOPE_UNEXPECTED, UNKNOWN_GRID, UNKNOWN_UNIT = (
    "bad_role", "scope_required", "scope_unexpected", "unknown_grid", "unknown_unit",
)


# What admins type for a role besides its id: the names the bot itself shows (网格员, 工作人员, 督办, 督办人员, 管理员)
# and those staff use at the desk (坐席, 值班, 督办员 …). Residents are implicit: no word grants one.
ROLE_WORDS: Mapping[str, RoleName] = {
    **dict.fromkeys(("网格员", "网格", "网格长", "专职网格员"), RoleName.GRIDWORKER),
    **dict.fromkeys(("工作人员", "工作员", "坐席", "坐席员", "值班", "值班员", "值班人员", "接待员", "受理员", "干事"),
                    RoleName.STAFF),
    **dict.fromkeys(("督办", "督办员", "督办人员", "督查", "督查员", "纪工委"), RoleName.SUPERVISOR),
    **dict.fromkeys(("管理员", "管理"), RoleName.ADMIN),
}
GRANTABLE = tuple(r for r in RoleName if r is not RoleName.RESIDENT)  # in the order the refusal lists them


def read_role(word: str) -> RoleName | None:
    """A role from what an admin typed: its id (``gridworker``, any case) or a Chinese name; None otherwise."""
    word = word.strip()
    try:
        return RoleName(word.lower())
    except ValueError:
        return ROLE_WORDS.get(word)


def check_grant(role: str, scope: str, community: Community | None = None) -> Grant:
    """A valid grant from user input (the role by id or Chinese name, see :data:`ROLE_WORDS`), else GrantError
    (residents are implicit, never granted). With the community, a grid or unit is stored by its own code."""
    name = read_role(role)
    if name is None:
        raise GrantError(BAD_ROLE)
    scope = scope.strip()
    if name is RoleName.RESIDENT:
        raise GrantError(BAD_ROLE)
    if name is RoleName.ADMIN:
        if scope:
            raise GrantError(SCOPE_UNEXPECTED)
        return Grant(name)
    if name is RoleName.SUPERVISOR:  # no scope: every case (the street's 纪工委); else a unit or escalation level
        if scope and community is not None and community.unit(scope) is None \
                and community.escalation_level(scope) is None:
            raise GrantError(UNKNOWN_UNIT)
        return Grant(name, scope)
    if not scope:
        raise GrantError(SCOPE_REQUIRED)
    if community is not None:
        if name is RoleName.GRIDWORKER:
            grid = community.grid(scope)
            if grid is None:
                raise GrantError(UNKNOWN_GRID)
            scope = grid.code  # "a01" is A01: the grant must match the case's grid code
        if name is RoleName.STAFF and community.unit(scope) is None and community.escalation_level(scope) is None:
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


async def out_of_reach(session: AsyncSession, tg_user_ids: Iterable[int]) -> dict[int, datetime | None]:
    """Those of ``tg_user_ids`` the bot cannot write to privately, so every card, 督办 and reminder meant for them
    would be lost: Telegram lets a bot open no private chat, only answer people who started it. ``None``: never
    started it (``/start`` makes their resident row; there is none); a time: a message to them got 403 then (they
    blocked it). One statement."""
    ids = sorted(set(tg_user_ids))
    if not ids:
        return {}
    rows = (await session.exec(select(Resident.tg_user_id, Resident.unreachable_at)
                               .where(col(Resident.tg_user_id).in_(ids)))).all()
    found = {int(tg): at for tg, at in rows if tg is not None}
    return {i: found.get(i) for i in ids if i not in found or found[i] is not None}


async def all_roles(session: AsyncSession) -> list[Role]:
    return list((await session.exec(select(Role).order_by(Role.tg_user_id, Role.role, Role.scope))).all())


def grid_worker_ids(community: Community, grid_code: str | None, granted: Iterable[int] = ()) -> list[int]:
    """A grid's workers' Telegram ids: the community file's first, then those granted the role (``granted``, from
    :func:`granted_workers`), each once (someone both in the file and granted is one person)."""
    info = community.grid(grid_code) if grid_code else None
    return list(dict.fromkeys([*([info.worker_tg_id] if info and info.worker_tg_id else []), *granted]))


async def granted_workers(session: AsyncSession, grid_codes: Iterable[str | None]) -> dict[str, list[int]]:
    """The Telegram ids granted the grid worker role for each of ``grid_codes`` (one statement; the community
    file's workers are not rows: :func:`grid_worker_ids` adds them)."""
    codes = sorted({c for c in grid_codes if c})
    if not codes:
        return {}
    rows = (await session.exec(select(Role.scope, Role.tg_user_id).where(
        Role.role == RoleName.GRIDWORKER, col(Role.scope).in_(codes)).order_by(col(Role.id)))).all()
    found: dict[str, list[int]] = {c: [] for c in codes}  # every grid asked: read, even when nobody is granted it
    for scope, user in rows:
        found[scope].append(user)
    return found


_GRANTED_IDS = (sa_select(func.aggregate_strings(cast(Role.__table__.c.tg_user_id, String), ","))  # type: ignore[attr-defined]
                .where(Role.__table__.c.role == RoleName.GRIDWORKER,  # type: ignore[attr-defined]
                       Role.__table__.c.scope == bindparam("granted_grid"))  # type: ignore[attr-defined]
                .scalar_subquery().label("granted_ids"))


def granted_column() -> Any:
    """:func:`granted_workers` of one grid as a labelled scalar subquery (parameter ``granted_grid``), for a
    statement the caller runs anyway (the draft's ``DELETE … RETURNING`` on 确认); read back with
    :func:`granted_from`."""
    return _GRANTED_IDS


def granted_from(grid_code: str | None, value: str | None) -> dict[str, list[int]]:
    """What :func:`granted_workers` gives for ``grid_code``, from :func:`granted_column`'s value."""
    if not grid_code:
        return {}
    return {grid_code: [int(x) for x in value.split(",")] if value else []}


async def works_grid(session: AsyncSession, tg_user_id: int, grid_code: str | None, community: Community) -> bool:
    """Whether the user is a worker of the grid, by the community file or by a grant (a read only for the latter)."""
    if not grid_code:
        return False
    if tg_user_id in grid_worker_ids(community, grid_code):
        return True
    return (await session.exec(select(Role.id).where(Role.tg_user_id == tg_user_id, Role.role == RoleName.GRIDWORKER,
                                                      Role.scope == grid_code).limit(1))).first() is not None


def grids_of(user_roles: Iterable[Grant]) -> list[str]:
    """Grid codes the user works as grid worker, sorted."""
    return sorted({g.scope for g in user_roles if g.role is RoleName.GRIDWORKER and g.scope})


def is_supervisor(user_roles: Iterable[Grant]) -> bool:
    return any(g.role is RoleName.SUPERVISOR for g in user_roles)


def is_admin(user_roles: Iterable[Grant]) -> bool:
    return any(g.role is RoleName.ADMIN for g in user_roles)


__all__ = [
    "ADMINS_ENV",
    "GRANTABLE",
    "PERMISSIONS",
    "RESIDENT",
    "ROLE_WORDS",
    "SCOPED_OR_ALL",
    "Action",
    "Grant",
    "GrantError",
    "Scope",
    "admins_from",
    "all_roles",
    "can",
    "check_grant",
    "grant",
    "granted_column",
    "granted_from",
    "granted_workers",
    "grid_worker_ids",
    "grids_of",
    "is_admin",
    "is_supervisor",
    "out_of_reach",
    "read_role",
    "refused",
    "revoke",
    "roles_of",
    "ticket_scope",
    "works_grid",
]
