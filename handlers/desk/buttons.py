"""The case card's buttons: 签收 · 转派 (choose a unit, or back) · 需补充 · 办结 · 升级 · 刷新; and [无法联系，办结]
under the desk's word that a 待补充 question went unanswered (``bot.jobs`` owes it with the sweep's chase).

Buttons carry number.version: two staff pressing 签收 at once, the second is told what happened instead.
需补充 and 办结 need words: they post a ForceReply prompt whose answer ``handlers.desk.relays`` takes.
"""

from __future__ import annotations

from telegram import ForceReply, Update
from telegram.ext import ContextTypes

from handlers import cards, keyboards, texts
from handlers.deps import Deps, deps
from handlers.desk.access import may_act
from handlers.names import complaint_choices, complaint_name, level_name, unit_name
from handlers.replies import answer_quietly, drop_buttons, safe_send, under
from services.cases import clocks, corrections, lifecycle, sweep, tickets
from services.cases import desk as reports
from services.cases.events import staff_actor
from services.cases.lifecycle import REASSIGNABLE, Outcome, TransitionResult
from services.outbox import Priority
from storage.models import OPEN_STATUSES, CorrectionSource, PostKind, Ticket, TicketStatus

S = TicketStatus
ACTIONS: frozenset[str] = frozenset({"ss", "sr", "sru", "sk", "skc", "sx", "sv", "sp", "sd", "se", "su"})
"""Callback actions for :func:`on_button`: 签收, 转派 (choose / unit / 改类别 / a category / back / refresh), 详情,
需补充, 办结, 升级, 无法联系办结."""
UNIT_KEY_MAX = 16  # "1|sru|LL-20261122-0007.12345.<key>|<8>" stays within Telegram's 64 bytes


def _parse(arg: str) -> tuple[str, int, str] | None:
    """``LL-…-0001.3`` or ``LL-…-0001.3.wuye`` → (number, version, extra)."""
    parts = arg.split(".")
    if len(parts) not in (2, 3) or not parts[1].isdigit():
        return None
    number = tickets.parse_ticket_number(parts[0])
    return (number, int(parts[1]), parts[2] if len(parts) == 3 else "") if number else None


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """A card button pressed in a desk chat: the signature was checked by the router, the rest is checked here."""
    q = update.callback_query
    d = deps(context)
    parsed = _parse(arg)
    if parsed is None or q.message is None or action not in ACTIONS:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    number, version, extra = parsed
    async with d.db.session() as s:
        t = await reports.ticket_by_number(s, number)
    if t is None:
        await q.answer(texts.STAFF_NO_TICKET, show_alert=True)
        return
    refusal = await may_act(d, q.message.chat.id, q.from_user.id, t, via=f"button:{action}")
    if refusal is not None:
        await q.answer(refusal, show_alert=True)
        return
    if action in ("sx", "sv"):  # 刷新 / back from the unit list, or 详情 of a case in a combined message
        async with d.db.transaction() as s:
            if action == "sv":
                await cards.owe_card(s, d, t, chat_id=q.message.chat.id, header=texts.CARD_HEADER_TICKET,
                                     priority=Priority.REPLY)
            else:
                await cards.owe_refresh(s, d, t)
        d.wake_sender()
        await answer_quietly(q)
        return
    if action == "su":
        await _close_unreachable(update, context, d, t, version)
        return
    if version != t.version:  # someone acted since this card was drawn: say what happened instead
        await _answer(update, context, d, t, TransitionResult.conflict())
        return
    handler = {"ss": _sign, "sr": _choose_unit, "sru": _reassign, "sk": _choose_category, "skc": _recategorize,
               "sp": _prompt, "sd": _prompt, "se": _escalate}[action]
    await handler(update, context, d, t, action, extra)


async def _answer(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, result: TransitionResult,
                  ok_text: str | None = None) -> None:
    """Answer the press with what happened. A change owed its card redraw in its own transaction; a refusal
    or a conflict gets one now, so the card shows what the other side did."""
    q = update.callback_query
    if result.ok:
        d.wake_sender()
        await answer_quietly(q, ok_text)
        return
    async with d.db.transaction() as s:
        fresh = await s.get(Ticket, t.id)
        await cards.owe_refresh(s, d, fresh)
    d.wake_sender()
    status = texts.STATUS.get(fresh.status, fresh.status)
    if result.outcome is Outcome.CONFLICT:
        await answer_quietly(q, texts.staff_conflict(status), show_alert=True)
    else:
        await answer_quietly(q, texts.staff_refused(result.reason or "not_allowed", status), show_alert=True)


