"""The staff desk in group chats: case cards with buttons, messages relayed both ways, queues.

::

    confirmed complaint ──post_ticket──▶ card in the unit's chat (else the staff chat); received → 派单
    签收 · 转派 · 需补充 · 办结 · 升级  (callback data: number.version) ──▶ services.cases.lifecycle / sweep.escalate
    需补充, 办结 ──▶ ForceReply prompt ──staff reply──▶ 待补充 (question to the resident) / 办结 (result to them)
    staff reply to a card ──▶ resident and followers, recorded as "reply";  /note ──▶ "note", never sent
    resident reply (resident_reply) ──▶ under the card, recorded; answers 待补充 and restarts the clock
    rating request (bot.jobs) ──rt──▶ followup.rate; 不满意 reopens, escalates, posts to the level's chat

Every bot message about a case in a staff chat is a TicketPost row, so a reply is routed by
(chat_id, message_id) from the database, across restarts, and a status change refreshes every card.
Buttons carry the version the presser saw: two staff pressing 签收 at once, the second gets CONFLICT.
"""

from __future__ import annotations

import logging
from datetime import datetime

from telegram import (
    ForceReply,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    Message,
    ReplyParameters,
    Update,
)
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CommandHandler, ContextTypes, MessageHandler, filters

from handlers import access, keyboards, resident, texts
from handlers import staff_reports as reports
from handlers.deps import Deps, deps
from services.cases import clocks, duplicates, events, followup, lifecycle, sweep, tickets
from services.cases.events import resident_actor, staff_actor
from services.cases.lifecycle import REASSIGNABLE, Outcome, TransitionResult
from services.cases.sweep import Escalation, Reminder
from services.cases.tickets import find_ticket_number
from services.people import roles
from services.people.roles import Action
from storage.models import OPEN_STATUSES, PostKind, Rating, Resident, Ticket, TicketEventKind, TicketStatus

log = logging.getLogger(__name__)

S = TicketStatus
ACTIONS: frozenset[str] = frozenset({"ss", "sr", "sru", "sx", "sp", "sd", "se", "rt"})
"""Callback actions for :func:`on_button`: 签收, 转派 (choose / unit / back), 需补充, 办结, 升级, rating."""
RATINGS: dict[str, Rating] = {"s": Rating.SATISFIED, "b": Rating.BASICALLY_SATISFIED, "u": Rating.UNSATISFIED}
WORKING: frozenset[TicketStatus] = frozenset({S.SIGNED, S.IN_PROGRESS})  # signed for: 需补充 and 办结 possible
GROUPS = filters.ChatType.GROUPS
UNIT_KEY_MAX = 16  # "1|sru|LL-20261122-0007.12345.<key>|<8>" stays within Telegram's 64 bytes
QUEUE_LINES = 20  # per colour: /queue stays one readable message
COMMANDS = ("queue", "board", "rates", "note", "mediate")  # the desk's commands (groups only)


# --- who may act ------------------------------------------------------------------------------------


def desk_chats(d: Deps) -> set[int]:
    """Every chat that is a desk: the staff chat, unit chats, escalation chats."""
    chats = {d.staff_chat_id, *(u.chat_id for u in d.community.units), *(e.chat_id for e in d.community.escalation)}
    return {c for c in chats if c is not None}


def desk_for(d: Deps, chat_id: int, ticket: Ticket) -> bool:
    """Whether ``chat_id`` is a desk for ``ticket``: its unit's chat, the staff chat or an escalation chat.
    Cards there carry buttons; elsewhere they are for reading."""
    unit = d.community.unit(ticket.unit)
    allowed = {d.staff_chat_id, unit.chat_id if unit else None, *(e.chat_id for e in d.community.escalation)}
    return chat_id in allowed - {None}


