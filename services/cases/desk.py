"""The staff desk's data side: where each case was posted, the open queue, the board and 三率.

Only SQL and plain values; the desk handlers (``handlers.desk``, ``handlers.cards``) do the talking.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession
from sqlmodel.sql.expression import SelectOfScalar

from services import require_aware
from services.cases import clocks, followup, lifecycle
from services.cases.lifecycle import Refusal, TransitionResult
from services.community.model import Community
from storage.db import dialect_insert, dialect_name
from storage.models import OPEN_STATUSES, CaseToken, PostKind, Resident, Ticket, TicketPost, TicketStatus

CARD_KINDS: frozenset[PostKind] = frozenset({PostKind.TICKET, PostKind.ESCALATION})
DRAWN_KINDS: frozenset[PostKind] = CARD_KINDS | {PostKind.READ_ONLY}  # redrawn when the case changes
COLOURS: tuple[clocks.Colour, ...] = (clocks.Colour.RED, clocks.Colour.YELLOW, clocks.Colour.GREEN)
RATES_DAYS = 30


# --- posts ------------------------------------------------------------------------------------------


async def record_post(s: AsyncSession, ticket_id: int, chat_id: int, message_id: int, kind: PostKind,
                      now: datetime, *, media: bool = False, batch: bool = False) -> bool:
    """Where a bot message about a case went; False when it was recorded already (one message, one case, once:
    ``INSERT … ON CONFLICT DO NOTHING``, so recording again, after a retried commit, changes nothing)."""
    result = await s.exec(_record_post(await dialect_name(s)), params={  # type: ignore[call-overload]
        "ticket_id": ticket_id, "chat_id": chat_id, "message_id": message_id, "kind": kind,
        "created_at": require_aware(now), "media": media, "batch": batch})
    return bool(result.rowcount)


@cache
def _record_post(dialect: str) -> Any:
    """:func:`record_post`'s insert, built once per dialect (its values bound at execution)."""
    table = TicketPost.__table__  # type: ignore[attr-defined]
    return dialect_insert(dialect)(table).on_conflict_do_nothing(
        index_elements=[table.c.chat_id, table.c.message_id, table.c.ticket_id])


async def find_posts(s: AsyncSession, chat_id: int, message_id: int) -> list[TicketPost]:
    """The post(s) a staff member replied to: one, or several for a message combining several cases."""
    stmt = (select(TicketPost).where(TicketPost.chat_id == chat_id, TicketPost.message_id == message_id)
            .order_by(col(TicketPost.id)))
    return list((await s.exec(stmt)).all())


async def find_post(s: AsyncSession, chat_id: int, message_id: int) -> TicketPost | None:
    """The post a staff member replied to, when it stands for one case (index on chat_id, message_id)."""
    found = await find_posts(s, chat_id, message_id)
    return found[0] if len(found) == 1 else None


async def batch_tickets(s: AsyncSession, chat_id: int, message_id: int) -> list[Ticket]:
    """The cases one combined message lists, in the order it lists them."""
    stmt = (select(Ticket).join(TicketPost, col(TicketPost.ticket_id) == col(Ticket.id))
            .where(TicketPost.chat_id == chat_id, TicketPost.message_id == message_id).order_by(col(TicketPost.id)))
    return list((await s.exec(stmt)).all())


async def posts_of(s: AsyncSession, ticket_id: int, kinds: Iterable[PostKind] = CARD_KINDS) -> list[TicketPost]:
    stmt = (
        select(TicketPost)
        .where(TicketPost.ticket_id == ticket_id, col(TicketPost.kind).in_(list(kinds)))
        .order_by(col(TicketPost.id))
    )
    return list((await s.exec(stmt)).all())


async def latest_card(s: AsyncSession, ticket_id: int, chat_id: int | None = None) -> TicketPost | None:
    """The newest case card (in ``chat_id`` if given): where the resident's words and reminders go. Without
    ``chat_id``, a desk group's card before any private one (a grid worker's copy: a group's id is negative)."""
    stmt = select(TicketPost).where(TicketPost.ticket_id == ticket_id, col(TicketPost.kind).in_(list(CARD_KINDS)))
    if chat_id is not None:
        stmt = stmt.where(TicketPost.chat_id == chat_id)
    # the handling unit's own card first: an escalation card is for supervision, not the conversation
    stmt = stmt.order_by(col(TicketPost.chat_id) > 0, col(TicketPost.kind) == PostKind.ESCALATION,
                         col(TicketPost.id).desc()).limit(1)
    return (await s.exec(stmt)).first()


