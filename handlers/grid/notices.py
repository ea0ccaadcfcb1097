"""/notice in chat, for grid workers and admins (residents' /mute is ``handlers.resident.mute``).

::

    /notice ──(may send?)──▶ kind buttons ──nk──▶ "write the text" ──text, or photo+caption──▶ audience
    buttons ──na──▶ draft + preview (recipient count, send time) with 确认发送 (nc) · 定时发送 (nw) · 取消 (nx)
    nw ──▶ preset times (nt) or a typed time ──▶ the preview again, now scheduled
    nc ──▶ now: "x/y", final report;  scheduled: "已预约" with 撤回 (nx) until its time

Nothing goes out before 确认发送. The composing state (kind, text, photo, audience choices, the time menu) is
kept in the database (``services.people.conversations``) with a copy in ``user_data``: after a restart the worker's
next message still answers the step it was asked for. The draft itself is a Notice row from the audience on.
Every press is checked again on the server: the signature, the presser is the author, the permission.
Handlers sit in group ``GROUP`` (before the router's catch-alls) and stop further handling when they
took the update. Admins come from the roles table and ``LINLI_ADMINS``.
"""

from __future__ import annotations

import logging
import secrets
from datetime import UTC, datetime, timedelta

from telegram import CallbackQuery, Update
from telegram.error import TelegramError
from telegram.ext import (
    Application,
    ApplicationHandlerStop,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from handlers import keyboards, texts
from handlers.access import grants_of
from handlers.callbacks import unpack
from handlers.deps import Deps, deps
from handlers.order import EARLY
from handlers.people import speaker
from services import local, when
from services.notices import broadcast as notices
from services.people import conversations, roles
from services.people.roles import Action, Grant, Scope
from storage.models import AudienceKind, Notice, NoticeKind, NoticeStatus

log = logging.getLogger(__name__)

GROUP = EARLY  # ahead of the router's catch-alls, which these handlers stop when they answer
ACTIONS = frozenset({"nk", "na", "nc", "nx", "nw", "nt"})
MAX_TEXT = 3000
MAX_CAPTION = 1024 - 1 - max(len(t) for t in texts.NOTICE_TEMPLATES.values())  # Telegram's caption limit
MAX_AHEAD = timedelta(days=60)  # the furthest a notice may be scheduled
WHEN_TTL = timedelta(minutes=30)  # the time menu left this long: the worker's texts are theirs again
_STATE = "linli.notice"  # user_data: the composition in memory (conversations: the durable copy)
FLOW = "notice"
PRIVATE = filters.ChatType.PRIVATE


def options(d: Deps, grants: frozenset[Grant]) -> list[tuple[AudienceKind, str, str]]:
    """(audience kind, value, button label) the user may send to."""
    everyone = roles.is_admin(grants)
    codes = [g.code for g in d.community.grids] if everyone else roles.grids_of(grants)
    found: list[tuple[AudienceKind, str, str]] = []
    if everyone:
        found.append((AudienceKind.COMMUNITY, "", texts.NOTICE_COMMUNITY))
    for code in codes:
        grid = d.community.grid(code)
        found.append((AudienceKind.GRID, code, texts.notice_grid(code, grid.name if grid else "")))
    if not everyone:
        if len(codes) > 1:
            found.append((AudienceKind.GRID, ",".join(codes), texts.NOTICE_ALL_GRIDS))
        for code in codes:
            grid = d.community.grid(code)
            found += [(AudienceKind.BUILDING, b, b) for b in (grid.buildings if grid else ())]
    return found


def allowed(d: Deps, grants: frozenset[Grant], kind: AudienceKind, value: str) -> bool:
    """The permission table applied to one audience (a building is checked against its grid)."""
    if kind is AudienceKind.COMMUNITY:
        return roles.can(grants, Action.NOTICE_COMMUNITY)
    if kind is AudienceKind.BUILDING:
        grid = d.community.grid_for_building(value)
        return grid is not None and roles.can(grants, Action.NOTICE_BUILDING, Scope.grid(grid.code))
    codes = [c for c in value.split(",") if c]
    return bool(codes) and all(roles.can(grants, Action.NOTICE_GRID, Scope.grid(c)) for c in codes)


def _audience_label(d: Deps, notice: Notice) -> str:
    if notice.audience_kind is AudienceKind.COMMUNITY:
        return texts.NOTICE_COMMUNITY
    if notice.audience_kind is AudienceKind.BUILDING:
        return notice.audience_value
    codes = notices.grid_codes(notice)
    return "、".join(texts.notice_grid(c, g.name if (g := d.community.grid(c)) else "") for c in codes)


# --- /notice --------------------------------------------------------------------------------------------


async def start_notice(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d, user, msg = deps(context), update.effective_user, update.effective_message
    grants = await grants_of(d, user.id)
    if not options(d, grants):
        roles.refused(user.id, Action.NOTICE_GRID, via="/notice")
        await msg.reply_text(texts.NOTICE_REFUSED)
        raise ApplicationHandlerStop
    stamp = secrets.token_hex(3)
    await _save_state(context, d, user.id, {"stage": "kind", "stamp": stamp})
    buttons = [keyboards.button(d.callback_secret, label, "nk", f"{k.value}.{stamp}")
               for k in NoticeKind for label in [texts.NOTICE_KINDS[k.value]]]
    await msg.reply_text(texts.NOTICE_CHOOSE_KIND, reply_markup=keyboards.inline(*keyboards.rows(buttons, 2)))
    raise ApplicationHandlerStop


async def _state(context: ContextTypes.DEFAULT_TYPE, user_id: int, stage: str | None,
                 update: Update | None = None) -> dict | None:
    """The user's notice in composition if it is at ``stage`` (None: any) and not abandoned: from memory,
    else from the database (after a restart), remembered either way so a resident's every message costs one
    lookup per process at most (none for a private message: the speaker's read, made for it anyway, answers).
    The time menu is forgotten after ``WHEN_TTL``, the rest after a day."""
    cache = context.user_data
    if cache is None:
        return None
    d = deps(context)
    if _STATE not in cache and update is not None and update.effective_user.id == user_id:
        cache[_STATE] = (await speaker(d, update)).flow_data(FLOW, d.now())
    elif _STATE not in cache:
        async with d.db.session() as s:
            cache[_STATE] = await conversations.load(s, user_id, FLOW, d.now())
    state = cache[_STATE]
    if not state or (stage is not None and state.get("stage") != stage):
        return None
    ttl = WHEN_TTL if state.get("stage") == "when" else conversations.STALE_AFTER
    saved = datetime.fromisoformat(state["saved_at"]) if "saved_at" in state else d.now()
    return state if d.now() - saved <= ttl else None


async def _save_state(context: ContextTypes.DEFAULT_TYPE, d: Deps, user_id: int, state: dict | None) -> None:
    """Write the composition through to the database (None: it is over)."""
    async with d.db.transaction() as s:
        if state is None:
            await conversations.end(s, user_id)
        else:
            state["saved_at"] = d.now().isoformat()
            await conversations.save(s, user_id, FLOW, state, d.now())
    context.user_data[_STATE] = state


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The notice's text, or a typed send time, while one is being composed; otherwise not ours."""
    user_id = update.effective_user.id
    if (state := await _state(context, user_id, "text", update)) is not None:
        await _take_text(update, context, state, (update.effective_message.text or "").strip())
    elif (state := await _state(context, user_id, "when")) is not None and _looks_like_time(update):
        await _typed_time(update, context, state)
    else:
        return
    raise ApplicationHandlerStop


def _looks_like_time(update: Update) -> bool:
    """At the time menu, only a text with a digit is taken as a try at a time; words go on to the router."""
    return any(ch.isdigit() for ch in update.effective_message.text or "")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A photo while the notice's text is awaited: it goes with the notice, its caption is the text. The rest
    of an album it came in is the notice's too (one photo is kept), never a resident's new complaint."""
    msg = update.effective_message
    state = await _state(context, update.effective_user.id, None)
    if state is None:
        return  # a resident's photo: the router's business
    if msg.media_group_id and state.get("album") == msg.media_group_id:
        raise ApplicationHandlerStop  # the album's other photos: already answered for its first
    if state.get("stage") != "text":
        return
    if msg.media_group_id:
        state["album"] = msg.media_group_id
    photo = msg.photo[-1].file_id
    caption = (msg.caption or "").strip()
    if caption:
        await _take_text(update, context, state, caption, photo=photo)
    else:
        state["photo"] = photo
        await _save_state(context, deps(context), update.effective_user.id, state)
        await msg.reply_text(texts.notice_photo_taken(MAX_CAPTION))
    raise ApplicationHandlerStop


def _utf16_len(text: str) -> int:
    """Telegram counts message and caption lengths in UTF-16 code units (an emoji counts two)."""
    return len(text.encode("utf-16-le")) // 2


async def _take_text(update: Update, context: ContextTypes.DEFAULT_TYPE, state: dict, text: str, *,
                     photo: str | None = None) -> None:
    """The notice's words (with the photo they came on, if any); a refusal changes nothing in ``state``."""
    d, msg = deps(context), update.effective_message
    with_photo = bool(photo or state.get("photo"))
    limit = MAX_CAPTION if with_photo else MAX_TEXT
    if not text or _utf16_len(text) > limit:
        await msg.reply_text(texts.NOTICE_EMPTY if not text else texts.notice_too_long(limit, with_photo))
        return
    if photo:
        state["photo"] = photo
    choices = options(d, await grants_of(d, update.effective_user.id))
    if not choices:  # the role was revoked meanwhile
        await _save_state(context, d, update.effective_user.id, None)
        await msg.reply_text(texts.NOTICE_REFUSED)
        return
    state.update(stage="audience", text=text, options=[(k.value, v, label) for k, v, label in choices])
    await _save_state(context, d, update.effective_user.id, state)
    buttons = [keyboards.button(d.callback_secret, label, "na", f"{i}.{state['stamp']}")
               for i, (_k, _v, label) in enumerate(choices)]
    await msg.reply_text(texts.NOTICE_CHOOSE_AUDIENCE, reply_markup=keyboards.inline(*keyboards.rows(buttons, 2)))


def _is_ours(data: object) -> bool:
    parts = data.split("|") if isinstance(data, str) else []
    return len(parts) == 4 and parts[1] in ACTIONS


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    q, d = update.callback_query, deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is None or q.message is None or q.message.chat.type != "private":
        roles.refused(q.from_user.id, "notice", via=f"data:{q.data!r}")
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    if cb.action in ("nk", "na"):
        await _compose_button(update, context, cb.action, cb.arg)
    else:
        await _decide(update, context, cb.action, cb.arg)
    raise ApplicationHandlerStop


async def _compose_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    q, d = update.callback_query, deps(context)
    value, _, stamp = arg.rpartition(".")
    state = await _state(context, q.from_user.id, "kind" if action == "nk" else "audience")
    if not state or state.get("stamp") != stamp:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    if action == "nk":
        try:
            kind = NoticeKind(value)
        except ValueError:
            await q.answer(texts.STALE_BUTTON, show_alert=True)
            return
        state.update(stage="text", kind=kind.value)
        await _save_state(context, d, q.from_user.id, state)
        await q.answer()
        await q.edit_message_text(texts.notice_ask_text(kind.value))
        return
    chosen = state["options"][int(value)] if value.isdigit() and int(value) < len(state["options"]) else None
    grants = await grants_of(d, q.from_user.id)
    if chosen is None or not allowed(d, grants, AudienceKind(chosen[0]), chosen[1]):
        roles.refused(q.from_user.id, Action.NOTICE_GRID, f"audience:{chosen}", "button:na")
        await q.answer(texts.NOTICE_REFUSED, show_alert=True)
        return
    await _save_state(context, d, q.from_user.id, None)
    async with d.db.transaction() as s:
        notice = await notices.create_draft(s, author_tg_id=q.from_user.id, kind=NoticeKind(state["kind"]),
                                            text=state["text"], audience_kind=AudienceKind(chosen[0]),
                                            audience_value=chosen[1], now=d.now(), photo_file_id=state.get("photo"))
    await q.answer()
    await _show_preview(context, d, notice, edit=q)


async def _show_preview(context: ContextTypes.DEFAULT_TYPE, d: Deps, notice: Notice, *,
                        edit: CallbackQuery | None = None) -> None:
    """The draft as residents will see it, who gets it and when, with 确认发送 · 定时发送 · 取消."""
    async with d.db.session() as s:
        count = len(await notices.recipients(s, notice))
    arg = str(notice.id)
    markup = keyboards.inline(
        [keyboards.button(d.callback_secret, texts.BTN_NOTICE_SEND, "nc", arg),
         keyboards.button(d.callback_secret, texts.BTN_NOTICE_SCHEDULE, "nw", arg)],
        [keyboards.button(d.callback_secret, texts.BTN_NOTICE_CANCEL, "nx", arg)])
    text = texts.notice_preview(notice.kind.value, notice.text, _audience_label(d, notice), count, notice.urgent,
                                photo=notice.photo_file_id is not None, send_at=notice.send_at)
    if edit is not None:
        await edit.edit_message_text(text, reply_markup=markup)
    else:
        await context.bot.send_message(notice.author_tg_id, text, reply_markup=markup)


def _time_choices(now: datetime) -> list[tuple[str, datetime]]:
    """Preset send times: this evening (if still ahead), tomorrow morning, tomorrow evening."""
    today = local(now).replace(second=0, microsecond=0)
    tomorrow = today + timedelta(days=1)
    found = [(texts.NOTICE_TONIGHT, today.replace(hour=20, minute=0))] if today.hour < 19 else []
    return [*found, (texts.NOTICE_TOMORROW_MORNING, tomorrow.replace(hour=8, minute=0)),
            (texts.NOTICE_TOMORROW_EVENING, tomorrow.replace(hour=20, minute=0))]


def _send_time_refusal(at: datetime, now: datetime) -> str | None:
    if at <= now + timedelta(minutes=1):
        return texts.NOTICE_TIME_PAST
    if at > now + MAX_AHEAD:
        return texts.notice_time_too_far(MAX_AHEAD.days)
    return None


async def _draft_of(d: Deps, user_id: int, arg: str, via: str) -> Notice | None:
    """The user's own draft named by a button; anything else is logged as a refusal."""
    async with d.db.session() as s:
        notice = await s.get(Notice, int(arg)) if arg.isdigit() else None
    if notice is None or notice.author_tg_id != user_id:
        roles.refused(user_id, "notice.decide", f"notice:{arg}", f"{via} (not the author)")
        return None
    return notice


async def _decide(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """确认发送 · 定时发送 (and its times) · 取消 on a preview: only its author, only while it is a draft (or,
    to withdraw it, while a scheduled notice has not started), only if the author may still send it."""
    q, d = update.callback_query, deps(context)
    user_id = q.from_user.id
    notice_arg, _, minutes = arg.partition(".")
    notice = await _draft_of(d, user_id, notice_arg, f"button:{action}")
    if notice is None:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    assert notice.id is not None
    if action == "nx":
        async with d.db.transaction() as s:
            done = await notices.cancel(s, notice.id, d.now())
        await q.answer()
        await q.edit_message_text(texts.NOTICE_CANCELLED if done else texts.NOTICE_GONE)
        return
    if not allowed(d, await grants_of(d, user_id), notice.audience_kind, notice.audience_value):
        roles.refused(user_id, Action.NOTICE_GRID, f"notice:{notice.id}", f"button:{action}")
        await q.answer(texts.NOTICE_REFUSED, show_alert=True)
        return
    if action == "nw":
        await _ask_time(update, context, d, notice)
    elif action == "nt":
        await _chosen_time(update, context, d, notice, minutes)
    else:
        await _confirm(update, context, d, notice)


async def _ask_time(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, notice: Notice) -> None:
    q = update.callback_query
    if notice.status is not NoticeStatus.DRAFT:
        await q.answer(texts.NOTICE_GONE, show_alert=True)
        return
    await _save_state(context, d, q.from_user.id,
                      {"stage": "when", "notice": notice.id, "preview": q.message.message_id})
    arg = str(notice.id)
    presets = [keyboards.button(d.callback_secret, label, "nt", f"{arg}.{int(at.timestamp()) // 60}")
               for label, at in _time_choices(d.now())]
    now_button = keyboards.button(d.callback_secret, texts.BTN_NOTICE_NOW, "nt", f"{arg}.0")
    await q.answer()
    await q.edit_message_text(texts.NOTICE_ASK_TIME, reply_markup=keyboards.inline(presets, [now_button]))


async def _chosen_time(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, notice: Notice,
                       minutes: str) -> None:
    q = update.callback_query
    if not minutes.isdigit():
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    at = datetime.fromtimestamp(int(minutes) * 60, UTC) if int(minutes) else None
    refusal = _send_time_refusal(at, d.now()) if at else None
    if refusal is not None:  # a preset that went by while the worker looked at it
        await q.answer(refusal, show_alert=True)
        return
    async with d.db.transaction() as s:
        fresh = await notices.schedule(s, notice.id, at)
    if fresh is None:
        await q.answer(texts.NOTICE_GONE, show_alert=True)
        return
    await _save_state(context, d, q.from_user.id, None)
    await q.answer()
    await _show_preview(context, d, fresh, edit=q)


async def _typed_time(update: Update, context: ContextTypes.DEFAULT_TYPE, state: dict) -> None:
    d, msg = deps(context), update.effective_message
    now = d.now()
    at = when.parse((msg.text or "").strip(), now)
    refusal = texts.NOTICE_TIME_UNREADABLE if at is None else _send_time_refusal(at, now)
    if refusal is not None:
        await msg.reply_text(refusal)
        return
    notice = await _draft_of(d, update.effective_user.id, str(state["notice"]), "typed time")
    async with d.db.transaction() as s:
        fresh = await notices.schedule(s, notice.id, at) if notice is not None else None
    await _save_state(context, d, update.effective_user.id, None)
    if fresh is None:
        await msg.reply_text(texts.NOTICE_GONE)
        return
    try:  # the time menu is replaced by the new preview below
        await context.bot.edit_message_text(texts.NOTICE_TIME_SET, chat_id=msg.chat_id, message_id=state["preview"])
    except TelegramError as exc:
        log.info("could not retire the time menu: %s", exc)
    await _show_preview(context, d, fresh)


async def _confirm(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, notice: Notice) -> None:
    q = update.callback_query
    now = d.now()
    if notice.send_at is not None and notice.send_at <= now:  # the preview said 定时; that time went by
        await q.answer(texts.NOTICE_TIME_WENT_BY, show_alert=True)
        return
    async with d.db.transaction() as s:
        count = await notices.confirm(s, notice.id, now)
        if count is not None:
            await notices.set_report(s, notice.id, q.message.chat.id, q.message.message_id)
    await q.answer()
    if count is None:
        await q.edit_message_text(texts.NOTICE_GONE)
        return
    if count == 0:
        async with d.db.transaction() as s:
            await notices.finish(s, now)
        await q.edit_message_text(texts.NOTICE_NOBODY)
        return
    if notice.send_at is not None and notice.send_at > now:
        withdraw = keyboards.button(d.callback_secret, texts.BTN_NOTICE_WITHDRAW, "nx", str(notice.id))
        await q.edit_message_text(texts.notice_scheduled(notice.send_at, count),
                                  reply_markup=keyboards.inline([withdraw]))
        return
    await q.edit_message_text(texts.notice_progress(0, count))
    d.wake_sender()


def register(app: Application) -> None:
    """Handlers in group ``GROUP``, ahead of the router's catch-alls (which they stop when they answer)."""
    app.add_handler(CommandHandler("notice", start_notice, filters=PRIVATE), group=GROUP)
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text), group=GROUP)
    app.add_handler(MessageHandler(PRIVATE & filters.PHOTO, on_photo), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=_is_ours), group=GROUP)


__all__ = ["ACTIONS", "GROUP", "allowed", "options", "register"]
