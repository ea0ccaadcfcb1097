"""/grant and /revoke: admins give and take roles in chat (by @username, numeric id, or a reply)."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes

from handlers import texts
from handlers.access import grants_of, target_user
from handlers.deps import deps
from handlers.order import EARLY as GROUP
from services.people import roles
from services.people.roles import Action
from storage.models import RoleName

log = logging.getLogger(__name__)


async def grant_or_revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d, user, msg = deps(context), update.effective_user, update.effective_message
    revoking = (msg.text or "").lstrip("/").lower().startswith("revoke")
    if not roles.can(await grants_of(d, user.id), Action.ROLES_MANAGE):
        roles.refused(user.id, Action.ROLES_MANAGE, via="/revoke" if revoking else "/grant")
        await msg.reply_text(texts.GRANT_REFUSED)
        raise ApplicationHandlerStop
    target, args, unknown = await target_user(d, msg, list(context.args or []))
    if unknown is not None:
        await msg.reply_text(texts.grant_unknown_user(unknown))
        raise ApplicationHandlerStop
    if target is None or len(args) not in (1, 2):
        await msg.reply_text(texts.REVOKE_USAGE if revoking else texts.GRANT_USAGE)
        raise ApplicationHandlerStop
    role, scope = args[0], args[1] if len(args) == 2 else ""
    try:
        g = roles.check_grant(role, scope, None if revoking else d.community)
    except roles.GrantError as exc:
        await msg.reply_text(texts.GRANT_ERRORS.get(exc.reason, texts.GRANT_USAGE))
        raise ApplicationHandlerStop from None
    away: dict[int, object] = {}
    async with d.db.transaction() as s:
        if revoking:
            found = await roles.revoke(s, tg_user_id=target, role=g.role, scope=g.scope)
        else:
            found = await roles.grant(s, tg_user_id=target, role=RoleName(g.role), scope=g.scope,
                                      granted_by=user.id, now=d.now())
            away = await roles.out_of_reach(s, [target])
    log.info("user %s %s role %s/%s of %s: %s", user.id, "revoked" if revoking else "granted", g.role, g.scope,
             target, found)
    reply = texts.role_revoked if revoking else texts.role_granted
    await msg.reply_text(reply(target, g.role.value, g.scope, found))
    if target in away:  # nothing the role brings them (cards, 督办, reminders) could reach them: say so now
        await msg.reply_text(texts.role_out_of_reach(target, g.role.value, g.scope, blocked=away[target] is not None))
    raise ApplicationHandlerStop


def register(app: Application) -> None:
    """In the notices' handler group, ahead of the router's catch-all group command handler."""
    app.add_handler(CommandHandler(["grant", "revoke"], grant_or_revoke), group=GROUP)


__all__ = ["grant_or_revoke", "register"]
