"""A resident's own cases: the list, one case with its history, and withdrawal (撤回).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from telegram import Update
from telegram.ext import ContextTypes

from handlers import cards, keyboards, texts
from handlers.deps import deps
from handlers.names import complaint_name
from handlers.people import forget, resident_now, resident_of, speaker
from handlers.replies import answer_quietly, drop_buttons
from services.cases import desk as reports
from services.cases import drafts, events, intake, lifecycle, mediation, tickets
from services.cases.events import resident_actor
from services.people import conversations
from storage.models import OPEN_STATUSES, Ticket, TicketEvent, TicketEventKind


async def my_tickets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg = update.effective_message
    if context.args:
        number = tickets.parse_ticket_number(" ".join(context.args))
        await show_ticket(update, context, number or "")
        return
    r = await resident_now(d, update)
    async with d.db.session() as s:
        summaries = await tickets.list_for_resident(s, r.id, limit=10)
        rows = [
            (t.ticket.number, texts.STATUS.get(t.ticket.status, t.ticket.status),
             complaint_name(d, t.ticket.category),
             _event_text(t.latest_event) if t.latest_event else None)
            for t in summaries
        ]
    if not rows:
        await msg.reply_text(texts.NO_TICKETS)
        return
    body = "\n".join([texts.TICKETS_HEADER, *(texts.ticket_line(*row) for row in rows)])
    buttons = [keyboards.button(d.callback_secret, number, "tk", number) for number, *_ in rows]
    await msg.reply_text(body, reply_markup=keyboards.inline(*keyboards.rows(buttons, 2)))


def _event_text(ev: TicketEvent) -> str:
    what = texts.EVENT.get(ev.kind, ev.kind)
    if ev.kind == "reminded" and ev.note == mediation.MEETING_REMINDER:
        what = texts.EVENT_MEETING_REMINDED
    if ev.to_status and ev.kind != "created":
        what += f"：{texts.STATUS.get(ev.to_status, ev.to_status)}"
    if ev.note and ev.kind == "escalated":
        what += f"（{texts.ESCALATION_REASON.get(ev.note, texts.preview(ev.note, 60))}）"
    elif ev.note and ev.kind in ("reply", "status_changed"):
        what += f"（{texts.preview(ev.note, 60)}）"
    return f"{texts.fmt_time(ev.at)} {what}"


async def show_ticket(update: Update, context: ContextTypes.DEFAULT_TYPE, number: str,
                      edit: bool = False) -> None:
    d = deps(context)
    msg = update.effective_message
    r = await resident_now(d, update)
    async with d.db.session() as s:
        t = await tickets.get_for_resident(s, r.id, number) if number else None
        if t is not None:  # a neighbour whose complaint joined the case reads its progress and their own words
            view = await tickets.resident_view(s, t, [r.id])  # (internal notes and others' words left out)
            events = [(e.at, _event_text(e).split(" ", 2)[-1]) for e in view.events]
            unit = d.community.unit(t.unit)
            body = texts.ticket_detail(t.number, texts.STATUS.get(t.status, t.status),
                                       complaint_name(d, t.category), view.words, view.place,
                                       unit.name if unit else t.unit, t.due_at, events)
            can_withdraw = t.status in OPEN_STATUSES
    if t is None:
        await msg.reply_text(texts.TICKET_NOT_FOUND)
        return
    sec = d.callback_secret
    markup = keyboards.inline([keyboards.button(sec, texts.BTN_SUPPLEMENT, "tsp", t.number),
                               keyboards.button(sec, texts.BTN_WITHDRAW, "wd", t.number)]) if can_withdraw else None
    await msg.reply_text(body, reply_markup=markup)


async def progress_of_kind(update: Update, context: ContextTypes.DEFAULT_TYPE, categories: list[str]) -> bool:
    """"电梯修了没" from a resident whose own lift case is open: that case's progress, not a new draft (a
    duplicate in the making). False, nothing said: no open case of any of ``categories``."""
    d = deps(context)
    r = await resident_now(d, update)
    found = None
    async with d.db.session() as s:
        for category in dict.fromkeys(categories):
            found = await tickets.open_of(s, r.id, category)
            if found is not None:
                break
    if found is None:
        return False
    await show_ticket(update, context, found.number)
    return True


# -- 补充说明: words, photos or voice added to an open case, under its card ------

SUPPLEMENT_FLOW = "supplement"
SUPPLEMENT_FOR = timedelta(minutes=15)  # after this, a message is read on its own again


async def on_supplement_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """tsp: start adding to one's open case; tspx: done."""
    d = deps(context)
    q = update.callback_query
    user = update.effective_user
    if action == "tspx":
        async with d.db.transaction() as s:
            if await conversations.flow_of(s, user.id, d.now()) == SUPPLEMENT_FLOW:
                await conversations.end(s, user.id)
        await answer_quietly(q)
        await q.edit_message_text(texts.SUPPLEMENT_DONE)
        return
    number = tickets.parse_ticket_number(arg) or ""
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        t = await tickets.get_for_resident(s, r.id, number)
        if t is not None and t.status in OPEN_STATUSES:
            await conversations.save(s, user.id, SUPPLEMENT_FLOW, {"ticket": t.id, "at": d.now().isoformat()},
                                     d.now())
    if t is None or t.status not in OPEN_STATUSES:
        await answer_quietly(q, texts.SUPPLEMENT_CLOSED, show_alert=True)
        return
    await answer_quietly(q)
    await q.message.reply_text(texts.supplement_ask(number), reply_markup=keyboards.inline(
        [keyboards.button(d.callback_secret, texts.BTN_SUPPLEMENT_DONE, "tspx", number)]))