async def _sign(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                extra: str) -> None:
    user = update.callback_query.from_user
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        if row.version != t.version:  # another press got there first, maybe while this one waited
            result = TransitionResult.conflict()
        elif row.status not in clocks.UNSIGNED:  # 待补充 → 签收 is legal, but only the resident's answer resumes
            result = TransitionResult.illegal(lifecycle.Refusal.NOT_ALLOWED)
        else:
            result = await lifecycle.transition(s, row, S.SIGNED, actor=staff_actor(user.id), now=d.now(),
                                                expected_version=t.version)
        if result.ok:  # the resident hears who signed for it and by when it should be done
            await cards.owe_refresh(s, d, row)
            await cards.owe_residents(s, d, row, texts.resident_signed(
                row.number, unit_name(d, row.unit), user.full_name, clocks.effective_due(row, d.now())))
    await _answer(update, context, d, t, result, texts.STAFF_SIGNED)


async def _choose_unit(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                       extra: str) -> None:
    q = update.callback_query
    if t.status not in REASSIGNABLE:
        await _answer(update, context, d, t, TransitionResult.illegal(lifecycle.Refusal.NOT_ALLOWED))
        return
    arg = f"{t.number}.{t.version}"
    units = [keyboards.button(d.callback_secret, u.name, "sru", f"{arg}.{_unit_key(i, u.code)}")
             for i, u in enumerate(d.community.units) if u.code != t.unit]
    if not units:
        await q.answer(texts.STAFF_NO_OTHER_UNIT, show_alert=True)
        return
    back = keyboards.button(d.callback_secret, texts.BTN_UNIT_BACK, "sx", arg)
    recategorize = keyboards.button(d.callback_secret, texts.BTN_RECATEGORIZE_CASE, "sk", arg)
    await q.answer(texts.STAFF_CHOOSE_UNIT)
    await q.edit_message_reply_markup(reply_markup=keyboards.inline(*keyboards.rows(units, 2), [recategorize, back]))


async def _choose_category(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                           extra: str) -> None:
    """改类别: the categories, for a case the engine (or the resident) filed under the wrong one."""
    q = update.callback_query
    arg = f"{t.number}.{t.version}"
    choices = [keyboards.button(d.callback_secret, name, "skc", f"{arg}.{code}")
               for code, name in complaint_choices(d) if code != t.category]
    back = keyboards.button(d.callback_secret, texts.BTN_UNIT_BACK, "sx", arg)
    await q.answer(texts.STAFF_CHOOSE_CATEGORY)
    await q.edit_message_reply_markup(reply_markup=keyboards.inline(*keyboards.rows(choices, 3), [back]))


async def _recategorize(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                        category: str) -> None:
    """The category corrected: kept as a row the engine learns from, and the case handed on if another unit
    handles the new category."""
    user = update.callback_query.from_user
    if category not in {c for c, _ in complaint_choices(d)}:
        await answer_quietly(update.callback_query, texts.STALE_BUTTON, show_alert=True)
        return
    old_unit = t.unit
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        old = row.category
        result = await lifecycle.recategorize(s, row, category=category, actor=staff_actor(user.id), now=d.now(),
                                              community=d.community, expected_version=t.version)
        if result.ok:
            await corrections.record(s, text=row.text, label=category, predicted=old, now=d.now(),
                                     source=CorrectionSource.CORRECTION, ticket_id=row.id,
                                     actor=staff_actor(user.id))
            await cards.owe_refresh(s, d, row)
            if row.unit != old_unit:
                await cards.owe_card(s, d, row, header=texts.card_header_reassigned(unit_name(d, old_unit)))
                await cards.owe_residents(s, d, row, texts.resident_reassigned(row.number, unit_name(d, row.unit)))
    await _answer(update, context, d, t, result, texts.staff_recategorized(complaint_name(d, category)))


def _unit_key(index: int, code: str) -> str:
    """A unit in callback data: its code, or ``#index`` when a long code would pass the 64-byte limit."""
    return code if len(code) <= UNIT_KEY_MAX else f"#{index}"


def _unit_code(d: Deps, key: str) -> str:
    if key.startswith("#") and key[1:].isdigit() and int(key[1:]) < len(d.community.units):
        return d.community.units[int(key[1:])].code
    return key


async def _reassign(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                    key: str) -> None:
    user = update.callback_query.from_user
    code = _unit_code(d, key)
    old_unit = t.unit
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        result = await lifecycle.reassign(s, row, unit=code, reason=texts.REASSIGN_REASON, actor=staff_actor(user.id),
                                          now=d.now(), community=d.community, expected_version=t.version)
        if result.ok:
            label = corrections.category_of_unit(d.community, code, row.category)
            if label:  # handed to a unit that takes one other category: the category was wrong too
                await corrections.record(s, text=row.text, label=label, predicted=row.category, now=d.now(),
                                         source=CorrectionSource.REASSIGN, ticket_id=row.id,
                                         actor=staff_actor(user.id))
            await cards.owe_refresh(s, d, row)
            await cards.owe_card(s, d, row, header=texts.card_header_reassigned(unit_name(d, old_unit)))
            await cards.owe_residents(s, d, row, texts.resident_reassigned(row.number, unit_name(d, code)))
    await _answer(update, context, d, t, result, texts.staff_reassigned(unit_name(d, code)))


