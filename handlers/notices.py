"""Notices and roles in chat: /notice for grid workers and admins, /mute /unmute for residents,
/grant /revoke for admins.

::

    /notice ──(may send?)──▶ kind buttons ──nk──▶ "write the text" ──text──▶ audience buttons ──na──▶
    draft + preview (recipient count) with 确认发送 (nc) / 取消 (nx) ──nc──▶ confirm, "x/y", final report

Nothing goes out before 确认发送. The composing state (kind, text, audience choices) lives in
``user_data`` (lost on restart: the worker starts /notice again); the draft itself is in the database.
Every press is checked again on the server: the signature, the presser is the author, the permission.
Handlers sit in group ``GROUP`` (before the router's catch-alls) and stop further handling when they
took the update. Admins come from the roles table and ``LINLI_ADMINS``.
"""

from __future__ import annotations

import logging
import secrets

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

from bot import notice_sender
from handlers import keyboards, texts
from handlers.access import grants_of, target_user
from handlers.callbacks import unpack
from handlers.deps import Deps, deps
from services import notices, roles
from services.roles import Action, Grant, Scope
from storage.models import AudienceKind, Notice, NoticeKind, RoleName

log = logging.getLogger(__name__)

GROUP = -1
ACTIONS = frozenset({"nk", "na", "nc", "nx"})
MAX_TEXT = 3000
_STATE = "linli.notice"
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
    context.user_data[_STATE] = {"stage": "kind", "stamp": stamp}
    buttons = [keyboards.button(d.callback_secret, label, "nk", f"{k.value}.{stamp}")
               for k in NoticeKind for label in [texts.NOTICE_KINDS[k.value]]]
    await msg.reply_text(texts.NOTICE_CHOOSE_KIND, reply_markup=keyboards.inline(*keyboards.rows(buttons, 2)))
    raise ApplicationHandlerStop


async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The notice's text while one is being composed; otherwise not ours (the router goes on)."""
    state = context.user_data.get(_STATE) if context.user_data is not None else None
    if not state or state.get("stage") != "text":
        return
    d, msg = deps(context), update.effective_message
    text = (msg.text or "").strip()
    if not text or len(text) > MAX_TEXT:
        await msg.reply_text(texts.NOTICE_EMPTY if not text else texts.NOTICE_TOO_LONG)
        raise ApplicationHandlerStop
    choices = options(d, await grants_of(d, update.effective_user.id))
    if not choices:  # the role was revoked meanwhile
        context.user_data.pop(_STATE, None)
        await msg.reply_text(texts.NOTICE_REFUSED)
        raise ApplicationHandlerStop
    state.update(stage="audience", text=text, options=[(k.value, v, label) for k, v, label in choices])
    buttons = [keyboards.button(d.callback_secret, label, "na", f"{i}.{state['stamp']}")
               for i, (_k, _v, label) in enumerate(choices)]
    await msg.reply_text(texts.NOTICE_CHOOSE_AUDIENCE, reply_markup=keyboards.inline(*keyboards.rows(buttons, 2)))
    raise ApplicationHandlerStop


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
    state = context.user_data.get(_STATE) if context.user_data is not None else None
    want = "kind" if action == "nk" else "audience"
    if not state or state.get("stamp") != stamp or state.get("stage") != want:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    if action == "nk":
        try:
            kind = NoticeKind(value)
        except ValueError:
            await q.answer(texts.STALE_BUTTON, show_alert=True)
            return
        state.update(stage="text", kind=kind.value)
        await q.answer()
        await q.edit_message_text(texts.notice_ask_text(kind.value))
        return
    chosen = state["options"][int(value)] if value.isdigit() and int(value) < len(state["options"]) else None
    grants = await grants_of(d, q.from_user.id)
    if chosen is None or not allowed(d, grants, AudienceKind(chosen[0]), chosen[1]):
        roles.refused(q.from_user.id, Action.NOTICE_GRID, f"audience:{chosen}", "button:na")
        await q.answer(texts.NOTICE_REFUSED, show_alert=True)
        return
    context.user_data.pop(_STATE, None)
    async with d.db.transaction() as s:
        notice = await notices.create_draft(s, author_tg_id=q.from_user.id, kind=NoticeKind(state["kind"]),
                                            text=state["text"], audience_kind=AudienceKind(chosen[0]),
                                            audience_value=chosen[1], now=d.now())
        count = len(await notices.recipients(s, notice))
    await q.answer()
    arg_id = str(notice.id)
    markup = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_NOTICE_SEND, "nc", arg_id),
                               keyboards.button(d.callback_secret, texts.BTN_NOTICE_CANCEL, "nx", arg_id)])
    await q.edit_message_text(
        texts.notice_preview(notice.kind.value, notice.text, _audience_label(d, notice), count, notice.urgent),
        reply_markup=markup)


