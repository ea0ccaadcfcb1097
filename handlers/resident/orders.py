"""居民点单，合伙人接单 in chat: /order, the offers to partners, 接单, confirmation with a rating, /myorders.

::

    /order ──▶ service buttons (po) ──▶ prompt "📝 点单·<service>" ──reply──▶ order ──outbox──▶ an offer with
    接单 (ot) to every matching partner (none: to the desk at once)
    ot ──first press wins──▶ the partner: 退回 (ob);  the resident (outbox): who and when, 服务已完成 (oc) ·
    没有上门 (on) · 取消点单 (ox)
    oc ──▶ stars (or) ──▶ done: the partner's points (outbox)

:func:`hear` and :func:`offer_from_text` are for the understanding engine's room (``handlers.dispatch``): a
message asking for a service ("能不能找人上门修一下水龙头") rather than complaining is offered as an order.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers import cards, keyboards, texts
from handlers.callbacks import unpack
from handlers.deps import Deps, deps
from handlers.people import resident_of
from handlers.replies import answer_quietly, drop_buttons, owed_now
from handlers.taking_part import GROUP, PRIVATE, RepliesTo, ask, desk_chat, pattern, service_name
from services.community.model import ServiceOffer
from services.participation import orders, partners
from services.participation.common import tg_of
from services.participation.orders import CloseStatus, TakeStatus
from services.points import ledger
from storage.models import Partner, Resident, ServiceOrder

ACTIONS = ("po", "ot", "oc", "or", "on", "ox", "ob")
# words that ask someone to come and do something, rather than report a fault
REQUEST_WORDS = ("找人", "请人", "找个人", "上门", "有没有人", "谁会", "帮忙修", "帮我修", "能不能帮", "预约", "想请")


def hear(d: Deps, text: str) -> ServiceOffer | None:
    """The service a message asks for, when it is a request ("找人上门修一下水龙头"), not a complaint
    ("水龙头坏了没人管"): a request word and one of the service's keywords. For ``handlers.dispatch`` to call
    before drafting a complaint (lead: wire it there)."""
    if not any(w in text for w in REQUEST_WORDS):
        return None
    return next((o for o in d.community.participation.services
                 if o.name in text or any(k in text for k in o.keywords)), None)


async def offer_from_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """Offer an order for a request the engine heard; False (nothing said) when it is no service request."""
    d = deps(context)
    offer = hear(d, text)
    if offer is None:
        return False
    await ask(update.effective_message, texts.order_prompt(offer.name, text), texts.ORDER_PLACEHOLDER)
    return True


async def on_order(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/order [service] [what, when, where]: straight to the order when all is given, else ask for what is not."""
    d, msg = deps(context), update.effective_message
    args = list(context.args or [])
    offer = d.community.participation.service_named(args[0]) if args else None
    if offer is None:
        buttons = [keyboards.button(d.callback_secret, o.name, "po", o.code)
                   for o in d.community.participation.services]
        await msg.reply_text(texts.ORDER_CHOOSE, reply_markup=keyboards.inline(*keyboards.rows(buttons, 3)))
    elif len(args) == 1:
        await ask(msg, texts.order_prompt(offer.name), texts.ORDER_PLACEHOLDER)
    else:
        await _place(update, context, offer, " ".join(args[1:]))
    raise ApplicationHandlerStop


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d, msg = deps(context), update.effective_message
    prompt = (msg.reply_to_message.text or "").split("\n")
    offer = d.community.participation.service_named(prompt[0].removeprefix(texts.ORDER_PROMPT_MARK))
    said = next((x.removeprefix(texts.ORDER_SAID_LABEL) for x in prompt if x.startswith(texts.ORDER_SAID_LABEL)), "")
    if offer is None:
        await msg.reply_text(texts.STALE_BUTTON)
    else:
        await _place(update, context, offer, " ".join(p for p in (said.strip("“”"), (msg.text or "").strip()) if p))
    raise ApplicationHandlerStop


async def _place(update: Update, context: ContextTypes.DEFAULT_TYPE, offer: ServiceOffer, text: str) -> None:
    d, msg = deps(context), update.effective_message
    text = text.strip()
    if not text or len(text) > orders.MAX_TEXT:
        await msg.reply_text(texts.order_text_bad(orders.MAX_TEXT, len(text)))
        return
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        order = await orders.place(s, resident=r, service=offer.code, text=text, community=d.community, now=d.now())
        assert order.id is not None
        found = await partners.matching(s, offer.code, exclude_resident=r.id)
        markup = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_TAKE, "ot", str(order.id))])
        offer_text = texts.order_offer(order.id, offer.name, text, order.place, r.name)
        for _p, person in found:
            await cards.owe_message(s, d, person.tg_user_id, offer_text, markup=markup)
        if not found:
            await orders.to_desk(s, order.id, d.now(), note="no partner")
            await cards.owe_message(s, d, desk_chat(d), texts.desk_order_unmatched(order.id, offer.name, text,
                                                                                   r.name, order.place))
    owed_now(context, update)
    d.wake_sender()
    hours = d.community.participation.order_window_hours
    await msg.reply_text(texts.order_placed(order.id, offer.name, len(found), hours))