async def may_act(d: Deps, chat_id: int, user_id: int | None, ticket: Ticket, *, via: str) -> str | None:
    """None when the user may work ``ticket`` from ``chat_id``, else the refusal to show (and it is logged).

    Both must hold: the chat is a desk for the case, and the user's role covers it (staff of its unit or of
    an escalation level it reached, the grid worker of its grid, an admin): checked on every press."""
    if not desk_for(d, chat_id, ticket):
        roles.refused(user_id, Action.TICKET_ACT, f"chat:{chat_id}", via)
        return texts.STAFF_NOT_HERE
    if not await access.check(d, user_id, Action.TICKET_ACT, roles.ticket_scope(ticket, d.community), via=via):
        return texts.STAFF_NO_ROLE
    return None


async def typed_may_act(d: Deps, update: Update, ticket: Ticket, via: str) -> bool:
    """:func:`may_act` for a command or a reply typed in a chat: a refusal is answered there."""
    msg = update.effective_message
    refusal = await may_act(d, msg.chat_id, update.effective_user.id, ticket, via=via)
    if refusal is not None:
        await msg.reply_text(refusal)
    return refusal is None


async def at_desk(d: Deps, update: Update, action: Action, via: str) -> bool:
    """Whether a desk command was typed in a desk chat; elsewhere it is refused, logged and answered."""
    msg = update.effective_message
    if msg.chat_id in desk_chats(d):
        return True
    roles.refused(update.effective_user.id, action, f"chat:{msg.chat_id}", via)
    await msg.reply_text(texts.STAFF_NOT_DESK)
    return False


async def may_view(d: Deps, update: Update, via: str) -> bool:
    """/queue /board /rates: a desk chat and a staff role (any unit, grid worker or admin); else say why."""
    msg = update.effective_message
    if not await at_desk(d, update, Action.DESK_VIEW, via):
        return False
    if not await access.check(d, update.effective_user.id, Action.DESK_VIEW, via=via):
        await msg.reply_text(texts.STAFF_NO_ROLE_VIEW)
        return False
    return True


