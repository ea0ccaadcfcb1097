"""Scheduled reports: Monday 08:00 for last week, the 1st for last month, a quarter's first day for last quarter;
each claimed once, so a restart neither repeats nor skips one."""

from datetime import datetime, timedelta

import pytest

from services import SHANGHAI
from services.reports.periods import (
    PeriodError,
    PeriodKind,
    check_not_future,
    date_range,
    parse_period,
)
from services.reports.schedule import claim, due_reports, send_moment
from storage.db import Database


def local(*args: int) -> datetime:
    return datetime(*args, tzinfo=SHANGHAI)


async def due(db: Database, now: datetime) -> list[tuple[str, str]]:
    async with db.session() as s:
        return [(d.kind.value, d.period.label) for d in await due_reports(s, now)]


async def send_all(db: Database, now: datetime) -> list[tuple[str, str]]:
    sent = []
    async with db.transaction() as s:
        for d in await due_reports(s, now):
            if await claim(s, d, now):
                sent.append((d.kind.value, d.period.label))
    return sent


def test_periods_parse_and_name_their_predecessor() -> None:
    assert parse_period("2026-W48").first.isoformat() == "2026-11-23"
    assert parse_period("2026-W48").previous().label == "2026-W47"
    assert parse_period("2027-W01").previous().label == "2026-W53"
    assert parse_period("2026-11").previous().label == "2026-10"
    assert parse_period("2026-01").previous().label == "2025-12"
    assert parse_period("2026Q1").previous().label == "2025Q4"
    assert parse_period("2026q4").last.isoformat() == "2026-12-31"
    r = date_range("2026-11-01", "2026-11-10")
    assert (r.previous().first.isoformat(), r.previous().last.isoformat()) == ("2026-10-22", "2026-10-31")
    assert r.since == local(2026, 11, 1) and r.until == local(2026, 11, 11)
    for bad in ("2026-13", "2026-W60", "2026Q5", "November", ""):
        with pytest.raises(PeriodError):
            parse_period(bad)
    with pytest.raises(PeriodError, match="早于"):
        date_range("2026-11-30", "2026-11-01")
    with pytest.raises(PeriodError, match="还没有开始"):
        check_not_future(parse_period("2027-01"), local(2026, 12, 1, 10))
    assert check_not_future(parse_period("2026-12"), local(2026, 12, 1, 10)).label == "2026-12"  # under way


async def test_monday_eight_oclock_once(db: Database) -> None:
    monday = local(2026, 11, 30, 8)  # 30 Nov 2026 is a Monday
    assert send_moment(parse_period("2026-W48")) == monday
    assert await due(db, monday - timedelta(seconds=1)) == [
        ("week", "2026-W47"), ("month", "2026-10"), ("quarter", "2026Q3")]  # first run: the latest of each
    assert await send_all(db, monday - timedelta(seconds=1)) == [
        ("week", "2026-W47"), ("month", "2026-10"), ("quarter", "2026Q3")]
    assert await due(db, monday - timedelta(seconds=1)) == []
    assert await due(db, monday) == [("week", "2026-W48")]
    assert await send_all(db, monday) == [("week", "2026-W48")]
    assert await send_all(db, monday + timedelta(minutes=5)) == []  # a restart repeats nothing
    dec1 = local(2026, 12, 1, 8)
    assert await send_all(db, dec1) == [("month", "2026-11")]
    sent = await send_all(db, local(2027, 1, 1, 8))
    assert [x for x in sent if x[0] != "week"] == [("month", "2026-12"), ("quarter", "2026Q4")]
    assert [x for x in sent if x[0] == "week"] == [("week", "2026-W50"), ("week", "2026-W51"), ("week", "2026-W52")]


async def test_a_stop_skips_nothing(db: Database) -> None:
    await send_all(db, local(2026, 11, 30, 9))
    # down from Monday 30 Nov 09:00 until Wednesday 16 Dec: weeks 49 and 50 and November are still sent
    assert await send_all(db, local(2026, 12, 16, 12)) == [
        ("week", "2026-W49"), ("week", "2026-W50"), ("month", "2026-11")]


async def test_claim_is_once_across_two_processes(any_db: Database) -> None:
    now = local(2026, 11, 30, 8)
    async with any_db.session() as s:
        (first, *_) = await due_reports(s, now)
    async with any_db.transaction() as s:
        assert await claim(s, first, now)
    async with any_db.transaction() as s:
        assert not await claim(s, first, now)
    assert first.kind is PeriodKind.WEEK
