"""The desk's moves from the board (签收, a reply to the resident, 办结), by the same rules as the card's buttons and
the replies to it in chat (``handlers.desk.buttons`` and ``handlers.desk.relays``): the same lifecycle calls, the
same version guard on 签收, 办结 through 办理中 in one step. Who may is checked by the caller with the same permission
(``ticket.act`` on the case's scope); what the change owes the chat card and the resident is owed by the caller in
the same transaction.
"""

from __future__ import annotations

from datetime import datetime

from sqlmodel.ext.asyncio.session import AsyncSession

from services.cases import clocks, events, lifecycle
from services.cases.lifecycle import Refusal, TransitionResult
from storage.models import Ticket, TicketEventKind, TicketStatus

S = TicketStatus
WORKING: frozenset[TicketStatus] = frozenset({S.SIGNED, S.IN_PROGRESS})


async def sign(s: AsyncSession, ticket: Ticket, *, version: int, actor: str, now: datetime) -> TransitionResult:
    """签收, as the card's button: the version the person saw must still be the case's."""
    if ticket.version != version:
        return TransitionResult.conflict()
    if ticket.status not in clocks.UNSIGNED:  # 待补充 → 签收 is legal, but only the resident's answer resumes
        return TransitionResult.illegal(Refusal.NOT_ALLOWED)
    return await lifecycle.transition(s, ticket, S.SIGNED, actor=actor, now=now, expected_version=version)


async def resolve(s: AsyncSession, ticket: Ticket, *, result: str, actor: str, now: datetime) -> TransitionResult:
    """办结 with its result, as the answer to the card's prompt: a signed case goes through 办理中 first."""
    if not result.strip():
        return TransitionResult.illegal(Refusal.RESULT_REQUIRED)
    outcome = TransitionResult.illegal(Refusal.NOT_ALLOWED)
    if ticket.status is S.SIGNED:
        outcome = await lifecycle.transition(s, ticket, S.IN_PROGRESS, actor=actor, now=now)
    if ticket.status is S.IN_PROGRESS:
        outcome = await lifecycle.transition(s, ticket, S.RESOLVED, actor=actor, now=now, result=result.strip())
    return outcome


async def reply(s: AsyncSession, ticket: Ticket, *, text: str, actor: str, now: datetime) -> bool:
    """The unit's words to the resident, kept in the case's history (a reply to the card in chat does the same)."""
    if not text.strip():
        return False
    await events.record_event(s, ticket, kind=TicketEventKind.REPLY, actor=actor, now=now, note=text.strip())
    return True


__all__ = ["WORKING", "reply", "resolve", "sign"]
