"""微心愿 in chat: /wish posts one (a resident's own, or a grid worker's for someone in their grid), /wishes lists
the open ones to claim, and the claim → fulfilled → confirmed steps run on buttons.

::

    /wish ──▶ wish ──outbox──▶ 认领 (wc) to the grid's partners, a note to the grid worker
    wc ──first press wins──▶ the claimer: 已完成 (wf) ──▶ the grid worker (outbox): 确认完成 (wk) ──▶ points
"""

from __future__ import annotations

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
from handlers.callbacks import unpack
from handlers.deps import Deps, deps
from handlers.people import resident_of
from handlers.replies import answer_quietly, drop_buttons, owed_now
from handlers.taking_part import GROUP, PRIVATE, RepliesTo, ask, desk_chat, may, pattern
from services.participation import partners, wishes
from services.participation.common import grid_workers, tg_of
from services.people import roles
from services.people.roles import Action, Scope
from services.points import ledger
from storage.models import PartnerStatus, Wish

ACTIONS = ("wc", "wf", "wk", "wx")
LISTED = 10  # open wishes shown by /wishes, each with its 认领 button


async def on_wish(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    msg = update.effective_message
    text = " ".join(context.args or []).strip()
    if not text:
        await ask(msg, texts.WISH_PROMPT, texts.WISH_PLACEHOLDER)
    else:
        await _post(update, context, text)
    raise ApplicationHandlerStop


async def ask_wish(msg: Message) -> None:
    """The wish's prompt (a reply to it posts the wish), for words that ask to make one as /wish does."""
    await ask(msg, texts.WISH_PROMPT, texts.WISH_PLACEHOLDER)


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await _post(update, context, (update.effective_message.text or "").strip())
    raise ApplicationHandlerStop


async def _post(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    d, msg, user = deps(context), update.effective_message, update.effective_user
    if not text or len(text) > wishes.MAX_TEXT:
        await msg.reply_text(texts.wish_text_bad(wishes.MAX_TEXT, len(text)))
        return
    worker_grids = roles.grids_of(await access.grants_of(d, user.id))
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        grid = worker_grids[0] if worker_grids else r.grid_code
        if grid is None:
            await msg.reply_text(texts.WISH_NEEDS_GRID)
            return
        wish = await wishes.post(s, text=text, grid_code=grid, posted_by=user.id,
                                 resident_id=None if worker_grids else r.id, now=d.now())
        assert wish.id is not None
        claim = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_CLAIM, "wc", str(wish.id))])
        grid_name = _grid_name(d, grid)
        for p, person in await partners.by_status(s, PartnerStatus.APPROVED):
            if person.id != r.id and (p.grid_code in (grid, None)):
                await cards.owe_message(s, d, person.tg_user_id, texts.wish_offer(wish.id, text, grid_name),
                                        markup=claim)
        for worker in await grid_workers(s, d.community, grid):
            if worker != user.id:
                await cards.owe_message(s, d, worker, texts.wish_posted_worker(wish.id, text, r.name))
    owed_now(context, update)
    d.wake_sender()
    cancel = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_WISH_CANCEL, "wx", str(wish.id))])
    await msg.reply_text(texts.wish_posted(wish.id, grid_name), reply_markup=cancel)


def _grid_name(d: Deps, code: str | None) -> str:
    grid = d.community.grid(code) if code else None
    return grid.name if grid else ""


async def on_wishes(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Open wishes (the reader's grid first), each with its 认领 button."""
    d, msg = deps(context), update.effective_message
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        found = await wishes.open_wishes(s, r.grid_code, limit=LISTED) if r.grid_code else []
        found += [w for w in await wishes.open_wishes(s, limit=LISTED) if w.id not in {x.id for x in found}]
        await s.commit()
    found = [w for w in found if w.resident_id != r.id][:LISTED]
    if not found:
        await msg.reply_text(texts.WISHES_NONE)
        raise ApplicationHandlerStop
    lines = [texts.wish_line(w.id, w.text, _grid_name(d, w.grid_code), w.created_at) for w in found]
    buttons = [keyboards.button(d.callback_secret, texts.btn_claim(w.id), "wc", str(w.id)) for w in found]
    await msg.reply_text(texts.wishes_list(lines), reply_markup=keyboards.inline(*keyboards.rows(buttons, 2)))
    raise ApplicationHandlerStop


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    q, d = update.callback_query, deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is None or q.message is None or not cb.arg.isdigit():
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    if cb.action == "wk":
        await _confirm(update, context, int(cb.arg))  # the grid worker, in private or (no worker) the desk chat
    elif q.message.chat.type != "private":
        await q.answer(texts.STALE_BUTTON, show_alert=True)
    else:
        await {"wc": _claim, "wf": _fulfil, "wx": _cancel}[cb.action](update, context, int(cb.arg))
    raise ApplicationHandlerStop


async def _claim(update: Update, context: ContextTypes.DEFAULT_TYPE, wish_id: int) -> None:
    q, d = update.callback_query, deps(context)
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        change = await wishes.claim(s, wish_id, claimer_id=r.id, now=d.now())
        if change.ok:
            w = change.wish
            await cards.owe_message(s, d, await tg_of(s, w.resident_id), texts.wish_claimed_owner(w.id, r.name))
            for worker in await grid_workers(s, d.community, w.grid_code):
                await cards.owe_message(s, d, worker, texts.wish_claimed_worker(w.id, w.text, r.name))
    if not change.ok:
        await q.answer(texts.WISH_REFUSED[change.status.value], show_alert=True)
        if change.status is wishes.WishResult.TAKEN:
            await drop_buttons(q)
        return
    owed_now(context, update)
    d.wake_sender()
    await answer_quietly(q, texts.WISH_CLAIMED_TOAST)
    done = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_WISH_DONE, "wf", str(wish_id))])
    await q.message.reply_text(texts.wish_claimed(wish_id, change.wish.text), reply_markup=done)