# --- buttons ---------------------------------------------------------------------------------------------------


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    q, d = update.callback_query, deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is None or q.message is None or q.message.chat.type != "private":
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    if cb.action == "po":
        offer = d.community.participation.service(cb.arg)
        if offer is None:
            await q.answer(texts.STALE_BUTTON, show_alert=True)
        else:
            await q.answer()
            await drop_buttons(q)
            await ask(q.message, texts.order_prompt(offer.name), texts.ORDER_PLACEHOLDER)
        raise ApplicationHandlerStop
    order_id, _, stars = cb.arg.partition(".")
    if not order_id.isdigit():
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    handler = {"ot": _take, "oc": _ask_rating, "or": _rate, "on": _no_show, "ox": _cancel, "ob": _give_back}
    await handler[cb.action](update, context, int(order_id), stars)
    raise ApplicationHandlerStop


async def _partner_of(s: AsyncSession, update: Update, d: Deps) -> tuple[Resident, Partner | None]:
    r = await resident_of(s, update, d)
    return r, await partners.partner_of(s, r.id)


async def _take(update: Update, context: ContextTypes.DEFAULT_TYPE, order_id: int, _: str) -> None:
    """接单: the first partner's press wins (a compare-and-set); the others are told it is taken."""
    q, d = update.callback_query, deps(context)
    async with d.db.transaction() as s:
        _r, p = await _partner_of(s, update, d)
        taken = await orders.take(s, order_id, p, actor_tg_id=q.from_user.id, now=d.now())
        if taken.ok:
            await owe_taken(s, d, taken.order, p, texts.order_taken_resident)
    if not taken.ok:
        await q.answer(texts.TAKE_REFUSED[taken.status.value], show_alert=True)
        if taken.status in (TakeStatus.TAKEN, TakeStatus.CLOSED):
            await drop_buttons(q)
        return
    owed_now(context, update)
    d.wake_sender()
    await answer_quietly(q, texts.ORDER_TAKEN_TOAST)
    o = taken.order
    await q.edit_message_text(texts.order_taken_partner(o.id, service_name(d, o.service), o.text, o.place),
                              reply_markup=keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_GIVE_BACK,
                                                                              "ob", str(o.id))]))


async def owe_taken(s: AsyncSession, d: Deps, order: ServiceOrder, p: Partner,
                     words: Callable[..., str]) -> None:
    """Tell the resident who took their order and when, with the buttons that close it."""
    arg = str(order.id)
    markup = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_ORDER_DONE, "oc", arg)],
                              [keyboards.button(d.callback_secret, texts.BTN_NO_SHOW, "on", arg),
                               keyboards.button(d.callback_secret, texts.BTN_ORDER_CANCEL, "ox", arg)])
    await cards.owe_message(s, d, await tg_of(s, order.resident_id),
                            words(order.id, service_name(d, order.service), p.name, order.taken_at, p.available),
                            markup=markup)


async def _ask_rating(update: Update, context: ContextTypes.DEFAULT_TYPE, order_id: int, _: str) -> None:
    q, d = update.callback_query, deps(context)
    await q.answer()
    stars = [keyboards.button(d.callback_secret, label, "or", f"{order_id}.{n}") for n, label in texts.STARS.items()]
    await q.edit_message_reply_markup(reply_markup=keyboards.inline(*keyboards.rows(stars, 1)))


async def _rate(update: Update, context: ContextTypes.DEFAULT_TYPE, order_id: int, stars: str) -> None:
    """The resident confirms it happened and rates it: only now the partner's points are written."""
    q, d = update.callback_query, deps(context)
    if not stars.isdigit() or int(stars) not in orders.RATINGS:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        done = await orders.confirm(s, order_id, resident_id=r.id, rating=int(stars), community=d.community,
                                    actor_tg_id=q.from_user.id, now=d.now())
        if done.ok:
            helper = await s.get(Partner, done.partner_id)
            earned = done.earned
            await cards.owe_message(s, d, await tg_of(s, helper.resident_id if helper else None),
                                    texts.order_done_partner(order_id, int(stars), earned.granted if earned else 0,
                                                             bool(earned and earned.capped),
                                                             await ledger.balance(s, helper.resident_id)))
    await drop_buttons(q)
    if not done.ok:
        await q.answer(texts.ORDER_CLOSE_REFUSED[done.status.value], show_alert=True)
        return
    owed_now(context, update)
    d.wake_sender()
    await answer_quietly(q)
    await q.message.reply_text(texts.order_rated(order_id, int(stars)))