async def in_private(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff command typed in a private chat (a resident trying, or staff in the wrong place)."""
    msg = update.effective_message
    command = (msg.text or "").split(None, 1)[0].split("@", 1)[0]
    roles.refused(update.effective_user.id, Action.DESK_VIEW, f"chat:{msg.chat_id}", command)
    await msg.reply_text(texts.STAFF_COMMAND_PRIVATE)


# --- cards ------------------------------------------------------------------------------------------


def _unit_name(d: Deps, code: str) -> str:
    unit = d.community.unit(code)
    return unit.name if unit else code


def _level_name(d: Deps, level: str | None) -> str | None:
    if level is None:
        return None
    found = d.community.escalation_level(level)
    return found.name if found else level


def _target(d: Deps, unit_code: str) -> int | None:
    """The unit's chat, else the staff chat, else nowhere."""
    unit = d.community.unit(unit_code)
    return (unit.chat_id if unit and unit.chat_id else None) or d.staff_chat_id


def card_text(d: Deps, t: Ticket, resident_name: str, grid: str | None, header: str) -> str:
    now = d.now()
    return texts.staff_card(
        header, t.number, resident.complaint_name(d, t.category), _unit_name(d, t.unit), t.location, t.text,
        clocks.effective_due(t, now), resident_name, grid, texts.STATUS.get(t.status, t.status),
        texts.COLOUR_MARK[clocks.colour(t, now)], _level_name(d, t.escalation_level),
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


def _under(message_id: int | None) -> ReplyParameters | None:
    return ReplyParameters(message_id, allow_sending_without_reply=True) if message_id else None


async def _record(d: Deps, ticket_id: int, sent: Message | None, kind: PostKind) -> None:
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
    target = chat_id or _target(d, t.unit)
    text = card_text(d, t, resident_name, grid, header or texts.CARD_HEADER_NEW)
    markup = card_buttons(d, t) if target is not None and desk_for(d, target, t) else None
    await _record(d, t.id, await resident.safe_send(context, target, text, reply_markup=markup), kind)


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


async def _post_escalation_card(context: ContextTypes.DEFAULT_TYPE, d: Deps, esc: Escalation) -> None:
    async with d.db.session() as s:
        t = await s.get(Ticket, esc.ticket_id)
        owner = await s.get(Resident, t.resident_id) if t else None
    if t is None:
        return
    header = texts.card_header_escalated(_level_name(d, esc.level) or esc.level,
                                         texts.ESCALATION_REASON.get(esc.reason.value, esc.reason.value))
    await post_ticket(context, d, t, owner.name if owner else "", t.grid_code,
                      chat_id=esc.chat_id or d.staff_chat_id, header=header, kind=PostKind.ESCALATION)


# --- telling residents ------------------------------------------------------------------------------


async def _tell_residents(context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, text: str, *,
                          followers: bool = True) -> bool:
    """Send to the ticket's resident (and followers); True if the resident got it."""
    async with d.db.session() as s:
        ids = [t.resident_id, *(await duplicates.followers(s, t.id) if followers else [])]
        chats = await reports.tg_ids(s, ids)
    if not chats:
        return False
    owner, *others = chats
    ok = await resident.safe_send(context, owner, text) is not None
    for chat in others:
        await resident.safe_send(context, chat, text)
    return ok


# --- buttons ----------------------------------------------------------------------------------------


def _parse(arg: str) -> tuple[str, int, str] | None:
    """``LL-…-0001.3`` or ``LL-…-0001.3.wuye`` → (number, version, extra)."""
    parts = arg.split(".")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        return None
    number = tickets.parse_ticket_number(parts[0])
    return (number, int(parts[1]), parts[2] if len(parts) == 3 else "") if number else None


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """Staff card buttons (in desk chats) and the resident's rating buttons (in their private chat)."""
    q = update.callback_query
    if action == "rt":
        await _on_rating(update, context, arg)
        return
    d = deps(context)
    parsed = _parse(arg)
    if parsed is None or q.message is None or action not in ACTIONS:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    number, version, extra = parsed
    async with d.db.session() as s:
        t = await reports.ticket_by_number(s, number)
    if t is None:
        await q.answer(texts.STAFF_NO_TICKET, show_alert=True)
        return
    refusal = await may_act(d, q.message.chat.id, q.from_user.id, t, via=f"button:{action}")
    if refusal is not None:
        await q.answer(refusal, show_alert=True)
        return
    if action == "sx":
        await q.answer()
        await refresh_posts(context, d, t.id)
        return
    if version != t.version:  # someone acted since this card was drawn: say what happened instead
        await _answer(update, context, d, t, TransitionResult.conflict())
        return
    handler = {"ss": _sign, "sr": _choose_unit, "sru": _reassign, "sp": _prompt, "sd": _prompt,
               "se": _escalate}[action]
    await handler(update, context, d, t, action, extra)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, result: TransitionResult,
                  ok_text: str | None = None) -> None:
    """Answer the press with what happened, then redraw the cards (a conflict shows the new state).

    Answer first: edits in a busy group can wait on Telegram's flood limits, the answer must not."""
    q = update.callback_query
    async with d.db.session() as s:
        fresh = await s.get(Ticket, t.id)
    status = texts.STATUS.get(fresh.status, fresh.status)
    if result.ok:
        await q.answer(ok_text)
    elif result.outcome is Outcome.CONFLICT:
        await q.answer(texts.staff_conflict(status), show_alert=True)
    else:
        await q.answer(texts.staff_refused(result.reason or "not_allowed", status), show_alert=True)
    await refresh_posts(context, d, t.id)


async def _sign(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                extra: str) -> None:
    user = update.callback_query.from_user
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        if row.version != t.version:  # another press got there first, maybe while this one waited
            result = TransitionResult.conflict()
        elif row.status not in clocks.UNSIGNED:  # 待补充 → 签收 is legal, but only the resident's answer resumes
            result = TransitionResult.illegal(lifecycle.Refusal.NOT_ALLOWED)
        else:
            result = await lifecycle.transition(s, row, S.SIGNED, actor=staff_actor(user.id), now=d.now(),
                                                expected_version=t.version)
    await _answer(update, context, d, t, result, texts.STAFF_SIGNED)


async def _choose_unit(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                       extra: str) -> None:
    q = update.callback_query
    if t.status not in REASSIGNABLE:
        await _answer(update, context, d, t, TransitionResult.illegal(lifecycle.Refusal.NOT_ALLOWED))
        return
    arg = f"{t.number}.{t.version}"
    units = [keyboards.button(d.callback_secret, u.name, "sru", f"{arg}.{_unit_key(i, u.code)}")
             for i, u in enumerate(d.community.units) if u.code != t.unit]
    if not units:
        await q.answer(texts.STAFF_NO_OTHER_UNIT, show_alert=True)
        return
    back = keyboards.button(d.callback_secret, texts.BTN_UNIT_BACK, "sx", arg)
    await q.answer(texts.STAFF_CHOOSE_UNIT)
    await q.edit_message_reply_markup(reply_markup=keyboards.inline(*keyboards.rows(units, 2), [back]))


def _unit_key(index: int, code: str) -> str:
    """A unit in callback data: its code, or ``#index`` when a long code would pass the 64-byte limit."""
    return code if len(code) <= UNIT_KEY_MAX else f"#{index}"


def _unit_code(d: Deps, key: str) -> str:
    if key.startswith("#") and key[1:].isdigit() and int(key[1:]) < len(d.community.units):
        return d.community.units[int(key[1:])].code
    return key


async def _reassign(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                    key: str) -> None:
    user = update.callback_query.from_user
    code = _unit_code(d, key)
    old_unit = t.unit
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        result = await lifecycle.reassign(s, row, unit=code, reason=texts.REASSIGN_REASON, actor=staff_actor(user.id),
                                          now=d.now(), community=d.community, expected_version=t.version)
        owner = await s.get(Resident, row.resident_id)
    await _answer(update, context, d, t, result, texts.staff_reassigned(_unit_name(d, code)))
    if result.ok:
        await post_ticket(context, d, row, owner.name if owner else "", row.grid_code,
                          header=texts.card_header_reassigned(_unit_name(d, old_unit)))


async def _prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                  extra: str) -> None:
    """需补充 / 办结 need words from the staff member: ask for them with a ForceReply prompt."""
    q = update.callback_query
    status = texts.STATUS.get(t.status, t.status)
    if t.status in clocks.UNSIGNED:
        await q.answer(texts.STAFF_SIGN_FIRST, show_alert=True)
        return
    if t.status not in WORKING:
        await q.answer(texts.staff_refused("not_allowed", status), show_alert=True)
        return
    kind, prompt, hint = (
        (PostKind.ASK_RESULT, texts.staff_ask_result(t.number), texts.ASK_RESULT_PLACEHOLDER) if action == "sd"
        else (PostKind.ASK_INFO, texts.staff_ask_info(t.number), texts.ASK_INFO_PLACEHOLDER)
    )
    sent = await resident.safe_send(context, q.message.chat.id, prompt, reply_parameters=_under(q.message.message_id),
                       reply_markup=ForceReply(input_field_placeholder=hint))
    await _record(d, t.id, sent, kind)
    await q.answer(texts.STAFF_PROMPTED)


