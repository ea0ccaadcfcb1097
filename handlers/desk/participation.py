"""The desk's side of residents taking part: partner applications (通过 · 拒绝 with a reason), open orders and
/assign, proposals answered in chat (a reply to the card, or /answer) with 办复率, the three lists (/lists, a
notice now or monthly), and :func:`tick`, the periodic part (orders nobody took go to the desk; monthly lists).

Commands work in a desk chat or a staff member's private chat, role-checked on every use (``participation.manage``);
a resident's /lists in private shows their own grid.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Message, Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers import access, cards, keyboards, texts
from handlers.access import target_user
from handlers.callbacks import unpack
from handlers.deps import KEY, Deps, deps
from handlers.people import resident_of
from handlers.replies import answer_quietly, drop_buttons, owed_now
from handlers.resident.orders import owe_taken
from handlers.taking_part import GROUP, GROUPS, RepliesTo, ask, desk_chat, may, pattern, prompt_id, service_name
from services import local
from services.notices import broadcast as notices
from services.participation import lists, orders, partners, proposals
from services.participation.common import tg_of
from services.people import roles
from services.people.residents import get_resident
from services.people.roles import Action
from storage.models import AudienceKind, NoticeKind, Partner, PartnerStatus, Resident, ServiceOrder

log = logging.getLogger(__name__)
ACTIONS = ("pd", "pr")
LISTED = 15


# --- partner applications -------------------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """通过 (pd) · 拒绝 (pr) on an application card."""
    q, d = update.callback_query, deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is None or q.message is None or not cb.arg.isdigit():
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    if not await may(d, update, Action.PARTICIPATION, f"button:{cb.action}"):
        raise ApplicationHandlerStop
    if cb.action == "pr":
        async with d.db.session() as s:
            row = await s.get(Partner, int(cb.arg))
        if row is None or row.status is not PartnerStatus.PENDING:
            await q.answer(texts.PARTNER_DECIDED, show_alert=True)
            await drop_buttons(q)
        else:
            await answer_quietly(q)
            await ask(q.message, texts.partner_refuse_prompt(int(cb.arg)), texts.REFUSE_PLACEHOLDER)
        raise ApplicationHandlerStop
    await _decide(update, context, int(cb.arg), approve=True, reason=None)
    raise ApplicationHandlerStop


async def on_refuse_reason(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The reply to a 拒绝理由 prompt: the application is refused with it, the applicant told."""
    d, msg = deps(context), update.effective_message
    partner_id = prompt_id(msg)
    reason = (msg.text or "").strip()
    if partner_id is None:
        raise ApplicationHandlerStop
    if not await may(d, update, Action.PARTICIPATION, "refuse reason"):
        raise ApplicationHandlerStop
    if not any(c.isalnum() for c in reason):  # punctuation alone is no reason
        await msg.reply_text(texts.REFUSE_REASON_EMPTY)
        raise ApplicationHandlerStop
    await _decide(update, context, partner_id, approve=False, reason=reason[:500])
    raise ApplicationHandlerStop


async def _decide(update: Update, context: ContextTypes.DEFAULT_TYPE, partner_id: int, *, approve: bool,
                  reason: str | None) -> None:
    d, user = deps(context), update.effective_user
    q = update.callback_query
    async with d.db.transaction() as s:
        row = await partners.decide(s, partner_id, approve=approve, reason=reason, by=user.id, now=d.now())
        if row is not None:
            person = await s.get(Resident, row.resident_id)
            words = texts.partner_approved([service_name(d, c) for c in row.services]) if approve \
                else texts.partner_refused(reason or "")
            await cards.owe_message(s, d, person.tg_user_id if person else None, words)
    if row is None:
        if q is not None:
            await q.answer(texts.PARTNER_DECIDED, show_alert=True)
            await drop_buttons(q)
        else:
            await update.effective_message.reply_text(texts.PARTNER_DECIDED)
        return
    owed_now(context, update)
    d.wake_sender()
    done = texts.partner_decided(partner_id, approve, user.full_name, reason)
    if q is not None:
        await answer_quietly(q)
        await q.edit_message_text(f"{q.message.text}\n\n{done}")
    else:
        await update.effective_message.reply_text(done)