async def supplement(update: Update, context: ContextTypes.DEFAULT_TYPE, *, text: str | None = None,
                     photo: str | None = None, caption: str | None = None,
                     attachment: dict[str, Any] | None = None) -> bool:
    """Something sent while adding to a case: kept with it and relayed under its card. False when the resident
    is not adding to a case (the message is read as usual)."""
    d = deps(context)
    user = update.effective_user
    msg = update.effective_message
    if (await speaker(d, update)).flow(d.now()) != SUPPLEMENT_FLOW:
        return False
    now = d.now()
    async with d.db.transaction() as s:
        state = await conversations.load(s, user.id, SUPPLEMENT_FLOW, now)
        t = await s.get(Ticket, state["ticket"]) if state else None
        fresh = state is not None and now - datetime.fromisoformat(state["at"]) <= SUPPLEMENT_FOR
        if t is None or not fresh or t.status not in OPEN_STATUSES:
            await conversations.end(s, user.id)
            closed = t is not None and fresh
        else:
            closed = None
            r = await resident_of(s, update, d)
            words = text or caption
            if words:
                await events.record_event(s, t, kind=TicketEventKind.REPLY, actor=resident_actor(r.id), now=now,
                                          note=words)
                await cards.owe_under_card(s, d, t, texts.staff_resident_said(t.number, r.name, words, False))
            if photo or attachment:
                if photo:
                    t.photos = [*t.photos, photo]
                if attachment:
                    t.attachments = [*t.attachments, attachment]
                t.updated_at = now
                s.add(t)
                await events.record_event(s, t, kind=TicketEventKind.LINKED, actor=resident_actor(r.id), now=now,
                                          note=texts.SUPPLEMENT_MEDIA_NOTE)
                target = (await reports.latest_card(s, t.id)) if t.id else None
                chat = target.chat_id if target else cards.unit_chat(d, t.unit)
                if chat is not None:
                    await intake.owe_media(s, t, chat, now=now, photos=[photo] if photo else [],
                                           attachments=[attachment] if attachment else [],
                                           caption=texts.staff_supplement_caption(t.number, r.name))
            await conversations.save(s, user.id, SUPPLEMENT_FLOW, {**state, "at": now.isoformat()}, now)
    forget()  # the flow row changed: anything asked after this reads again
    if closed is None:
        d.wake_sender()
        await msg.reply_text(texts.SUPPLEMENT_ADDED)
        return True
    if closed:
        await msg.reply_text(texts.SUPPLEMENT_CLOSED)
        return True
    return False


# a bare "no" that names nothing ("不用了", "算了", "取消"): it takes back a draft being written, never a case
BARE_NO = re.compile(r"^(?:好的?[，,]?)?(?:算了|不用了|不要了|不需要了?|取消)(?:吧|啊|了)?[，,。！!\s]*"
                     r"(?:谢谢(?:你们?|您)?)?[。！!]*$")


