"""Telegram users the bot has met, by @username: the Bot API cannot look a user up by name, so an admin's
``/grant @li_xy staff wuye`` works for anyone who has written to the bot or in a group it is in."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam
from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.db import dialect_insert, dialect_name
from storage.models import KnownUser, Resident

_USERNAME = re.compile(r"^@?([A-Za-z][A-Za-z0-9_]{3,31})$")  # Telegram: 5–32 chars; 4 allowed for old names


def username_of(text: str) -> str | None:
    """``@Li_XY`` → ``li_xy`` (usernames are case-insensitive); None if it cannot be a username."""
    m = _USERNAME.match(text.strip())
    return m.group(1).lower() if m else None


_K = KnownUser.__table__  # type: ignore[attr-defined]
_REMEMBERS: dict[str, Any] = {}  # dialect -> the upsert, built once


def _remember_statement(dialect: str) -> Any:
    stmt = _REMEMBERS.get(dialect)
    if stmt is None:
        stmt = dialect_insert(dialect)(_K).values(
            {c: bindparam(f"known_{c}", type_=_K.c[c].type) for c in ("tg_user_id", "username", "name", "seen_at")})
        stmt = _REMEMBERS[dialect] = stmt.on_conflict_do_update(
            index_elements=["tg_user_id"], set_={k: stmt.excluded[k] for k in ("username", "name", "seen_at")})
    return stmt


async def remember(session: AsyncSession, *, tg_user_id: int, username: str | None, name: str,
                   now: datetime) -> None:
    """Insert or refresh one user (a username moves to whoever holds it now)."""
    require_aware(now)
    handle = username_of(username) if username else None
    params = {"known_tg_user_id": tg_user_id, "known_username": handle, "known_name": name[:128], "known_seen_at": now}
    await session.exec(_remember_statement(await dialect_name(session)), params=params)  # type: ignore[call-overload]


async def find(session: AsyncSession, username: str) -> KnownUser | None:
    """The user last seen with ``username`` (with or without @), if any."""
    handle = username_of(username)
    if handle is None:
        return None
    stmt = select(KnownUser).where(KnownUser.username == handle).order_by(KnownUser.seen_at.desc())  # type: ignore[attr-defined]
    return (await session.exec(stmt)).first()


async def names_of(session: AsyncSession, tg_user_id: int) -> list[str]:
    """The names the bot knows a user by, the newest first: as last seen on Telegram, then as a resident."""
    known = await session.get(KnownUser, tg_user_id)
    resident = (await session.exec(select(Resident.name).where(Resident.tg_user_id == tg_user_id))).first()
    return [n for n in dict.fromkeys((known.name if known else "", resident or "")) if n.strip()]


__all__ = ["find", "names_of", "remember", "username_of"]
