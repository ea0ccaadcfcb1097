"""Case cards in desk chats and what a case owes the people around it, drawn and sent from one place.

A card (the case with its buttons: 签收 · 转派 · 需补充 · 办结 · 升级) is posted to the handling unit's chat (else
the staff chat) when a case opens, is reassigned or escalated, and redrawn whenever its status changes. Every
bot message about a case in a desk chat is a TicketPost row, so a reply to it is routed from the database across
restarts. Residents (and the neighbours following a joined case) hear from here too. Every room that changes a
case calls this module; it imports no room, so nothing loops.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Message
from telegram.error import BadRequest, TelegramError
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.deps import Deps
from handlers.names import complaint_name, level_name, unit_name
from handlers.replies import safe_send, under
from services.cases import clocks, duplicates
from services.cases import desk as reports
from services.cases.sweep import Escalation, Reminder
from storage.models import OPEN_STATUSES, PostKind, Resident, Ticket, TicketStatus

log = logging.getLogger(__name__)

S = TicketStatus
WORKING: frozenset[TicketStatus] = frozenset({S.SIGNED, S.IN_PROGRESS})  # signed for: 需补充 and 办结 possible


def desk_for(d: Deps, chat_id: int, ticket: Ticket) -> bool:
    """Whether ``chat_id`` is a desk for ``ticket``: its unit's chat, the staff chat or an escalation chat.
    Cards there carry buttons; elsewhere they are for reading."""
    unit = d.community.unit(ticket.unit)
    allowed = {d.staff_chat_id, unit.chat_id if unit else None, *(e.chat_id for e in d.community.escalation)}
    return chat_id in allowed - {None}


def unit_chat(d: Deps, unit_code: str) -> int | None:
    """The unit's chat, else the staff chat, else nowhere."""
    unit = d.community.unit(unit_code)
    return (unit.chat_id if unit and unit.chat_id else None) or d.staff_chat_id


def card_text(d: Deps, t: Ticket, resident_name: str, grid: str | None, header: str) -> str:
    now = d.now()
    return texts.staff_card(
        header, t.number, complaint_name(d, t.category), unit_name(d, t.unit), t.location, t.text,
        clocks.effective_due(t, now), resident_name, grid, texts.STATUS.get(t.status, t.status),
        texts.COLOUR_MARK[clocks.colour(t, now)], level_name(d, t.escalation_level),
        t.result if t.status not in OPEN_STATUSES else None,
    )


def card_buttons(d: Deps, t: Ticket) -> InlineKeyboardMarkup | None:
    """The buttons that can do something in the ticket's status, each carrying number.version."""
    arg = f"{t.number}.{t.version}"

    def b(label: str, action: str) -> InlineKeyboardButton:
        return keyboards.button(d.callback_secret, label, action, arg)

    if t.status in clocks.UNSIGNED:
        return keyboards.inline([b(texts.BTN_SIGN, "ss"), b(texts.BTN_REASSIGN, "sr"), b(texts.BTN_NEED_INFO, "sp")],
                                [b(texts.BTN_RESOLVE, "sd"), b(texts.BTN_ESCALATE, "se")])
    if t.status in WORKING:
        return keyboards.inline([b(texts.BTN_REASSIGN, "sr"), b(texts.BTN_NEED_INFO, "sp")],
                                [b(texts.BTN_RESOLVE, "sd"), b(texts.BTN_ESCALATE, "se")])
    if t.status is S.PENDING_INFO:
        return keyboards.inline([b(texts.BTN_ESCALATE, "se")])
    return None


async def record(d: Deps, ticket_id: int, sent: Message | None, kind: PostKind) -> None:
    if sent is not None:
        async with d.db.transaction() as s:
            await reports.record_post(s, ticket_id, sent.chat_id, sent.message_id, kind, d.now())


async def post_ticket(context: ContextTypes.DEFAULT_TYPE, d: Deps, ticket: Ticket, resident_name: str,
                      grid: str | None, *, chat_id: int | None = None, header: str | None = None,
                      kind: PostKind = PostKind.TICKET) -> None:
    """Post the case card to the handling unit's chat (else the staff chat, or ``chat_id``) and record it.

    Tickets arrive here already 派单 (``lifecycle.open_dispatched``); the card shows them as stored now.
    """
    assert ticket.id is not None
    async with d.db.session() as s:
        t = await s.get(Ticket, ticket.id)
        assert t is not None
    target = chat_id or unit_chat(d, t.unit)
    text = card_text(d, t, resident_name, grid, header or texts.CARD_HEADER_NEW)
    markup = card_buttons(d, t) if target is not None and desk_for(d, target, t) else None
    await record(d, t.id, await safe_send(context, target, text, reply_markup=markup), kind)


