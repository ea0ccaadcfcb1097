"""Unguessable tokens, kept only as their SHA-256, and the tracking tokens of cases filed on the web.

A tracking token (``secrets.token_urlsafe(16)``: 128 random bits, 22 characters that fit a Telegram deep link)
opens one case's page, ``/t/<token>``, for the person who filed it (its author, or a neighbour whose complaint
joined it). Whoever has it can later claim the case in the bot (``/start t-<token>``): from then on the bot
tells them its progress as it tells anyone who wrote in chat.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlalchemy import delete, update
from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.cases import events, lifecycle
from services.cases.duplicates import add_follower
from storage.models import OPEN_STATUSES, CaseToken, Resident, Ticket, TicketEventKind, TicketFollower

TOKEN_BYTES = 16
_SHAPE = re.compile(r"^[A-Za-z0-9_-]{16,64}$")


def new_token(nbytes: int = TOKEN_BYTES) -> str:
    return secrets.token_urlsafe(nbytes)


def digest(token: str) -> str:
    """What the database keeps of a token: its SHA-256 (a leaked table opens nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def well_formed(token: str) -> bool:
    return bool(_SHAPE.match(token or ""))


def same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


async def issue(s: AsyncSession, *, ticket_id: int, resident_id: int, now: datetime) -> str:
    """A new tracking token for ``resident_id``'s view of the case; only its digest is stored."""
    token = new_token()
    s.add(CaseToken(ticket_id=ticket_id, resident_id=resident_id, token_hash=digest(token),
                    created_at=require_aware(now)))
    await s.flush()
    return token


@dataclass(frozen=True)
class Tracked:
    token: CaseToken
    ticket: Ticket

    @property
    def is_author(self) -> bool:
        """The person filed the case itself (may rate it), not a neighbour whose complaint joined it."""
        return self.ticket.resident_id == self.token.resident_id

    @property
    def withdrawable(self) -> bool:
        """Its author may still withdraw it (撤回): the case is open. A neighbour whose complaint joined it may not."""
        return self.is_author and self.ticket.status in OPEN_STATUSES


async def find(s: AsyncSession, token: str) -> Tracked | None:
    """The case a token opens, or None (malformed, unknown: never says which)."""
    if not well_formed(token):
        return None
    row = (await s.exec(select(CaseToken).where(CaseToken.token_hash == digest(token)))).first()
    if row is None:
        return None
    ticket = await s.get(Ticket, row.ticket_id)
    return Tracked(row, ticket) if ticket is not None else None


async def holders(s: AsyncSession, found: Tracked) -> list[int]:
    """The resident ids the token's holder is known by: the person it was issued to, and the Telegram resident
    who claimed it in the bot (whose words since are theirs too)."""
    ids = [found.token.resident_id]
    if found.token.claimed_by is not None:
        claimer = (await s.exec(select(Resident.id).where(Resident.tg_user_id == found.token.claimed_by))).first()
        if claimer is not None:
            ids.append(claimer)
    return ids


class ClaimStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # malformed or unknown token
    ALREADY_YOURS = "already_yours"  # claimed by this user before: nothing changes
    TAKEN = "taken"  # claimed by someone else: a token is claimed once


@dataclass(frozen=True)
class ClaimResult:
    status: ClaimStatus
    ticket: Ticket | None = None


async def claim(s: AsyncSession, token: str, *, claimer: Resident, now: datetime) -> ClaimResult:
    """The resident who opened the bot takes over what the token's person had: the case itself if they filed
    it (its author becomes the Telegram resident), else their place among its followers. Claimed once."""
    require_aware(now)
    found = await find(s, token)
    if found is None:
        return ClaimResult(ClaimStatus.NOT_FOUND)
    row, ticket = found.token, found.ticket
    if row.claimed_by is not None:
        same_user = row.claimed_by == claimer.tg_user_id
        return ClaimResult(ClaimStatus.ALREADY_YOURS if same_user else ClaimStatus.TAKEN, ticket)
    assert claimer.id is not None and ticket.id is not None
    taken = await s.exec(update(CaseToken).where(  # type: ignore[call-overload]
        col(CaseToken.id) == row.id, col(CaseToken.claimed_by).is_(None),
    ).values(claimed_by=claimer.tg_user_id, claimed_at=now))
    if not taken.rowcount:  # claimed at the same moment by someone else
        return ClaimResult(ClaimStatus.TAKEN, ticket)
    if found.is_author:
        ticket.resident_id = claimer.id
        s.add(ticket)
    else:
        await s.exec(delete(TicketFollower).where(  # type: ignore[call-overload]
            col(TicketFollower.ticket_id) == ticket.id, col(TicketFollower.resident_id) == row.resident_id))
        await add_follower(s, ticket.id, claimer.id, now)
    await events.record_event(s, ticket, kind=TicketEventKind.NOTE, actor=events.resident_actor(claimer.id), now=now,
                              note="居民在机器人中认领了网页提交的诉求")
    await s.flush()
    return ClaimResult(ClaimStatus.OK, ticket)


class WithdrawStatus(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"  # malformed or unknown token
    NOT_YOURS = "not_yours"  # the token of a neighbour whose complaint joined the case, or claimed in the bot since
    ALREADY_WITHDRAWN = "already_withdrawn"
    NOT_OPEN = "not_open"  # resolved, closed, merged ...: too late


@dataclass(frozen=True)
class Withdrawal:
    status: WithdrawStatus
    ticket: Ticket | None = None

    @property
    def ok(self) -> bool:
        return self.status is WithdrawStatus.OK


async def withdraw(s: AsyncSession, token: str, *, now: datetime) -> Withdrawal:
    """The token's holder withdraws (撤回) the case they filed, through the same rule the bot's resident uses
    (``lifecycle.withdraw``: the state machine, its event, the version guard); a second try changes nothing."""
    require_aware(now)
    found = await find(s, token)
    if found is None:
        return Withdrawal(WithdrawStatus.NOT_FOUND)
    if not found.is_author:
        return Withdrawal(WithdrawStatus.NOT_YOURS, found.ticket)
    done = await lifecycle.withdraw(s, resident_id=found.token.resident_id, number=found.ticket.number, now=now,
                                    note="居民在跟踪页面撤回")
    return Withdrawal(WithdrawStatus(done.status.value), done.ticket or found.ticket)


__all__ = ["ClaimResult", "ClaimStatus", "Tracked", "WithdrawStatus", "Withdrawal", "claim", "digest", "find",
           "holders", "issue", "new_token", "same", "well_formed", "withdraw"]
