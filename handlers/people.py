"""Who is speaking: the resident row behind a Telegram update (created on first contact), and the one read
that tells a private message everything it asks about its sender (``speaker``)."""

from __future__ import annotations

import dataclasses
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import event
from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update
from telegram.ext import ContextTypes

from handlers.deps import Deps
from services.cases import drafts
from services.cases.drafts import DraftStage
from services.people import directory, speakers
from services.people.residents import create_resident, get_or_create_resident
from services.people.speakers import Speaker
from storage.models import Draft, Resident

# the speaker read for the update this task is handling: (update id, what was read)
_READ: ContextVar[tuple[int, Speaker] | None] = ContextVar("linli_speaker", default=None)


@dataclass
class _Owed:
    """A first contact's directory row, written with the update's first write (its resident) instead of alone."""

    update_id: int
    tg_user_id: int
    username: str | None
    name: str
    done: bool = False
    committed: bool = False  # the transaction that wrote it committed: the directory holds what the update says


_OWED: ContextVar[_Owed | None] = ContextVar("linli_directory_owed", default=None)


def _held(update: Update) -> Speaker | None:
    held = _READ.get()
    return held[1] if held is not None and held[0] == update.update_id else None


def _hold(update: Update, who: Speaker) -> None:
    _READ.set((update.update_id, who))


def owe_directory(update: Update) -> None:
    """Remember the sender in the directory with this update's first write transaction (:func:`resident_of`, which a
    first contact's answer runs anyway), or at the end of the update if it wrote nothing (:func:`pay_directory`)."""
    user = update.effective_user
    _OWED.set(_Owed(update.update_id, user.id, user.username, user.full_name))


def _owed(update: Update) -> _Owed | None:
    owed = _OWED.get()
    return owed if owed is not None and owed.update_id == update.update_id and not owed.done else None


def directory_owed(update: Update) -> bool:
    """Whether ``update`` still owes its sender's directory row."""
    return _owed(update) is not None


async def pay_directory(session: AsyncSession, update: Update, d: Deps) -> bool:
    """Write the directory row owed for ``update`` in ``session``, if one is owed; True if it was."""
    owed = _owed(update)
    if owed is None:
        return False
    await directory.remember(session, tg_user_id=owed.tg_user_id, username=owed.username, name=owed.name,
                             now=d.now())
    owed.done = True

    def committed(_session: Any) -> None:
        owed.committed = True

    event.listen(session.sync_session, "after_commit", committed, once=True)
    return True


def directory_written(update: Update) -> bool:
    """Whether this update wrote its sender's directory row (a first contact's) and that write committed: the row
    holds the name and @username this update carries, so the next update need not read to check them."""
    owed = _OWED.get()
    return owed is not None and owed.update_id == update.update_id and owed.committed


async def resident_of(session: AsyncSession, update: Update, d: Deps) -> Resident:
    """The resident behind ``update`` in a write transaction, created on first contact (one INSERT … RETURNING
    when the speaker's read found none), with the directory row a first contact owes."""
    user = update.effective_user
    await pay_directory(session, update, d)
    held = _held(update)
    if held is not None and held.resident is None:
        return await create_resident(session, tg_user_id=user.id, name=user.full_name, now=d.now())
    return await get_or_create_resident(session, tg_user_id=user.id, name=user.full_name, now=d.now())


async def speaker(d: Deps, update: Update, *, confirmed_since: datetime | None = None) -> Speaker:
    """The sender of ``update`` in one read (outside any write lock), kept for the rest of this update: the
    directory, the flow check, the 待补充 check, the draft and the answer all ask it, one statement answers.
    A handler that changes what it holds calls :func:`forget` (drafts are also guarded when written).
    ``confirmed_since``: the flood cap's count is read too (``Speaker.confirmed``)."""
    held = _held(update)
    if held is not None and (confirmed_since is None or held.confirmed is not None):
        return held
    found = await speakers.speaker(d.db, update.effective_user.id, confirmed_since=confirmed_since)
    _hold(update, found)
    return found


def forget() -> None:
    """What :func:`speaker` read is out of date (this update changed it): the next ask reads again."""
    _READ.set(None)


async def resident_now(d: Deps, update: Update) -> Resident:
    """The resident behind ``update`` for reading (a detached row); a first contact is created, as every
    resident who writes is one from then on."""
    who = await speaker(d, update)
    if who.resident is not None:
        return who.resident
    async with d.db.transaction() as s:
        created = await resident_of(s, update, d)
    _hold(update, dataclasses.replace(who, resident=created))  # the rest of the update asks without reading again
    return created


WRITTEN = "linli.written_drafts"  # bot_data: Telegram id -> (resident, draft) as this process last wrote the draft
WRITTEN_KEEP = 4096  # residents remembered (the most recent writers); each entry is two small rows


def note_written(context: ContextTypes.DEFAULT_TYPE, resident: Resident, draft: Draft) -> None:
    """Remember the draft this update wrote, with its resident as read, so a 确认 pressed next needs no read to
    know what it confirms (:func:`pressable`). Safe to lose, never trusted: the draft's ``DELETE`` takes it only
    if the row and the resident's place are still as remembered (``drafts.take_known``)."""
    if resident.tg_user_id is None:
        return
    kept: OrderedDict[int, tuple[Resident, Draft]] = context.application.bot_data.setdefault(WRITTEN, OrderedDict())
    kept[resident.tg_user_id] = (resident, draft)
    kept.move_to_end(resident.tg_user_id)
    while len(kept) > WRITTEN_KEEP:
        kept.popitem(last=False)


def drop_written(context: ContextTypes.DEFAULT_TYPE, tg_user_id: int) -> None:
    """The remembered draft is gone or changed in a way not remembered: forget it."""
    kept = context.application.bot_data.get(WRITTEN)
    if kept is not None:
        kept.pop(tg_user_id, None)


_PRESS: ContextVar[tuple[int, tuple[Resident, Draft] | None] | None] = ContextVar("linli_press", default=None)


def pressable(context: ContextTypes.DEFAULT_TYPE, update: Update, stamp: str, now: datetime
              ) -> tuple[Resident, Draft] | None:
    """The resident and draft a 确认 (button ``stamp``) confirms, known without a read: the draft this process last
    wrote for the presser, if it is that draft (its stamp), live and ready to confirm (a place or none needed, a
    category, words), and nothing was read for this update (a read made is the fresher). None: read as usual.
    Decided once an update (the flood guard asks first, the button's handler after)."""
    held = _PRESS.get()
    if held is not None and held[0] == update.update_id:
        return held[1]
    found = None
    kept = context.application.bot_data.get(WRITTEN)
    entry = kept.get(update.effective_user.id) if kept is not None else None
    if entry is not None and _held(update) is None:
        draft = drafts.live(entry[1], now)
        if (draft is not None and drafts.stamp(draft) == stamp and draft.stage == DraftStage.CONFIRMING
                and draft.category and draft.text):
            found = entry
    _PRESS.set((update.update_id, found))
    return found


__all__ = ["Speaker", "directory_owed", "directory_written", "drop_written", "forget", "note_written",
           "owe_directory", "pay_directory", "pressable", "resident_now", "resident_of", "speaker"]
