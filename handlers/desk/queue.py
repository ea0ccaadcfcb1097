"""/queue /board /rates /case: what a desk chat sees of its open cases, by colour and unit, the 三率, and one
case's card brought back with its buttons. A grid worker's /queue and /case work in their private chat too, on
their grids' cases.
"""

from __future__ import annotations

from datetime import timedelta

from telegram import Update
from telegram.ext import ContextTypes

from handlers import access, cards, keyboards, texts
from handlers.deps import Deps, deps
from handlers.desk import supervision
from handlers.desk.access import may_on_case, may_view, not_here
from handlers.names import unit_name
from services import local
from services.cases import clocks, tickets
from services.cases import desk as reports
from services.outbox import Priority
from services.people import roles
from services.people.roles import Action
from services.reports.export import show
from services.reports.figures import ALL, Filter, figures_for
from services.reports.periods import Period, PeriodKind
from storage.models import Ticket

QUEUE_LINES = 20  # per colour: /queue stays one readable message
QUEUE_BUTTONS = 24  # cases with a 详情 button under /queue, most urgent first (Telegram allows 100 buttons)


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
    scope = "、".join(unit_name(d, u) for u in sorted(units)) if units else texts.QUEUE_ALL
    await _show_queue(d, update, scope, open_)


async def on_private_queue(update: Update, context: ContextTypes.DEFAULT_TYPE, grids: list[str]) -> None:
    """A grid worker's /queue in their private chat: the open cases of their grids (not their own complaints),
    each with its 详情 button, which brings the card here with its buttons."""
    d = deps(context)
    async with d.db.session() as s:
        me = await reports.resident_by_tg(s, update.effective_user.id)
        open_ = [t for t in await reports.open_tickets(s, None, grids=grids)
                 if me is None or t.resident_id != me.id]
    scope = "、".join(texts.grid_label(g, info.name if (info := d.community.grid(g)) else None, None) for g in grids)
    await _show_queue(d, update, scope, open_)


async def _show_queue(d: Deps, update: Update, scope: str, open_: list[Ticket]) -> None:
    msg = update.effective_message
    if not open_:
        await msg.reply_text(texts.QUEUE_EMPTY)
        return
    now = d.now()
    lines = [texts.queue_header(scope, len(open_))]
    urgent: list[tuple[clocks.Colour, Ticket]] = []
    for colour, group in reports.by_colour(open_, now).items():
        if not group:
            continue
        lines.append(f"\n{texts.COLOUR_MARK[colour]}")
        lines += [texts.queue_line(t.number, cards.case_category(d, t), texts.STATUS.get(t.status, ""),
                                   due := clocks.effective_due(t, now),
                                   now - due if colour is clocks.Colour.RED and due < now else None)
                  for t in group[:QUEUE_LINES]]
        if len(group) > QUEUE_LINES:
            lines.append(texts.queue_more(len(group) - QUEUE_LINES))
        urgent += [(colour, t) for t in group]
    buttons = [keyboards.button(d.callback_secret, texts.queue_button(texts.COLOUR_MARK[colour], t.number), "sv",
                                f"{t.number}.{t.version}") for colour, t in urgent[:QUEUE_BUTTONS]]
    await msg.reply_text("\n".join(lines), reply_markup=keyboards.inline(*keyboards.rows(buttons, 3)))


async def on_case(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/case LL-…: the case's card again, with the buttons this chat may use, in any desk chat it belongs to."""
    d = deps(context)
    msg = update.effective_message
    private = msg.chat.type == "private"  # a grid worker's or a supervisor's (handlers.desk.private)
    if not private and not await may_view(d, update, "/case"):
        return
    number = tickets.find_ticket_number(" ".join(context.args or []))
    async with d.db.session() as s:
        t = await reports.ticket_by_number(s, number) if number else None
    if t is None:
        await msg.reply_text(texts.CASE_USAGE if not number else texts.TICKET_NOT_FOUND_STAFF)
        return
    grants = await access.grants_of(d, update.effective_user.id)
    if roles.is_supervisor(grants) and not roles.can(grants, Action.TICKET_ACT, roles.ticket_scope(t, d.community)):
        await _supervisor_case(d, update, t)
        return
    if not await cards.is_desk(d, msg.chat_id, t):  # in another unit's group: say whose it is and where to look
        await msg.reply_text(texts.case_elsewhere(t.number, unit_name(d, t.unit)) if not private
                             else await not_here(d, msg.chat_id, t))
        return
    async with d.db.transaction() as s:
        await cards.owe_card(s, d, t, chat_id=msg.chat_id, header=texts.CARD_HEADER_TICKET, priority=Priority.REPLY)
    d.wake_sender()


async def _supervisor_case(d: Deps, update: Update, t: Ticket) -> None:
    """A supervisor's /case (in a desk chat or privately): the card to read, without the buttons they may not press
    or the hint to answer the resident. Posted like the desk's cards (through the outbox, recorded as a read-only
    post), so it is redrawn whenever the case changes, as theirs are, and never shows a state long gone; never with
    buttons, and a reply to it goes nowhere. Their role must cover the case (a unit's supervisor reads that
    unit's), as for /history."""
    msg = update.effective_message
    if not await may_on_case(d, msg.chat_id, update.effective_user.id, Action.CASE_VIEW, t, via="/case",
                             keep_allowed=False):
        await msg.reply_text(texts.HISTORY_NO_ROLE)
        return
    async with d.db.transaction() as s:
        await cards.owe_read_only_card(s, d, t, chat_id=msg.chat_id)
    d.wake_sender()


async def on_board(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open tickets counted by unit and colour."""
    d = deps(context)
    msg = update.effective_message
    found = await _desk_open_tickets(d, msg.chat_id) if await may_view(d, update, "/board") else None
    if found is None:
        return
    units, open_ = found
    note = await supervision.board_note(d, units)  # 督办 waiting for an answer, overdue ones counted
    await msg.reply_text(texts.board(reports.board_rows(open_, d.now(), d.community)) + (f"\n{note}" if note else ""))


async def on_rates(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """三率 over the tickets received in the last 30 days (today included), of the chat's units (each its own) or, in
    the staff or an escalation chat, of the whole community: computed as the reports compute them, so /rates and
    /report never disagree (a unit's chat was shown the whole community's figures, unlabelled)."""
    d = deps(context)
    msg = update.effective_message
    if not await may_view(d, update, "/rates"):
        return
    units = reports.desk_units(d.community, msg.chat_id, d.staff_chat_id)
    now = d.now()
    today = local(now).date()
    period = Period(PeriodKind.RANGE, today - timedelta(days=reports.RATES_DAYS - 1), today)
    blocks = []
    async with d.db.session() as s:
        for code in sorted(units) if isinstance(units, set) else [None]:
            found = await figures_for(s, period, community=d.community, as_of=now, filt=Filter(unit=code),
                                      snapshot=False)
            f = found.get(ALL, {})
            blocks.append(texts.rates(unit_name(d, code) if code else d.community.name, reports.RATES_DAYS,
                                      show(f.get("response_rate")), show(f.get("on_time_rate")),
                                      show(f.get("satisfaction_rate")),
                                      str(f["unrated"].numerator if "unrated" in f else 0),
                                      str(f["unreachable"].numerator if "unreachable" in f else 0)))
    await msg.reply_text("\n\n".join(blocks))


__all__ = ["on_board", "on_case", "on_private_queue", "on_queue", "on_rates"]
