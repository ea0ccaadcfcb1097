"""回访 by phone: ``/rate LL-… 满意|基本满意|不满意 [居民的话]`` records the rating staff got by phoning or visiting a
resident who has no Telegram (recorded from a call or a visit, imported from 12345 or a platform).

The bot asks a Telegram resident itself (buttons under its 回访); for the others the request reached at most whoever
recorded the case, with no way to answer it, so every such case closed as 未评价 and 满意率 knew nothing of them.
The rating goes through ``services.cases.followup.rate`` as a resident's press would (满意 closes, 不满意 reopens and
escalates), with the staff member as its actor. A Telegram resident's case is refused: they rate it themselves.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import cards, texts
from handlers.deps import deps
from handlers.desk.access import at_desk, typed_may_act
from services.cases import desk as reports
from services.cases import followup, tickets
from services.cases.events import staff_actor
from services.people.roles import Action
from storage.models import Rating, Ticket

WORDS: dict[str, Rating] = {"满意": Rating.SATISFIED, "非常满意": Rating.SATISFIED,
                            "基本满意": Rating.BASICALLY_SATISFIED, "还行": Rating.BASICALLY_SATISFIED,
                            "不满意": Rating.UNSATISFIED}


def parse(text: str) -> tuple[str, Rating, str | None] | None:
    """``/rate LL-… 满意 说明`` → (number, rating, words or None); None when it is not that."""
    parts = text.split(None, 3)
    if len(parts) < 3:
        return None
    number, rating = tickets.parse_ticket_number(parts[1]), WORDS.get(parts[2].strip())
    if number is None or rating is None:
        return None
    return number, rating, (parts[3].strip() if len(parts) > 3 else "") or None


async def on_rate(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg = update.effective_message
    if msg.chat.type != "private" and not await at_desk(d, update, Action.TICKET_ACT, "/rate"):
        return  # privately (a grid worker's: handlers.desk.private lets no one else here) the case decides
    parsed = parse(msg.text or "")
    if parsed is None:
        await msg.reply_text(texts.RATE_USAGE)
        return
    number, rating, words = parsed
    async with d.db.session() as s:
        found = await reports.ticket_by_number(s, number)
        offline = (found is not None and not await reports.tracked_on_web(s, found.id)
                   and await reports.offline_contact(s, found) is not None)
    if found is None:
        await msg.reply_text(texts.TICKET_NOT_FOUND_STAFF)
        return
    if not await typed_may_act(d, update, found, "/rate"):
        return
    if not offline:
        await msg.reply_text(texts.RATE_TELEGRAM)
        return
    async with d.db.transaction() as s:
        t = await s.get(Ticket, found.id)
        outcome = await followup.rate(s, t, rating, words, d.now(), community=d.community,
                                      actor=staff_actor(update.effective_user.id))
        if outcome.ok:
            await cards.owe_refresh(s, d, t)
            if outcome.escalation is not None:
                await cards.owe_escalation(s, d, outcome.escalation)
    if not outcome.ok:
        await msg.reply_text(texts.rate_refused(number, texts.STATUS.get(t.status, "")))
        return
    d.wake_sender()
    await msg.reply_text(texts.staff_rated(number, texts.HISTORY_RATING[rating.value],
                                           reopened=rating is Rating.UNSATISFIED))


__all__ = ["WORDS", "on_rate", "parse"]
