"""代录: staff or a grid worker records a case for someone who phoned, came in, wrote, or was met on a visit.

::

    /record ──(may record?)──▶ channel buttons (电话 来访 信件 走访 12345) ──▶ who? (name and phone, or 跳过)
      ──▶ where? (or 跳过) ──▶ what happened (required) ──▶ category buttons, the engine's guess first
      ──▶ 确认登记 ──▶ the same case as any other (clocks, desk, grid worker), its channel kept; its
          progress goes to the recorder to pass on

    one line, in a private chat or a desk chat: /record 电话｜张大爷 13900001111｜9号楼2单元｜楼道灯坏了

The steps are kept in the database (``services.people.conversations``), so a restart in the middle loses
nothing; a private chat's next message is read as the step's answer, never as a complaint of the recorder's.
"""

from __future__ import annotations

import re
from typing import Any

from telegram import Update
from telegram.ext import Application, CommandHandler, ContextTypes

from handlers import access, keyboards, texts
from handlers.deps import Deps, deps
from handlers.names import complaint_choices, complaint_name
from handlers.replies import answer_quietly, drop_buttons, owed_now
from intents.places import match_building, named_place
from services.cases import intake
from services.people import conversations, residents
from services.people.roles import Action
from storage.models import Channel

FLOW = "record"
CHANNELS: dict[str, Channel] = {"电话": Channel.PHONE, "来访": Channel.VISIT, "信件": Channel.LETTER,
                                "走访": Channel.PATROL, "12345": Channel.HOTLINE}
_PHONE = re.compile(r"(?<!\d)(1[3-9]\d{9}|0\d{2,3}-?\d{7,8})(?!\d)")
MAX_TEXT = 2000
SEPARATORS = re.compile(r"[｜|]")


def contact(text: str) -> tuple[str, str | None]:
    """"张大爷 13900001111" → ("张大爷", "13900001111"); the phone is optional, so is the name."""
    found = _PHONE.search(text)
    phone = found.group(1) if found else None
    name = _PHONE.sub(" ", text).strip(" ，,：:")
    return name[:64], phone


