"""Action intents answered at once: a greeting, help, 转人工 (to a person), and an emergency (SOS)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import CallbackQuery, KeyboardButton, ReplyKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from handlers import cards, keyboards, texts
from handlers.deps import Deps, deps
from handlers.names import complaint_name
from handlers.people import resident_now, resident_of
from handlers.replies import answer_quietly, drop_buttons, owed_now, safe_send
from handlers.resident.draft import case_grid
from intents.discourse import says_help_came
from intents.emergency import detect as detect_emergency
from intents.places import Place, place_or_home, read_place
from services.cases import drafts, emergencies, lifecycle, tickets
from services.cases.events import resident_actor
from services.community.model import Category
from services.outbox import Priority
from services.people import conversations
from storage.models import Resident, Ticket


async def greet(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, resolved: str | None = None) -> None:
    """A greeting or thanks; when the words say an earlier problem is fixed ("楼道灯修好了，谢谢") and the
    resident has an open case of that kind, one tap closes it as resolved."""
    d = deps(context)
    if resolved and await offer_resolved(update, context, resolved):
        return
    thanks = resolved is not None or any(w in text for w in ("谢", "辛苦", "好的", "收到"))
    reply = texts.THANKS_REPLY if thanks else texts.GREETING.format(community=d.community.name)
    await update.effective_message.reply_text(reply, reply_markup=keyboards.main_menu())


async def offer_resolved(update: Update, context: ContextTypes.DEFAULT_TYPE, category: str) -> bool:
    d = deps(context)
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        await s.commit()
        found = await tickets.open_of(s, r.id, category)
    if found is None:
        return False
    sec = d.callback_secret
    await update.effective_message.reply_text(
        texts.resolved_offer(found.number, complaint_name(d, found.category)), reply_markup=keyboards.inline(
            [keyboards.button(sec, texts.BTN_RESOLVED_YES, "rs", found.number),
             keyboards.button(sec, texts.BTN_RESOLVED_NO, "rsn", found.number)]))
    return True


async def on_resolved(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """确认已解决: the resident's own open case is resolved, the desk hears it under the card."""
    d = deps(context)
    q = update.callback_query
    number = tickets.parse_ticket_number(arg) or ""
    if action == "rsn":
        await answer_quietly(q)
        await q.edit_message_text(texts.RESOLVED_NOT_YET)
        return
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        t = await tickets.get_for_resident(s, r.id, number)
        result = None
        if t is not None and t.resident_id == r.id:
            result = await lifecycle.confirm_resolved(s, t, actor=resident_actor(r.id), now=d.now())
            if result.ok:
                await cards.owe_under_card(s, d, t, texts.staff_resident_resolved(t.number, r.name))
                await cards.owe_refresh(s, d, t)
    if result is None:
        await answer_quietly(q, texts.TICKET_NOT_FOUND, show_alert=True)
        return
    d.wake_sender()
    await answer_quietly(q)
    await q.edit_message_text(texts.resolved_done(number) if result.ok else texts.resolved_closed(number))


