"""The complaint draft: free text understood into a case the resident confirms.

Draft stages (kept in the database, so a restart in the middle loses nothing)::

    text ──classify──▶ confident complaint ──place known?──▶ CONFIRMING ──确认──▶ ticket
            │                                 └─no──▶ ASKING_LOCATION ──text/location──┘
            ├─ unsure among complaints ──▶ CHOOSING_CATEGORY ──button──▶ (place?) ──▶ CONFIRMING
            ├─ service / action ──▶ answered at once, no draft (``handlers.dispatch``)
            └─ nothing understood ──▶ polite answer, menu, 转人工
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Message, Update
from telegram.ext import ContextTypes

from handlers import cards, keyboards, texts
from handlers.deps import Deps, deps
from handlers.names import complaint_choices, complaint_name
from handlers.people import resident_of
from handlers.replies import answer_quietly, drop_buttons, owed_now
from intents import Result
from intents.places import named_place, place_or_home
from services.cases import drafts, duplicates, events, lifecycle
from services.cases.drafts import DraftStage
from services.cases.duplicates import Hotspot
from services.community.model import Category
from services.outbox import Priority
from storage.models import Draft, Resident, Ticket, TicketEventKind

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


def infer_place(text: str, resident: Resident) -> str | None:
    """A place named in the text, else the resident's own building; None means ask."""
    return place_or_home(text, resident.building, resident.unit)


async def take_text(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, result: Result) -> None:
    """A message that is no question or action: the answer to "where?", a step of the draft, or not understood."""
    d = deps(context)
    msg = update.effective_message
    now = d.now()
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        draft = await drafts.get_draft(s, r.id, now=now)
        if draft is not None and draft.stage == DraftStage.ASKING_LOCATION:
            draft = await drafts.update_draft(s, r.id, now=now, location=text.strip()[:200],
                                              stage=DraftStage.CONFIRMING)
            view = DraftView.of(draft)
        else:
            view = await complaint_step(s, d, r, text, result, now)
    if view is None:
        await msg.reply_text(texts.NOT_UNDERSTOOD, reply_markup=keyboards.human(d.callback_secret, msg.message_id))
    else:
        await show_draft(msg, d, view)


async def complaint_step(s: AsyncSession, d: Deps, r: Resident, text: str, result: Result,
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
            await owe_opened(s, d, q.message.chat_id, opened)
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
    if opened:
        d.wake_sender()
        owed_now(context, update)  # the number is on its way: an error from here on must not invite a repeat
        await answer_quietly(q)
        await drop_buttons(q)
        return
    await q.answer()
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


async def owe_opened(s: AsyncSession, d: Deps, chat_id: int, opened: Opened) -> None:
    """What confirming owes, in the same transaction: the number (or the case joined) to the resident first,
    the card to the unit's desk, and a warning when this makes a cluster."""
    t = opened.ticket
    if opened.linked:
        await cards.owe_message(s, d, chat_id, texts.linked_existing(t.number, texts.STATUS.get(t.status, t.status),
                                                                      opened.own),
                                ticket_id=t.id, priority=Priority.REPLY)
    else:
        await cards.owe_message(s, d, chat_id, ticket_opened_text(d, t), ticket_id=t.id, priority=Priority.REPLY)
        await cards.owe_card(s, d, t)
    if opened.hotspot:
        await owe_hotspot(s, d, opened.hotspot)


def ticket_opened_text(d: Deps, t: Ticket) -> str:
    unit = d.community.unit(t.unit)
    return texts.ticket_opened(t.number, complaint_name(d, t.category), unit.name if unit else t.unit, t.due_at)


async def owe_hotspot(s: AsyncSession, d: Deps, h: Hotspot) -> None:
    """Once per cluster (the service remembers): the grid worker and the staff chat hear of it."""
    hours = int((d.now() - h.since).total_seconds() // 3600)
    alert = texts.hotspot_alert(complaint_name(d, h.category), h.scope, h.count, hours)
    grid = d.community.grid(h.grid_code) if h.grid_code else None
    for target in {d.staff_chat_id, grid.worker_tg_id if grid else None} - {None}:
        await cards.owe_message(s, d, target, alert)


async def take_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> str | None:
    """A photo joins the resident's draft (or starts one). Returns its caption, for the caller to read as text."""
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
        return msg.caption
    if has_text:
        await msg.reply_text(texts.PHOTO_ADDED.format(n=count))
    else:
        await msg.reply_text(texts.PHOTO_NEEDS_TEXT)
    return None


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


__all__ = [
    "MAX_TEXT",
    "DraftView",
    "infer_place",
    "on_draft_button",
    "on_location",
    "owe_hotspot",
    "owe_opened",
    "show_draft",
    "take_photo",
    "take_text",
    "ticket_opened_text",
]
