"""Who is speaking: everything a private message asks about its sender, in one read.

Every message a resident sends is asked the same questions before it is understood: are they in a multi-step
chat (a notice, an emergency's place, words to add to a case), is a case of theirs waiting for their answer
(待补充), what is their draft, where do they live, is the directory's name for them current. One statement
answers all of them (``SELECT … FROM (SELECT :id) LEFT JOIN residents … LEFT JOIN drafts … LEFT JOIN
conversations … LEFT JOIN known_users``), read outside any write lock; the rows come back detached, as values.
On 确认 it also counts the complaints confirmed in the flood window (the cap's check rides in the same read); a
确认 pressed on the draft this process just wrote is made without this read (``handlers.people.pressable``).
Anything that then writes checks what it read (``drafts.save``'s guard) or reads again inside its transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, bindparam, null, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import flood, require_aware
from services.people import conversations
from storage.db import Database, read_rows
from storage.models import Conversation, Draft, KnownUser, Resident, Ticket, TicketStatus
from storage.rows import as_read


@dataclass(frozen=True)
class Speaker:
    """The sender as one read found them; rows are detached copies (never added to a session as they are)."""

    tg_user_id: int
    resident: Resident | None  # None: first contact (no resident row yet)
    draft: Draft | None  # their draft row, stale or not (``drafts.live`` judges)
    conversation: Conversation | None  # their multi-step chat row, stale or not
    pending_info: str | None  # the number of their case waiting for their answer (待补充), newest first
    known: tuple[str | None, str] | None  # the directory's (username, name) for them; None: not in it
    confirmed: int | None = None  # complaints they confirmed since the time asked (flood cap); None: not asked

    def flow(self, now: datetime) -> str | None:
        """The multi-step chat they are in, None if none (or it went stale)."""
        c = self.conversation
        if c is None or require_aware(now) - c.updated_at > conversations.STALE_AFTER:
            return None
        return c.flow

    def flow_data(self, flow: str, now: datetime) -> dict[str, Any] | None:
        """That chat's state if it is ``flow`` (as ``conversations.load`` gives it)."""
        return dict(self.conversation.data) if self.conversation and self.flow(now) == flow else None


_R, _D, _C, _K, _T = (m.__table__ for m in (Resident, Draft, Conversation, KnownUser, Ticket))  # type: ignore[attr-defined]


def _statement(with_confirmed: bool) -> Any:
    """The read, built once per variant (with or without the flood count): only the values change, ``tg`` (the
    user) and ``since`` (the flood window's start), so SQLAlchemy finds it compiled by its cache key every time."""
    me = select(bindparam("tg", type_=BigInteger).label("tg")).subquery("me")
    pending = (select(_T.c.number)
               .where(_T.c.resident_id == _R.c.id, _T.c.status == TicketStatus.PENDING_INFO)
               .order_by(_T.c.updated_at.desc()).limit(1).scalar_subquery())
    confirmed = (flood.confirmed_count(_R.c.id, flood.since_param()) if with_confirmed else null()).label("confirmed")
    return (
        select(*(c.label(f"r_{c.name}") for c in _R.c), *(c.label(f"d_{c.name}") for c in _D.c),
               *(c.label(f"c_{c.name}") for c in _C.c), _K.c.tg_user_id.label("k_id"),
               _K.c.username.label("k_username"), _K.c.name.label("k_name"), pending.label("pending"), confirmed)
        .select_from(me.outerjoin(_R, _R.c.tg_user_id == me.c.tg).outerjoin(_D, _D.c.resident_id == _R.c.id)
                     .outerjoin(_C, _C.c.tg_user_id == me.c.tg).outerjoin(_K, _K.c.tg_user_id == me.c.tg))
    )


_READ, _READ_CONFIRMED = _statement(False), _statement(True)
_COLUMNS = {prefix: (tuple(c.name for c in table.c), next(iter(table.primary_key.columns)).name)
            for prefix, table in (("r_", _R), ("d_", _D), ("c_", _C))}


def _row(model: type, row: Any, prefix: str) -> Any:
    names, key = _COLUMNS[prefix]
    if row[f"{prefix}{key}"] is None:
        return None
    return as_read(model, {name: row[f"{prefix}{name}"] for name in names})


async def speaker(source: AsyncSession | Database, tg_user_id: int, *,
                  confirmed_since: datetime | None = None) -> Speaker:
    """One statement: the resident, their draft, their multi-step chat, a case waiting for them, the directory;
    with ``confirmed_since``, also how many complaints they confirmed since then (``flood.confirmed_since``).
    ``source``: a session, or the database (a connection of its own, the cheaper read: every update makes it)."""
    if confirmed_since is None:
        stmt, params = _READ, {"tg": tg_user_id}
    else:
        stmt, params = _READ_CONFIRMED, {"tg": tg_user_id, "since": require_aware(confirmed_since)}
    (row,) = await read_rows(source, stmt, params)
    return Speaker(
        tg_user_id=tg_user_id,
        resident=_row(Resident, row, "r_"),
        draft=_row(Draft, row, "d_"),
        conversation=_row(Conversation, row, "c_"),
        pending_info=row["pending"],
        known=(row["k_username"], row["k_name"]) if row["k_id"] is not None else None,
        confirmed=int(row["confirmed"]) if row["confirmed"] is not None else None,
    )


__all__ = ["Speaker", "speaker"]