async def help_(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(texts.HELP, reply_markup=keyboards.main_menu())


# asking for a number ("网格员电话多少", "怎么联系网格员"), not for a call back ("让工作人员打电话给我")
CONTACT_ASKED = re.compile(r"电话(?:是)?多少|电话号码?是?(?:啥|什么)|联系方式|怎么联系|手机号|号码(?:是)?多少|"
                           r"有(?:没有)?(?:电话|手机)|(?:留|给)个(?:电话|手机|号)|微信|"
                           r"网格员的?(?:电话|手机|号码)(?:号码?)?[吗呢啊呀？?。.!！\s]*$")  # 网格员电话 alone


async def to_human(update: Update, context: ContextTypes.DEFAULT_TYPE, message_id: int,
                   text: str = "") -> None:
    """Forward the resident's message to the staff chat and say so; no staff chat: say that too. Asked only for
    how to reach their grid worker ("网格员电话多少") and the grid has a number: that number, nobody disturbed."""
    d = deps(context)
    if CONTACT_ASKED.search(text) and await grid_contact(update, context):
        return
    chat_id = update.effective_chat.id
    if (q := update.callback_query) is not None:  # the 转人工 button: once (an unsteady hand taps it twice)
        if not _still_there(q):
            await context.bot.send_message(chat_id, texts.HUMAN_ALREADY)
            return
        await drop_buttons(q)
    if not d.staff_chat_id:
        await context.bot.send_message(chat_id, texts.HUMAN_UNAVAILABLE)
        return
    async with d.db.session() as s:
        r = await resident_of(s, update, d)
        name, grid = r.name, r.grid_code
        await s.commit()
    user = update.effective_user
    ok = await safe_send(context, d.staff_chat_id, texts.staff_forward_header(name, user.id, grid))
    if ok:
        try:
            await context.bot.forward_message(d.staff_chat_id, chat_id, message_id)
        except TelegramError:
            ok = False
    await context.bot.send_message(chat_id, texts.HUMAN_FORWARDED if ok else texts.HUMAN_UNAVAILABLE)


def _still_there(q: CallbackQuery) -> bool:
    """Whether the pressed button is still on its message: gone, the request was already forwarded."""
    markup = q.message.reply_markup if q.message is not None else None
    return markup is not None and any(b.callback_data == q.data for row in markup.inline_keyboard for b in row)


async def grid_contact(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """The resident's grid worker and the number on the grid's board, with 转人工 beside; False: no number known."""
    d = deps(context)
    r = await resident_now(d, update)
    grid = d.community.grid(r.grid_code) if r.grid_code else None
    if grid is None or not grid.phone:
        return False
    msg = update.effective_message
    await msg.reply_text(texts.grid_worker(grid.name, grid.worker_name, grid.phone),
                         reply_markup=keyboards.human(d.callback_secret, msg.message_id))
    return True


async def help_came(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """"救护车到了 谢谢" from a resident whose emergency is open: the words go on the case, under its card for the
    desk (who may not know the ambulance came), and the resident is thanked. False (nothing written) when the
    words say no such thing or no emergency of theirs is open: read as usual."""
    if not says_help_came(text):
        return False
    d = deps(context)
    user = update.effective_user
    async with d.db.session() as s:  # a read first: thanks without an emergency behind are the usual
        found = (await s.exec(select(Resident.id, Resident.name).where(Resident.tg_user_id == user.id))).first()
        if found is None or await emergencies.open_of(s, found[0]) is None:
            return False
    resident_id, name = found
    async with d.db.transaction() as s:
        t = await emergencies.open_of(s, resident_id)
        if t is None:
            return False
        await emergencies.note_arrival(s, t, text=text, actor=resident_actor(resident_id), now=d.now())
        await cards.owe_under_cards(s, d, t, texts.staff_sos_help_came(t.number, name or "", text))
        number = t.number
    d.wake_sender()
    await update.effective_message.reply_text(texts.sos_help_came_thanks(number), reply_markup=keyboards.main_menu())
    return True


SOS_FLOW = "sos"  # the conversation that asks an emergency's place
SOS_PLACE_FOR = timedelta(minutes=30)  # a place typed this long after the emergency still goes to it
# parts of some building: said alone (电梯, 楼道里, 楼顶边上) by a resident with no home saved, they name no place
IN_A_BUILDING = ("电梯", "楼道", "楼梯", "楼顶", "天台", "屋顶", "顶楼", "走廊", "过道", "地下室", "储藏室", "单元",
                 "大堂", "门厅", "架空层", "楼上", "楼下", "隔壁", "对门")


def which_building(where: Place | None, home: str | None) -> bool:
    """Whether an emergency's place is a part of a building nobody named (电梯坏了 俺跟孩子关里头了, from a resident
    with no home saved): the helpers would not know where to go, so the resident is asked which building."""
    if where is None or home or where.building is not None:
        return False
    return where.in_building or (where.spot or "").startswith(IN_A_BUILDING)


async def sos(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str, kind: str | None = None,
              about: str | None = None) -> None:
    """Emergency (``kind`` from the engine: medical, fire, gas, crime, trapped, missing, self-harm, crisis, fraud,
    or help when none is said; ``about``: the complaint category the message is also about): a red case at once, no
    confirmation. Owed in its own transaction: the resident's answer first (whom to call, who was
    alerted), then the alerts and the cards. Then, if the place is unknown, one tap to give it. A cry while their
    emergency is open and recent joins it instead (the words to everyone alerted)."""
    d = deps(context)
    msg = update.effective_message
    where = read_place(text)
    place = where.text if where else None
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        earlier = await emergencies.recent_of(s, r.id, d.now())
        if earlier is not None:  # 救命 … 快点啊: the same trouble, not another red case
            await _join(s, d, earlier, r.id, text, kind, msg.chat_id)
        else:
            location = place and place_or_home(text, r.building, r.unit)
            if place is None and (kept := await _place_just_said(s, r.id, d.now())) is not None:
                where, place = read_place(kept), kept  # "我在5号楼" … "着火了 快来人": there, not asked again
                location = kept
            grid, _ = case_grid(d, r, place)
            case = await emergencies.open_emergency(
                s, resident=r, kind=kind, text=text, location=location,
                grid_code=grid, community=d.community, staff_chat_id=d.staff_chat_id, reply_chat=msg.chat_id,
                now=d.now(), about=_category(about))
            within = which_building(where, r.building)
            if place is None or within:  # asked right after the answer (same chat, so always in this order)
                state = {"ticket": case.ticket.id, "kind": kind} | ({"within": place} if within else {})
                await conversations.save(s, update.effective_user.id, SOS_FLOW, state, d.now())
                rows = [[KeyboardButton(texts.BTN_SOS_LOCATION, request_location=True)]]
                if r.building:
                    rows.append([KeyboardButton(texts.btn_sos_home(r.building + (r.unit or "")))])
                ask = texts.sos_ask_building(place) if within and place else texts.SOS_ASK_PLACE
                await cards.owe_message(s, d, msg.chat_id, ask, ticket_id=case.ticket.id, priority=Priority.REPLY,
                                        markup=ReplyKeyboardMarkup(rows, resize_keyboard=True, one_time_keyboard=True))
    owed_now(context, update)
    d.wake_sender()


async def _place_just_said(s: AsyncSession, resident_id: int, now: datetime) -> str | None:
    """The place a resident said alone just before ("我在5号楼"), kept for the matter that follows: an emergency
    takes it (the draft that kept it is spent). None: no such place waiting."""
    kept = drafts.live(await drafts.read(s, resident_id), now)
    if kept is None or kept.text or not kept.location or kept.photos or kept.attachments:
        return None
    await drafts.take(s, resident_id, seen=kept.updated_at)
    return kept.location


async def _join(s: AsyncSession, d: Deps, earlier: Ticket, resident_id: int, text: str, kind: str | None,
                chat_id: int) -> None:
    """More words about an open emergency: to everyone it alerted, and the resident told so (owed with it)."""
    alerted = await emergencies.add_words(s, earlier, text=text, kind=kind, community=d.community,
                                          staff_chat_id=d.staff_chat_id, actor=resident_actor(resident_id),
                                          now=d.now())
    await cards.owe_message(s, d, chat_id, texts.sos_more_told(earlier.number, [(a.helper, a.name) for a in alerted]),
                            ticket_id=earlier.id, priority=Priority.REPLY)


async def sos_more(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """Words the engine cannot place (他还是不动) from a resident whose emergency is open and recent: more about it,
    passed on at once. False (nothing written) for anyone else."""
    d = deps(context)
    user = update.effective_user
    async with d.db.session() as s:  # a read first: most messages that are not understood have no emergency behind
        found = (await s.exec(select(Resident.id).where(Resident.tg_user_id == user.id))).first()
        if found is None or await emergencies.recent_of(s, found, d.now()) is None:
            return False
    async with d.db.transaction() as s:
        earlier = await emergencies.recent_of(s, found, d.now())
        if earlier is None:
            return False
        await _join(s, d, earlier, found, text, None, update.effective_message.chat_id)
    owed_now(context, update)
    d.wake_sender()
    return True


def _category(intent: str | None) -> Category | None:
    try:
        return Category(intent) if intent else None
    except ValueError:
        return None


HOME_WORDS = ("在家", "家里", "我家", "在家里", "家")


def says_where(d: Deps, text: str) -> bool:
    """Whether a message answers "where?": a place that is most of it ("在3号楼楼下"), or a place in a message
    that asks for nothing else (no complaint, question or thanks the engine is sure of)."""
    place = read_place(text)
    if place is None:
        return False
    words = re.sub(r"[\s，。,.！!]|^(?:我们?|就)?在|(?:这边|那边|这里|那里)$", "", text)
    if len(place.text) * 2 >= len(words):
        return True
    result = d.engine.classify(text)
    return result.top is None or result.ambiguous or result.top.id == "act.sos"


async def sos_place(update: Update, context: ContextTypes.DEFAULT_TYPE, place: str, *, pinned: bool = False) -> bool:
    """The answer to "where are you?" after an emergency (typed, the home button, or a shared location): kept on
    the case and sent to everyone alerted. False when no emergency is waiting for its place, or when the words
    are not a place (another message altogether: read as usual, the question still open)."""
    d = deps(context)
    user = update.effective_user
    async with d.db.session() as s:  # a read first: this is asked of every message
        if await conversations.load(s, user.id, SOS_FLOW, d.now()) is None:
            return False
    async with d.db.transaction() as s:
        state = await conversations.load(s, user.id, SOS_FLOW, d.now())
        t = await s.get(Ticket, state["ticket"]) if state else None
        if state is None or t is None or d.now() - t.created_at > SOS_PLACE_FOR:
            return False
        r = await resident_of(s, update, d)
        home = r.building + (r.unit or "") if r.building else None
        if home and (place == texts.btn_sos_home(home) or place.strip("。. ") in HOME_WORDS):
            place = home
        elif not pinned:
            if not says_where(d, place):
                return False  # "楼道灯修好了，谢谢": about something else, not where the emergency is
            other = detect_emergency(place)
            if other is not None and other.kind != state.get("kind"):
                return False  # "3号楼着火了" after a fall: another emergency, alerted as one (the question stays)
            place = in_building(place, state.get("within")) or place_or_home(place, r.building, r.unit) or place
        grid, _ = case_grid(d, r, place)
        alerted = await emergencies.add_place(s, t, place=place, kind=state.get("kind"), community=d.community,
                                              staff_chat_id=d.staff_chat_id, actor=resident_actor(r.id), now=d.now(),
                                              grid_code=grid)
        await conversations.end(s, user.id)
    d.wake_sender()
    await update.effective_message.reply_text(texts.sos_place_saved([(a.helper, a.name) for a in alerted]),
                                              reply_markup=keyboards.main_menu())
    return True


def in_building(answer: str, within: str | None) -> str | None:
    """The answer to "which building?" ("11号楼", "11号楼3单元") joined to the part of it said first ("电梯" →
    "11号楼电梯"); None when no part was said or the answer is a whole place of its own ("11号楼502", "东门")."""
    where = read_place(answer)
    if not within or where is None or where.building is None or where.spot or where.floor or where.room:
        return None
    return where.text + within.removeprefix(where.unit or "")


__all__ = ["greet", "help_", "help_came", "offer_resolved", "on_resolved", "sos", "sos_more",
           "sos_place", "to_human"]
