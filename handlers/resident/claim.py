"""A resident who filed on the 服务码 page claims the case in the bot: ``/start t-<token>`` (the tracking page's
link). From then on the bot tells them its progress and asks for their rating, as for a case filed in chat.

``handlers.resident.start.start`` sends a payload starting with ``t-`` here with the rest (the token is
case-sensitive: its case is kept).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import texts
from handlers.deps import deps
from handlers.people import resident_of
from services.web import tokens
from services.web.tokens import ClaimStatus


async def claim(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    d = deps(context)
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        result = await tokens.claim(s, token, claimer=r, now=d.now())
    number = result.ticket.number if result.ticket else ""
    text = {ClaimStatus.OK: texts.CLAIMED, ClaimStatus.ALREADY_YOURS: texts.CLAIMED_BEFORE,
            ClaimStatus.TAKEN: texts.CLAIM_TAKEN, ClaimStatus.NOT_FOUND: texts.CLAIM_NOT_FOUND}[result.status]
    await update.effective_message.reply_text(text.format(number=number))


__all__ = ["claim"]
