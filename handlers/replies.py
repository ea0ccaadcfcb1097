"""Sending that never breaks an action: shared by every room, importing nothing of handlers above it."""

from __future__ import annotations

import contextlib
import logging
from typing import Any

from telegram import CallbackQuery, Message, ReplyParameters
from telegram.error import TelegramError
from telegram.ext import ContextTypes

log = logging.getLogger(__name__)


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


def under(message_id: int | None) -> ReplyParameters | None:
    """Reply parameters that thread a message under another, and still send if that one is gone."""
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None


__all__ = ["drop_buttons", "safe_send", "under"]
