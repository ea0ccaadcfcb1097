"""/mute and /unmute: a resident stops everyday notices (urgent ones still arrive) and lets them back."""

from __future__ import annotations

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes, filters

from handlers import texts
from handlers.deps import deps
from handlers.order import EARLY as GROUP
from services.notices import broadcast as notices


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    async with d.db.transaction() as s:
        changed = await notices.mute(s, update.effective_user.id, d.now())
    await update.effective_message.reply_text(texts.NOTICE_MUTED if changed else texts.NOTICE_ALREADY_MUTED)
    raise ApplicationHandlerStop


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    async with d.db.transaction() as s:
        changed = await notices.unmute(s, update.effective_user.id)
    await update.effective_message.reply_text(texts.NOTICE_UNMUTED if changed else texts.NOTICE_NOT_MUTED)
    raise ApplicationHandlerStop


def register(app: Application) -> None:
    """In the notices' handler group, ahead of the router's catch-alls."""
    app.add_handler(CommandHandler("mute", mute, filters=filters.ChatType.PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("unmute", unmute, filters=filters.ChatType.PRIVATE), group=GROUP)


__all__ = ["mute", "register", "unmute"]
