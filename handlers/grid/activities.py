"""活动签到: a grid worker opens an activity's check-in (/activity) and gets its QR code and code word; residents
scan the code (``/start act-<token>``) or send ``/checkin <口令>``, and are checked in once each, points by the
activity's [[points.earn]] rule.
"""

from __future__ import annotations

import io

import qrcode
from telegram import Update
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    filters,
)

from handlers import access, keyboards, texts
from handlers.callbacks import unpack
from handlers.deps import Deps, deps
from handlers.people import resident_of
from handlers.replies import answer_quietly, drop_buttons
from handlers.taking_part import GROUP, PRIVATE, may, pattern
from services.participation import activities
from services.people import roles
from services.people.roles import Action
from services.points import ledger
from storage.models import Activity

ACTIONS = ("ac",)
OTHER = "-"  # the button for an activity no earn rule names


def deep_link(bot_username: str, activity: Activity) -> str:
    return f"https://t.me/{bot_username}?start={activities.TOKEN_PREFIX}{activity.token}"


def qr_png(data: str) -> bytes:
    out = io.BytesIO()
    qrcode.make(data, border=4).save(out, format="PNG")
    return out.getvalue()


async def on_activity(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/activity [name]: choose the activity (its points rule) or name it; then the QR code and code word."""
    d, msg = deps(context), update.effective_message
    if not await may(d, update, Action.GRID_SERVICE, "/activity", _any_scope(d)):
        raise ApplicationHandlerStop
    title = " ".join(context.args or []).strip()
    if title:
        rule = next((r for r in d.community.earning if title in (r.name, r.code)), None)
        await _open(update, context, rule.code if rule else None, rule.name if rule else title[:60])
        raise ApplicationHandlerStop
    buttons = [keyboards.button(d.callback_secret, texts.activity_button(r.name, r.points), "ac", r.code)
               for r in d.community.earning]
    buttons.append(keyboards.button(d.callback_secret, texts.BTN_ACTIVITY_OTHER, "ac", OTHER))
    await msg.reply_text(texts.ACTIVITY_CHOOSE, reply_markup=keyboards.inline(*keyboards.rows(buttons, 1)))
    raise ApplicationHandlerStop


def _any_scope(d: Deps) -> roles.Scope:
    """Opening a check-in is allowed to a grid worker of any grid (the grid is theirs), staff and admins."""
    return roles.Scope(grids=frozenset(g.code for g in d.community.grids))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    q, d = update.callback_query, deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is None or q.message is None or q.message.chat.type != "private":
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    rule = d.community.earn_rule(cb.arg) if cb.arg != OTHER else None
    if cb.arg != OTHER and rule is None:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    if not await may(d, update, Action.GRID_SERVICE, "button:ac", _any_scope(d)):
        raise ApplicationHandlerStop
    await answer_quietly(q)
    await drop_buttons(q)
    await _open(update, context, rule.code if rule else None, rule.name if rule else texts.ACTIVITY_DEFAULT_TITLE)
    raise ApplicationHandlerStop


async def _open(update: Update, context: ContextTypes.DEFAULT_TYPE, rule_code: str | None, title: str) -> None:
    d, user = deps(context), update.effective_user
    grids = roles.grids_of(await access.grants_of(d, user.id))
    async with d.db.transaction() as s:
        act = await activities.open_activity(s, title=title, rule_code=rule_code, grid_code=grids[0] if grids else None,
                                             by=user.id, now=d.now())
    link = deep_link(context.bot.username, act)
    caption = texts.activity_opened(act.title, act.word, act.ends_at, activities.points_for(act, d.community), link)
    await update.effective_message.reply_photo(qr_png(link), caption=caption)


async def on_start_link(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """``/start act-<token>``: the activity's QR code was scanned."""
    token = (context.args[0] if context.args else "").removeprefix(activities.TOKEN_PREFIX)
    d = deps(context)
    async with d.db.session() as s:
        act = await activities.by_token(s, token)
    await _check_in(update, context, act)
    raise ApplicationHandlerStop


async def on_checkin(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/checkin <口令>: the code word said at the activity."""
    d, msg = deps(context), update.effective_message
    word = "".join(context.args or []).strip()
    if not word:
        await msg.reply_text(texts.CHECKIN_USAGE)
        raise ApplicationHandlerStop
    async with d.db.session() as s:
        act = await activities.by_word(s, word, d.now())
    await _check_in(update, context, act)
    raise ApplicationHandlerStop


async def _check_in(update: Update, context: ContextTypes.DEFAULT_TYPE, act: Activity | None) -> None:
    d, msg = deps(context), update.effective_message
    if act is None:
        await msg.reply_text(texts.CHECKIN_UNKNOWN)
        return
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        done = await activities.check_in(s, act, resident_id=r.id, actor_tg_id=None, community=d.community,
                                         now=d.now())
        bal = await ledger.balance(s, r.id)
    if done.status is activities.CheckinStatus.OK:
        earned = done.earned
        await msg.reply_text(texts.checked_in(act.title, earned.granted if earned else 0,
                                              bool(earned and earned.capped), bal))
    else:
        await msg.reply_text(texts.CHECKIN_REFUSED[done.status.value].format(title=act.title))


def register(app: Application) -> None:
    app.add_handler(CommandHandler("activity", on_activity, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("checkin", on_checkin, filters=PRIVATE), group=GROUP)
    start_link = PRIVATE & filters.Regex(rf"^/start {activities.TOKEN_PREFIX}")
    app.add_handler(CommandHandler("start", on_start_link, filters=start_link), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=pattern(*ACTIONS)), group=GROUP)


__all__ = ["ACTIONS", "deep_link", "on_activity", "on_checkin", "qr_png", "register"]