async def on_partners(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/partners: the applications waiting (each with its buttons) and the partners at work."""
    d, msg = deps(context), update.effective_message
    if not await may(d, update, Action.PARTICIPATION, "/partners"):
        raise ApplicationHandlerStop
    async with d.db.session() as s:
        waiting = await partners.by_status(s, PartnerStatus.PENDING)
        working = await partners.by_status(s, PartnerStatus.APPROVED, PartnerStatus.PAUSED)
    lines = [texts.partner_line(p.id, p.name, [service_name(d, c) for c in p.services], p.available, p.area,
                                p.status is PartnerStatus.PAUSED) for p, _r in working[:LISTED]]
    await msg.reply_text(texts.partners_summary(len(waiting), lines))
    for p, r in waiting[:LISTED]:
        grid = d.community.grid(r.grid_code) if r.grid_code else None
        markup = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_APPROVE, "pd", str(p.id)),
                                   keyboards.button(d.callback_secret, texts.BTN_REFUSE, "pr", str(p.id))])
        await msg.reply_text(texts.partner_card(p.id, p.name, [service_name(d, c) for c in p.services], p.available,
                                                p.area, grid.name if grid else None), reply_markup=markup)
    raise ApplicationHandlerStop


# --- orders ------------------------------------------------------------------------------------------------------


async def on_orders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/orders: orders waiting for a partner (at the desk first), with how to assign them."""
    d, msg = deps(context), update.effective_message
    if not await may(d, update, Action.PARTICIPATION, "/orders"):
        raise ApplicationHandlerStop
    async with d.db.session() as s:
        waiting = await orders.open_orders(s)
        names = {o.id: (await s.get(Resident, o.resident_id)) for o in waiting}
    waiting.sort(key=lambda o: (o.status.value != "desk", o.id))
    lines = [texts.desk_order_line(o.id, service_name(d, o.service), o.text, names[o.id].name if names[o.id] else "",
                                   o.status.value == "desk", o.window_until) for o in waiting[:LISTED]]
    await msg.reply_text(texts.desk_orders(lines))
    raise ApplicationHandlerStop


async def on_assign(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/assign <点单号> <#合伙人编号 | @用户名 | 用户ID>: staff give a waiting order to a partner."""
    d, msg, user = deps(context), update.effective_message, update.effective_user
    if not await may(d, update, Action.PARTICIPATION, "/assign"):
        raise ApplicationHandlerStop
    args = list(context.args or [])
    order_arg = args[0].lstrip("#") if args else ""
    if len(args) != 2 or not order_arg.isascii() or not order_arg.isdigit():
        await msg.reply_text(texts.ASSIGN_USAGE)
        raise ApplicationHandlerStop
    async with d.db.transaction() as s:
        p = await _partner_named(s, d, msg, args[1])
        if p is None:
            await msg.reply_text(texts.ASSIGN_NO_PARTNER)
            raise ApplicationHandlerStop
        taken = await orders.take(s, int(order_arg), p, actor_tg_id=user.id, now=d.now(), assigned=True)
        if taken.ok:
            o = taken.order
            await owe_taken(s, d, o, p, texts.order_taken_resident)
            back = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_GIVE_BACK, "ob", str(o.id))])
            await cards.owe_message(s, d, await tg_of(s, p.resident_id), texts.order_assigned_partner(
                o.id, service_name(d, o.service), o.text, o.place), markup=back)
    if not taken.ok:
        await msg.reply_text(texts.TAKE_REFUSED_DESK[taken.status.value])
        raise ApplicationHandlerStop
    owed_now(context, update)
    d.wake_sender()
    await msg.reply_text(texts.order_assigned(taken.order.id, p.name))
    raise ApplicationHandlerStop


async def _partner_named(s: AsyncSession, d: Deps, msg: Message, arg: str) -> Partner | None:
    if arg.startswith("#") and arg[1:].isascii() and arg[1:].isdigit():
        return await s.get(Partner, int(arg[1:]))
    tg, _rest, _unknown = await target_user(d, msg, [arg])
    person = await get_resident(s, tg) if tg is not None else None
    return await partners.partner_of(s, person.id) if person and person.id else None


# --- proposals ----------------------------------------------------------------------------------------------------


