"""Who is speaking: the resident row behind a Telegram update (created on first contact), and the one read
that tells a private message everything it asks about its sender (``speaker``)."""

from __future__ import annotations

import dataclasses
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from handlers.deps import Deps
from services.people import directory, speakers
from services.people.residents import create_resident, get_or_create_resident
from services.people.speakers import Speaker
from storage.models import Resident

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
    return True


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


__all__ = ["Speaker", "directory_owed", "forget", "owe_directory", "pay_directory", "resident_now", "resident_of",
           "speaker"]