async def on_record(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/record: the guided steps in a private chat, or everything on one line (also in a desk chat)."""
    d = deps(context)
    msg = update.effective_message
    user = update.effective_user
    if not await access.check(d, user.id, Action.TICKET_RECORD, via="/record"):
        await msg.reply_text(texts.RECORD_REFUSED)
        return
    rest = (msg.text or "").split(None, 1)[1] if len((msg.text or "").split(None, 1)) > 1 else ""
    if rest.strip():
        await _one_line(update, context, rest)
        return
    if msg.chat.type != "private":
        await msg.reply_text(texts.RECORD_USAGE)
        return
    async with d.db.transaction() as s:
        await conversations.save(s, user.id, FLOW, {"step": "channel"}, d.now())
    sec = d.callback_secret
    await msg.reply_text(texts.RECORD_ASK_CHANNEL, reply_markup=keyboards.inline(
        [keyboards.button(sec, label, "rcc", label) for label in CHANNELS],
        [keyboards.button(sec, texts.BTN_CANCEL, "rcx")]))


async def _one_line(update: Update, context: ContextTypes.DEFAULT_TYPE, rest: str) -> None:
    """/record 电话｜张大爷 139…｜9号楼2单元｜楼道灯坏了 — the channel and the words are required."""
    parts = [p.strip() for p in SEPARATORS.split(rest)]
    msg = update.effective_message
    if len(parts) < 2 or parts[0] not in CHANNELS or not parts[-1]:
        await msg.reply_text(texts.RECORD_USAGE)
        return
    name, phone = contact(parts[1]) if len(parts) >= 3 else ("", None)
    place = parts[2] if len(parts) >= 4 else None
    d = deps(context)
    state = {"channel": parts[0], "name": name, "phone": phone, "place": place, "text": parts[-1][:MAX_TEXT]}
    state["category"] = _guess(d, state["text"])[0][0]
    await _open(update, context, state)


def _guess(d: Deps, text: str) -> list[tuple[str, str]]:
    """Categories for the buttons, the engine's complaint guesses first."""
    result = d.engine.classify(text)
    first = [m.id for m in result.intents if d.engine.model.info[m.id].kind == "complaint"][:3] or ["other"]
    order = [*first, *(c for c, _ in complaint_choices(d) if c not in first)]
    return [(c, complaint_name(d, c)) for c in order]


async def step(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """A private message while a recording is under way: the answer to its step. False: no recording."""
    d = deps(context)
    user = update.effective_user
    msg = update.effective_message
    async with d.db.session() as s:
        state = await conversations.load(s, user.id, FLOW, d.now())
    if state is None:
        return False
    stage = state.get("step")
    skip = text.strip() in (texts.RECORD_SKIP_WORDS)
    if stage == "who":
        state["name"], state["phone"] = ("", None) if skip else contact(text)
        state["step"], ask = "where", texts.RECORD_ASK_PLACE
    elif stage == "where":
        state["place"] = None if skip else text.strip()[:200]
        state["step"], ask = "what", texts.RECORD_ASK_TEXT
    elif stage == "what":
        if skip or not text.strip():
            await msg.reply_text(texts.RECORD_TEXT_REQUIRED)
            return True
        state["text"] = text.strip()[:MAX_TEXT]
        state["step"] = "category"
        async with d.db.transaction() as s:
            await conversations.save(s, user.id, FLOW, state, d.now())
        sec = d.callback_secret
        buttons = [keyboards.button(sec, name, "rck", code) for code, name in _guess(d, state["text"])]
        await msg.reply_text(texts.record_preview(state), reply_markup=keyboards.inline(
            *keyboards.rows(buttons, 3), [keyboards.button(sec, texts.BTN_CANCEL, "rcx")]))
        return True
    else:  # waiting for a button: words are not taken as the answer
        await msg.reply_text(texts.RECORD_USE_BUTTONS)
        return True
    async with d.db.transaction() as s:
        await conversations.save(s, user.id, FLOW, state, d.now())
    await msg.reply_text(ask)
    return True


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    """rcc: the channel; rck: the category (and the case is recorded); rcx: cancel."""
    d = deps(context)
    q = update.callback_query
    user = update.effective_user
    async with d.db.session() as s:
        state = await conversations.load(s, user.id, FLOW, d.now())
    if state is None:
        await answer_quietly(q, texts.STALE_BUTTON, show_alert=True)
        await drop_buttons(q)
        return
    if action == "rcx":
        async with d.db.transaction() as s:
            await conversations.end(s, user.id)
        await answer_quietly(q)
        await q.edit_message_text(texts.RECORD_CANCELLED)
        return
    if action == "rcc" and state.get("step") == "channel" and arg in CHANNELS:
        state.update(step="who", channel=arg)
        async with d.db.transaction() as s:
            await conversations.save(s, user.id, FLOW, state, d.now())
        await answer_quietly(q)
        await q.edit_message_text(texts.record_channel_chosen(arg))
        await q.message.reply_text(texts.RECORD_ASK_WHO)
        return
    if action == "rck" and state.get("step") == "category" and arg in {c for c, _ in complaint_choices(d)}:
        await answer_quietly(q)
        await drop_buttons(q)
        await _open(update, context, {**state, "category": arg})
        return
    await answer_quietly(q, texts.STALE_BUTTON, show_alert=True)


async def _open(update: Update, context: ContextTypes.DEFAULT_TYPE, state: dict[str, Any]) -> None:
    """The case, as any other: the person (found by phone, else new), the place's grid, the recorder told."""
    d = deps(context)
    user = update.effective_user
    place = state.get("place") or named_place(state["text"])
    building = match_building(place or "", [b for g in d.community.grids for b in g.buildings])
    grid = d.community.grid_for_building(building) if building else None
    async with d.db.transaction() as s:
        person = await residents.offline_resident(s, name=state.get("name") or "", phone=state.get("phone"),
                                                  building=building, grid_code=grid.code if grid else None,
                                                  now=d.now())
        case = intake.Intake(category=state["category"], text=state["text"], location=place,
                             grid_code=grid.code if grid else None, channel=CHANNELS[state["channel"]],
                             recorded_by=user.id, contact_name=state.get("name") or None,
                             contact_phone=state.get("phone"))
        await intake.open_case(s, resident=person, intake=case, community=d.community,
                               staff_chat_id=d.staff_chat_id, now=d.now())
        await conversations.end(s, user.id)
    owed_now(context, update)
    d.wake_sender()


def register(app: Application) -> None:
    app.add_handler(CommandHandler("record", on_record))


__all__ = ["CHANNELS", "FLOW", "contact", "on_button", "on_record", "register", "step"]