async def _escalate(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                    extra: str) -> None:
    user = update.callback_query.from_user
    esc = None
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        if row.version != t.version:
            result = TransitionResult.conflict()
        elif row.status not in OPEN_STATUSES:
            result = TransitionResult.illegal(lifecycle.Refusal.FINAL)
        else:
            esc = await sweep.escalate(s, row, reason=sweep.EscalationReason.MANUAL,
                                       actor=staff_actor(user.id), now=d.now(), community=d.community)
            result = TransitionResult(Outcome.OK) if esc else TransitionResult.conflict()
    level = _level_name(d, esc.level) if esc else None
    await _answer(update, context, d, t, result, texts.staff_escalated(level or ""))
    if esc is not None:
        await _post_escalation_card(context, d, esc)


# --- staff replies in desk chats ----------------------------------------------------------------------


async def on_staff_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to one of the bot's case messages: a prompt's answer, or words for the resident."""
    msg = update.effective_message
    d = deps(context)
    to = msg.reply_to_message
    if to is None or to.from_user is None or to.from_user.id != context.bot.id:
        return  # staff talking among themselves
    async with d.db.session() as s:
        post = await reports.find_post(s, msg.chat_id, to.message_id)
        t = await s.get(Ticket, post.ticket_id) if post else None
    if post is None or t is None:
        return
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


async def _resolve(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, text: str) -> None:
    actor = staff_actor(update.effective_user.id)
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        result = TransitionResult.illegal(lifecycle.Refusal.NOT_ALLOWED)
        if row.status is S.SIGNED:  # 办结 goes through 办理中; one press does both
            result = await lifecycle.transition(s, row, S.IN_PROGRESS, actor=actor, now=d.now())
        if row.status is S.IN_PROGRESS:
            result = await lifecycle.transition(s, row, S.RESOLVED, actor=actor, now=d.now(), result=text)
    msg = update.effective_message
    if not result.ok:
        await msg.reply_text(texts.staff_refused(result.reason or "not_allowed", texts.STATUS.get(row.status, "")))
        return
    await _tell_residents(context, d, row, texts.resident_resolved(row.number, _unit_name(d, row.unit), text))
    await msg.reply_text(texts.staff_resolved(row.number))
    await refresh_posts(context, d, row.id)


async def _ask_info(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, question: str) -> None:
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        result = await lifecycle.transition(s, row, S.PENDING_INFO, actor=staff_actor(update.effective_user.id),
                                            now=d.now(), note=question)
    msg = update.effective_message
    if not result.ok:
        await msg.reply_text(texts.staff_refused(result.reason or "not_allowed", texts.STATUS.get(row.status, "")))
        return
    told = await _tell_residents(context, d, row, texts.resident_need_info(row.number, _unit_name(d, row.unit),
                                                                          question), followers=False)
    await msg.reply_text(texts.staff_info_asked(row.number) if told else texts.STAFF_RELAY_FAILED)
    await refresh_posts(context, d, row.id)


async def _relay(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, text: str) -> None:
    """The unit's answer: recorded as a reply event, sent to the resident and followers."""
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        await events.record_event(s, row, kind=TicketEventKind.REPLY, actor=staff_actor(update.effective_user.id),
                                   now=d.now(), note=text)
    told = await _tell_residents(context, d, row, texts.resident_staff_reply(row.number, _unit_name(d, row.unit),
                                                                            text))
    await update.effective_message.reply_text(texts.STAFF_RELAYED if told else texts.STAFF_RELAY_FAILED)


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
    if not await at_desk(d, update, Action.TICKET_ACT, "/note"):
        return
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


