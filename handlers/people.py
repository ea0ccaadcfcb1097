"""Who is speaking: the resident row behind a Telegram update (created on first contact), and the one read
that tells a private message everything it asks about its sender (``speaker``)."""

from __future__ import annotations

from contextvars import ContextVar

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from handlers.deps import Deps
from services.people import speakers
from services.people.residents import get_or_create_resident
from services.people.speakers import Speaker
from storage.models import Resident

# the speaker read for the update this task is handling: (update id, what was read)
_READ: ContextVar[tuple[int, Speaker] | None] = ContextVar("linli_speaker", default=None)


async def resident_of(session: AsyncSession, update: Update, d: Deps) -> Resident:
    user = update.effective_user
    return await get_or_create_resident(session, tg_user_id=user.id, name=user.full_name, now=d.now())


async def speaker(d: Deps, update: Update) -> Speaker:
    """The sender of ``update`` in one read (outside any write lock), kept for the rest of this update: the
    directory, the flow check, the 待补充 check, the draft and the answer all ask it, one statement answers.
    A handler that changes what it holds calls :func:`forget` (drafts are also guarded when written)."""
    held = _READ.get()
    if held is not None and held[0] == update.update_id:
        return held[1]
    async with d.db.session() as s:
        found = await speakers.speaker(s, update.effective_user.id)
    _READ.set((update.update_id, found))
    return found


def forget() -> None:
    """What :func:`speaker` read is out of date (this update changed it): the next ask reads again."""
    _READ.set(None)


async def resident_now(d: Deps, update: Update) -> Resident:
    """The resident behind ``update`` for reading (a detached row); a first contact is created, as every
    resident who writes is one from then on."""
    found = (await speaker(d, update)).resident
    if found is not None:
        return found
    async with d.db.transaction() as s:
        created = await resident_of(s, update, d)
    forget()
    return created


__all__ = ["Speaker", "forget", "resident_now", "resident_of", "speaker"]
