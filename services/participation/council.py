"""议事会: proposals grouped into a topic, a native Telegram poll to a grid's residents, the outcome published.

::

    create_topic (命题, with proposals grouped) ──▶ open ──start_poll (grid, options)──▶ polling (点题: one
    poll per resident, each answer recorded by its poll id) ──close──▶ closed (the tally) ──publish──▶ published
    (答题: the desk's outcome, sent to the grid as a 议事会 notice)

Each step is a compare-and-set on the topic's status, so a double press never sends the poll twice.
A resident's vote is one row per topic, replaced when they change it (empty when they retract it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from services.notices import broadcast as notices
from services.participation.common import fresh, swap
from storage.db import dialect_insert, dialect_name
from storage.models import (
    AudienceKind,
    CouncilPoll,
    CouncilTopic,
    CouncilVote,
    Mute,
    NoticeKind,
    Proposal,
    Resident,
    TopicStatus,
)

TS = TopicStatus
MAX_QUESTION = 255  # Telegram allows 300; the topic's title column holds 255
MAX_OPTION = 100  # Telegram's limit per option
MIN_OPTIONS, MAX_OPTIONS = 2, 10


async def create_topic(session: AsyncSession, *, title: str, by: int, now: datetime,
                       numbers: list[str] = ()) -> tuple[CouncilTopic, list[str], list[str]]:  # type: ignore[assignment]
    """A topic (命题) with the proposals named by number grouped into it; returns (topic, grouped, unknown)."""
    require_aware(now)
    title = title.strip()
    if not title or len(title) > MAX_QUESTION:
        raise ValueError("a topic needs a title of at most MAX_QUESTION characters")
    topic = CouncilTopic(title=title, created_by=by, created_at=now)
    session.add(topic)
    await session.flush()
    assert topic.id is not None
    grouped, unknown = await group(session, topic.id, numbers)
    return topic, grouped, unknown


async def group(session: AsyncSession, topic_id: int, numbers: list[str]) -> tuple[list[str], list[str]]:
    """Attach proposals to the topic; returns the numbers grouped and those not found."""
    grouped, unknown = [], []
    for number in dict.fromkeys(n.strip().upper() for n in numbers if n.strip()):
        row = (await session.exec(select(Proposal).where(Proposal.number == number))).first()
        if row is None:
            unknown.append(number)
            continue
        row.topic_id = topic_id
        session.add(row)
        grouped.append(number)
    await session.flush()
    return grouped, unknown


async def grouped_proposals(session: AsyncSession, topic_id: int) -> list[Proposal]:
    return list((await session.exec(select(Proposal).where(Proposal.topic_id == topic_id)
                                    .order_by(col(Proposal.id)))).all())


async def grid_voters(session: AsyncSession, grid_code: str) -> list[int]:
    """Telegram ids of the grid's residents who take everyday messages (muted ones are left out)."""
    stmt = (select(Resident.tg_user_id).where(Resident.grid_code == grid_code, col(Resident.tg_user_id).is_not(None),
                                              col(Resident.tg_user_id).not_in(select(Mute.tg_user_id)))
            .order_by(col(Resident.tg_user_id)))
    return [t for t in (await session.exec(stmt)).all() if t is not None]


class PollStatus(StrEnum):
    OK = "ok"
    NOT_OPEN = "not_open"  # polled already, or closed
    NO_RESIDENTS = "no_residents"
    BAD_OPTIONS = "bad_options"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class PollStart:
    status: PollStatus
    topic: CouncilTopic | None = None
    voters: tuple[int, ...] = ()


def check_options(options: list[str]) -> list[str] | None:
    """2–10 distinct non-empty options of at most 100 characters each, else None."""
    cleaned = list(dict.fromkeys(o.strip() for o in options if o.strip()))
    if not MIN_OPTIONS <= len(cleaned) <= MAX_OPTIONS or any(len(o) > MAX_OPTION for o in cleaned):
        return None
    return cleaned


async def start_poll(session: AsyncSession, topic_id: int, *, grid_code: str, options: list[str],
                     now: datetime) -> PollStart:
    """点题: the poll goes out to the grid's residents (the caller owes each a poll); refused on a grid
    with nobody to ask, bad options, or a topic polled before."""
    require_aware(now)
    topic = await fresh(session, CouncilTopic, topic_id)
    if topic is None:
        return PollStart(PollStatus.UNKNOWN)
    cleaned = check_options(options)
    if cleaned is None:
        return PollStart(PollStatus.BAD_OPTIONS, topic)
    if topic.status is not TS.OPEN:
        return PollStart(PollStatus.NOT_OPEN, topic)
    voters = await grid_voters(session, grid_code)
    if not voters:
        return PollStart(PollStatus.NO_RESIDENTS, topic)
    if not await swap(session, CouncilTopic, topic_id, TS.OPEN, status=TS.POLLING, grid_code=grid_code,
                      options=cleaned, polled_at=now):
        return PollStart(PollStatus.NOT_OPEN, await fresh(session, CouncilTopic, topic_id))
    return PollStart(PollStatus.OK, await fresh(session, CouncilTopic, topic_id), tuple(voters))


