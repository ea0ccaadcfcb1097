"""Staff words in desk chats: a reply to a case message goes to the resident (and followers), answers a 需补充 or
办结 prompt, or stays internal (``/note``). Staff talking among themselves is left alone. A grid worker's private
chat is a desk for the cases of their grid (``handlers.cards.is_desk``): their replies there are taken the same way.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import cards, texts
from handlers.deps import Deps, deps
from handlers.desk.access import at_desk, typed_may_act
from handlers.names import unit_name
from services.cases import desk as reports
from services.cases import events, lifecycle, tickets
from services.cases.events import staff_actor
from services.cases.lifecycle import TransitionResult
from services.people.roles import Action
from storage.models import PostKind, Ticket, TicketEventKind, TicketPost, TicketStatus

S = TicketStatus


async def on_staff_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to one of the bot's case messages: a prompt's answer, or words for the resident."""
    msg = update.effective_message
    d = deps(context)
    to = msg.reply_to_message
    if to is None or to.from_user is None or to.from_user.id != context.bot.id:
        return  # staff talking among themselves
    posts, t = await _replied(d, msg.chat_id, to.message_id)
    await _answer_reply(update, context, d, posts, t)


async def on_private_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """A reply in a private chat to one of the bot's case messages there (a card, a 需补充 or 办结 prompt, words
    under a card) by someone for whom that chat is a desk for the case (a worker of its grid, not its own
    resident): handled as in a group, True. False, with nothing done or said, for anything else, which goes on
    to the resident's side as before (a resident's reply about their own case included)."""
    msg = update.effective_message
    to = msg.reply_to_message
    if to is None or to.from_user is None or to.from_user.id != context.bot.id:
        return False
    d = deps(context)
    posts, t = await _replied(d, msg.chat_id, to.message_id)
    if not posts:
        return False
    first = t
    if first is None:  # a combined message of several cases: whose desk is this chat?
        async with d.db.session() as s:
            first = await s.get(Ticket, posts[0].ticket_id)
    if first is None or not await cards.is_desk(d, msg.chat_id, first):
        return False
    await _answer_reply(update, context, d, posts, t)
    return True


async def _replied(d: Deps, chat_id: int, message_id: int) -> tuple[list[TicketPost], Ticket | None]:
    """The posts a reply answers, and their case when they stand for one."""
    async with d.db.session() as s:
        posts = [p for p in await reports.find_posts(s, chat_id, message_id)
                 if p.kind is not PostKind.READ_ONLY]  # a supervisor's card to read: a reply to it goes nowhere
        t = await s.get(Ticket, posts[0].ticket_id) if len(posts) == 1 else None
    return posts, t


async def _answer_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, posts: list[TicketPost],
                        t: Ticket | None) -> None:
    msg = update.effective_message
    if len(posts) > 1:  # a combined message of several cases: which one is meant is not known
        await msg.reply_text(texts.STAFF_BATCH_REPLY)
        return
    if not posts or t is None:
        return
    post = posts[0]
    if not await typed_may_act(d, update, t, f"reply:{post.kind.value}"):
        return
    text = (msg.text or "").strip()
    if not text:
        await msg.reply_text(texts.STAFF_EMPTY_TEXT)
        return
    if post.kind is PostKind.ASK_RESULT:
        await _resolve(update, context, d, t, text)
    elif post.kind is PostKind.ASK_INFO:
        await _ask_info(update, context, d, t, text)
    else:
        await _relay(update, context, d, t, text)


def _recorder_too(off: reports.Offline, update: Update) -> bool:
    """Whoever recorded a case for someone without Telegram gets its news to pass on (``cards.owe_residents``):
    worth saying to staff when that is someone else."""
    return off.recorded_by is not None and off.recorded_by != update.effective_user.id


async def _resolve(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, text: str) -> None:
    actor = staff_actor(update.effective_user.id)
    off = None
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        result = TransitionResult.illegal(lifecycle.Refusal.NOT_ALLOWED)
        if row.status is S.SIGNED:  # 办结 goes through 办理中; one press does both
            result = await lifecycle.transition(s, row, S.IN_PROGRESS, actor=actor, now=d.now())
        if row.status is S.IN_PROGRESS:
            result = await lifecycle.transition(s, row, S.RESOLVED, actor=actor, now=d.now(), result=text)
        if result.ok:
            await cards.owe_residents(s, d, row, texts.resident_resolved(row.number, unit_name(d, row.unit), text))
            off = None if await reports.tracked_on_web(s, row.id) else await reports.offline_contact(s, row)
            await cards.owe_refresh(s, d, row)
    msg = update.effective_message
    if not result.ok:
        await msg.reply_text(texts.staff_refused(result.reason or "not_allowed", texts.STATUS.get(row.status, "")))
        return
    d.wake_sender()
    await msg.reply_text(texts.staff_resolved(row.number) if off is None else texts.staff_resolved_offline(
        row.number, off.name, off.phone, _recorder_too(off, update)))


