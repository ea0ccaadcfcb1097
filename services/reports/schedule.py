"""Which scheduled reports are due: 周调度 every Monday 08:00 (last week), 月评估 on the 1st (last month), 季研判 at
the start of a quarter (last quarter), each once.

A report is *claimed* in the ``report_runs`` table (unique per kind and period) in the same transaction that
queues it for sending (the outbox), so a restart neither repeats one (the claim is there) nor skips one (a period
whose moment passed while the bot was down is still due: up to :data:`CATCH_UP` periods back, counted from the
last one claimed). The very first run sends only the latest period of each kind, never a backlog of history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta

from sqlmodel import select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import SHANGHAI, require_aware
from services.reports.periods import Period, PeriodKind, current
from storage.db import dialect_insert, dialect_name
from storage.models import ReportRun

SEND_AT = time(8, 0)  # local time the reports go out
KINDS: tuple[PeriodKind, ...] = (PeriodKind.WEEK, PeriodKind.MONTH, PeriodKind.QUARTER)
CATCH_UP = 3  # at most this many missed periods of one kind are still sent after a long stop


@dataclass(frozen=True)
class DueReport:
    kind: PeriodKind
    period: Period
    due_at: datetime


def send_moment(period: Period) -> datetime:
    """08:00 local on the day after the period: Monday for a week, the 1st for a month or quarter."""
    return datetime.combine(period.last + timedelta(days=1), SEND_AT, SHANGHAI)


def latest_closed(kind: PeriodKind, now: datetime) -> Period:
    """The newest period of ``kind`` whose report moment has come at ``now``."""
    p = current(kind, now).previous()
    return p if send_moment(p) <= now else p.previous()


async def due_reports(session: AsyncSession, now: datetime) -> list[DueReport]:
    """Reports whose moment has come and that nobody has claimed yet, oldest first within each kind."""
    require_aware(now)
    found: list[DueReport] = []
    for kind in KINDS:
        claimed = set((await session.exec(select(ReportRun.period).where(ReportRun.kind == kind.value))).all())
        limit = CATCH_UP if claimed else 1  # never claimed: the latest only, not a backlog of history
        candidates: list[Period] = []
        p = latest_closed(kind, now)
        while p.label not in claimed and len(candidates) < limit:  # back to the last one claimed
            candidates.append(p)
            p = p.previous()
        found += [DueReport(kind, c, send_moment(c)) for c in reversed(candidates)]
    return found


async def never_claimed(session: AsyncSession) -> set[PeriodKind]:
    """Kinds no run has claimed yet: on a new install their first due report may belong to long before it."""
    claimed = set((await session.exec(select(ReportRun.kind).distinct())).all())
    return {kind for kind in KINDS if kind.value not in claimed}


async def claim(session: AsyncSession, due: DueReport, now: datetime) -> bool:
    """Record that ``due`` is being sent (in the sending transaction); False when someone already did."""
    require_aware(now)
    insert = dialect_insert(await dialect_name(session))
    table = ReportRun.__table__
    stmt = (insert(table).values(kind=due.kind.value, period=due.period.label, due_at=due.due_at, claimed_at=now)
            .on_conflict_do_nothing(index_elements=[table.c.kind, table.c.period]))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


async def claim_once(session: AsyncSession, kind: str, label: str, now: datetime) -> bool:
    """A one-off word the desk is owed once ever (the calendar warning for a year: ``kind`` "calendar", ``label``
    "2027"), claimed in the sending transaction on the same unique (kind, period) as the reports, so a restart or a
    second worker never repeats it; False when it was claimed already. ``kind`` is none of :data:`KINDS`."""
    require_aware(now)
    assert kind not in {k.value for k in KINDS}
    insert = dialect_insert(await dialect_name(session))
    table = ReportRun.__table__
    stmt = (insert(table).values(kind=kind, period=label, due_at=now, claimed_at=now)
            .on_conflict_do_nothing(index_elements=[table.c.kind, table.c.period]))
    return bool((await session.exec(stmt)).rowcount)  # type: ignore[call-overload]


__all__ = ["CATCH_UP", "KINDS", "SEND_AT", "DueReport", "claim", "claim_once", "due_reports", "latest_closed",
           "never_claimed", "send_moment"]