async def on_proposals(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/proposals in a desk chat: the open ones by deadline, and 办复率 this month and overall."""
    d, msg = deps(context), update.effective_message
    if not await may(d, update, Action.PARTICIPATION, "/proposals"):
        raise ApplicationHandlerStop
    now = d.now()
    async with d.db.session() as s:
        waiting = await proposals.open_proposals(s, limit=LISTED)
        month = await proposals.figures(s, now, since=lists.month_start(now))
        overall = await proposals.figures(s, now)
    lines = [texts.desk_proposal_line(p.number, p.text, p.due_at, p.due_at < now) for p in waiting]
    await msg.reply_text(texts.desk_proposals(lines, _figures(month), _figures(overall)))
    raise ApplicationHandlerStop


def _figures(f: proposals.ReplyFigures) -> tuple[int, int, int, int, float | None, float | None]:
    return f.received, f.answered_on_time, f.answered_late, f.open_overdue, f.rate, f.mean_reply_days


async def on_answer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/answer <编号> <答复>."""
    msg = update.effective_message
    args = list(context.args or [])
    number = proposals.find_number(args[0].upper()) if args else None
    if number is None or len(args) < 2:
        await msg.reply_text(texts.ANSWER_USAGE)
        raise ApplicationHandlerStop
    await _answer(update, context, number, " ".join(args[1:]))
    raise ApplicationHandlerStop


async def on_card_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff reply to a proposal's card is its answer."""
    msg = update.effective_message
    number = proposals.find_number(msg.reply_to_message.text or "")
    if number is None:
        return
    await _answer(update, context, number, msg.text or "")
    raise ApplicationHandlerStop


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, number: str, text: str) -> None:
    d, msg, user = deps(context), update.effective_message, update.effective_user
    if not await may(d, update, Action.PARTICIPATION, "answer"):
        return
    text = text.strip()
    if not text or len(text) > proposals.MAX_ANSWER:
        await msg.reply_text(texts.answer_bad(proposals.MAX_ANSWER))
        return
    async with d.db.transaction() as s:
        done = await proposals.answer(s, number, text=text, by=user.id, now=d.now())
        if done.ok:
            p = done.proposal
            await cards.owe_message(s, d, await tg_of(s, p.resident_id), texts.proposal_answered(p.number, p.text,
                                                                                                 text))
    if not done.ok:
        await msg.reply_text(texts.ANSWER_REFUSED[done.status.value].format(
            number=number, answer=done.proposal.answer if done.proposal else ""))
        return
    owed_now(context, update)
    d.wake_sender()
    await msg.reply_text(texts.answer_sent(number, done.on_time))


# --- the three lists ------------------------------------------------------------------------------------------


