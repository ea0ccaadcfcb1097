"""A resident who filed on the 服务码 page claims the case in the bot: ``/start t-<token>`` (the tracking page's
link). From then on the bot tells them its progress and asks for their rating, as for a case filed in chat.

Wire it in ``handlers.resident.start.start``: a payload starting with ``t-`` goes to :func:`claim` with the rest
(the token is case-sensitive: do not change its case).
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers.deps import deps
from handlers.people import resident_of
from services.web import tokens
from services.web.tokens import ClaimStatus

# the words (to move into handlers.texts.resident)
CLAIMED = "已关联工单 {number}。之后的办理进度会在这里通知您，发送 /tickets 可随时查看。"
CLAIMED_BEFORE = "工单 {number} 已经关联到您的账号了。发送 /tickets 查看进度。"
CLAIM_TAKEN = "这个跟踪码已被其他账号认领。如有疑问，请联系社区工作人员。"
CLAIM_NOT_FOUND = "没有找到这个跟踪码对应的诉求，请检查链接是否完整。"


async def claim(update: Update, context: ContextTypes.DEFAULT_TYPE, token: str) -> None:
    d = deps(context)
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        result = await tokens.claim(s, token, claimer=r, now=d.now())
    number = result.ticket.number if result.ticket else ""
    text = {ClaimStatus.OK: CLAIMED, ClaimStatus.ALREADY_YOURS: CLAIMED_BEFORE, ClaimStatus.TAKEN: CLAIM_TAKEN,
            ClaimStatus.NOT_FOUND: CLAIM_NOT_FOUND}[result.status]
    await update.effective_message.reply_text(text.format(number=number))


__all__ = ["claim"]