# --- the resident's side of the conversation ----------------------------------------------------------


async def resident_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, number: str, text: str) -> bool:
    """The resident (or a follower) wrote about ``number``: goes under the case card, recorded; an answer
    to 待补充 resumes the case. False when it is not their ticket (the caller handles the text)."""
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    resumed = closed = False
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
            if not resumed:
                await events.record_event(s, t, kind=TicketEventKind.REPLY, actor=actor, now=now, note=text)
            card = await reports.latest_card(s, t.id)
        name = r.name
    if closed:
        await msg.reply_text(texts.RESIDENT_TICKET_CLOSED)
        return True
    target = card.chat_id if card else _target(d, t.unit)
    sent = await resident.safe_send(context, target, texts.staff_resident_said(t.number, name, text, resumed),
                       reply_parameters=_under(card.message_id if card else None))
    await _record(d, t.id, sent, PostKind.RELAY)
    if resumed:
        await refresh_posts(context, d, t.id)
    await msg.reply_text(texts.RESIDENT_INFO_THANKS if resumed else texts.RESIDENT_SENT)
    return True


async def pending_number(d: Deps, tg_user_id: int) -> str | None:
    async with d.db.session() as s:
        return await reports.pending_info_number(s, tg_user_id)


async def resident_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """Router helper: a reply to a bot message naming a ticket, or any text while a ticket waits for
    the resident (待补充), goes to the case. True when handled."""
    msg = update.effective_message
    to = msg.reply_to_message
    if to is not None and to.from_user is not None and to.from_user.id == context.bot.id:
        number = find_ticket_number(to.text or to.caption or "")
        if number and await resident_reply(update, context, number, text):
            return True
    number = await pending_number(deps(context), update.effective_user.id)
    return bool(number) and await resident_reply(update, context, number, text)


