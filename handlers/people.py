"""Who is speaking: the resident row behind a Telegram update (created on first contact)."""

from __future__ import annotations

from sqlmodel.ext.asyncio.session import AsyncSession
from telegram import Update

from handlers.deps import Deps
from services.people.residents import get_or_create_resident
from storage.models import Resident


async def resident_of(session: AsyncSession, update: Update, d: Deps) -> Resident:
    user = update.effective_user
    return await get_or_create_resident(session, tg_user_id=user.id, name=user.full_name, now=d.now())


__all__ = ["resident_of"]