async def _fulfil(update: Update, context: ContextTypes.DEFAULT_TYPE, wish_id: int) -> None:
    q, d = update.callback_query, deps(context)
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        change = await wishes.fulfil(s, wish_id, claimer_id=r.id, now=d.now())
        if change.ok:
            await _owe_confirm(s, d, change.wish, r.name)
    await drop_buttons(q)
    if not change.ok:
        await q.answer(texts.WISH_REFUSED[change.status.value], show_alert=True)
        return
    owed_now(context, update)
    d.wake_sender()
    await answer_quietly(q)
    await q.message.reply_text(texts.WISH_FULFIL_SENT)


async def _owe_confirm(s: AsyncSession, d: Deps, w: Wish, claimer: str) -> None:
    """Ask the grid's workers (else the desk) to confirm a fulfilled wish."""
    markup = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_WISH_CONFIRM, "wk", str(w.id))])
    text = texts.wish_confirm_ask(w.id, w.text, claimer)
    workers = await grid_workers(s, d.community, w.grid_code)
    for worker in workers:
        await cards.owe_message(s, d, worker, text, markup=markup)
    if not workers:
        await cards.owe_message(s, d, desk_chat(d), text, markup=markup)


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, wish_id: int) -> None:
    q, d = update.callback_query, deps(context)
    async with d.db.session() as s:
        w = await s.get(Wish, wish_id)
    scope = Scope.grid(w.grid_code) if w and w.grid_code else Scope()
    if w is None or not await may(d, update, Action.GRID_SERVICE, "button:wk", scope):
        if w is None:
            await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    async with d.db.transaction() as s:
        change = await wishes.confirm(s, wish_id, by=q.from_user.id, community=d.community, now=d.now())
        if change.ok:
            w = change.wish
            earned = change.earned
            bal = await ledger.balance(s, w.claimer_id)
            await cards.owe_message(s, d, await tg_of(s, w.claimer_id), texts.wish_points(
                w.id, earned.granted if earned else 0, bool(earned and earned.capped), bal))
            await cards.owe_message(s, d, await tg_of(s, w.resident_id), texts.wish_done_owner(w.id))
    await drop_buttons(q)
    if not change.ok:
        await q.answer(texts.WISH_REFUSED[change.status.value], show_alert=True)
        return
    owed_now(context, update)
    d.wake_sender()
    await answer_quietly(q)
    await q.message.reply_text(texts.wish_confirmed(wish_id))


async def _cancel(update: Update, context: ContextTypes.DEFAULT_TYPE, wish_id: int) -> None:
    q, d = update.callback_query, deps(context)
    async with d.db.transaction() as s:
        change = await wishes.cancel(s, wish_id, by=q.from_user.id, now=d.now())
        if change.ok and change.wish.claimer_id is not None:
            await cards.owe_message(s, d, await tg_of(s, change.wish.claimer_id), texts.wish_cancelled_claimer(wish_id))
    await drop_buttons(q)
    if not change.ok:
        await q.answer(texts.WISH_REFUSED[change.status.value], show_alert=True)
        return
    owed_now(context, update)
    d.wake_sender()
    await answer_quietly(q)
    await q.message.reply_text(texts.WISH_CANCELLED)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("wish", on_wish, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("wishes", on_wishes, filters=PRIVATE), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=pattern(*ACTIONS)), group=GROUP)
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND & RepliesTo(texts.WISH_PROMPT_MARK),
                                   on_reply), group=GROUP)


__all__ = ["ACTIONS", "on_wish", "on_wishes", "register"]
