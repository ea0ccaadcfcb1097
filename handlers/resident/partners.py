"""/partner: a resident applies to be a 社区合伙人 (what they offer from the community's list, when, where),
sees their status, and pauses or resumes taking orders. Staff decide in the desk chat (``handlers.desk.participation``).

::

    /partner ──▶ service buttons (pa: toggle, the choice is the button's bit mask) ──pn──▶ prompt "when, where"
    ──reply──▶ application (pending) ──outbox──▶ card with 通过 · 拒绝 in the desk chat
"""

from __future__ import annotations

import re

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
from handlers.replies import answer_quietly, owed_now
from handlers.taking_part import GROUP, PRIVATE, RepliesTo, ask, desk_chat, pattern, service_name
from services.participation import orders, partners
from services.points import ledger
from storage.models import Partner, PartnerStatus

ACTIONS = ("pa", "pn", "pp")
_SPLIT = re.compile(r"[，,；;。\n]+")


def _choice_buttons(d: Deps, mask: int) -> keyboards.InlineKeyboardMarkup:
    offers = d.community.participation.services
    buttons = [keyboards.button(d.callback_secret, ("✅ " if mask >> i & 1 else "") + o.name, "pa", str(mask ^ 1 << i))
               for i, o in enumerate(offers)]
    return keyboards.inline(*keyboards.rows(buttons, 3), [keyboards.button(d.callback_secret, texts.BTN_PARTNER_NEXT,
                                                                           "pn", str(mask))])


def _chosen(d: Deps, mask: int) -> list[str]:
    return [o.code for i, o in enumerate(d.community.participation.services) if mask >> i & 1]


async def on_partner(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Status for a partner; the application's first step for everyone else."""
    d, msg = deps(context), update.effective_message
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        row = await partners.partner_of(s, r.id)
        bal = await ledger.balance(s, r.id)
        record = await orders.record_of(s, row.id) if row and row.id else None
        await s.commit()
    if row is not None and row.status in (PartnerStatus.APPROVED, PartnerStatus.PAUSED):
        paused = row.status is PartnerStatus.PAUSED
        toggle = keyboards.button(d.callback_secret, texts.BTN_PARTNER_RESUME if paused else texts.BTN_PARTNER_PAUSE,
                                  "pp", "0" if paused else "1")
        await msg.reply_text(texts.partner_status(
            [service_name(d, c) for c in row.services], row.available, row.area, paused, bal,
            record.done if record else 0, record.no_shows if record else 0, record.mean_rating if record else None),
            reply_markup=keyboards.inline([toggle]))
        raise ApplicationHandlerStop
    lead = texts.PARTNER_PENDING if row is not None and row.status is PartnerStatus.PENDING else (
        texts.partner_refused_before(row.reason or "") if row is not None else "")
    await msg.reply_text(lead + texts.PARTNER_CHOOSE, reply_markup=_choice_buttons(d, 0))
    raise ApplicationHandlerStop


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    q, d = update.callback_query, deps(context)
    cb = unpack(d.callback_secret, q.data)
    if cb is None or q.message is None or q.message.chat.type != "private":
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        raise ApplicationHandlerStop
    if cb.action == "pp":
        await _pause(update, d, cb.arg == "1")
        raise ApplicationHandlerStop
    mask = int(cb.arg) if cb.arg.isdigit() and int(cb.arg) < 1 << len(d.community.participation.services) else None
    if mask is None:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
    elif cb.action == "pa":
        await q.answer()
        await q.edit_message_reply_markup(reply_markup=_choice_buttons(d, mask))
    elif not mask:
        await q.answer(texts.PARTNER_CHOOSE_ONE, show_alert=True)
    else:
        await q.answer()
        await q.edit_message_reply_markup(reply_markup=None)
        names = [service_name(d, c) for c in _chosen(d, mask)]
        await ask(q.message, texts.partner_prompt(names), texts.PARTNER_PLACEHOLDER)
    raise ApplicationHandlerStop


async def _pause(update: Update, d: Deps, paused: bool) -> None:
    q = update.callback_query
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        row = await partners.partner_of(s, r.id)
        changed = await partners.set_paused(s, row.id, paused, d.now()) if row and row.id else None
    if changed is None:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    await answer_quietly(q)
    await q.edit_message_reply_markup(reply_markup=None)
    await q.message.reply_text(texts.PARTNER_PAUSED if paused else texts.PARTNER_RESUMED)


def _services_in_prompt(d: Deps, prompt: str) -> list[str]:
    line = next((x for x in prompt.splitlines() if x.startswith(texts.PARTNER_SERVICES_LABEL)), "")
    names = line.removeprefix(texts.PARTNER_SERVICES_LABEL).split("、")
    return [o.code for n in names if (o := d.community.participation.service_named(n))]


async def on_reply(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The answer to "when and where": the application goes to the desk."""
    d, msg = deps(context), update.effective_message
    text = (msg.text or "").strip()
    services = _services_in_prompt(d, msg.reply_to_message.text or "")
    if not text or len(text) > 2 * partners.MAX_FIELD:
        await msg.reply_text(texts.PARTNER_WHEN_WHERE_BAD)
        raise ApplicationHandlerStop
    when, where = _when_where(text)
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        applied = await partners.apply(s, resident=r, services=services, available=when, area=where,
                                       community=d.community, now=d.now(), name=update.effective_user.full_name)
        if applied.status in (partners.ApplyStatus.OK, partners.ApplyStatus.UPDATED):
            await _owe_card(s, d, applied.partner, r.grid_code)
    if applied.status is partners.ApplyStatus.ALREADY:
        await msg.reply_text(texts.PARTNER_ALREADY)
    elif applied.status is partners.ApplyStatus.NO_SERVICE:
        await msg.reply_text(texts.PARTNER_CHOOSE_ONE)
    else:
        owed_now(context, update)
        d.wake_sender()
        await msg.reply_text(texts.partner_applied(applied.partner.id))
    raise ApplicationHandlerStop


def _when_where(text: str) -> tuple[str, str]:
    parts = _SPLIT.split(text, maxsplit=1)
    return parts[0].strip(), (parts[1].strip() if len(parts) > 1 else "")


async def _owe_card(s: AsyncSession, d: Deps, p: Partner | None, grid_code: str | None) -> None:
    assert p is not None and p.id is not None
    grid = d.community.grid(grid_code) if grid_code else None
    markup = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_APPROVE, "pd", str(p.id)),
                               keyboards.button(d.callback_secret, texts.BTN_REFUSE, "pr", str(p.id))])
    await cards.owe_message(s, d, desk_chat(d), texts.partner_card(
        p.id, p.name, [service_name(d, c) for c in p.services], p.available, p.area, grid.name if grid else None),
        markup=markup)


def register(app: Application) -> None:
    app.add_handler(CommandHandler("partner", on_partner, filters=PRIVATE), group=GROUP)
    app.add_handler(CallbackQueryHandler(on_button, pattern=pattern(*ACTIONS)), group=GROUP)
    app.add_handler(MessageHandler(PRIVATE & filters.TEXT & ~filters.COMMAND & RepliesTo(texts.PARTNER_PROMPT_MARK),
                                   on_reply), group=GROUP)


__all__ = ["ACTIONS", "on_partner", "register"]
