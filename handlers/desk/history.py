"""``/history LL-… [页码]``: every action on a case — by whom, in which chat, when — refusals included, a page at a
time (◀ 较早 · 较新 ▶ turn it in place), for the desk that may see the case and its supervisors.

The story is ``services.cases.history``: the case's events merged with the audit table's attempts. Reading it is
checked (Action.CASE_VIEW on the case's scope) on the command and on every page; a refused look is kept in the
trail, an allowed one is not (looking is no act on the case).
"""

from __future__ import annotations

from telegram import InlineKeyboardMarkup, Update
from telegram.error import BadRequest
from telegram.ext import Application, ApplicationHandlerStop, CallbackQueryHandler, CommandHandler, ContextTypes

from handlers import keyboards, texts
from handlers.callbacks import unpack
from handlers.deps import Deps, deps
from handlers.desk.access import desk_chats, desk_or_private, may_on_case
from handlers.names import level_name, unit_name
from handlers.order import EARLY
from handlers.replies import answer_quietly
from handlers.taking_part import pattern
from services.cases import desk as desks
from services.cases import history, tickets
from services.people import roles
from services.people.roles import Action
from storage.models import Ticket

PAGE = 12  # lines a page: one readable message, well within Telegram's 4,096 characters
ACTION = "hp"  # callback: number.page


def chat_name(d: Deps, chat_id: int | None) -> str | None:
    if chat_id is None:
        return None
    if chat_id == d.staff_chat_id:
        return texts.HISTORY_CHAT_STAFF
    if chat_id > 0:
        return texts.HISTORY_CHAT_PRIVATE
    unit = next((u for u in d.community.units if u.chat_id == chat_id), None)
    if unit is not None:
        return texts.history_unit_chat(unit.name)
    level = next((e for e in d.community.escalation if e.chat_id == chat_id), None)
    return texts.history_unit_chat(level.name) if level is not None else texts.history_other_chat(chat_id)


def who(step: history.Step, users: dict[int, str], residents: dict[int, str]) -> str:
    if step.actor == "system":
        return texts.HISTORY_SYSTEM
    if step.resident_id is not None:
        return texts.history_resident(residents.get(step.resident_id))
    uid = step.user_id
    if uid is None:
        return step.actor
    if step.actor.startswith("supervisor:"):
        return texts.history_supervisor(users.get(uid), uid)
    return texts.history_staff(users.get(uid), uid)


def what(d: Deps, step: history.Step) -> str:
    """The action in words: an event with its details, or an attempt by its command or button."""
    via = texts.HISTORY_VIA.get(step.via)  # a button or a reply; a typed command is plain from the event
    e = step.event
    if e is None:
        return via or step.via or texts.HISTORY_ACTION.get(step.action, step.action)
    kind, note = e.kind.value, e.note
    if kind in ("reminded", "status_changed") and note in texts.HISTORY_NOTE:  # the system's codes, in words
        note = texts.HISTORY_NOTE[note]
    if kind == "status_changed" and e.to_status is not None:
        frm = texts.STATUS.get(e.from_status.value) if e.from_status else None
        said = texts.history_with(texts.history_status(frm, texts.STATUS.get(e.to_status.value, e.to_status.value)),
                                  note)
    elif kind == "escalated":
        said = texts.history_with(texts.HISTORY_EVENT[kind], level_name(d, e.level) or e.level)
    elif kind == "reassigned":
        said = texts.history_with(texts.HISTORY_EVENT[kind], "，".join(
            x for x in (unit_name(d, e.unit) if e.unit else "", note or "") if x))
    elif kind == "rated":
        said = texts.history_with(texts.HISTORY_EVENT[kind], "，".join(
            x for x in (texts.HISTORY_RATING.get(e.rating.value, "") if e.rating else "", note or "") if x))
    elif kind == "mediation":
        said = texts.history_with(texts.HISTORY_EVENT[kind], texts.MEDIATION_STAGE.get(
            e.mediation_stage.value, "") if e.mediation_stage else note)
    elif kind == "supervised" and e.meeting_at is not None:
        said = texts.history_supervised(note, e.meeting_at)
    else:
        said = texts.history_with(texts.HISTORY_EVENT.get(kind, kind), note)
    return f"{via}，{said}" if via else said


