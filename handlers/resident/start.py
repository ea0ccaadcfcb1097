"""/start and where a resident lives: the grid a poster's QR code binds, the building they pick, their age band.
"""

from __future__ import annotations

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.deps import Deps, deps
from handlers.people import resident_of
from handlers.resident import claim
from services.people.residents import BindResult, bind_grid, set_age_band, set_building
from storage.models import AgeBand


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    msg = update.effective_message
    payload = context.args[0] if context.args else ""
    if payload.startswith("t-"):  # a 服务码 case's tracking link: claim it here (the token's case is kept)
        await claim.claim(update, context, payload[2:])
        return
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


RECEIPT = "r"  # a building button under a case's receipt: answering it keeps the receipt's words


def buildings(d: Deps) -> list[str]:
    """Every building of the community file, in its order (a button names one by its index)."""
    return [b for g in d.community.grids for b in g.buildings]


def building_offer(d: Deps, index: int) -> tuple[str, InlineKeyboardMarkup] | None:
    """The offer under a case's receipt when the case named a building and the resident has none yet: save it as
    home with one tap (their grid worker then sees them), or say it is not theirs."""
    names = buildings(d)
    if not 0 <= index < len(names):
        return None
    sec = d.callback_secret
    return texts.offer_building(names[index]), keyboards.inline(
        [keyboards.button(sec, texts.BTN_BUILDING_YES, "bld", f"{index}{RECEIPT}"),
         keyboards.button(sec, texts.BTN_BUILDING_NO, "bldn", RECEIPT)])


async def answer_offer(q: CallbackQuery, said: str) -> None:
    """What the resident chose, in place of the question: under a receipt the case's words stay above it."""
    text = q.message.text if q.message is not None else None
    keep = text.rsplit("\n\n", 1)[0] if text and "\n\n" in text else None
    await q.edit_message_text(f"{keep}\n\n{said}" if keep else said)


async def ask_building(msg: Message, d: Deps) -> None:
    buttons = [keyboards.button(d.callback_secret, b, "bld", str(i)) for i, b in enumerate(buildings(d))]
    await msg.reply_text(texts.ASK_BUILDING, reply_markup=keyboards.inline(*keyboards.rows(buttons, 4)))


async def on_building(update: Update, context: ContextTypes.DEFAULT_TYPE, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    names = buildings(d)
    receipt = arg.endswith(RECEIPT)
    arg = arg.removesuffix(RECEIPT) if receipt else arg
    if not arg.isdigit() or int(arg) >= len(names):
        await q.answer(texts.STALE_BUTTON, show_alert=True)
        return
    building = names[int(arg)]
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        r = await set_building(s, r, building=building, community=d.community, now=d.now())
        grid = d.community.grid(r.grid_code) if r.grid_code else None
    await q.answer()
    said = texts.bound_building(building, grid and grid.name, grid and grid.worker_name)
    await (answer_offer(q, said) if receipt else q.edit_message_text(said))
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


__all__ = ["ask_building", "on_age", "on_building", "start"]