async def refresh_posts(context: ContextTypes.DEFAULT_TYPE, d: Deps, ticket_id: int) -> None:
    """Redraw every card of the ticket: current status, colour, and buttons only where they still work."""
    async with d.db.session() as s:
        t = await s.get(Ticket, ticket_id)
        posts = await reports.posts_of(s, ticket_id)
        owner = await s.get(Resident, t.resident_id) if t else None
    if t is None:
        return
    name = owner.name if owner else ""
    for p in posts:
        header = texts.CARD_HEADER_TICKET if p.kind is PostKind.TICKET else texts.CARD_HEADER_ESCALATION
        markup = card_buttons(d, t) if desk_for(d, p.chat_id, t) else None
        try:
            await context.bot.edit_message_text(card_text(d, t, name, t.grid_code, header), chat_id=p.chat_id,
                                                message_id=p.message_id, reply_markup=markup)
        except BadRequest as exc:
            if "not modified" not in str(exc):
                log.warning("could not refresh card %s/%s: %s", p.chat_id, p.message_id, exc)
        except TelegramError as exc:
            log.warning("could not refresh card %s/%s: %s", p.chat_id, p.message_id, exc)


async def post_escalation_card(context: ContextTypes.DEFAULT_TYPE, d: Deps, esc: Escalation) -> None:
    async with d.db.session() as s:
        t = await s.get(Ticket, esc.ticket_id)
        owner = await s.get(Resident, t.resident_id) if t else None
    if t is None:
        return
    header = texts.card_header_escalated(level_name(d, esc.level) or esc.level,
                                         texts.ESCALATION_REASON.get(esc.reason.value, esc.reason.value))
    await post_ticket(context, d, t, owner.name if owner else "", t.grid_code,
                      chat_id=esc.chat_id or d.staff_chat_id, header=header, kind=PostKind.ESCALATION)


async def tell_residents(context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, text: str, *,
                         followers: bool = True) -> bool:
    """Send to the ticket's resident (and followers); True if the resident got it."""
    async with d.db.session() as s:
        ids = [t.resident_id, *(await duplicates.followers(s, t.id) if followers else [])]
        chats = await reports.tg_ids(s, ids)
    if not chats:
        return False
    owner, *others = chats
    ok = await safe_send(context, owner, text) is not None
    for chat in others:
        await safe_send(context, chat, text)
    return ok


def rating_buttons(d: Deps, number: str) -> InlineKeyboardMarkup:
    return keyboards.inline([keyboards.button(d.callback_secret, label, "rt", f"{number}.{code}")
                             for code, label in texts.BTN_RATE.items()])


async def request_rating(context: ContextTypes.DEFAULT_TYPE, d: Deps, chat_id: int, number: str,
                         result: str | None) -> bool:
    """回访: ask the resident to rate (sent by bot.jobs once the follow-up delay has passed)."""
    sent = await safe_send(context, chat_id, texts.rating_request(number, result),
                           reply_markup=rating_buttons(d, number))
    return sent is not None


async def post_reminder(context: ContextTypes.DEFAULT_TYPE, d: Deps, reminder: Reminder) -> None:
    """催办 under the ticket's card in its unit's chat (else the staff chat)."""
    target = reminder.chat_id or d.staff_chat_id
    if target is None:
        return
    async with d.db.session() as s:
        card = await reports.latest_card(s, reminder.ticket_id, chat_id=target)
    text = texts.staff_reminder(reminder.number, reminder.kind.value, reminder.due_at)
    sent = await safe_send(context, target, text, reply_parameters=under(card.message_id if card else None))
    await record(d, reminder.ticket_id, sent, PostKind.RELAY)


async def post_escalation(context: ContextTypes.DEFAULT_TYPE, d: Deps, esc: Escalation) -> None:
    """The sweep escalated: the card goes to the level's chat (else the staff chat); old cards show the level."""
    await refresh_posts(context, d, esc.ticket_id)
    await post_escalation_card(context, d, esc)


async def post_meeting(context: ContextTypes.DEFAULT_TYPE, d: Deps, ticket_id: int, at: datetime) -> bool:
    """调解会议 reminder in the unit's chat, under its card; True when Telegram took it."""
    async with d.db.session() as s:
        t = await s.get(Ticket, ticket_id)
        card = await reports.latest_card(s, ticket_id)
    if t is None:
        return False
    target = card.chat_id if card else unit_chat(d, t.unit)
    sent = await safe_send(context, target, texts.staff_meeting(t.number, at),
                           reply_parameters=under(card.message_id if card else None))
    await record(d, ticket_id, sent, PostKind.RELAY)
    return sent is not None


__all__ = [
    "WORKING",
    "card_buttons",
    "card_text",
    "desk_for",
    "post_escalation",
    "post_escalation_card",
    "post_meeting",
    "post_reminder",
    "post_ticket",
    "rating_buttons",
    "record",
    "refresh_posts",
    "request_rating",
    "tell_residents",
    "unit_chat",
]
