"""/award and /reverse: staff and admins enter volunteering as points and correct a ledger line, in a private
chat or a desk chat (``/award @user|USER_ID 20 清洁家园行动``, or as a reply to the person's message).

Every award is one ledger line naming who entered it and why, within ``[points.rules] volunteer`` (the most one
award may give, and a person's daily limit); a correction is a reversing line, never an edit.
"""

from __future__ import annotations

import re

from telegram import Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes

from handlers import cards, texts
from handlers.access import target_user
from handlers.deps import deps
from handlers.replies import owed_now
from handlers.taking_part import GROUP, may
from services.people.residents import get_resident
from services.people.roles import Action
from services.points import ledger
from storage.models import Resident

MAX_REASON = 100
_NUMBER = re.compile(r"^[+-]?\d+$")


async def on_award(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d, msg, user = deps(context), update.effective_message, update.effective_user
    if not await may(d, update, Action.POINTS_AWARD, "/award"):
        raise ApplicationHandlerStop
    target, args, unknown = await target_user(d, msg, list(context.args or []))
    rule = d.community.points_rules.volunteer
    if unknown is not None:
        await msg.reply_text(texts.award_unknown_user(unknown))
        raise ApplicationHandlerStop
    if target is None or not args:
        await msg.reply_text(texts.AWARD_USAGE)
        raise ApplicationHandlerStop
    amount, reason = args[0], " ".join(args[1:]).strip()
    refusal = None
    if not _NUMBER.match(amount) or int(amount) <= 0:
        refusal = texts.AWARD_NOT_POSITIVE
    elif int(amount) > rule.points:
        refusal = texts.award_too_many(rule.points)
    elif not any(c.isalnum() for c in reason):  # empty, or punctuation alone
        refusal = texts.AWARD_NO_REASON
    elif len(reason) > MAX_REASON:
        refusal = texts.award_reason_too_long(MAX_REASON)
    if refusal is not None:
        await msg.reply_text(refusal)
        raise ApplicationHandlerStop
    async with d.db.transaction() as s:
        person = await get_resident(s, target)
        if person is None or person.id is None:
            earned = None
        else:
            earned = await ledger.earn(s, resident_id=person.id, kind=ledger.Kind.VOLUNTEER, points=int(amount),
                                       rules=d.community.points_rules, now=d.now(), actor_tg_id=user.id, note=reason)
            bal = await ledger.balance(s, person.id)
            if earned.entry is not None:
                await cards.owe_message(s, d, person.tg_user_id, texts.awarded_resident(
                    earned.granted, reason, user.full_name, bal))
    if earned is None:
        await msg.reply_text(texts.award_unknown_user(str(target)))
    elif earned.entry is None:
        await msg.reply_text(texts.award_limit_reached(person.name, rule.daily_limit or 0))
    else:
        owed_now(context, update)
        d.wake_sender()
        await msg.reply_text(texts.awarded(person.name, earned.granted, reason, earned.entry.id, earned.capped,
                                           int(amount)))
    raise ApplicationHandlerStop


async def on_reverse(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reverse <记录号> <原因>: a correction line that takes a line back (once; never below zero)."""
    d, msg, user = deps(context), update.effective_message, update.effective_user
    if not await may(d, update, Action.POINTS_AWARD, "/reverse"):
        raise ApplicationHandlerStop
    args = list(context.args or [])
    number = args[0].lstrip("#") if args else ""
    reason = " ".join(args[1:]).strip()
    if not number.isascii() or not number.isdigit() or not reason:
        await msg.reply_text(texts.REVERSE_USAGE)
        raise ApplicationHandlerStop
    async with d.db.transaction() as s:
        done = await ledger.reverse(s, entry_id=int(number), actor_tg_id=user.id, note=reason[:MAX_REASON],
                                    now=d.now())
        if done.ok:
            person = await s.get(Resident, done.original.resident_id)
            await cards.owe_message(s, d, person.tg_user_id if person else None, texts.reversed_resident(
                -done.original.delta, reason, done.balance_after))
    if not done.ok:
        await msg.reply_text(texts.REVERSE_REFUSED[done.status.value].format(number=number,
                                                                            balance=done.balance_after))
    else:
        owed_now(context, update)
        d.wake_sender()
        await msg.reply_text(texts.reversed_line(int(number), done.entry.id, done.entry.delta, done.balance_after))
    raise ApplicationHandlerStop


def register(app: Application) -> None:
    """In private chats and desk chats (the role and the chat are checked on every use)."""
    app.add_handler(CommandHandler("award", on_award), group=GROUP)
    app.add_handler(CommandHandler("reverse", on_reverse), group=GROUP)


__all__ = ["on_award", "on_reverse", "register"]
