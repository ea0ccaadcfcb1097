"""Words that lean on what just happened, outside any draft: a place corrected right after filing ("不对 是4号楼")
and a bare "never mind" ("算了", "不换了"). Each answers only its whole message; anything more goes on as before.
"""

from __future__ import annotations

from telegram import Update
from telegram.ext import ContextTypes

from handlers import cards, keyboards, texts
from handlers.deps import Deps, deps
from handlers.people import forget, resident_now, speaker
from intents.followup import confirms, never_mind, place_correction
from intents.places import Place, match_building, read_place
from services.cases import drafts, relocation
from services.cases.events import resident_actor
from storage.models import OPEN_STATUSES, Ticket, TicketStatus


def corrected_place(said: Place, before: str | None) -> str:
    """The new place in full: a building said alone keeps the spot inside it the case named ("3号楼楼道" and
    "不对 是4号楼" make "4号楼楼道"; "2单元楼道" and "是4号楼" make "4号楼2单元楼道"); anything else is the place
    as said."""
    old = read_place(before) if before else None
    inside = read_place(old.spot) if old is not None and old.building and old.spot else None
    if said.building and not (said.spot or said.floor or said.room) and inside is not None and inside.in_building:
        return said.text + (old.spot or "")  # type: ignore[union-attr]
    if (said.building and not (said.spot or said.floor or said.room) and old is not None
            and not old.building and old.in_building):  # "楼道" and "不对 是4号楼": the building was missing
        kept = (None if said.unit else old.unit, old.floor, old.room, old.spot)
        return said.text + "".join(part for part in kept if part)
    return said.text


async def correct_place(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str,
                        number: str | None = None) -> bool:
    """"不对 是4号楼" within the correction window after filing, with no draft being written: the case just filed
    moves to that place (a history line and a word under its card; the card is redrawn), or, when it cannot be
    moved any more, the resident is told how to reach the desk. ``number``: the case whose message the words
    reply to, which must be that case. False: no such words, or nothing filed lately."""
    d = deps(context)
    if d.correction_window.total_seconds() <= 0:
        return False
    said = place_correction(text)
    if said is None:
        return False
    now = d.now()
    who = await speaker(d, update)
    r = who.resident
    if r is None or drafts.live(who.draft, now) is not None:
        return False  # a draft being written takes its own place words
    msg = update.effective_message
    moved: Ticket | None = None
    async with d.db.transaction() as s:
        found = await relocation.just_filed(s, r.id, now=now, window=d.correction_window)
        if found is None or (number is not None and found.ticket.number != number):
            return False
        t = found.ticket
        if t.status not in OPEN_STATUSES and t.status is not TicketStatus.RESOLVED:
            return False  # withdrawn, merged or closed: nothing to correct, the words are read as any others
        place = corrected_place(said, t.location)
        if found.movable:
            before = t.location
            building = _known_building(d, place)
            grid = d.community.grid_for_building(building) if building else None
            if await relocation.move(s, t, place=place, grid_code=grid.code if grid else None,
                                     actor=resident_actor(r.id), now=now):
                moved = t
                await cards.owe_under_card(s, d, t, texts.staff_place_corrected(t.number, r.name, before,
                                                                                t.location or place))
                await cards.owe_refresh(s, d, t)
        number, status = t.number, texts.STATUS.get(str(t.status), str(t.status))
    forget()
    if moved is not None:
        d.wake_sender()
        await msg.reply_text(texts.place_corrected(number, moved.location or place))
        return True
    await msg.reply_text(texts.place_fixed(number, status),
                         reply_markup=keyboards.human(d.callback_secret, msg.message_id))
    return True


def _known_building(d: Deps, place: str) -> str | None:
    """The community file's building the place is at, whose grid then takes the case; None: not a known one."""
    return match_building(place, [b for g in d.community.grids for b in g.buildings])


async def let_go(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """"算了", "不换了", "那算了吧" with no draft being written: a short polite answer, nothing filed and nothing
    taken back (a case the resident has stays as it is; 撤回 asks in words that say so). A draft still waiting for
    its matter (a topic said alone) is let go with it. False: more than a never-mind, or a draft with words."""
    if not never_mind(text):
        return False
    d = deps(context)
    now = d.now()
    who = await speaker(d, update)
    draft = drafts.live(who.draft, now) if who.resident is not None else None
    if draft is not None and draft.text:
        return False  # "算了" to a draft: it is taken back as before
    if draft is not None:
        async with d.db.transaction() as s:
            await drafts.take(s, draft.resident_id, seen=draft.updated_at)
        forget()
    else:
        await resident_now(d, update)
    await update.effective_message.reply_text(texts.NOTHING_TAKEN)
    return True


async def confirm_again(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> bool:
    """"确认" typed again within the correction window (CORRECTION_WINDOW_MINUTES) after the case was filed (or
    joined), with no draft waiting: told it is in and its number, as a second tap of the button is. False: other
    words, a draft being written (its own 确认 answers), or nothing filed lately."""
    if not confirms(text):
        return False
    d = deps(context)
    now = d.now()
    who = await speaker(d, update)
    if who.resident is None or drafts.live(who.draft, now) is not None:
        return False
    async with d.db.session() as s:
        found = await relocation.just_filed(s, who.resident.id, now=now, window=d.correction_window)
    if found is None:
        return False
    await update.effective_message.reply_text(texts.confirm_again(found.ticket.number))
    return True


__all__ = ["confirm_again", "correct_place", "corrected_place", "let_go"]