async def page_view(d: Deps, ticket: Ticket, page: int | None) -> tuple[str, InlineKeyboardMarkup | None]:
    """One page of the case's story (the newest when ``page`` is None) and the buttons to turn it."""
    assert ticket.id is not None
    async with d.db.session() as s:
        steps = await history.of_case(s, ticket.id)
        users, residents = await history.names(s, steps)
    if not steps:
        return texts.HISTORY_EMPTY, None
    pages = (len(steps) + PAGE - 1) // PAGE
    page = pages if page is None else min(max(page, 1), pages)
    lines = [texts.history_header(ticket.number, page, pages, len(steps))]
    lines += [texts.history_line(st.at, who(st, users, residents), chat_name(d, st.chat_id), what(d, st),
                                 not st.allowed) for st in steps[(page - 1) * PAGE:page * PAGE]]
    turn = []
    if page > 1:
        turn.append(keyboards.button(d.callback_secret, texts.BTN_HISTORY_OLDER, ACTION, f"{ticket.number}.{page - 1}"))
    if page < pages:
        turn.append(keyboards.button(d.callback_secret, texts.BTN_HISTORY_NEWER, ACTION, f"{ticket.number}.{page + 1}"))
    return "\n".join(lines), keyboards.inline(turn) if turn else None


async def _ticket(d: Deps, number: str) -> Ticket | None:
    async with d.db.session() as s:
        return await desks.ticket_by_number(s, number)


async def on_history(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _history(update, deps(context), list(context.args or []))
    raise ApplicationHandlerStop


async def _history(update: Update, d: Deps, words: list[str]) -> None:
    msg = update.effective_message
    if not await desk_or_private(d, update, Action.CASE_VIEW, "/history"):
        return
    number = tickets.parse_ticket_number(words[0]) if words else None
    page_word = words[1] if len(words) > 1 else None
    if number is None or len(words) > 2 or (page_word is not None and not page_word.isdigit()):
        await msg.reply_text(texts.HISTORY_USAGE)
        return
    found = await _ticket(d, number)
    if found is None:
        await msg.reply_text(texts.TICKET_NOT_FOUND_STAFF)
        return
    if not await may_on_case(d, msg.chat_id, update.effective_user.id, Action.CASE_VIEW, found, via="/history",
                             keep_allowed=False):
        await msg.reply_text(texts.HISTORY_NO_ROLE)
        return
    text, markup = await page_view(d, found, int(page_word) if page_word else None)
    await msg.reply_text(text, reply_markup=markup)


async def on_page(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """◀ 较早 · 较新 ▶: the same checks as the command, then the page drawn in place."""
    await _page(update, deps(context))
    raise ApplicationHandlerStop


async def _page(update: Update, d: Deps) -> None:
    q = update.callback_query
    cb = unpack(d.callback_secret, q.data)
    number, _, page = (cb.arg if cb else "").rpartition(".")
    parsed = tickets.parse_ticket_number(number) if number else None
    if cb is None or q.message is None or parsed is None or not page.isdigit():
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    chat_id = q.message.chat.id
    if q.message.chat.type != "private" and chat_id not in desk_chats(d):
        roles.refused(q.from_user.id, Action.CASE_VIEW, f"chat:{chat_id}", f"button:{ACTION}", now=d.now())
        await q.answer(texts.STAFF_NOT_DESK, show_alert=True)
        return
    found = await _ticket(d, parsed)
    if found is None:
        await q.answer(texts.STAFF_NO_TICKET, show_alert=True)
        return
    if not await may_on_case(d, chat_id, q.from_user.id, Action.CASE_VIEW, found, via=f"button:{ACTION}",
                             keep_allowed=False):
        await q.answer(texts.HISTORY_NO_ROLE, show_alert=True)
        return
    text, markup = await page_view(d, found, int(page))
    try:
        await q.edit_message_text(text, reply_markup=markup)
    except BadRequest as exc:  # pressed twice: the page is already shown
        if "not modified" not in str(exc):
            raise
    await answer_quietly(q)


def register(app: Application) -> None:
    """Ahead of the router's catch-alls (a private or group command) and its callback router."""
    app.add_handler(CommandHandler("history", on_history), group=EARLY)
    app.add_handler(CallbackQueryHandler(on_page, pattern=pattern(ACTION)), group=EARLY)


__all__ = ["chat_name", "on_history", "on_page", "page_view", "register", "what", "who"]
