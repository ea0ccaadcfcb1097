"""Flood control in front of every handler: one resident's fifty messages in ten seconds must not take the bot from
everyone else, nor turn into fifty replies or a pile of cases.

- A private message past ``FLOOD_MESSAGES`` per ``FLOOD_WINDOW_SECONDS`` is dropped before any handler sees it
  (``ApplicationHandlerStop``); the first one dropped gets one kind slow-down (``texts.FLOOD_SLOW_DOWN``). The
  window (``services.flood.FloodWindow``) is per process and safe to lose. An album counts once, as do the pieces of
  a long text the client split; a message that reports an emergency always goes on; staff and grid workers get ten
  times the limit (looked up only once someone is over it, so an ordinary message costs no query).
- 确认 (the draft's ``ok`` button) past ``FLOOD_DRAFTS`` complaints confirmed in the window is answered with an alert
  and goes no further: the draft stays as it was, the resident confirms it a little later. That cap is counted in
  the database (``services.flood.confirmed_count``, read with the speaker, or by the draft's ``DELETE`` when the
  draft is known without a read: ``cap_deferred``), so it holds across restarts and worker processes.

Nothing else is held back: every other button goes on (they act on what exists, a dropped press would leave a
spinner), and a dropped message never touches a draft or a case.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar
from datetime import timedelta

from telegram import Message, Update
from telegram.error import TelegramError
from telegram.ext import Application, ApplicationHandlerStop, ContextTypes, TypeHandler

from handlers import texts
from handlers.callbacks import unpack
from handlers.deps import Deps, deps
from handlers.order import SEEN
from handlers.people import pressable, speaker
from handlers.replies import answer_quietly
from intents.emergency import detect
from intents.text import canonical
from services.flood import FloodWindow, Verdict
from services.people import roles
from storage.models import RoleName

log = logging.getLogger(__name__)

# Ahead of everything, SEEN included (a dropped message costs nothing, not even the directory's write), and in a
# group of its own: within one group only the first handler that matches runs, so sharing EARLY would hide the
# flows registered there.
GROUP = SEEN - 1
KEY = "linli.flood"  # bot_data: this process's FloodWindow


def window_of(context: ContextTypes.DEFAULT_TYPE, d: Deps) -> FloodWindow:
    window = context.application.bot_data.get(KEY)
    if window is None or window.limits != d.flood:
        window = context.application.bot_data[KEY] = FloodWindow(d.flood)
    return window


async def guard(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Let the update go on (return), or stop it here (``ApplicationHandlerStop``)."""
    if update.callback_query is not None:
        await _confirm_cap(update, context)
        return
    msg = update.message
    user = update.effective_user
    if msg is None or user is None or user.is_bot or msg.chat.type != "private":
        return
    d = deps(context)
    if not d.flood.on:
        return
    window = window_of(context, d)
    now = msg.date.timestamp()
    words = msg.text or msg.caption or ""
    verdict = window.check(user.id, now, album=msg.media_group_id, length=len(words))
    if verdict is Verdict.PASS:
        return
    if words and detect(canonical(words[:2000])) is not None:  # life safety first: never held back
        window.admit(user.id, now, verdict, album=msg.media_group_id)
        return
    staff = window.staff_known(user.id)
    if staff is None:
        staff = await _is_staff(d, user.id)
        window.set_staff(user.id, staff)
    if staff:
        window.admit(user.id, now, verdict, album=msg.media_group_id)
        return
    if verdict is Verdict.WARN:
        log.info("flood: user %s over %d messages in %gs; dropping until they slow down", user.id,
                 d.flood.messages, d.flood.window)
        await _slow_down(msg)
    raise ApplicationHandlerStop


async def _is_staff(d: Deps, user_id: int) -> bool:
    async with d.db.session() as s:
        grants = await roles.roles_of(s, user_id, admins=d.admins, community=d.community)
    return any(g.role is not RoleName.RESIDENT for g in grants)


async def _slow_down(msg: Message) -> None:
    try:
        await msg.reply_text(texts.FLOOD_SLOW_DOWN)
    except TelegramError as exc:  # a blocked bot or a failing API: the drop stands either way
        log.info("could not ask user %s to slow down: %s", msg.chat_id, exc)


async def _confirm_cap(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """确认 of a draft: past the window's cap, an alert instead of a case (the draft is kept for later)."""
    q = update.callback_query
    d = deps(context)
    if d.flood.drafts <= 0 or q.message is None or q.message.chat.type != "private":
        return
    cb = unpack(d.callback_secret, q.data)
    if cb is None or cb.action != "ok":
        return
    if pressable(context, update, cb.arg, d.now()) is not None:  # the draft's DELETE counts (``cap_deferred``)
        _DEFERRED.set(update.update_id)
        return
    if not await confirms_capped(d, update):
        return
    await answer_quietly(q, texts.FLOOD_CONFIRM_LATER, show_alert=True)
    raise ApplicationHandlerStop


_DEFERRED: ContextVar[int | None] = ContextVar("linli_flood_deferred", default=None)


def cap_deferred(update: Update) -> bool:
    """The guard left this 确认's cap to the handler: the draft known without a read (``people.pressable``) is
    taken by a ``DELETE`` that counts the complaints confirmed in the window too, and holds the cap there; taken
    the ordinary way after all, the handler asks :func:`confirms_capped` as the guard would have."""
    return _DEFERRED.get() == update.update_id


async def confirms_capped(d: Deps, update: Update) -> bool:
    """Its sender confirmed as many complaints as the flood window allows: this 确认 (pressed or typed) waits."""
    if d.flood.drafts <= 0:
        return False
    since = d.now() - timedelta(seconds=d.flood.window)
    confirmed = (await speaker(d, update, confirmed_since=since)).confirmed or 0  # kept for the 确认
    if confirmed < d.flood.drafts:
        return False
    log.info("flood: user %s confirmed %d complaints in %gs; this one waits", update.effective_user.id, confirmed,
             d.flood.window)
    return True


def register(app: Application) -> None:
    app.add_handler(TypeHandler(Update, guard), group=GROUP)


__all__ = ["GROUP", "cap_deferred", "confirms_capped", "guard", "register", "window_of"]
