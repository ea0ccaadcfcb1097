"""回访: the resident rates a resolved case (满意 · 基本满意 · 不满意); 不满意 reopens and escalates it. The
neighbours following the case are asked too and rate it the same way (their answer kept on their own row).
"""

from __future__ import annotations

from sqlalchemy import or_
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from handlers import cards, texts
from handlers.deps import Deps, deps
from handlers.people import speaker
from handlers.replies import answer_quietly, drop_buttons
from intents.discourse import rating as rating_said
from services.cases import desk as reports
from services.cases import followup, tickets
from services.cases.events import resident_actor
from storage.models import Rating, Ticket, TicketFollower, TicketStatus

RATINGS: dict[str, Rating] = {"s": Rating.SATISFIED, "b": Rating.BASICALLY_SATISFIED, "u": Rating.UNSATISFIED}


async def on_rating(update: Update, context: ContextTypes.DEFAULT_TYPE, arg: str) -> None:
    """A rating button pressed, by the case's resident or by a neighbour following it (asked alike)."""
    d = deps(context)
    q = update.callback_query
    number_part, _, code = arg.rpartition(".")
    number = tickets.parse_ticket_number(number_part)
    rating = RATINGS.get(code)
    if number is None or rating is None or q.message is None or q.message.chat.type != "private":
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    outcome = follower = None
    async with d.db.transaction() as s:
        r = await reports.resident_by_tg(s, q.from_user.id)
        t = await reports.ticket_by_number(s, number)
        if r is not None and t is not None:
            follower = t.resident_id != r.id
            outcome = await _rate(s, d, t, r.id, follower, rating, None)
    if outcome is None or outcome.outcome is followup.RateOutcome.NOT_FOLLOWER:
        await q.answer(texts.RATING_NOT_YOURS, show_alert=True)
        return
    if not outcome.ok:
        await q.answer(texts.RATING_CLOSED, show_alert=True)
        await drop_buttons(q)
        return
    d.wake_sender()
    await answer_quietly(q)
    await q.edit_message_text(_thanks(number, code, bool(follower)))


async def _rate(s: AsyncSession, d: Deps, t: Ticket, resident_id: int, follower: bool, rating: Rating,
                remark: str | None) -> followup.RateResult:
    """One rating, the resident's or a follower's (``followup``), with what it owes the desk: the cards redrawn,
    and the card to the level above when 不满意 escalated the case."""
    now, actor = d.now(), resident_actor(resident_id)
    if follower:
        outcome = await followup.rate_as_follower(s, t, resident_id, rating, remark, now, community=d.community)
    else:
        outcome = await followup.rate(s, t, rating, remark, now, community=d.community, actor=actor)
    if outcome.ok:
        await cards.owe_refresh(s, d, t)
        if outcome.escalation is not None:
            await cards.owe_escalation(s, d, outcome.escalation)
    return outcome


def _thanks(number: str, code: str, follower: bool) -> str:
    return texts.follower_rating_thanks(number, code) if follower else texts.rating_thanks(number, code)


async def awaiting(s: AsyncSession, resident_id: int) -> tuple[Ticket, bool] | None:
    """The case whose 回访 was asked last and still waits for this resident's rating: their own (resolved, not
    rated), or one they follow (not rated by them since its latest 办结); with whether they follow it."""
    own = (select(Ticket)
           .where(Ticket.resident_id == resident_id, Ticket.status == TicketStatus.RESOLVED,
                  col(Ticket.followup_sent_at).is_not(None))
           .order_by(col(Ticket.followup_sent_at).desc(), col(Ticket.id).desc())
           .limit(1))
    f = TicketFollower
    followed = (select(Ticket)
                .join(f, col(f.ticket_id) == col(Ticket.id))
                .where(f.resident_id == resident_id, col(Ticket.status).in_(followup.RATABLE),
                       col(Ticket.followup_sent_at).is_not(None),
                       or_(col(f.rated_at).is_(None), col(f.rated_at) < col(Ticket.resolved_at)))
                .order_by(col(Ticket.followup_sent_at).desc(), col(Ticket.id).desc())
                .limit(1))
    found = [(t, follows) for stmt, follows in ((own, False), (followed, True))
             for t in (await s.exec(stmt)).all()]
    if not found:
        return None
    return max(found, key=lambda tf: (tf[0].followup_sent_at, tf[0].id))


async def typed(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """A rating typed instead of pressed ("满意", "还行吧 就是慢了点", "不满意 没人来") while a case waits for the
    resident's rating (their own, or one they follow): recorded as the button would, the words kept as the remark
    when they say more. False, nothing done: no rating in the words, or no case waiting for one."""
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
        found = await awaiting(s, r.id)
        if found is None:
            return False
        t, follower = found
        number = t.number
        outcome = await _rate(s, d, t, r.id, follower, RATINGS[code], remark)
        if outcome.ok and remark:  # "不满意 还是有味道": why, for the desk that handles it again
            await cards.owe_under_card(s, d, t, texts.staff_resident_said(t.number, r.name, remark, False))
    if not outcome.ok:
        return False
    d.wake_sender()
    thanks = _thanks(number, code, follower)
    if remark and code == "u":  # they said why already: not asked again
        thanks = texts.rating_unsatisfied_heard(number)
    await update.effective_message.reply_text(thanks)
    return True


__all__ = ["RATINGS", "awaiting", "on_rating", "typed"]