# --- follow-up rating -------------------------------------------------------------------------------


def rating_buttons(d: Deps, number: str) -> InlineKeyboardMarkup:
    return keyboards.inline([keyboards.button(d.callback_secret, label, "rt", f"{number}.{code}")
                             for code, label in texts.BTN_RATE.items()])


async def request_rating(context: ContextTypes.DEFAULT_TYPE, d: Deps, chat_id: int, number: str,
                         result: str | None) -> bool:
    """回访: ask the resident to rate (sent by bot.jobs once the follow-up delay has passed)."""
    sent = await resident.safe_send(context, chat_id, texts.rating_request(number, result),
                                    reply_markup=rating_buttons(d, number))
    return sent is not None


async def _on_rating(update: Update, context: ContextTypes.DEFAULT_TYPE, arg: str) -> None:
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
    if not mine:
        await q.answer(texts.RATING_NOT_YOURS, show_alert=True)
        return
    if not outcome.ok:
        await q.answer(texts.RATING_CLOSED, show_alert=True)
        await resident.drop_buttons(q)
        return
    await q.answer()
    await q.edit_message_text(texts.rating_thanks(number, code))
    await refresh_posts(context, d, t.id)
    if outcome.escalation is not None:
        await _post_escalation_card(context, d, outcome.escalation)


# --- what bot.jobs posts ------------------------------------------------------------------------------


async def post_reminder(context: ContextTypes.DEFAULT_TYPE, d: Deps, reminder: Reminder) -> None:
    """催办 under the ticket's card in its unit's chat (else the staff chat)."""
    target = reminder.chat_id or d.staff_chat_id
    if target is None:
        return
    async with d.db.session() as s:
        card = await reports.latest_card(s, reminder.ticket_id, chat_id=target)
    text = texts.staff_reminder(reminder.number, reminder.kind.value, reminder.due_at)
    sent = await resident.safe_send(context, target, text, reply_parameters=_under(card.message_id if card else None))
    await _record(d, reminder.ticket_id, sent, PostKind.RELAY)


async def post_escalation(context: ContextTypes.DEFAULT_TYPE, d: Deps, esc: Escalation) -> None:
    """The sweep escalated: the card goes to the level's chat (else the staff chat); old cards show the level."""
    await refresh_posts(context, d, esc.ticket_id)
    await _post_escalation_card(context, d, esc)


