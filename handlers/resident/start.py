"""/start and where a resident lives: the grid a poster's QR code binds, the building they pick, their age band.
"""

from __future__ import annotations

import re

from telegram import CallbackQuery, InlineKeyboardMarkup, Message, Update
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.deps import Deps, deps
from handlers.people import forget, resident_of, speaker
from handlers.resident import claim
from intents.age import SENIOR, UNCLEAR, age_band
from intents.places import building_key, match_building
from services.cases import drafts
from services.cases.drafts import DraftStage
from services.people.residents import BindResult, bind_grid, set_age_band, set_building
from storage.models import AgeBand, Draft


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
    said = await _save_home(update, d, building)
    await q.answer()
    await (answer_offer(q, said) if receipt else q.edit_message_text(said))
    await _ask_age(q.message, d)


async def _save_home(update: Update, d: Deps, building: str) -> str:
    """Save ``building`` as the resident's home (its grid with it); what to tell them."""
    async with d.db.transaction() as s:
        r = await resident_of(s, update, d)
        r = await set_building(s, r, building=building, community=d.community, now=d.now())
        grid = d.community.grid(r.grid_code) if r.grid_code else None
    forget()
    return texts.bound_building(building, grid and grid.name, grid and grid.worker_name)


async def _ask_age(msg: Message, d: Deps) -> None:
    s = d.callback_secret
    await msg.reply_text(texts.ASK_AGE, reply_markup=keyboards.inline(
        [keyboards.button(s, texts.BTN_AGE_65, "age", "65"), keyboards.button(s, texts.BTN_AGE_UNDER, "age", "u")],
        [keyboards.button(s, texts.BTN_SKIP, "age", "skip")],
    ))


# "我住7号楼", "住在7栋", "我家是七号楼的": the words that say it is their home, not a place a matter is at
_LIVES = re.compile(r"^(?:我们?|俺|咱)?(?:家|家里)?(?:就)?(?:住在?|在|是)?(?:在)?")
# what may follow a building's number when nothing else is said: 单元, floor and flat ("7号楼2单元302室")
_FLAT = re.compile(r"[0-9０-９一二三四五六七八九十两零〇]+|号楼|号|栋|幢|楼|单元|室|层|户|第|#|\s")
_TAIL = "。.!！~～，,的啊呀呢哈吧"


async def typed_home(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """A building typed alone, as the answer to 请先选择您住的楼栋 by someone who writes instead of tapping
    ("我住7号楼", "7"): saved when the words say it is their home, offered with one tap when they name a building
    alone and the bot knows no home for them. Never while a complaint is being written (there it is the matter's
    place) or for words that say more than a building ("7号楼漏水"). True when answered."""
    d = deps(context)
    who = await speaker(d, update)
    r = who.resident
    if r is None or drafts.live(who.draft, d.now()) is not None or len(text) > 20:
        return False
    said = text.strip().rstrip(_TAIL)
    prefix = _LIVES.match(said)
    rest = said[prefix.end():] if prefix else said
    lives = prefix is not None and ("住" in prefix.group() or "家" in prefix.group())
    names = buildings(d)
    building = match_building(rest, names)
    if building is None or not rest:
        return False
    numbered = building_key(rest) is not None
    if (_FLAT.sub("", rest) if numbered else rest.strip() not in building):  # more than a building said
        return False
    if lives and r.building != building:
        await update.effective_message.reply_text(await _save_home(update, d, building))
        await _ask_age(update.effective_message, d)
        return True
    if r.building or r.grid_code:
        return False  # a place alone from someone with a home: not theirs to guess
    offer = building_offer(d, names.index(building))
    assert offer is not None
    await _keep_for_matter(d, who.draft, r.id, building)
    await update.effective_message.reply_text(offer[0], reply_markup=offer[1])
    return True


async def _keep_for_matter(d: Deps, row: Draft | None, resident_id: int, building: str) -> None:
    """The building offered as a home is also the place of the matter that may come next instead of a tap ("3号楼"
    … "楼道灯又坏了"): an empty draft holds it, as for a place said alone. Lost to a race, the matter is asked
    where, as before."""
    now = d.now()
    waiting = drafts.changed(drafts.appended(None, resident_id, "", now).draft, now=now,
                             stage=DraftStage.COLLECTING, location=building)
    async with d.db.transaction() as s:
        await drafts.save(s, waiting, seen=row.updated_at if row is not None else None)


async def typed_age(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """An age typed as the answer to 您是否已年满65周岁？ ("我今年70了", "七十了", "俺都八十多了", "还没到65"): saved as
    its button would, from a resident with a home and no age band yet, while no complaint is being written. An age
    that may fall either side of 65 ("六十多了") gets the question again. True when answered."""
    d = deps(context)
    band = age_band(text, d.now().year)
    if band is None:
        return False
    who = await speaker(d, update)
    r = who.resident
    live = drafts.live(who.draft, d.now())
    if r is None or r.age_band is not None or not (r.building or r.grid_code) or (live is not None and live.text):
        return False  # (an empty draft only holds a place or a topic for the matter to come)
    msg = update.effective_message
    if band == UNCLEAR:
        await _ask_age(msg, d)
        return True
    async with d.db.transaction() as s:
        await set_age_band(s, await resident_of(s, update, d), AgeBand.SENIOR if band == SENIOR else AgeBand.UNDER_65,
                           now=d.now())
    forget()
    await msg.reply_text(texts.AGE_SAVED)
    return True


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


__all__ = ["ask_building", "on_age", "on_building", "start", "typed_age", "typed_home"]
