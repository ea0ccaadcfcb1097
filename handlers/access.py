"""Who may do what, asked on the server at every privileged command and press.

The rules are ``services.roles``; this module only looks the user's roles up (roles table, ``LINLI_ADMINS``,
the community file's grid workers) and logs every refusal on ``linli.audit`` with the command or button
that tried. Handlers answer the refusal themselves, in words that fit the place.
"""

from __future__ import annotations

from handlers.deps import Deps
from services import roles
from services.roles import NOWHERE, Action, Grant, Scope


async def grants_of(d: Deps, user_id: int) -> frozenset[Grant]:
    async with d.db.session() as s:
        return await roles.roles_of(s, user_id, admins=d.admins, community=d.community)


async def check(d: Deps, user_id: int | None, action: Action, scope: Scope = NOWHERE, *, via: str) -> bool:
    """Whether the user may; a refusal is logged (``via``: the command or button, for the audit line)."""
    if user_id is not None and roles.can(await grants_of(d, user_id), action, scope):
        return True
    roles.refused(user_id, action, scope, via)
    return False


__all__ = ["check", "grants_of"]
