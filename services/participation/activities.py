"""Activity check-in (签到): a grid worker opens it, residents scan its QR code or type its code word, once each.

The QR code is a deep link ``/start act-<token>``; the code word is four digits no other live activity uses.
Once per person is the unique (activity, resident) pair: a second scan, a scan and a typed word, or two
taps at once insert one row between them, and only the inserting one writes points.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlmodel import col, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import local, require_aware
from services.community.model import Community
from services.points import ledger
from storage.db import dialect_insert, dialect_name
from storage.models import Activity, ActivityCheckin

TOKEN_PREFIX = "act-"
WORD_DIGITS = 4


def end_of_day(now: datetime) -> datetime:
    """Check-in stays open until midnight (Asia/Shanghai) of the day it was opened."""
    day = local(now).replace(hour=0, minute=0, second=0, microsecond=0)
    return day + timedelta(days=1)


async def open_activity(session: AsyncSession, *, title: str, rule_code: str | None, grid_code: str | None,
                        by: int, now: datetime, ends_at: datetime | None = None) -> Activity:
    """A new check-in with a fresh token and a code word unused by any live activity."""
    require_aware(now)
    live = set((await session.exec(select(Activity.word).where(col(Activity.ends_at) > now))).all())
    word = next(w for w in (f"{secrets.randbelow(10 ** WORD_DIGITS):0{WORD_DIGITS}d}" for _ in range(1000))
                if w not in live)
    activity = Activity(token=secrets.token_urlsafe(9)[:12], word=word, rule_code=rule_code, title=title.strip()[:128],
                        grid_code=grid_code, created_by=by, created_at=now, ends_at=ends_at or end_of_day(now))
    session.add(activity)
    await session.flush()
    return activity


async def open_now(session: AsyncSession, now: datetime, grid_code: str | None, limit: int = 5) -> list[Activity]:
    """The activities whose check-in is open at ``now``, the resident's grid's and the whole community's: what
    "有啥活动" lists beside the dated services (their code word is given on the spot, never here)."""
    require_aware(now)
    here = col(Activity.grid_code).is_(None)
    if grid_code is not None:
        here = here | (col(Activity.grid_code) == grid_code)
    stmt = (select(Activity).where(col(Activity.ends_at) > now, col(Activity.created_at) <= now, here)
            .order_by(col(Activity.created_at)).limit(limit))
    return list((await session.exec(stmt)).all())


async def by_token(session: AsyncSession, token: str) -> Activity | None:
    return (await session.exec(select(Activity).where(Activity.token == token.strip()))).first()


async def by_word(session: AsyncSession, word: str, now: datetime) -> Activity | None:
    """The live activity with this code word (the newest, should two ever share it)."""
    return (await session.exec(select(Activity).where(Activity.word == word.strip(), col(Activity.ends_at) > now)
                               .order_by(col(Activity.id).desc()))).first()


class CheckinStatus(StrEnum):
    OK = "ok"
    ALREADY = "already"  # this person checked in before: once per activity
    ENDED = "ended"


@dataclass(frozen=True)
class CheckedIn:
    status: CheckinStatus
    earned: ledger.Earned | None = None

    @property
    def ok(self) -> bool:
        return self.status is CheckinStatus.OK


def points_for(activity: Activity, community: Community) -> int:
    rule = community.earn_rule(activity.rule_code) if activity.rule_code else None
    return rule.points if rule else community.points_rules.activity.points


async def check_in(session: AsyncSession, activity: Activity, *, resident_id: int, actor_tg_id: int | None,
                   community: Community, now: datetime) -> CheckedIn:
    """Check a resident in (once) and write the activity's points, within the daily limit for activities."""
    require_aware(now)
    if activity.ends_at <= now:
        return CheckedIn(CheckinStatus.ENDED)
    insert = dialect_insert(await dialect_name(session))
    done = await session.exec(insert(ActivityCheckin.__table__).values(  # type: ignore[call-overload]
        activity_id=activity.id, resident_id=resident_id, at=now).on_conflict_do_nothing())
    if not done.rowcount:
        return CheckedIn(CheckinStatus.ALREADY)
    earned = await ledger.earn(session, resident_id=resident_id, kind=ledger.Kind.ACTIVITY,
                               points=points_for(activity, community), rules=community.points_rules, now=now,
                               actor_tg_id=actor_tg_id or activity.created_by, note=activity.title,
                               ref=activity.rule_code or f"act:{activity.id}")
    if earned.entry is not None:
        row = (await session.exec(select(ActivityCheckin).where(
            ActivityCheckin.activity_id == activity.id, ActivityCheckin.resident_id == resident_id))).one()
        row.points_entry_id = earned.entry.id
        session.add(row)
        await session.flush()
    return CheckedIn(CheckinStatus.OK, earned)


async def attendance(session: AsyncSession, activity_id: int) -> int:
    return len((await session.exec(select(ActivityCheckin.id).where(ActivityCheckin.activity_id == activity_id))).all())


__all__ = [
    "TOKEN_PREFIX",
    "CheckedIn",
    "CheckinStatus",
    "attendance",
    "by_token",
    "by_word",
    "check_in",
    "end_of_day",
    "open_activity", "open_now",
    "points_for",
]