async def _ask_info(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, question: str) -> None:
    """需补充's question. The bot asks a Telegram resident itself; for a case whose resident has no Telegram staff
    are told whom to phone, and their next reply to the same prompt is the resident's answer (the clock runs
    again): without it such a case could only wait for its chases."""
    actor = staff_actor(update.effective_user.id)
    answered = False
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        web = await reports.tracked_on_web(s, row.id)
        off = await reports.offline_contact(s, row)
        told = 0
        if row.status is S.PENDING_INFO and off is not None:  # the resident's answer, got by phone or a visit
            result = await lifecycle.answer_info(s, row, actor=actor, now=d.now(), note=question)
            answered = result.ok
        else:
            result = await lifecycle.transition(s, row, S.PENDING_INFO, actor=actor, now=d.now(), note=question)
            if result.ok:
                told = await cards.owe_residents(s, d, row, texts.resident_need_info(
                    row.number, unit_name(d, row.unit), question), followers=False)
        if result.ok:
            await cards.owe_refresh(s, d, row)
    msg = update.effective_message
    if not result.ok:
        await msg.reply_text(texts.staff_refused(result.reason or "not_allowed", texts.STATUS.get(row.status, "")))
        return
    d.wake_sender()
    if answered:
        await msg.reply_text(texts.staff_info_answered(row.number))
    elif web:
        await msg.reply_text(texts.staff_info_asked_web(row.number))
    elif off is not None:
        await msg.reply_text(texts.staff_info_asked_offline(row.number, off.name, off.phone,
                                                            _recorder_too(off, update)))
    else:
        await msg.reply_text(texts.staff_info_asked(row.number) if told else texts.STAFF_RELAY_FAILED)


async def _relay(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, text: str) -> None:
    """The unit's answer: recorded as a reply event, sent to the resident and followers. A case filed on the web
    shows it on its tracking page; one whose resident has no Telegram (recorded from a call or a visit, imported)
    cannot be told by the bot: staff are told whom to phone or visit, not warned that the resident blocked the bot."""
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        await events.record_event(s, row, kind=TicketEventKind.REPLY, actor=staff_actor(update.effective_user.id),
                                  now=d.now(), note=text)
        told = await cards.owe_residents(s, d, row, texts.resident_staff_reply(row.number, unit_name(d, row.unit),
                                                                               text))
        web = await reports.tracked_on_web(s, row.id)
        off = await reports.offline_contact(s, row)
    d.wake_sender()
    msg = update.effective_message
    if web:
        await msg.reply_text(texts.STAFF_RELAYED_WEB)
    elif off is not None:
        await msg.reply_text(texts.staff_relayed_offline(off.name, off.phone, _recorder_too(off, update)))
    else:
        await msg.reply_text(texts.STAFF_RELAYED if told else texts.STAFF_RELAY_FAILED)


def _note_args(text: str) -> tuple[str | None, str]:
    """``/note LL-… words`` → (number, words); ``/note words`` → (None, words)."""
    rest = [*text.split(None, 1), "", ""][1].strip()
    head, tail = [*rest.split(None, 1), "", ""][:2]
    number = tickets.parse_ticket_number(head) if head else None
    return (number, tail.strip()) if number else (None, rest)


async def on_note(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/note LL-… text, or /note text as a reply to a case message: an internal note, never sent out."""
    msg = update.effective_message
    d = deps(context)
    if msg.chat.type != "private" and not await at_desk(d, update, Action.TICKET_ACT, "/note"):
        return  # privately (a grid worker's: handlers.desk.private lets no one else here) the case decides
    number, body = _note_args(msg.text or "")
    async with d.db.session() as s:
        if number:
            t = await reports.ticket_by_number(s, number)
        else:
            to = msg.reply_to_message
            post = await reports.find_post(s, msg.chat_id, to.message_id) if to else None
            t = await s.get(Ticket, post.ticket_id) if post else None
    if not body or t is None:
        await msg.reply_text(texts.STAFF_NOTE_USAGE)
        return
    if not await typed_may_act(d, update, t, "/note"):
        return
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        await events.record_event(s, row, kind=TicketEventKind.NOTE, actor=staff_actor(update.effective_user.id),
                                  now=d.now(), note=body)
    await msg.reply_text(texts.STAFF_NOTE_SAVED)


__all__ = ["on_note", "on_private_reply", "on_staff_text"]