async def record_poll(session: AsyncSession, *, poll_id: str, topic_id: int, chat_id: int, message_id: int,
                      now: datetime) -> None:
    """Remember which topic a sent poll belongs to (its answers arrive with the poll id only)."""
    insert = dialect_insert(await dialect_name(session))
    await session.exec(insert(CouncilPoll.__table__).values(  # type: ignore[call-overload]
        poll_id=poll_id, topic_id=topic_id, chat_id=chat_id, message_id=message_id, sent_at=require_aware(now),
    ).on_conflict_do_nothing())


async def vote(session: AsyncSession, *, poll_id: str, tg_user_id: int, option_ids: list[int],
               now: datetime) -> CouncilTopic | None:
    """A resident's answer to a council poll; None (ignored) for an unknown poll or a topic no longer polling."""
    require_aware(now)
    poll = await session.get(CouncilPoll, poll_id)
    topic = await session.get(CouncilTopic, poll.topic_id) if poll else None
    if topic is None or topic.status is not TS.POLLING:
        return None
    chosen = sorted({i for i in option_ids if 0 <= i < len(topic.options)})
    row = (await session.exec(select(CouncilVote).where(CouncilVote.topic_id == topic.id,
                                                        CouncilVote.tg_user_id == tg_user_id))).first()
    if row is None:
        row = CouncilVote(topic_id=topic.id, tg_user_id=tg_user_id)  # type: ignore[arg-type]
    row.options, row.at = chosen, now
    session.add(row)
    await session.flush()
    return topic


@dataclass(frozen=True)
class Tally:
    topic: CouncilTopic
    counts: tuple[tuple[str, int], ...]  # (option, votes) in the poll's order
    voters: int  # residents with a vote standing
    asked: int  # polls sent


async def tally(session: AsyncSession, topic: CouncilTopic) -> Tally:
    votes = (await session.exec(select(CouncilVote.options).where(CouncilVote.topic_id == topic.id))).all()
    counts = [0] * len(topic.options)
    for chosen in votes:
        for i in chosen:
            if 0 <= i < len(counts):
                counts[i] += 1
    asked = len((await session.exec(select(CouncilPoll.poll_id).where(CouncilPoll.topic_id == topic.id))).all())
    return Tally(topic, tuple(zip(topic.options, counts, strict=True)), sum(1 for v in votes if v), asked)


async def close(session: AsyncSession, topic_id: int, now: datetime) -> Tally | None:
    """Voting ends (later answers are ignored); None when the topic was not polling."""
    require_aware(now)
    if not await swap(session, CouncilTopic, topic_id, TS.POLLING, status=TS.CLOSED, closed_at=now):
        return None
    topic = await fresh(session, CouncilTopic, topic_id)
    assert topic is not None
    return await tally(session, topic)


@dataclass(frozen=True)
class Published:
    topic: CouncilTopic
    notice_id: int
    recipients: int


async def publish(session: AsyncSession, topic_id: int, *, outcome: str, by: int, now: datetime,
                  text: str) -> Published | None:
    """答题: the outcome goes to the poll's grid as a 议事会 notice (``text``: the notice as residents read it);
    None unless the topic is closed (not published before)."""
    require_aware(now)
    topic = await fresh(session, CouncilTopic, topic_id)
    if topic is None or topic.grid_code is None:
        return None
    if not await swap(session, CouncilTopic, topic_id, TS.CLOSED, status=TS.PUBLISHED, outcome=outcome.strip()):
        return None
    notice = await notices.create_draft(session, author_tg_id=by, kind=NoticeKind.COUNCIL, text=text,
                                        audience_kind=AudienceKind.GRID, audience_value=topic.grid_code, now=now)
    assert notice.id is not None
    count = await notices.confirm(session, notice.id, now) or 0
    topic = await fresh(session, CouncilTopic, topic_id)
    assert topic is not None
    topic.notice_id = notice.id
    session.add(topic)
    await session.flush()
    return Published(topic, notice.id, count)


async def topics(session: AsyncSession, limit: int = 20) -> list[CouncilTopic]:
    return list((await session.exec(select(CouncilTopic).order_by(col(CouncilTopic.id).desc()).limit(limit))).all())


__all__ = [
    "MAX_OPTION",
    "MAX_OPTIONS",
    "MAX_QUESTION",
    "MIN_OPTIONS",
    "PollStart",
    "PollStatus",
    "Published",
    "Tally",
    "check_options",
    "close",
    "create_topic",
    "grid_voters",
    "group",
    "grouped_proposals",
    "publish",
    "record_poll",
    "start_poll",
    "tally",
    "topics",
    "vote",
]
