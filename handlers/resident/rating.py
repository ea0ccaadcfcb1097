"""回访: the resident rates a resolved case (满意 · 基本满意 · 不满意); 不满意 reopens and escalates it.
"""

from __future__ import annotations

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from handlers import cards, texts
from handlers.deps import deps
from handlers.people import speaker
from handlers.replies import answer_quietly, drop_buttons
from intents.discourse import rating as rating_said
from services.cases import desk as reports
from services.cases import followup, tickets
from services.cases.events import resident_actor
from storage.models import Rating, Ticket, TicketStatus

RATINGS: dict[str, Rating] = {"s": Rating.SATISFIED, "b": Rating.BASICALLY_SATISFIED, "u": Rating.UNSATISFIED}


async def on_rating(update: Update, context: ContextTypes.DEFAULT_TYPE, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    number_part, _, code = arg.rpartition(".")
    number = tickets.parse_ticket_number(number_part)
    rating = RATINGS.get(code)
    if number is None or rating is None or q.message is None or q.message.chat.type != "private":
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    outcome = None
    async with d.db.transaction() as s:
        r = await reports.resident_by_tg(s, q.from_user.id)
        t = await reports.ticket_by_number(s, number)
        mine = r is not None and t is not None and t.resident_id == r.id
        if mine:
            outcome = await followup.rate(s, t, rating, None, d.now(), community=d.community,
                                          actor=resident_actor(r.id))
            if outcome.ok:
                await cards.owe_refresh(s, d, t)
                if outcome.escalation is not None:
                    await cards.owe_escalation(s, d, outcome.escalation)
    if not mine:
        await q.answer(texts.RATING_NOT_YOURS, show_alert=True)
        return
    if not outcome.ok:
        await q.answer(texts.RATING_CLOSED, show_alert=True)
        await drop_buttons(q)
        return
    d.wake_sender()
    await answer_quietly(q)
    await q.edit_message_text(texts.rating_thanks(number, code))


async def awaiting(s: AsyncSession, resident_id: int) -> Ticket | None:
    """The resident's case whose 回访 was asked last and is still waiting for their rating."""
    stmt = (select(Ticket)
            .where(Ticket.resident_id == resident_id, Ticket.status == TicketStatus.RESOLVED,
                   col(Ticket.followup_sent_at).is_not(None))
            .order_by(col(Ticket.followup_sent_at).desc(), col(Ticket.id).desc())
            .limit(1))
    return (await s.exec(stmt)).first()


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """A rating typed instead of pressed ("满意", "还行吧 就是慢了点", "不满意 没人来") while a case waits for the
    resident's rating: recorded as the button would, the words kept as the remark when they say more. False,
    nothing done: no rating in the words, or no case waiting for one."""
    code = rating_said(text)
    if code is None:
        return False
    d = deps(context)
    r = (await speaker(d, update)).resident  # read already for this update
    if r is None:
        return False
    async with d.db.session() as s:  # a read first: most who type 满意 have nothing waiting (no write lock for them)
        if await awaiting(s, r.id) is None:
            return False
    remark = text.strip() if len(text.strip()) > len(texts.BTN_RATE[code]) else None
    outcome = number = None
    async with d.db.transaction() as s:
        t = await awaiting(s, r.id)
        if t is None:
            return False
        number = t.number
        outcome = await followup.rate(s, t, RATINGS[code], remark, d.now(), community=d.community,
                                      actor=resident_actor(r.id))
        if outcome.ok:
            await cards.owe_refresh(s, d, t)
            if outcome.escalation is not None:
                await cards.owe_escalation(s, d, outcome.escalation)
    if not outcome.ok:
        return False
    d.wake_sender()
    await update.effective_message.reply_text(texts.rating_thanks(number, code))
    return True


__all__ = ["RATINGS", "awaiting", "on_rating", "typed"]