async def take_back(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, about: str | None = None) -> None:
    """撤回 in words ("刚才那个不用处理了"): a draft not yet confirmed is what "刚才那个" means and is dropped at
    once; otherwise the open case it names (its number, its kind, or the only/newest one) is asked about with
    one tap to withdraw and one to keep it; several and no hint: the open ones to choose from."""
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    number = tickets.find_ticket_number(text)
    who = await speaker(d, update)
    draft = drafts.live(who.draft, now) if who.resident is not None else None
    if number is None and draft is not None and draft.text:
        async with d.db.transaction() as s:
            taken = await drafts.take(s, who.resident.id, seen=draft.updated_at)
        forget()
        if taken:
            await msg.reply_text(texts.DRAFT_CANCELLED)
            return
    if number is None and BARE_NO.match(text.strip()):  # "不用了" to an offer, with no draft: nothing to take back
        await msg.reply_text(texts.NOTHING_TAKEN)
        return
    r = await resident_now(d, update)
    async with d.db.session() as s:
        mine = await tickets.open_cases(s, r.id)
        followed = await tickets.followed_open(s, r.id) if not mine or number is not None else []
    if number is not None:
        mine = [t for t in mine if t.number == number]
        followed = [t for t in followed if t.number == number]
        if not mine and not followed:
            await msg.reply_text(texts.WITHDRAW_REFUSED["not_found"])
            return
    else:
        mine = _spoken_of(text, about, mine)
    if not mine:  # none of their own: a neighbour's case they follow stays that neighbour's
        await msg.reply_text(texts.withdraw_followed([t.number for t in followed]) if followed
                             else texts.WITHDRAW_NOTHING)
        return
    sec = d.callback_secret
    if len(mine) == 1:
        t = mine[0]
        choice = [keyboards.button(sec, texts.BTN_WITHDRAW_YES, "wdy", t.number),
                  keyboards.button(sec, texts.BTN_WITHDRAW_NO, "wdn", t.number)]
        await msg.reply_text(texts.withdraw_ask(t.number, complaint_name(d, t.category), t.text),
                             reply_markup=keyboards.inline(choice))
        return
    buttons = [keyboards.button(sec, texts.withdraw_choice(t.number, complaint_name(d, t.category)), "wd", t.number)
               for t in mine[:8]]
    await msg.reply_text(texts.WITHDRAW_WHICH, reply_markup=keyboards.inline(*keyboards.rows(buttons, 1)))


def _pairs(text: str) -> set[str]:
    return {text[i : i + 2] for i in range(len(text) - 1) if text[i].isalnum() and text[i + 1].isalnum()}


def _spoken_of(text: str, about: str | None, cases: list[Ticket]) -> list[Ticket]:
    """The open case the words speak of: the newest of the kind they name ("那个报修不用修了"), else the one whose
    own words they share most ("水管我自己修好了" → the 水管漏水 case), else all of them to choose from."""
    if about is not None and any(t.category == about for t in cases):
        return [t for t in cases if t.category == about][:1]
    said = _pairs(text)
    shared = sorted(((len(said & _pairs(t.text)), i) for i, t in enumerate(cases)), reverse=True)
    if shared and shared[0][0] >= 1 and (len(shared) == 1 or shared[0][0] > shared[1][0]):
        return [cases[shared[0][1]]]
    return cases


async def on_ticket_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    number = tickets.parse_ticket_number(arg) or ""
    if action == "tk":
        await q.answer()
        await show_ticket(update, context, number)
        return
    if action == "wdn":
        await answer_quietly(q)
        await q.edit_message_text(texts.WITHDRAW_KEPT.format(number=number))
        return
    if action == "wd":
        r = await resident_now(d, update)
        async with d.db.session() as s:
            mine = await tickets.get_for_resident(s, r.id, number) is not None
        if not mine:
            await q.answer(texts.TICKET_NOT_FOUND, show_alert=True)
            return
        await q.answer()
        await q.message.reply_text(texts.WITHDRAW_ASK.format(number=number), reply_markup=keyboards.inline(
            [keyboards.button(d.callback_secret, texts.BTN_WITHDRAW_YES, "wdy", number),
             keyboards.button(d.callback_secret, texts.BTN_WITHDRAW_NO, "wdn", number)]))
        return
    async with d.db.transaction() as s:  # "wdy": withdraw for real; the desk sees it on the card, told under it
        r = await resident_of(s, update, d)
        result = await lifecycle.withdraw(s, resident_id=r.id, number=number, now=d.now())
        if result.ok and result.ticket is not None:
            await cards.owe_refresh(s, d, result.ticket)
            await cards.owe_under_card(s, d, result.ticket, texts.staff_withdrawn(number))
    if result.ok:
        d.wake_sender()
    await q.answer()
    await drop_buttons(q)
    reply = texts.WITHDRAWN.format(number=number) if result.ok else texts.WITHDRAW_REFUSED[result.status.value]
    await q.message.reply_text(reply)


__all__ = ["SUPPLEMENT_FLOW", "my_tickets", "on_supplement_button", "on_ticket_button", "progress_of_kind",
           "show_ticket", "supplement", "take_back"]
