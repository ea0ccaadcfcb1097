"""Action intents answered at once: a greeting, help, 转人工 (to a person), and an emergency (SOS)."""

from __future__ import annotations

from telegram import Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import cards, keyboards, texts
from handlers.deps import deps
from handlers.people import resident_of
from handlers.replies import owed_now, safe_send
from handlers.resident.draft import infer_place
from services.cases.sweep import open_sos
from services.outbox import Priority


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
    """Emergency: a safety ticket at once, no confirmation; the resident's answer first, then the alerts
    and the card, all owed in the ticket's own transaction (so a crash right after still tells everyone)."""
    d = deps(context)
    msg = update.effective_message
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        sos_ = await open_sos(s, resident=r, text=text, location=infer_place(text, r), photos=[],
                              community=d.community, now=d.now())
        t = sos_.ticket
        await cards.owe_message(s, d, msg.chat_id, texts.sos_opened(t.number), ticket_id=t.id,
                                priority=Priority.REPLY)
        level = d.community.escalation_level(sos_.escalation.level)
        alert = texts.staff_sos(t.number, r.name, r.grid_code, text)
        targets = {d.staff_chat_id, level.chat_id if level else None}
        info = d.community.grid(r.grid_code) if r.grid_code else None
        if info and info.worker_tg_id:
            targets.add(info.worker_tg_id)
        for target in targets - {None}:
            await cards.owe_message(s, d, target, alert, ticket_id=t.id, priority=Priority.ALERT)
        header = texts.card_header_escalated(level.name if level else "", texts.ESCALATION_REASON["sos"])
        await cards.owe_card(s, d, t, header=header, priority=Priority.ALERT)  # the card staff can 签收 from
    owed_now(context, update)
    d.wake_sender()


__all__ = ["greet", "help_", "sos", "to_human"]