async def _decide(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """确认发送 or 取消 on a preview: only its author, only while it is a draft, only if still allowed."""
    q, d = update.callback_query, deps(context)
    user_id = q.from_user.id
    async with d.db.session() as s:
        notice = await s.get(Notice, int(arg)) if arg.isdigit() else None
    if notice is None or notice.author_tg_id != user_id:
        roles.refused(user_id, "notice.decide", f"notice:{arg}", f"button:{action} (not the author)")
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
        roles.refused(user_id, Action.NOTICE_GRID, f"notice:{notice.id}", "button:nc")
        await q.answer(texts.NOTICE_REFUSED, show_alert=True)
        return
    async with d.db.transaction() as s:
        count = await notices.confirm(s, notice.id, d.now())
        if count is not None:
            await notices.set_report(s, notice.id, q.message.chat.id, q.message.message_id)
    await q.answer()
    if count is None:
        await q.edit_message_text(texts.NOTICE_GONE)
        return
    if count == 0:
        async with d.db.transaction() as s:
            await notices.finish(s, d.now())
        await q.edit_message_text(texts.NOTICE_NOBODY)
        return
    await q.edit_message_text(texts.notice_progress(0, count))
    notice_sender.kick(context.application)


# --- /mute /unmute ----------------------------------------------------------------------------------------


async def mute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    async with d.db.transaction() as s:
        changed = await notices.mute(s, update.effective_user.id, d.now())
    await update.effective_message.reply_text(texts.NOTICE_MUTED if changed else texts.NOTICE_ALREADY_MUTED)
    raise ApplicationHandlerStop


async def unmute(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    async with d.db.transaction() as s:
        changed = await notices.unmute(s, update.effective_user.id)
    await update.effective_message.reply_text(texts.NOTICE_UNMUTED if changed else texts.NOTICE_NOT_MUTED)
    raise ApplicationHandlerStop


# --- /grant /revoke -------------------------------------------------------------------------------------


async def grant_or_revoke(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d, user, msg = deps(context), update.effective_user, update.effective_message
    revoking = (msg.text or "").lstrip("/").lower().startswith("revoke")
    if not roles.can(await grants_of(d, user.id), Action.ROLES_MANAGE):
        roles.refused(user.id, Action.ROLES_MANAGE, via="/revoke" if revoking else "/grant")
        await msg.reply_text(texts.GRANT_REFUSED)
        raise ApplicationHandlerStop
    target, args, unknown = await target_user(d, msg, list(context.args or []))
    if unknown is not None:
        await msg.reply_text(texts.grant_unknown_user(unknown))
        raise ApplicationHandlerStop
    if target is None or len(args) not in (1, 2):
        await msg.reply_text(texts.REVOKE_USAGE if revoking else texts.GRANT_USAGE)
        raise ApplicationHandlerStop
    role, scope = args[0], args[1] if len(args) == 2 else ""
    try:
        g = roles.check_grant(role, scope, None if revoking else d.community)
    except roles.GrantError as exc:
        await msg.reply_text(texts.GRANT_ERRORS.get(exc.reason, texts.GRANT_USAGE))
        raise ApplicationHandlerStop from None
    async with d.db.transaction() as s:
        if revoking:
            found = await roles.revoke(s, tg_user_id=target, role=g.role, scope=g.scope)
        else:
            found = await roles.grant(s, tg_user_id=target, role=RoleName(g.role), scope=g.scope,
                                      granted_by=user.id, now=d.now())
    log.info("user %s %s role %s/%s of %s: %s", user.id, "revoked" if revoking else "granted", g.role, g.scope,
             target, found)
    reply = texts.role_revoked if revoking else texts.role_granted
    await msg.reply_text(reply(target, g.role.value, g.scope, found))
    raise ApplicationHandlerStop


def register(app: Application) -> None:
    """Handlers in group ``GROUP``, ahead of the router's catch-alls (which they stop when they answer)."""
    app.add_handler(CommandHandler("notice", start_notice, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("mute", mute, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler("unmute", unmute, filters=PRIVATE), group=GROUP)
    app.add_handler(CommandHandler(["grant", "revoke"], grant_or_revoke), group=GROUP)
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND, on_text), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=_is_ours), group=GROUP)


__all__ = ["ACTIONS", "GROUP", "allowed", "options", "register"]