# --- tickets and residents --------------------------------------------------------------------------


async def ticket_by_number(s: AsyncSession, number: str) -> Ticket | None:
    return (await s.exec(select(Ticket).where(Ticket.number == number))).first()


def resident_by_tg_query(tg_user_id: int) -> SelectOfScalar[Resident]:
    return select(Resident).where(Resident.tg_user_id == tg_user_id)


async def resident_by_tg(s: AsyncSession, tg_user_id: int) -> Resident | None:
    return (await s.exec(resident_by_tg_query(tg_user_id))).first()


async def tg_ids(s: AsyncSession, resident_ids: Sequence[int]) -> list[int]:
    """Telegram ids of residents, in the order given (duplicates and unknown ids dropped)."""
    if not resident_ids:
        return []
    rows = (await s.exec(select(Resident.id, Resident.tg_user_id).where(col(Resident.id).in_(resident_ids)))).all()
    by_id = dict(rows)
    return list(dict.fromkeys(by_id[r] for r in resident_ids if r in by_id))


async def pending_info_number(s: AsyncSession, tg_user_id: int) -> str | None:
    """The resident's ticket waiting for their answer (待补充), newest first; None if there is none."""
    stmt = (
        select(Ticket.number)
        .join(Resident, col(Resident.id) == col(Ticket.resident_id))
        .where(Resident.tg_user_id == tg_user_id, Ticket.status == TicketStatus.PENDING_INFO)
        .order_by(col(Ticket.updated_at).desc())
        .limit(1)
    )
    return (await s.exec(stmt)).first()


async def tracked_on_web(s: AsyncSession, ticket_id: int) -> bool:
    """Whether someone follows the case on its web tracking page (it was filed on the 服务码 page): a reply to it
    shows there even when nobody can be told in Telegram."""
    stmt = select(CaseToken.id).where(CaseToken.ticket_id == ticket_id).limit(1)
    return (await s.exec(stmt)).first() is not None


@dataclass(frozen=True)
class Offline:
    """Who to phone or visit for a case whose resident has no Telegram (recorded from a call or a visit, imported
    from 12345 or Open311, filed on the web): the bot cannot tell them anything, staff must."""

    name: str | None
    phone: str | None
    recorded_by: int | None  # who recorded it (代录): the bot sends them the case's news to pass on


async def offline_contact(s: AsyncSession, ticket: Ticket) -> Offline | None:
    """The case's contact when its resident has no Telegram, else None (the bot writes to them itself). The case's
    own contact first (what was recorded with it), then the person's."""
    person = await s.get(Resident, ticket.resident_id)
    if person is None or person.tg_user_id is not None:
        return None
    return Offline(name=(ticket.contact_name or "").strip() or None,
                   phone=(ticket.contact_phone or "").strip() or person.phone or None,
                   recorded_by=ticket.recorded_by)


# --- closing a 待补充 case whose resident cannot be reached -------------------------------------------------

UNREACHABLE = "无法联系"  # the reason recorded on the events of such a close


