"""Action intents answered at once: a greeting, help, 转人工 (to a person), and an emergency (SOS)."""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import cards, keyboards, texts
from handlers.deps import deps
from handlers.people import resident_of
from handlers.replies import safe_send
from handlers.resident.draft import infer_place
from services.cases.sweep import open_sos


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    d = deps(context)
    thanks = any(w in text for w in ("谢", "辛苦", "好的", "收到"))
    reply = texts.THANKS_REPLY if thanks else texts.GREETING.format(community=d.community.name)
    await update.effective_message.reply_text(reply, reply_markup=keyboards.main_menu())


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.HELP, reply_markup=keyboards.main_menu())


async def to_human(update: Update, context: ContextTypes.DEFAULT_TYPE, message_id: int) -> None:
    """Forward the resident's message to the staff chat and say so; no staff chat: say that too."""
    d = deps(context)
    chat_id = update.effective_chat.id
    if not d.staff_chat_id:
        await context.bot.send_message(chat_id, texts.HUMAN_UNAVAILABLE)
        return
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        name, grid = r.name, r.grid_code
        await s.commit()
    user = update.effective_user
    ok = await safe_send(context, d.staff_chat_id, texts.staff_forward_header(name, user.id, grid))
    if ok:
        try:
            await context.bot.forward_message(d.staff_chat_id, chat_id, message_id)
        except TelegramError:
            ok = False
    await context.bot.send_message(chat_id, texts.HUMAN_FORWARDED if ok else texts.HUMAN_UNAVAILABLE)


async def sos(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Emergency: a safety ticket at once, no confirmation; staff and grid worker alerted."""
    d = deps(context)
    msg = update.effective_message
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        sos_ = await open_sos(s, resident=r, text=text, location=infer_place(text, r), photos=[],
                              community=d.community, now=d.now())
        number, name, grid = sos_.ticket.number, r.name, r.grid_code
    level = d.community.escalation_level(sos_.escalation.level)
    alert = texts.staff_sos(number, name, grid, text)
    targets = {d.staff_chat_id, level.chat_id if level else None}
    info = d.community.grid(grid) if grid else None
    if info and info.worker_tg_id:
        targets.add(info.worker_tg_id)
    for target in targets - {None}:  # helpers first: the resident may not be reachable any more
        await safe_send(context, target, alert)
    header = texts.card_header_escalated(level.name if level else "", texts.ESCALATION_REASON["sos"])
    context.application.create_task(cards.post_ticket(context, d, sos_.ticket, name, grid, header=header),
                                    name=f"post {number}")  # the card staff can 签收 from
    await msg.reply_text(texts.sos_opened(number))


__all__ = ["greet", "help_", "sos", "to_human"]
