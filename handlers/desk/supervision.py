"""督办 in chat: a supervisor presses the handling unit on a case, the unit answers, everyone sees where it stands.

::

    /supervise LL-… 原因 [3天 | 2个工作日 | 48小时 | 11-30 18:00]   (a supervisor or admin; private or desk chat)
        ──▶ services.cases.supervision.supervise ──same transaction──▶ the card (header 🔔 督办工单) and the
            督办 message under it in the unit's chat, older cards redrawn with the line "督办：… 回复期限 …"
    /answer LL-… 答复   or a reply to the 督办 message   (the unit's desk, as for any act on the case)
        ──▶ supervision.answer ──▶ the supervisor told (on time or late), the cards redrawn
    /supervisions ──▶ 督办 waiting for an answer, overdue ones marked;  /board counts them too

Supervisors read but never act: the card's buttons refuse them (``access.may_act``: no TICKET_ACT).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from telegram import Message, Update
from telegram.ext import Application, ApplicationHandlerStop, CommandHandler, ContextTypes, MessageHandler, filters

from handlers import access, cards, texts
from handlers.deps import KEY, Deps, deps
from handlers.desk.access import desk_or_private, may_on_case, typed_may_act
from handlers.names import unit_name
from handlers.order import EARLY
from handlers.replies import owed_now
from handlers.taking_part import RepliesTo
from services import when
from services.cases import desk as reports
from services.cases import supervision, tickets
from services.cases.events import staff_actor
from services.cases.working_time import add_working_time, calendar, day_length
from services.community.model import Community
from services.people import roles
from services.people.roles import Action
from storage.models import RoleName, Supervision, Ticket

DEFAULT_REPLY = timedelta(days=3)
MAX_DAYS = 90
LIST_LINES = 30
_FULL_WIDTH = str.maketrans("０１２３４５６７８９", "0123456789")
_DAYS = re.compile(r"^(\d{1,3})(?:天|日)(?:内)?$")
_WORKDAYS = re.compile(r"^(\d{1,3})个?工作日(?:内)?$")
_HOURS = re.compile(r"^(\d{1,4})(?:个)?(?:小时|h|H)(?:内)?$")


# --- reading the command -----------------------------------------------------------------------------------


def reply_deadline(words: list[str], now: datetime, community: Community) -> tuple[datetime | None, list[str]]:
    """The reply deadline at the end of ``words`` (3天, 2个工作日, 48小时, 11-30 18:00, 2026-11-30 18:00) and the
    words before it; (None, words) when they end in no deadline."""
    if words:
        last = words[-1].translate(_FULL_WIDTH)
        if (m := _DAYS.match(last)) and 0 < int(m[1]) <= MAX_DAYS:
            return now + timedelta(days=int(m[1])), words[:-1]
        if (m := _WORKDAYS.match(last)) and 0 < int(m[1]) <= MAX_DAYS:
            working = community.working_time
            return add_working_time(now, int(m[1]) * day_length(working), hours=working.day,
                                    workday=calendar(working)), words[:-1]
        if (m := _HOURS.match(last)) and 0 < int(m[1]) <= MAX_DAYS * 24:
            return now + timedelta(hours=int(m[1])), words[:-1]
    for n in (2, 1):
        if len(words) >= n:  # a deadline alone leaves no reason: the reason check answers
            at = when.parse(" ".join(words[-n:]), now)
            if at is not None:
                return at, words[:-n]
    return None, words


def parse_supervise(text: str, now: datetime, community: Community) -> tuple[str, str, datetime] | None:
    """``/supervise LL-… 原因 [期限]`` → (number, reason, reply deadline); None when there is no valid number."""
    words = text.split()[1:]
    number = tickets.parse_ticket_number(words[0]) if words else None
    if number is None:
        return None
    reply_by, rest = reply_deadline(words[1:], now, community)
    return number, " ".join(rest), reply_by or now + DEFAULT_REPLY


class _CaseFirst(filters.MessageFilter):
    """``/answer`` naming a case (``/answer LL-… …``): the 码上议 ``/answer JY-…`` is the participation desk's."""

    def filter(self, message: Message) -> bool:
        words = (message.text or "").split()
        return len(words) > 1 and tickets.parse_ticket_number(words[1]) is not None


# --- 督办 ----------------------------------------------------------------------------------------------------


async def _ticket(d: Deps, number: str) -> Ticket | None:
    async with d.db.session() as s:
        return await reports.ticket_by_number(s, number)


