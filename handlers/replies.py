"""Sending that never breaks an action: shared by every room, importing nothing of handlers above it."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import CallbackQuery, Message, ReplyParameters, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

log = logging.getLogger(__name__)

OWED = "linli.owed"  # bot_data: ids of updates whose change committed with messages owed (newest last)
OWED_KEPT = 1000


async def safe_send(context: ContextTypes.DEFAULT_TYPE, chat_id: int | None, text: str, **kw: Any) -> Message | None:
    """Send, logging instead of failing: a missing group or a blocked resident never breaks the action.

    Returns the sent message, or None when there was no chat or the send failed."""
    if chat_id is None:
        return None
    try:
        return await context.bot.send_message(chat_id, text, **kw)
    except TelegramError as exc:
        log.warning("could not send to chat %s: %s", chat_id, exc)
        return None


async def drop_buttons(q: CallbackQuery) -> None:
    """Remove a pressed keyboard so it cannot be pressed twice; already gone is fine."""
    with contextlib.suppress(TelegramError):  # already gone, or the resident blocked the bot
        await q.edit_message_reply_markup(reply_markup=None)


async def answer_quietly(q: CallbackQuery, text: str | None = None, *, show_alert: bool = False) -> None:
    """Answer a button press after the change committed: a failed answer must not fail what was done."""
    try:
        await q.answer(text, show_alert=show_alert)
    except TelegramError as exc:
        log.info("could not answer a button press: %s", exc)


def owed_now(context: ContextTypes.DEFAULT_TYPE, update: Update) -> None:
    """Note that this update's change committed with messages owed (a case's number): if anything fails
    after this, the error handler must not ask the resident to try again — that would open the case twice."""
    seen: dict[int, None] = context.application.bot_data.setdefault(OWED, {})
    seen[update.update_id] = None
    while len(seen) > OWED_KEPT:
        del seen[next(iter(seen))]


def was_owed(context: ContextTypes.DEFAULT_TYPE, update: object) -> bool:
    return isinstance(update, Update) and update.update_id in context.application.bot_data.get(OWED, {})


def under(message_id: int | None) -> ReplyParameters | None:
    """Reply parameters that thread a message under another, and still send if that one is gone."""
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None


__all__ = ["answer_quietly", "drop_buttons", "owed_now", "safe_send", "under", "was_owed"]