async def _no_show(update: Update, context: ContextTypes.DEFAULT_TYPE, order_id: int, _: str) -> None:
    q, d = update.callback_query, deps(context)
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        closed = await orders.no_show(s, order_id, resident_id=r.id, actor_tg_id=q.from_user.id, now=d.now())
        if closed.ok:
            helper = await s.get(Partner, closed.partner_id)
            await cards.owe_message(s, d, await tg_of(s, helper.resident_id if helper else None),
                                    texts.order_no_show_partner(order_id))
            await cards.owe_message(s, d, desk_chat(d), texts.desk_order_no_show(
                order_id, service_name(d, closed.order.service), helper.name if helper else "", r.name))
    await _closed_answer(update, context, closed, texts.ORDER_NO_SHOW_NOTED)


async def _cancel(update: Update, context: ContextTypes.DEFAULT_TYPE, order_id: int, _: str) -> None:
    q, d = update.callback_query, deps(context)
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        closed = await orders.cancel(s, order_id, resident_id=r.id, actor_tg_id=q.from_user.id, now=d.now())
        if closed.ok and closed.partner_id is not None:
            helper = await s.get(Partner, closed.partner_id)
            await cards.owe_message(s, d, await tg_of(s, helper.resident_id if helper else None),
                                    texts.order_cancelled_partner(order_id))
    await _closed_answer(update, context, closed, texts.ORDER_CANCELLED)


async def _give_back(update: Update, context: ContextTypes.DEFAULT_TYPE, order_id: int, _: str) -> None:
    """The partner cannot do it after all: recorded; the order goes to the desk and the resident is told."""
    q, d = update.callback_query, deps(context)
    async with d.db.transaction() as s:
        _r, p = await _partner_of(s, update, d)
        closed = (await orders.give_back(s, order_id, partner=p, actor_tg_id=q.from_user.id, now=d.now())
                  if p is not None else orders.Closed(CloseStatus.NOT_YOURS))
        if closed.ok:
            o = closed.order
            await cards.owe_message(s, d, await tg_of(s, o.resident_id), texts.order_given_back_resident(order_id))
            await cards.owe_message(s, d, desk_chat(d), texts.desk_order_given_back(
                order_id, service_name(d, o.service), p.name, o.text))
    await _closed_answer(update, context, closed, texts.ORDER_GIVEN_BACK)


async def _closed_answer(update: Update, context: ContextTypes.DEFAULT_TYPE, closed: orders.Closed,
                         done_text: str) -> None:
    q, d = update.callback_query, deps(context)
    await drop_buttons(q)
    if not closed.ok:
        await q.answer(texts.ORDER_CLOSE_REFUSED[closed.status.value], show_alert=True)
        return
    owed_now(context, update)
    d.wake_sender()
    await answer_quietly(q)
    await q.message.reply_text(done_text)


# --- /myorders ---------------------------------------------------------------------------------------------------


async def on_my_orders(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The resident's orders; for a partner also the orders they took, their record and points."""
    d, msg = deps(context), update.effective_message
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        mine = await orders.of_resident(s, r.id)
        p = await partners.partner_of(s, r.id)
        taken = await orders.of_partner(s, p.id) if p and p.id else []
        record = await orders.record_of(s, p.id) if p and p.id else None
        bal = await ledger.balance(s, r.id)
        await s.commit()

    def line(o: ServiceOrder) -> str:
        return texts.order_line(o.id, service_name(d, o.service), texts.ORDER_STATUS[o.status.value], o.text,
                                o.created_at, o.rating)

    body = texts.my_orders([line(o) for o in mine])
    if p is not None and record is not None:
        body += "\n\n" + texts.partner_orders([line(o) for o in taken], record.done, record.no_shows,
                                              record.mean_rating, bal)
    await msg.reply_text(body)
    raise ApplicationHandlerStop


def register(app: Application) -> None:
    app.add_handler(CommandHandler("order", on_order, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("myorders", on_my_orders, filters=PRIVATE), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=pattern(*ACTIONS)), group=GROUP)
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND & RepliesTo(texts.ORDER_PROMPT_MARK),
                                   on_reply), group=GROUP)


__all__ = ["ACTIONS", "REQUEST_WORDS", "hear", "offer_from_text", "on_my_orders", "on_order", "owe_taken", "register"]