async def on_lists(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/lists [grid] · /lists publish <grid> · /lists monthly <grid> on|off."""
    d, msg, user = deps(context), update.effective_message, update.effective_user
    args = list(context.args or [])
    staff = roles.can(await access.grants_of(d, user.id), Action.PARTICIPATION)
    if update.effective_chat.type == "private" and not staff:
        async with d.db.session() as s:
            r = await resident_of(s, update, d)
            await s.commit()
        await msg.reply_text(await lists_text(d, r.grid_code, d.now()) if r.grid_code else texts.LISTS_NO_GRID)
        raise ApplicationHandlerStop
    if not await may(d, update, Action.PARTICIPATION, "/lists"):
        raise ApplicationHandlerStop
    verb = args[0].lower() if args else ""
    if verb in ("publish", "monthly"):
        grid = d.community.grid(args[1]) if len(args) > 1 else None
        switch = args[2].lower() if len(args) > 2 else ""
        if grid is None or (verb == "monthly" and switch not in ("on", "off")):
            await msg.reply_text(texts.LISTS_USAGE)
        elif verb == "monthly":
            async with d.db.transaction() as s:
                await lists.set_monthly(s, grid.code, switch == "on", d.now())
            await msg.reply_text(texts.lists_monthly(grid.name, switch == "on"))
        else:
            count = await publish_lists(d, grid.code, user.id, since=lists.month_start(d.now()))
            await msg.reply_text(texts.lists_published(grid.name, count))
        raise ApplicationHandlerStop
    grid = d.community.grid(args[0]) if args else None
    if args and grid is None:
        await msg.reply_text(texts.LISTS_USAGE)
        raise ApplicationHandlerStop
    await msg.reply_text(await lists_text(d, grid.code if grid else None, d.now()))
    raise ApplicationHandlerStop


async def lists_text(d: Deps, grid_code: str | None, now: datetime, *, since: datetime | None = None,
                     until: datetime | None = None) -> str:
    since = since or lists.month_start(now)
    async with d.db.session() as s:
        found = await lists.three_lists(s, grid_code, since=since, until=until or now + timedelta(seconds=1))
    grid = d.community.grid(grid_code) if grid_code else None
    needs = [texts.list_order(o.id, service_name(d, o.service), o.text) for o in found.open_orders]
    needs += [texts.list_wish(w.id, w.text) for w in found.open_wishes]
    resources = [texts.list_partner(p.name, [service_name(d, c) for c in p.services], p.available, p.area)
                 for p, _r in found.partners]
    done = [texts.list_done_order(o.id, service_name(d, o.service), o.rating) for o in found.done_orders]
    done += [texts.list_done_wish(w.id, w.text) for w in found.done_wishes]
    return texts.three_lists(grid.name if grid else d.community.name, local(since).month, needs, resources, done)


async def publish_lists(d: Deps, grid_code: str, author: int, *, since: datetime,
                        until: datetime | None = None) -> int:
    """The grid's three lists as a notice to its residents (confirmed at once); returns how many get it."""
    text = await lists_text(d, grid_code, d.now(), since=since, until=until)
    async with d.db.transaction() as s:
        notice = await notices.create_draft(s, author_tg_id=author, kind=NoticeKind.GENERAL, text=text,
                                            audience_kind=AudienceKind.GRID, audience_value=grid_code, now=d.now())
        assert notice.id is not None
        count = await notices.confirm(s, notice.id, d.now()) or 0
        if not count:
            await notices.finish(s, d.now())
    d.wake_sender()
    return count


# --- the periodic part (bot.jobs) -------------------------------------------------------------------------------


async def tick(app: Application) -> tuple[int, int]:
    """Orders nobody took within their window go to the desk (the resident told, the desk shown the order);
    grids with monthly lists get last month's as a notice on the first tick of a month. Returns (orders moved,
    lists published). Wired into ``bot.jobs.desk_tick``."""
    d: Deps = app.bot_data[KEY]
    now = d.now()
    async with d.db.transaction() as s:
        moved: list[ServiceOrder] = await orders.expire(s, now)
        for o in moved:
            person = await s.get(Resident, o.resident_id)
            await cards.owe_message(s, d, desk_chat(d), texts.desk_order_expired(
                o.id, service_name(d, o.service), o.text, person.name if person else "", o.place,
                d.community.participation.order_window_hours))
            await cards.owe_message(s, d, person.tg_user_id if person else None, texts.order_to_desk_resident(o.id))
        due = await lists.due_publications(s, now)
    published = 0
    for grid_code in due:
        async with d.db.transaction() as s:
            if not await lists.mark_published(s, grid_code, now):
                continue
        await publish_lists(d, grid_code, 0, since=lists.previous_month_start(now), until=lists.month_start(now))
        published += 1
    if moved:
        d.wake_sender()
    return len(moved), published


def register(app: Application) -> None:
    app.add_handler(CallbackQueryHandler(on_button, pattern=pattern(*ACTIONS)), group=GROUP)
    text = filters.TEXT & ~filters.COMMAND
    app.add_handler(MessageHandler(text & RepliesTo(texts.REFUSE_PROMPT_MARK), on_refuse_reason), group=GROUP)
    app.add_handler(MessageHandler(GROUPS & text & RepliesTo(texts.PROPOSAL_CARD_MARK), on_card_reply), group=GROUP)
    app.add_handler(CommandHandler("partners", on_partners), group=GROUP)
    app.add_handler(CommandHandler("orders", on_orders), group=GROUP)
    app.add_handler(CommandHandler("assign", on_assign), group=GROUP)
    app.add_handler(CommandHandler("proposals", on_proposals, filters=GROUPS), group=GROUP)
    app.add_handler(CommandHandler("answer", on_answer), group=GROUP)
    app.add_handler(CommandHandler("lists", on_lists), group=GROUP)


__all__ = ["ACTIONS", "lists_text", "publish_lists", "register", "tick"]
