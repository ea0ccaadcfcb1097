"""The resident's side: /start and grid binding, free text understood into a complaint draft,
confirmation into a ticket, and their own tickets.

Draft stages (kept in the database, so a restart in the middle loses nothing)::

    text ──classify──▶ confident complaint ──place known?──▶ CONFIRMING ──确认──▶ ticket
            │                                 └─no──▶ ASKING_LOCATION ──text/location──┘
            ├─ unsure among complaints ──▶ CHOOSING_CATEGORY ──button──▶ (place?) ──▶ CONFIRMING
            ├─ service / action ──▶ answered at once, no draft
            └─ nothing understood ──▶ polite answer, menu, 转人工
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.deps import Deps, deps
from intents import Result
from intents.places import named_place, place_or_home
from services.cases import drafts, duplicates, events, lifecycle, mediation, tickets
from services.cases.drafts import DraftStage
from services.cases.duplicates import Hotspot
from services.community.model import Category
from services.people.residents import BindResult, bind_grid, get_or_create_resident, set_age_band, set_building
from storage.models import OPEN_STATUSES, AgeBand, Draft, Resident, Ticket, TicketEvent, TicketEventKind

log = logging.getLogger(__name__)

MAX_TEXT = 4096


@dataclass(frozen=True)
class DraftView:
    """What a reply needs from a draft, copied out before its session closes."""

    text: str
    category: str | None
    location: str | None
    photos: int
    stage: str
    candidates: list[str]
    stamp: str

    @classmethod
    def of(cls, d: Draft) -> DraftView:
        cands = [c["id"] if isinstance(c, dict) else str(c) for c in d.candidates]
        return cls(d.text, d.category, d.location, len(d.photos), d.stage, cands, draft_stamp(d))


def draft_stamp(d: Draft) -> str:
    """Which draft a button belongs to: its start time, short (drafts are one per resident)."""
    return format(int(d.created_at.timestamp()), "x")


async def resident_of(session: AsyncSession, update: Update, d: Deps) -> Resident:
    user = update.effective_user
    return await get_or_create_resident(session, tg_user_id=user.id, name=user.full_name, now=d.now())


def infer_place(text: str, resident: Resident) -> str | None:
    """A place named in the text, else the resident's own building; None means ask."""
    return place_or_home(text, resident.building, resident.unit)


def complaint_name(d: Deps, category: str) -> str:
    info = d.engine.model.info.get(category)
    return info.name if info else category


def complaint_choices(d: Deps) -> list[tuple[str, str]]:
    return [(c.value, complaint_name(d, c.value)) for c in Category]


# -- /start ------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg = update.effective_message
    payload = context.args[0] if context.args else ""
    bound = None
    bad_link = False
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        if payload:
            code = payload[2:].upper() if payload.lower().startswith("g-") else ""
            if code and await bind_grid(s, r, code, community=d.community, now=d.now()) == BindResult.OK:
                bound = d.community.grid(code)
            else:
                bad_link = True
        has_place = bool(r.building or r.grid_code)
    await msg.reply_text(texts.welcome(update.effective_user.first_name, d.community.name),
                         reply_markup=keyboards.main_menu())
    if bound:
        await msg.reply_text(texts.bound_grid(bound.name, bound.worker_name))
    if bad_link:
        await msg.reply_text(texts.BAD_DEEP_LINK)
    if not has_place or bad_link:
        await ask_building(msg, d)


def _buildings(d: Deps) -> list[str]:
    return [b for g in d.community.grids for b in g.buildings]


async def ask_building(msg: Message, d: Deps) -> None:
    buttons = [keyboards.button(d.callback_secret, b, "bld", str(i)) for i, b in enumerate(_buildings(d))]
    await msg.reply_text(texts.ASK_BUILDING, reply_markup=keyboards.inline(*keyboards.rows(buttons, 4)))


