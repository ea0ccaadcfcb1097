"""码上议: a resident's proposal gets a number and a reply deadline; the desk answers; 办复率 counts the answers.

A proposal number reads ``JY-<Shanghai date>-<id>`` (建议). The deadline is ``proposal_reply_days`` from the
community file (default 15 days). Answering is a compare-and-set on ``open``: two staff answering at once,
one answer is kept and the resident is told once.

办复率 (:func:`reply_figures`, pure): proposals answered within their deadline over proposals received in the
period, with the mean reply time; what the reports call for a month or a year.
"""

from __future__ import annotations

import re
import secrets
import statistics
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import local, require_aware
from services.community.model import Community
from services.participation.common import fresh, swap
from storage.models import Proposal, ProposalStatus, Resident

PS = ProposalStatus
MAX_TEXT = 1000  # characters: a proposal is read by people at a meeting
MAX_ANSWER = 2000
NUMBER = re.compile(r"JY-\d{8}-\d{4,}")


def number_for(created_at: datetime, proposal_id: int) -> str:
    return f"JY-{local(created_at):%Y%m%d}-{proposal_id:04d}"


def find_number(text: str) -> str | None:
    found = NUMBER.search(text or "")
    return found.group(0) if found else None


async def submit(session: AsyncSession, *, resident: Resident, text: str, community: Community, now: datetime,
                 project_id: int | None = None) -> Proposal:
    """A new proposal with its number and reply deadline; ValueError when empty or over MAX_TEXT."""
    require_aware(now)
    text = text.strip()
    if not text or len(text) > MAX_TEXT:
        raise ValueError("a proposal needs a text of at most MAX_TEXT characters")
    assert resident.id is not None
    row = Proposal(number=f"tmp-{secrets.token_hex(8)}", resident_id=resident.id, text=text,
                   grid_code=resident.grid_code, project_id=project_id, created_at=now,
                   due_at=now + timedelta(days=community.participation.proposal_reply_days))
    session.add(row)
    await session.flush()
    assert row.id is not None
    row.number = number_for(now, row.id)
    session.add(row)
    await session.flush()
    return row


async def by_number(session: AsyncSession, number: str) -> Proposal | None:
    return (await session.exec(select(Proposal).where(Proposal.number == number.strip().upper()))).first()


class AnswerStatus(StrEnum):
    OK = "ok"
    ALREADY = "already"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Answered:
    status: AnswerStatus
    proposal: Proposal | None = None

    @property
    def ok(self) -> bool:
        return self.status is AnswerStatus.OK

    @property
    def on_time(self) -> bool:
        p = self.proposal
        return bool(p and p.answered_at and p.answered_at <= p.due_at)


async def answer(session: AsyncSession, number: str, *, text: str, by: int, now: datetime) -> Answered:
    """The desk's answer; the first one stands (a second is refused, never overwrites it)."""
    require_aware(now)
    row = await by_number(session, number)
    if row is None:
        return Answered(AnswerStatus.UNKNOWN)
    assert row.id is not None
    if not await swap(session, Proposal, row.id, PS.OPEN, status=PS.ANSWERED, answer=text.strip()[:MAX_ANSWER],
                      answered_at=now, answered_by=by):
        return Answered(AnswerStatus.ALREADY, await fresh(session, Proposal, row.id))
    return Answered(AnswerStatus.OK, await fresh(session, Proposal, row.id))


async def open_proposals(session: AsyncSession, limit: int = 30) -> list[Proposal]:
    """Waiting for an answer, the earliest deadline first."""
    return list((await session.exec(select(Proposal).where(Proposal.status == PS.OPEN)
                                    .order_by(col(Proposal.due_at)).limit(limit))).all())


async def of_resident(session: AsyncSession, resident_id: int, limit: int = 10) -> list[Proposal]:
    return list((await session.exec(select(Proposal).where(Proposal.resident_id == resident_id)
                                    .order_by(col(Proposal.id).desc()).limit(limit))).all())


@dataclass(frozen=True)
class ReplyFigures:
    """办复率 and reply time over the proposals received in a period."""

    received: int
    answered_on_time: int
    answered_late: int
    open_overdue: int  # not answered and past the deadline
    open_in_time: int  # not answered, deadline still ahead
    mean_reply_days: float | None  # over the answered ones
    median_reply_days: float | None

    @property
    def rate(self) -> float | None:
        """办复率: answered on time / received (None when nothing was received)."""
        return self.answered_on_time / self.received if self.received else None


def reply_figures(rows: Iterable[tuple[datetime, datetime, datetime | None]], now: datetime) -> ReplyFigures:
    """办复率 from (received, deadline, answered or None) triples; pure, so reports call it on any selection."""
    require_aware(now)
    on_time = late = overdue = waiting = 0
    days: list[float] = []
    for created, due, answered in rows:
        if answered is None:
            if due < now:
                overdue += 1
            else:
                waiting += 1
            continue
        days.append((answered - created).total_seconds() / 86400)
        if answered <= due:
            on_time += 1
        else:
            late += 1
    mean = round(statistics.fmean(days), 1) if days else None
    median = round(statistics.median(days), 1) if days else None
    return ReplyFigures(on_time + late + overdue + waiting, on_time, late, overdue, waiting, mean, median)


async def figures(session: AsyncSession, now: datetime, *, since: datetime | None = None,
                  until: datetime | None = None) -> ReplyFigures:
    """:func:`reply_figures` over the proposals received in [since, until)."""
    stmt = select(Proposal.created_at, Proposal.due_at, Proposal.answered_at)
    if since is not None:
        stmt = stmt.where(col(Proposal.created_at) >= since)
    if until is not None:
        stmt = stmt.where(col(Proposal.created_at) < until)
    return reply_figures([tuple(r) for r in (await session.exec(stmt)).all()], now)  # type: ignore[misc]


__all__ = [
    "MAX_ANSWER",
    "MAX_TEXT",
    "AnswerStatus",
    "Answered",
    "ReplyFigures",
    "answer",
    "by_number",
    "figures",
    "find_number",
    "number_for",
    "of_resident",
    "open_proposals",
    "reply_figures",
    "submit",
]