async def _prompt(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                  extra: str) -> None:
    """需补充 / 办结 need words from the staff member: ask for them with a ForceReply prompt."""
    q = update.callback_query
    status = texts.STATUS.get(t.status, t.status)
    if t.status in clocks.UNSIGNED:
        await q.answer(texts.STAFF_SIGN_FIRST, show_alert=True)
        return
    if t.status not in cards.WORKING:
        await q.answer(texts.staff_refused("not_allowed", status), show_alert=True)
        return
    kind, prompt, hint = (
        (PostKind.ASK_RESULT, texts.staff_ask_result(t.number), texts.ASK_RESULT_PLACEHOLDER) if action == "sd"
        else (PostKind.ASK_INFO, texts.staff_ask_info(t.number), texts.ASK_INFO_PLACEHOLDER)
    )
    sent = await safe_send(context, q.message.chat.id, prompt, reply_parameters=under(q.message.message_id),
                           reply_markup=ForceReply(input_field_placeholder=hint))
    if sent is not None:  # the prompt is this moment's conversation, not something owed: sent at once
        async with d.db.transaction() as s:
            await reports.record_post(s, t.id, sent.chat_id, sent.message_id, kind, d.now())
    await answer_quietly(q, texts.STAFF_PROMPTED_PRIVATE if q.message.chat.type == "private" else texts.STAFF_PROMPTED)


async def _escalate(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket, action: str,
                    extra: str) -> None:
    user = update.callback_query.from_user
    esc = None
    async with d.db.transaction() as s:
        row = await s.get(Ticket, t.id)
        if row.version != t.version:
            result = TransitionResult.conflict()
        elif row.status not in OPEN_STATUSES:
            result = TransitionResult.illegal(lifecycle.Refusal.FINAL)
        elif row.escalation_level == sweep.LEVELS[-1]:  # the top holds it: "已升级至" and its card posted again misled
            top = level_name(d, row.escalation_level)
            await answer_quietly(update.callback_query, texts.staff_escalated_top(top), show_alert=True)
            return
        else:
            esc = await sweep.escalate(s, row, reason=sweep.EscalationReason.MANUAL,
                                       actor=staff_actor(user.id), now=d.now(), community=d.community)
            result = TransitionResult(Outcome.OK) if esc else TransitionResult.conflict()
            if esc is not None:
                await cards.owe_escalation(s, d, esc)
    level = level_name(d, esc.level) if esc else None
    await _answer(update, context, d, t, result, texts.staff_escalated(level or ""))


async def _close_unreachable(update: Update, context: ContextTypes.DEFAULT_TYPE, d: Deps, t: Ticket,
                             asked: int) -> None:
    """[无法联系，办结]: a 待补充 case whose resident never answered is 办结 as 无法联系 (the moves staff would make by
    hand, ``services.cases.desk.close_unreachable``, with no 回访 after it); the resident is told how to go on (the
    neighbours following the case too, in their own words), the cards are redrawn and
    the button goes. The button names the question it was given for (``asked``: when the case began waiting, see
    :func:`handlers.cards.unreachable_buttons`), not a version: an escalation meanwhile leaves it working. A case no
    longer waiting for that answer (a second press, the resident answered) is answered politely, not changed."""
    q = update.callback_query
    result: TransitionResult | None = None
    row = t
    if _waiting_since(t) == asked:
        async with d.db.transaction() as s:
            row = await s.get(Ticket, t.id)
            result = await reports.close_unreachable(s, row, actor=staff_actor(q.from_user.id), now=d.now(),
                                                     result=texts.RESULT_UNREACHABLE, expected_version=t.version)
            if result.ok:  # what they get instead of a 回访 (none comes: services.cases.followup)
                unit = unit_name(d, row.unit)
                await cards.owe_residents(s, d, row, texts.resident_closed_unreachable(row.number, unit,
                                                                                        d.rating_window),
                                          followers=False)
                await cards.owe_followers(s, d, row, texts.follower_closed_unreachable(row.number, unit,
                                                                                        d.rating_window))
                await cards.owe_refresh(s, d, row)
    if result is not None and not result.ok and _waiting_since(row) == asked:  # a conflict: say what happened
        await _answer(update, context, d, t, result)
        return
    await drop_buttons(q)
    if result is None or not result.ok:  # pressed again, or the case moved on since this word was sent
        await answer_quietly(q, texts.staff_unreachable_stale(t.number, texts.STATUS.get(row.status, row.status)),
                             show_alert=True)
        return
    d.wake_sender()
    await answer_quietly(q, texts.staff_closed_unreachable(t.number))


def _waiting_since(t: Ticket) -> int | None:
    """The 待补充 question a case waits on, as the [无法联系，办结] button names it; None when it waits on none."""
    return int(t.paused_at.timestamp()) if t.status is S.PENDING_INFO and t.paused_at is not None else None


__all__ = ["ACTIONS", "on_button"]