async def on_building(update: Update, context: ContextTypes.DEFAULT_TYPE, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    names = _buildings(d)
    if not arg.isdigit() or int(arg) >= len(names):
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    building = names[int(arg)]
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        r = await set_building(s, r, building=building, community=d.community, now=d.now())
        grid = d.community.grid(r.grid_code) if r.grid_code else None
    await q.answer()
    await q.edit_message_text(texts.bound_building(building, grid and grid.name, grid and grid.worker_name))
    s = d.callback_secret
    await q.message.reply_text(texts.ASK_AGE, reply_markup=keyboards.inline(
        [keyboards.button(s, texts.BTN_AGE_65, "age", "65"), keyboards.button(s, texts.BTN_AGE_UNDER, "age", "u")],
        [keyboards.button(s, texts.BTN_SKIP, "age", "skip")],
    ))


async def on_age(update: Update, context: ContextTypes.DEFAULT_TYPE, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    band = {"65": AgeBand.SENIOR, "u": AgeBand.UNDER_65}.get(arg)
    if band is None and arg != "skip":
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    if band is not None:
        async with d.db.transaction() as s:
            r = await resident_of(s, update, d)
            await set_age_band(s, r, band, now=d.now())
    await q.answer()
    await q.edit_message_text(texts.AGE_SAVED if band else texts.REPORT_PROMPT)


# -- free text ------


async def understand(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """Route one resident message: an answer, a draft step, or a polite 'not understood'."""
    from handlers import actions  # actions import this module's helpers

    d = deps(context)
    msg = update.effective_message
    now = d.now()
    text = text[:MAX_TEXT]
    if len(text) > 1000:
        await msg.reply_text(texts.TOO_LONG)
    result = d.engine.classify(text)
    top = result.top
    kind = d.engine.model.info[top.id].kind if top else None
    answer_now = bool(top and not result.ambiguous and kind != "complaint")
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        if draft is not None and draft.stage == DraftStage.ASKING_LOCATION and not answer_now:
            draft = await drafts.update_draft(s, r.id, now=now, location=text.strip()[:200],
                                              stage=DraftStage.CONFIRMING)
            view = DraftView.of(draft)
        elif answer_now:
            view = None  # a question or an action: answered below, any draft left as it is
        else:
            view = await _complaint_step(s, d, r, text, result, now)
    if answer_now:
        await actions.dispatch(update, context, top.id, text)
    elif view is None:
        await msg.reply_text(texts.NOT_UNDERSTOOD, reply_markup=keyboards.human(d.callback_secret, msg.message_id))
    else:
        await show_draft(msg, d, view)


async def _complaint_step(s: AsyncSession, d: Deps, r: Resident, text: str, result: Result,
                         now: datetime) -> DraftView | None:
    live = await drafts.get_draft(s, r.id, now=now)
    joining = live is not None and (now - live.updated_at <= drafts.JOIN_WINDOW or not live.text)
    complaints = [m for m in result.intents if d.engine.model.info[m.id].kind == "complaint"]
    if not joining and not complaints:
        return None
    draft = (await drafts.append_text(s, r.id, text, now)).draft
    if joining:
        result = d.engine.classify(draft.text)
        complaints = [m for m in result.intents if d.engine.model.info[m.id].kind == "complaint"] or complaints
    if draft.category and draft.stage == DraftStage.CONFIRMING:  # category settled: more words, same case
        place = named_place(text)
        if place:
            draft = await drafts.update_draft(s, r.id, now=now, location=place)
        return DraftView.of(draft)
    if complaints and not result.ambiguous and result.top.id == complaints[0].id:
        return DraftView.of(await _with_category(s, d, r, draft, complaints[0].id, now))
    if complaints:
        draft = await drafts.update_draft(
            s, r.id, now=now, stage=DraftStage.CHOOSING_CATEGORY,
            candidates=[{"id": m.id, "score": round(m.score, 3)} for m in complaints[:3]],
        )
        return DraftView.of(draft)
    return DraftView.of(draft)  # joined words that say nothing new: show the draft as it stands


async def _with_category(s: AsyncSession, d: Deps, r: Resident, draft: Draft, category: str,
                         now: datetime) -> Draft:
    place = named_place(draft.text) or draft.location or infer_place(draft.text, r)
    stage = DraftStage.CONFIRMING if place else DraftStage.ASKING_LOCATION
    return await drafts.update_draft(s, r.id, now=now, category=category, location=place, stage=stage)


async def show_draft(msg: Message, d: Deps, view: DraftView) -> None:
    sec = d.callback_secret
    if view.stage == DraftStage.ASKING_LOCATION:
        await msg.reply_text(texts.ASK_LOCATION)
    elif view.stage == DraftStage.CHOOSING_CATEGORY or not view.category:
        choices = [(c, complaint_name(d, c)) for c in view.candidates] or complaint_choices(d)
        await msg.reply_text(texts.choose_category(view.text),
                             reply_markup=keyboards.categories(sec, choices, view.stamp, more=bool(view.candidates)))
    else:
        unit = d.community.unit_for(Category(view.category))
        hours = d.community.limit_hours(Category(view.category))
        await msg.reply_text(
            texts.confirm_draft(complaint_name(d, view.category), view.text, view.location, unit.name,
                                texts.limit_text(hours), view.photos),
            reply_markup=keyboards.confirm_draft(sec, view.stamp),
        )


# -- draft buttons ------


async def on_draft_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    now = d.now()
    category, _, stamp = arg.rpartition(".") if action == "cat" else ("", "", arg)
    if action == "cat" and category not in {c.value for c in Category}:
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    opened = None
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        if draft is not None and draft_stamp(draft) != stamp:
            draft = None  # a button of an earlier draft: never acts on the one in progress
        if draft is None or not draft.text:
            view = None
        elif action == "x":
            await drafts.clear_draft(s, r.id)
            view = None
        elif action == "rc":
            view = DraftView.of(await drafts.update_draft(s, r.id, now=now, stage=DraftStage.CHOOSING_CATEGORY,
                                                          candidates=[]))
        elif action == "cat":
            view = DraftView.of(await _with_category(s, d, r, draft, category, now))
        elif action == "ok" and draft.stage == DraftStage.CONFIRMING and draft.category:
            opened = await _open_or_link(s, d, r, draft, now)
            await drafts.clear_draft(s, r.id)
            view = None
        else:
            view = DraftView.of(draft)
    if action == "x":
        await q.answer()
        await q.edit_message_text(texts.DRAFT_CANCELLED if draft is not None else texts.DRAFT_EXPIRED)
        return
    if draft is None or not draft.text:
        await q.answer(texts.DRAFT_EXPIRED, show_alert=True)
        await drop_buttons(q)
        return
    await q.answer()
    if opened:
        await drop_buttons(q)
        await _announce(context, d, q.message.chat_id, opened)
        return
    if action == "rc":
        await q.edit_message_text(texts.CHOOSE_ANY_CATEGORY,
                                  reply_markup=keyboards.categories(d.callback_secret, complaint_choices(d),
                                                                    view.stamp, more=False))
        return
    await drop_buttons(q)
    await show_draft(q.message, d, view)


@dataclass(frozen=True)
class Opened:
    """What confirming a draft did: a new ticket, or a link to an open one (duplicates.link)."""

    ticket: Ticket
    linked: bool
    own: bool
    resident_name: str
    grid: str | None
    hotspot: Hotspot | None


async def _open_or_link(s: AsyncSession, d: Deps, r: Resident, draft: Draft, now: datetime) -> Opened:
    """One complaint, one case: a similar open ticket nearby is joined instead of duplicated."""
    dup = await duplicates.find_duplicate(s, category=draft.category, text=draft.text, grid_code=r.grid_code,
                                          location=draft.location, now=now)
    linked = dup is not None and (
        dup.resident_id == r.id
        or (await duplicates.link(s, dup, r, now, text=draft.text)).status != duplicates.LinkStatus.NOT_OPEN
    )
    if linked:
        ticket = dup
        if dup.resident_id == r.id:  # said again by its own author: keep what the repeat adds
            await events.record_event(s, dup, kind=TicketEventKind.LINKED, actor=events.resident_actor(r.id),
                                       now=now, note=draft.text)
        if draft.photos:
            dup.photos = [*dup.photos, *draft.photos]
            s.add(dup)
    else:
        ticket = await lifecycle.open_dispatched(s, resident=r, category=draft.category, text=draft.text,
                                                 location=draft.location, photos=draft.photos,
                                                 community=d.community, now=now)
    hotspot = await duplicates.check_hotspot(s, category=draft.category, grid_code=r.grid_code,
                                             location=draft.location, now=now)
    return Opened(ticket, linked, linked and dup.resident_id == r.id, r.name, r.grid_code, hotspot)


async def _announce(context: ContextTypes.DEFAULT_TYPE, d: Deps, chat_id: int, opened: Opened) -> None:
    t = opened.ticket
    if opened.linked:
        await context.bot.send_message(chat_id, texts.linked_existing(t.number, texts.STATUS.get(t.status, t.status),
                                                                      opened.own))
    else:
        await announce_ticket(context, d, chat_id, t, opened.resident_name, opened.grid)
    if opened.hotspot:
        await alert_hotspot(context, d, opened.hotspot)


async def alert_hotspot(context: ContextTypes.DEFAULT_TYPE, d: Deps, h: Hotspot) -> None:
    """Once per cluster (the service remembers): the grid worker and the staff chat hear of it."""
    hours = int((d.now() - h.since).total_seconds() // 3600)
    alert = texts.hotspot_alert(complaint_name(d, h.category), h.scope, h.count, hours)
    grid = d.community.grid(h.grid_code) if h.grid_code else None
    for target in {d.staff_chat_id, grid.worker_tg_id if grid else None} - {None}:
        await safe_send(context, target, alert)


async def drop_buttons(q: CallbackQuery) -> None:
    """Remove a pressed keyboard so it cannot be pressed twice; already gone is fine."""
    with contextlib.suppress(TelegramError):  # already gone, or the resident blocked the bot
        await q.edit_message_reply_markup(reply_markup=None)


async def announce_ticket(context: ContextTypes.DEFAULT_TYPE, d: Deps, chat_id: int, ticket: Ticket,
                          name: str, grid: str | None) -> None:
    """Post the case card to its unit's chat (in the background: a busy staff group must never hold up
    residents), then tell the resident the number, unit and time limit."""
    from handlers import staff  # staff builds on this module

    unit = d.community.unit(ticket.unit)
    unit_name = unit.name if unit else ticket.unit
    category = complaint_name(d, ticket.category)
    context.application.create_task(staff.post_ticket(context, d, ticket, name, grid), name=f"post {ticket.number}")
    await context.bot.send_message(chat_id, texts.ticket_opened(ticket.number, category, unit_name, ticket.due_at))


async def safe_send(context: ContextTypes.DEFAULT_TYPE, chat_id: int | None, text: str, **kw: Any) -> Message | None:
    """Send, logging instead of failing: a missing group or a blocked resident never breaks the action.

    Returns the sent message, or None when there was no chat or the send failed."""
    if chat_id is None:
        return None
    try:
        return await context.bot.send_message(chat_id, text, **kw)
    except TelegramError as exc:
        log.warning("could not send to chat %s: %s", chat_id, exc)
        return None


# -- photos and locations ------


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    file_id = msg.photo[-1].file_id
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        if draft is not None:
            draft = await drafts.update_draft(s, r.id, now=now, photos=[*draft.photos, file_id])
        else:
            draft = (await drafts.add_photo(s, r.id, file_id, now)).draft
        count, has_text = len(draft.photos), bool(draft.text)
    if msg.caption:
        await msg.reply_text(texts.PHOTO_ADDED.format(n=count))
        await understand(update, context, msg.caption)
    elif has_text:
        await msg.reply_text(texts.PHOTO_ADDED.format(n=count))
    else:
        await msg.reply_text(texts.PHOTO_NEEDS_TEXT)


async def on_location(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A shared location answers 'where?' when the bot asked; otherwise it is noted politely."""
    d = deps(context)
    msg = update.effective_message
    loc = msg.location
    now = d.now()
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        view = None
        if draft is not None and draft.text:
            place = f"定位 {loc.latitude:.5f},{loc.longitude:.5f}"
            stage = DraftStage.CONFIRMING if draft.category else draft.stage
            view = DraftView.of(await drafts.update_draft(s, r.id, now=now, location=place, stage=stage))
    if view is None:
        await msg.reply_text(texts.MEDIA_UNSUPPORTED["location"])
        return
    await msg.reply_text(texts.LOCATION_SAVED)
    await show_draft(msg, d, view)


# -- my tickets ------


async def my_tickets(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg = update.effective_message
    if context.args:
        number = tickets.parse_ticket_number(" ".join(context.args))
        await show_ticket(update, context, number or "")
        return
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        summaries = await tickets.list_for_resident(s, r.id, limit=10)
        rows = [
            (t.ticket.number, texts.STATUS.get(t.ticket.status, t.ticket.status),
             complaint_name(d, t.ticket.category),
             _event_text(t.latest_event) if t.latest_event else None)
            for t in summaries
        ]
        await s.commit()
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
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        t = await tickets.get_for_resident(s, r.id, number) if number else None
        if t is not None:
            events = [(e.at, _event_text(e).split(" ", 2)[-1]) for e in await tickets.history(s, t.id)
                      if e.kind != TicketEventKind.NOTE]  # internal notes are for staff only
            unit = d.community.unit(t.unit)
            body = texts.ticket_detail(t.number, texts.STATUS.get(t.status, t.status),
                                       complaint_name(d, t.category), t.text, t.location,
                                       unit.name if unit else t.unit, t.due_at, events)
            can_withdraw = t.status in OPEN_STATUSES
        await s.commit()
    if t is None:
        await msg.reply_text(texts.TICKET_NOT_FOUND)
        return
    markup = keyboards.inline([keyboards.button(d.callback_secret, texts.BTN_WITHDRAW, "wd", t.number)]) \
        if can_withdraw else None
    await msg.reply_text(body, reply_markup=markup)


async def on_ticket_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    number = tickets.parse_ticket_number(arg) or ""
    if action == "tk":
        await q.answer()
        await show_ticket(update, context, number)
        return
    if action == "wd":
        async with d.db.session() as s:
            r = await resident_of(s, update, d)
            mine = await tickets.get_for_resident(s, r.id, number) is not None
            await s.commit()
        if not mine:
            await q.answer(texts.TICKET_NOT_FOUND, show_alert=True)
            return
        await q.answer()
        await q.message.reply_text(texts.WITHDRAW_ASK.format(number=number), reply_markup=keyboards.inline(
            [keyboards.button(d.callback_secret, texts.BTN_WITHDRAW_YES, "wdy", number)]))
        return
    async with d.db.transaction() as s:  # "wdy": withdraw for real
        r = await resident_of(s, update, d)
        result = await lifecycle.withdraw(s, resident_id=r.id, number=number, now=d.now())
    await q.answer()
    await drop_buttons(q)
    reply = texts.WITHDRAWN.format(number=number) if result.ok else texts.WITHDRAW_REFUSED[result.status.value]
    await q.message.reply_text(reply)