async def on_supervise(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/supervise LL-… 原因 [回复期限]`` by a supervisor or an admin."""
    await _supervise(update, deps(context), context)
    raise ApplicationHandlerStop


async def _supervise(update: Update, d: Deps, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg, user = update.effective_message, update.effective_user
    if not await desk_or_private(d, update, Action.SUPERVISE, "/supervise"):
        return
    parsed = parse_supervise(msg.text or "", d.now(), d.community)
    if parsed is None:
        await msg.reply_text(texts.SUPERVISE_USAGE)
        return
    number, reason, reply_by = parsed
    found = await _ticket(d, number)
    if found is None:
        await msg.reply_text(texts.TICKET_NOT_FOUND_STAFF)
        return
    if not await may_on_case(d, msg.chat_id, user.id, Action.SUPERVISE, found, via="/supervise"):
        await msg.reply_text(texts.SUPERVISE_NO_ROLE)
        return
    async with d.db.transaction() as s:
        t = await s.get(Ticket, found.id)
        assert t is not None
        done = await supervision.supervise(s, t, reason=reason, reply_by=reply_by, supervisor_tg_id=user.id,
                                           now=d.now())
        if done.ok:
            await cards.owe_refresh(s, d, t)  # cards already posted show the 督办 line
            target = cards.unit_chat(d, t.unit)
            await cards.owe_card(s, d, t, chat_id=target, header=texts.CARD_HEADER_SUPERVISED)
            await cards.owe_under_card(s, d, t, texts.staff_supervised(number, reason, reply_by), chat_id=target)
    if not done.ok:
        assert done.reason is not None
        await msg.reply_text(texts.SUPERVISE_REFUSED[done.reason.value] + "\n\n" + texts.SUPERVISE_USAGE)
        return
    owed_now(context, update)
    d.wake_sender()
    await msg.reply_text(texts.supervise_done(number, unit_name(d, found.unit), reply_by))


def words_after_command(msg: Message) -> list[str]:
    return (msg.text or "").split()[1:]


# --- the unit's answer ---------------------------------------------------------------------------------------


async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/answer LL-… 答复内容`` in the unit's desk."""
    words = words_after_command(update.effective_message)
    await _answer(update, context, tickets.parse_ticket_number(words[0]) or "", " ".join(words[1:]), via="/answer")
    raise ApplicationHandlerStop


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A reply to the 督办 message under a card is the unit's answer."""
    msg = update.effective_message
    head = ((msg.reply_to_message.text or "") if msg.reply_to_message else "").split("\n", 1)[0]
    number = tickets.find_ticket_number(head)
    if number is None:
        return
    await _answer(update, context, number, msg.text or "", via="reply:supervision")
    raise ApplicationHandlerStop


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, number: str, text: str, *, via: str) -> None:
    d, msg, user = deps(context), update.effective_message, update.effective_user
    if not number:
        await msg.reply_text(texts.ANSWER_CASE_USAGE)
        return
    found = await _ticket(d, number)
    if found is None:
        await msg.reply_text(texts.TICKET_NOT_FOUND_STAFF)
        return
    if not text.strip():
        await msg.reply_text(texts.SUPERVISE_REFUSED["empty_answer"] + "\n" + texts.ANSWER_CASE_USAGE)
        return
    if not await typed_may_act(d, update, found, via):  # the unit answers, as it acts on the case
        return
    assert found.id is not None
    async with d.db.transaction() as s:
        pending = await supervision.pending(s, found.id)
        done = await supervision.answer(s, pending, text=text, actor=staff_actor(user.id),
                                        now=d.now()) if pending else None
        on_time = bool(pending and supervision.on_time(pending))
        if pending is not None and done is not None and done.ok:
            await cards.owe_message(s, d, pending.supervisor_tg_id, texts.supervisor_told_answer(
                number, unit_name(d, found.unit), text.strip(), on_time))
            await cards.owe_refresh(s, d, found)
    if done is None:
        await msg.reply_text(texts.supervision_nothing_pending(number))
        return
    if not done.ok:
        assert done.reason is not None
        await msg.reply_text(texts.SUPERVISE_REFUSED[done.reason.value])
        return
    owed_now(context, update)
    d.wake_sender()
    await msg.reply_text(texts.supervision_answered(number, on_time))


# --- lists, the board, the card ------------------------------------------------------------------------------


async def _scope_units(d: Deps, update: Update) -> set[str] | bool | None:
    """Whose 督办 a chat sees: a unit chat its units', the staff or an escalation chat all; in a private chat a
    supervisor or admin sees their scope (False: nobody there may look)."""
    chat = update.effective_chat
    if chat is not None and chat.type != "private":
        units = reports.desk_units(d.community, chat.id, d.staff_chat_id)
        return False if units is False else (units or None)
    grants = await access.grants_of(d, update.effective_user.id)
    if any(g.role is RoleName.ADMIN or (g.role is RoleName.SUPERVISOR and not g.scope) for g in grants):
        return None
    scoped = {g.scope for g in grants if g.role is RoleName.SUPERVISOR and g.scope}
    if not scoped:
        return False
    return {u.code for u in d.community.units if u.code in scoped} | (
        {u.code for u in d.community.units} if any(d.community.escalation_level(x) for x in scoped) else set())


