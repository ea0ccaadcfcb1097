"""The last line: log with the update id, apologise to the resident, tell the staff chat."""

from __future__ import annotations

import logging

from telegram import Update
from telegram.error import BadRequest, Forbidden, TelegramError
from telegram.ext import ContextTypes

from handlers import texts
from handlers.deps import deps
from handlers.replies import was_owed

log = logging.getLogger(__name__)
_HARMLESS = ("query is too old", "message is not modified")  # Telegram's BadRequest wording, lower case


async def on_error(update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
    update_id = update.update_id if isinstance(update, Update) else None
    if isinstance(context.error, Forbidden):  # the user blocked the bot mid-conversation: nobody to tell
        log.info("update %s: %s", update_id, context.error)
        return
    if isinstance(context.error, BadRequest) and any(m in str(context.error).lower() for m in _HARMLESS):
        # a press handled too late to answer (after a restart, a long queue, an update taken again): the
        # resident's spinner is long gone and an apology would fail the same way; or a double tap whose second
        # edit would show what the first already shows: nothing to report, nothing to apologise for
        log.info("update %s: %s", update_id, context.error)
        return
    log.error("update %s failed", update_id, exc_info=context.error)
    if not isinstance(update, Update):
        return
    if was_owed(context, update):  # the change was saved and its messages are queued: never invite a repeat
        return
    staff = deps(context).staff_chat_id
    if staff:  # first: the apology below may fail (an answered query, a blocked user)
        try:
            await context.bot.send_message(staff, texts.staff_error(update_id, repr(context.error)[:500]))
        except TelegramError as exc:
            log.warning("could not report error for update %s to staff: %s", update_id, exc)
    try:
        if update.callback_query:
            await update.callback_query.answer(texts.ERROR, show_alert=True)
        elif update.effective_chat and update.effective_chat.type == "private":
            await context.bot.send_message(update.effective_chat.id, texts.ERROR)
    except TelegramError as exc:  # the apology itself failed: nothing more to do than log it
        log.warning("could not apologise for update %s: %s", update_id, exc)