async def close_unreachable(s: AsyncSession, ticket: Ticket, *, actor: str, now: datetime, result: str,
                            expected_version: int | None = None) -> TransitionResult:
    """办结 a case still waiting for the resident's answer (待补充) when they cannot be reached: the moves staff would
    make by hand (back from 待补充 to where it was, 办理, 办结 with ``result``), each an event noting
    :data:`UNREACHABLE`, all in the caller's transaction. No follow-up (回访) comes: nobody could be reached to ask
    (``followup.not_asked``); until the rating window passes the resident's reply reopens it
    (``followup.reopen_unreachable``). A case no longer in 待补充 is refused and nothing changes."""
    if expected_version is not None and expected_version != ticket.version:
        return TransitionResult.conflict()
    if ticket.status is not TicketStatus.PENDING_INFO or ticket.resume_status is None:
        return TransitionResult.illegal(Refusal.FINAL if ticket.status in lifecycle.FINAL else Refusal.NOT_ALLOWED)
    first = await lifecycle.transition(s, ticket, ticket.resume_status, actor=actor, now=now, note=UNREACHABLE)
    if not first.ok:
        return first
    if ticket.status is TicketStatus.SIGNED:
        await _must(lifecycle.transition(s, ticket, TicketStatus.IN_PROGRESS, actor=actor, now=now, note=UNREACHABLE))
    done = await _must(lifecycle.transition(s, ticket, TicketStatus.RESOLVED, actor=actor, now=now, result=result,
                                            note=UNREACHABLE))
    if not await followup.not_asked(s, ticket):
        raise RuntimeError("closing an unreachable case: its 回访 could not be called off")  # the row is held
    return done


async def _must(pending: Awaitable[TransitionResult]) -> TransitionResult:
    result = await pending
    if not result.ok:  # the first move's write holds the row: the table allows the rest, so this is a bug
        raise RuntimeError(f"closing an unreachable case was refused: {result.outcome} {result.reason}")
    return result


# --- queue and board --------------------------------------------------------------------------------


def desk_units(community: Community, chat_id: int, staff_chat_id: int | None) -> set[str] | bool | None:
    """What a chat's /queue shows: its units' codes, None for everything (staff or escalation chat),
    False when the chat is no desk at all."""
    if staff_chat_id is not None and chat_id == staff_chat_id:
        return None
    units = {u.code for u in community.units if u.chat_id == chat_id}
    if units:
        return units
    if any(e.chat_id == chat_id for e in community.escalation):
        return None
    return False


async def open_tickets(s: AsyncSession, units: set[str] | None, *, grids: Iterable[str] | None = None) -> list[Ticket]:
    """Open tickets (of ``units``, or all; of ``grids`` too when given), earliest deadline first."""
    stmt = select(Ticket).where(col(Ticket.status).in_(list(OPEN_STATUSES)))
    if units is not None:
        stmt = stmt.where(col(Ticket.unit).in_(sorted(units)))
    if grids is not None:
        stmt = stmt.where(col(Ticket.grid_code).in_(sorted(grids)))
    return list((await s.exec(stmt.order_by(col(Ticket.due_at), col(Ticket.id)))).all())


def by_colour(tickets: Iterable[Ticket], now: datetime) -> dict[clocks.Colour, list[Ticket]]:
    groups: dict[clocks.Colour, list[Ticket]] = {c: [] for c in COLOURS}
    for t in tickets:
        groups[clocks.colour(t, now)].append(t)
    return groups


def board_rows(tickets: Iterable[Ticket], now: datetime, community: Community) -> list[tuple[str, int, int, int]]:
    """(unit name, red, yellow, green) per unit with open tickets, in the community file's order."""
    counts: dict[str, list[int]] = {}
    for t in tickets:
        counts.setdefault(t.unit, [0, 0, 0])[COLOURS.index(clocks.colour(t, now))] += 1
    order = [u.code for u in community.units] + sorted(set(counts) - {u.code for u in community.units})
    rows = []
    for code in order:
        if code in counts:
            unit = community.unit(code)
            rows.append((unit.name if unit else code, *counts[code]))
    return rows


@dataclass(frozen=True)
class RatesView:
    days: int
    rates: followup.Rates


async def recent_rates(s: AsyncSession, now: datetime, days: int = RATES_DAYS) -> RatesView:
    return RatesView(days, await followup.rates(s, now - timedelta(days=days), now, now=now))


__all__ = [
    "CARD_KINDS",
    "COLOURS",
    "DRAWN_KINDS",
    "UNREACHABLE",
    "Offline",
    "RatesView",
    "batch_tickets",
    "board_rows",
    "by_colour",
    "close_unreachable",
    "desk_units",
    "find_post",
    "find_posts",
    "latest_card",
    "offline_contact",
    "open_tickets",
    "pending_info_number",
    "posts_of",
    "recent_rates",
    "record_post",
    "resident_by_tg",
    "resident_by_tg_query",
    "tg_ids",
    "ticket_by_number",
    "tracked_on_web",
]