async def on_list(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/supervisions``: the 督办 waiting for an answer, earliest deadline (so the overdue) first."""
    d = deps(context)
    if await desk_or_private(d, update, Action.DESK_VIEW, "/supervisions"):
        await _list(update, d)
    raise ApplicationHandlerStop


async def _list(update: Update, d: Deps) -> None:
    msg = update.effective_message
    allowed = await access.check(d, update.effective_user.id, Action.DESK_VIEW, via="/supervisions")
    units = await _scope_units(d, update) if allowed else False
    if units is False:  # no role, or staff in a private chat (their desk is their unit's chat)
        if allowed:
            roles.refused(update.effective_user.id, Action.DESK_VIEW, f"chat:{msg.chat_id}", "/supervisions",
                          now=d.now())
        # staff have a role: their 督办 are their unit's, seen in its chat (not "ask for a role")
        await msg.reply_text(texts.SUPERVISIONS_PRIVATE_STAFF if allowed else texts.REPORT_NO_ROLE)
        return
    async with d.db.session() as s:
        rows = await supervision.unanswered(s, units if isinstance(units, set) else None)
    if not rows:
        await msg.reply_text(texts.SUPERVISIONS_NONE)
        return
    now = d.now()
    overdue = [r for r in rows if r[0].reply_by <= now]
    lines = [texts.supervisions_header(len(rows), len(overdue))]
    lines += [texts.supervision_item(t.number, unit_name(d, t.unit), sup.reason, sup.reply_by, sup.reply_by <= now)
              for sup, t in rows[:LIST_LINES]]
    if len(rows) > LIST_LINES:
        lines.append(texts.report_more(len(rows) - LIST_LINES))
    await msg.reply_text("\n".join(lines))


async def board_note(d: Deps, units: set[str] | None) -> str | None:
    """The /board line counting the 督办 waiting for an answer (None when there are none)."""
    async with d.db.session() as s:
        rows = await supervision.unanswered(s, units)
    if not rows:
        return None
    return texts.board_supervisions(len(rows), sum(sup.reply_by <= d.now() for sup, _ in rows))


async def overdue_count(d: Deps, now: datetime, unit: str | None = None, grid: str | None = None,
                        grids: tuple[str, ...] = ()) -> int:
    """Unanswered 督办 past their deadline (of one unit or grid, of any of ``grids``, or all): counted in reports."""
    async with d.db.session() as s:
        rows = await supervision.unanswered(s, {unit} if unit else None)
    return sum(sup.reply_by <= now and (not grid or t.grid_code == grid) and (not grids or t.grid_code in grids)
               for sup, t in rows)


def line_of(latest: Supervision | None, now: datetime) -> str | None:
    if latest is None:
        return None
    return texts.supervision_line(latest.reason, latest.reply_by, latest.answered_at is not None,
                                  supervision.on_time(latest), latest.reply_by <= now)


async def card_line(d: Deps, ticket_id: int | None) -> str | None:
    """The card's line about the case's latest 督办 (``handlers.owed`` draws cards with it), None without one."""
    if ticket_id is None:
        return None
    async with d.db.session() as s:
        found = await supervision.supervisions_of(s, ticket_id)
    return line_of(found[-1] if found else None, d.now())


async def tick(app: Application) -> int:
    """督办 whose reply deadline passed unanswered: the unit's desk is told under the card (a reply to it answers)
    and the supervisor privately, each once (an internal note in the case records it, in the same transaction as
    what is owed). Wired into ``bot.jobs.desk_tick``; returns how many."""
    d: Deps = app.bot_data[KEY]
    now = d.now()
    async with d.db.transaction() as s:
        due = await supervision.overdue_unalerted(s, now)
        for sup, t in due:
            await cards.owe_under_card(s, d, t, texts.staff_supervision_overdue(t.number, sup.reason, sup.reply_by),
                                       chat_id=cards.unit_chat(d, t.unit))
            if sup.supervisor_tg_id is not None:
                await cards.owe_message(s, d, sup.supervisor_tg_id,
                                        texts.supervisor_told_overdue(t.number, unit_name(d, t.unit), sup.reply_by))
            await supervision.overdue_alerted(s, sup, t, now)
            await cards.owe_refresh(s, d, t)  # the cards' 督办 line turns to 已逾期
    if due:
        d.wake_sender()
    return len(due)


def register(app: Application) -> None:
    """Ahead of the router's catch-alls (which would answer a private or group command) and of the participation
    desk's ``/answer`` (码上议), which keeps every ``/answer`` that names no case."""
    app.add_handler(CommandHandler("supervise", on_supervise), group=EARLY)
    app.add_handler(CommandHandler("supervisions", on_list), group=EARLY)
    app.add_handler(CommandHandler("answer", on_answer, filters=filters.ChatType.GROUPS & _CaseFirst()), group=EARLY)
    app.add_handler(MessageHandler(filters.ChatType.GROUPS & filters.TEXT & ~filters.COMMAND
                                   & RepliesTo(texts.SUPERVISION_MARK), on_reply), group=EARLY)


__all__ = ["board_note", "card_line", "line_of", "on_answer", "on_list", "on_reply", "on_supervise",
           "overdue_count", "parse_supervise", "register", "reply_deadline", "tick"]