async def post_meeting(context: ContextTypes.DEFAULT_TYPE, d: Deps, ticket_id: int, at: datetime) -> bool:
    """调解会议 reminder in the unit's chat, under its card; True when Telegram took it."""
    async with d.db.session() as s:
        t = await s.get(Ticket, ticket_id)
        card = await reports.latest_card(s, ticket_id)
    if t is None:
        return False
    target = card.chat_id if card else _target(d, t.unit)
    sent = await resident.safe_send(context, target, texts.staff_meeting(t.number, at),
                                    reply_parameters=_under(card.message_id if card else None))
    await _record(d, ticket_id, sent, PostKind.RELAY)
    return sent is not None


# --- /queue /board /rates -----------------------------------------------------------------------------


async def _desk_open_tickets(d: Deps, chat_id: int) -> tuple[set[str] | None, list[Ticket]] | None:
    """The open tickets a desk chat sees (its units' or, for staff/escalation chats, all); None: no desk."""
    units = reports.desk_units(d.community, chat_id, d.staff_chat_id)
    if units is False:
        return None
    async with d.db.session() as s:
        return units or None, await reports.open_tickets(s, units or None)


async def on_queue(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """This chat's open tickets (its units', or all in the staff or an escalation chat) by colour."""
    d = deps(context)
    msg = update.effective_message
    found = await _desk_open_tickets(d, msg.chat_id) if await may_view(d, update, "/queue") else None
    if found is None:
        return
    units, open_ = found
    if not open_:
        await msg.reply_text(texts.QUEUE_EMPTY)
        return
    now = d.now()
    scope = "、".join(_unit_name(d, u) for u in sorted(units)) if units else texts.QUEUE_ALL
    lines = [texts.queue_header(scope, len(open_))]
    for colour, group in reports.by_colour(open_, now).items():
        if not group:
            continue
        lines.append(f"\n{texts.COLOUR_MARK[colour]}")
        lines += [texts.queue_line(t.number, resident.complaint_name(d, t.category), texts.STATUS.get(t.status, ""),
                                   clocks.effective_due(t, now)) for t in group[:QUEUE_LINES]]
        if len(group) > QUEUE_LINES:
            lines.append(texts.queue_more(len(group) - QUEUE_LINES))
    await msg.reply_text("\n".join(lines))


async def on_board(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open tickets counted by unit and colour."""
    d = deps(context)
    msg = update.effective_message
    found = await _desk_open_tickets(d, msg.chat_id) if await may_view(d, update, "/board") else None
    if found is None:
        return
    _, open_ = found
    await msg.reply_text(texts.board(reports.board_rows(open_, d.now(), d.community)))


async def on_rates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """三率 (response, resolution, satisfaction) over the tickets opened in the last 30 days."""
    d = deps(context)
    msg = update.effective_message
    if not await may_view(d, update, "/rates"):
        return
    async with d.db.session() as s:
        view = await reports.recent_rates(s, d.now())
    r = view.rates
    counts = tuple(f"{x.hits}/{x.total}" for x in (r.response, r.resolution, r.satisfaction))
    await msg.reply_text(texts.rates(view.days, r.response.value, r.resolution.value, r.satisfaction.value,
                                     counts, r.unrated))


def register(app: Application) -> None:
    """Group-chat handlers; call before the router's catch-all group command handler."""
    app.add_handler(CommandHandler("queue", on_queue, filters=GROUPS))
    app.add_handler(CommandHandler("board", on_board, filters=GROUPS))
    app.add_handler(CommandHandler("rates", on_rates, filters=GROUPS))
    app.add_handler(CommandHandler("note", on_note, filters=GROUPS))
    app.add_handler(MessageHandler(GROUPS & filters.TEXT & ~filters.COMMAND & filters.REPLY, on_staff_text))


__all__ = [
    "ACTIONS",
    "COMMANDS",
    "at_desk",
    "card_buttons",
    "desk_for",
    "in_private",
    "may_act",
    "on_button",
    "post_escalation",
    "post_meeting",
    "post_reminder",
    "post_ticket",
    "refresh_posts",
    "register",
    "request_rating",
    "resident_reply",
    "resident_text",
    "typed_may_act",
]
