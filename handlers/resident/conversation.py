"""The resident writing to the desk about a case: under the case card, recorded; an answer to 待补充 resumes it, and
so does a late answer to a case the desk closed as 无法联系 (while it still stands 办结): it is done again.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from telegram import Update
from telegram.ext import ContextTypes

from handlers import cards, texts
from handlers.deps import deps
from handlers.people import speaker
from handlers.resident import followup as follow_ups
from intents import Result
from intents.discourse import agrees, courtesy, hails
from intents.followup import place_correction
from services.cases import desk as reports
from services.cases import duplicates, events, followup, lifecycle, relocation
from services.cases.events import resident_actor
from services.cases.tickets import find_ticket_number
from storage.models import OPEN_STATUSES, TicketEventKind, TicketStatus

S = TicketStatus


async def resident_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, number: str, text: str) -> bool:
    """The resident (or a follower) wrote about ``number``: goes under the case card, recorded; an answer
    to 待补充 resumes the case, and words (more than a thank-you) on a case closed as 无法联系 reopen it. False when
    it is not their ticket (the caller handles the text)."""
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    resumed = closed = reopened = False
    async with d.db.transaction() as s:
        r = await reports.resident_by_tg(s, update.effective_user.id)
        t = await reports.ticket_by_number(s, number)
        if r is None or t is None:
            return False
        owner = t.resident_id == r.id
        if not owner and r.id not in await duplicates.followers(s, t.id):
            return False
        if t.status not in OPEN_STATUSES and t.status is not S.RESOLVED:
            closed = True
        else:
            actor = resident_actor(r.id)
            if owner and t.status is S.PENDING_INFO:
                resumed = (await lifecycle.answer_info(s, t, actor=actor, now=now, note=text)).ok
            elif followup.closed_unreachable(t) and not _only_acknowledges(text):
                reopened = (await followup.reopen_unreachable(s, t, actor=actor, now=now, note=text)).ok
            if not resumed and not reopened:
                await events.record_event(s, t, kind=TicketEventKind.REPLY, actor=actor, now=now, note=text)
            await cards.owe_under_card(s, d, t, texts.staff_resident_reopened(t.number, r.name, text) if reopened
                                       else texts.staff_resident_said(t.number, r.name, text, resumed))
            if resumed or reopened:
                await cards.owe_refresh(s, d, t)
    if closed:
        await msg.reply_text(texts.RESIDENT_TICKET_CLOSED)
        return True
    d.wake_sender()
    await msg.reply_text(texts.RESIDENT_INFO_THANKS if resumed else texts.RESIDENT_REOPENED if reopened
                         else texts.RESIDENT_SENT)
    return True


_ACKNOWLEDGES = re.compile(r"(?:好的?|嗯+|哦+|噢+|知道了?|收到了?|明白了?|了解了?|行|可以|ok|okay)*"
                           r"(?:谢谢(?:你们|您|了)?|多谢|辛苦了|麻烦了)?", re.IGNORECASE)


def _only_acknowledges(text: str) -> bool:
    """Words that only take note ("好的", "知道了 谢谢"): kept under the card, but no reason to do a case again."""
    bare = re.sub(r"[\s，。！!,.~～、]", "", text)
    return courtesy(text) or agrees(text) or hails(text) or _ACKNOWLEDGES.fullmatch(bare) is not None


@dataclass(frozen=True)
class Heard:
    """What :func:`resident_text` did with the words: true when they went to a case; else ``read``, the engine's
    reading of them when it had to read them (a 待补充 case waits for an answer and the words ask something else),
    for the router to hand on instead of reading the same words a second time."""

    taken: bool
    read: Result | None = None

    def __bool__(self) -> bool:
        return self.taken


async def resident_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> Heard:
    """Router helper: a reply to a bot message naming a ticket, or any text while a ticket waits for
    the resident (待补充), goes to the case. True when handled."""
    msg = update.effective_message
    to = msg.reply_to_message
    if to is not None and to.from_user is not None and to.from_user.id == context.bot.id:
        number = find_ticket_number(to.text or to.caption or "")
        if number and place_correction(text) and await follow_ups.correct_place(update, context, text, number):
            return Heard(True)  # "不对 是4号楼" in reply to the receipt: as typed alone
        if number and await resident_reply(update, context, number, text):
            return Heard(True)
    number = (await speaker(deps(context), update)).pending_info  # the same one read as the flow check
    if not number:
        return Heard(False)
    read = deps(context).engine.classify(text)
    if _asks_something_else(read):
        return Heard(False, read)
    return Heard(await resident_reply(update, context, number, text), read)


async def more_of_the_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """Words the bot could not read otherwise, a few minutes (ANSWER_WINDOW_MINUTES) after the resident answered a
    case's 需补充, go on with that answer ("2单元" … "15楼，1502，晚上十点以后还在敲"): under its card, not 没太明白.
    Asked only on the not-understood path, so nothing is read for any other message."""
    d = deps(context)
    if d.answer_window.total_seconds() <= 0 or update.effective_user is None:
        return False
    who = await speaker(d, update)
    if who.resident is None:
        return False
    async with d.db.session() as s:
        number = await relocation.just_answered(s, who.resident.id, now=d.now(), window=d.answer_window)
    return bool(number) and await resident_reply(update, context, number, text)


# what a resident asks of the bot itself (a service, their cases, a person, to withdraw, help): never the answer the
# desk is waiting for, even while a case waits for one ("好的 我下午在家", "谢谢" are: they go to the case)
_OWN_ERRANDS = ("svc.", "act.my_tickets", "act.human", "act.withdraw", "act.help")


def _asks_something_else(result: Result) -> bool:
    """While a case waits for the resident's answer (待补充) the next words are taken as that answer, unless they
    plainly ask the bot something else ("下次理发是哪天", "我的工单", "转人工"); an explicit reply to the desk's
    question is always the answer."""
    top = result.top
    return top is not None and not result.ambiguous and top.id.startswith(_OWN_ERRANDS)


__all__ = ["Heard", "more_of_the_answer", "resident_reply", "resident_text"]
