"""Multi-step chats kept in the database (one per user): what step a staff member is at, and what they
have said so far. The handler keeps a copy in memory; this is the copy that survives a restart."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlmodel import col, delete
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.models import Conversation

STALE_AFTER = timedelta(days=1)  # a chat left this long is forgotten: the next message starts afresh


async def load(session: AsyncSession, tg_user_id: int, flow: str, now: datetime) -> dict[str, Any] | None:
    """The user's ``flow`` state, unless there is none, it is another flow's, or it went stale."""
    row = await session.get(Conversation, tg_user_id)
    if row is None or row.flow != flow or require_aware(now) - row.updated_at > STALE_AFTER:
        return None
    return dict(row.data)


async def flow_of(session: AsyncSession, tg_user_id: int, now: datetime) -> str | None:
    """Which multi-step chat the user is in (one read, asked of every private message), None if none."""
    row = await session.get(Conversation, tg_user_id)
    if row is None or require_aware(now) - row.updated_at > STALE_AFTER:
        return None
    return row.flow


async def save(session: AsyncSession, tg_user_id: int, flow: str, data: dict[str, Any], now: datetime) -> None:
    """Replace the user's state (a user is in one flow at a time)."""
    row = await session.get(Conversation, tg_user_id)
    if row is None:
        row = Conversation(tg_user_id=tg_user_id, flow=flow)
    row.flow, row.data, row.updated_at = flow, dict(data), require_aware(now)
    session.add(row)
    await session.flush()


async def end(session: AsyncSession, tg_user_id: int) -> None:
    await session.exec(delete(Conversation).where(col(Conversation.tg_user_id) == tg_user_id))  # type: ignore[call-overload]


__all__ = ["STALE_AFTER", "end", "flow_of", "load", "save"]
