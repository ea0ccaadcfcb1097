"""Working-time limits: nights, weekends and public holidays skipped, 调休 make-up days counted (chinese-calendar),
emergencies on the wall clock; hooked into opening and reassigning a case, and judged so in reports."""

import tomllib
from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services import SHANGHAI
from services.cases.events import staff_actor
from services.cases.lifecycle import open_dispatched, reassign, transition
from services.cases.sweep import open_sos
from services.cases.working_time import (
    add_working_time,
    calendar,
    calendar_warning,
    deadline,
    is_workday,
    known_year,
    working_time_between,
)
from services.community.model import (
    SAMPLE_COMMUNITY_FILE,
    CommunityFileError,
    LimitUnit,
    TimeLimit,
    WorkingTime,
    load_community,
    parse_community,
)
from services.people.residents import get_or_create_resident
from services.reports.figures import ALL, figures_for
from services.reports.periods import parse_period
from storage.db import Database
from storage.models import Ticket, TicketStatus
from tests.unit.wall_clock import wall_clock_sample

H = timedelta(hours=1)
DAY = WorkingTime()  # 09:00–18:00
DAY9 = 9 * H


def at(y: int, m: int, d: int, hh: int = 0, mm: int = 0) -> datetime:
    return datetime(y, m, d, hh, mm, tzinfo=SHANGHAI)


def community_with(**working: object):
    data = tomllib.loads(SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8"))
    data["working_time"] = working
    return parse_community(data)


# --- the calendar -------------------------------------------------------------------------------------------


def test_calendar_knows_2026_holidays_and_make_up_days() -> None:
    assert not is_workday(at(2026, 10, 1).date())  # 国庆
    assert not is_workday(at(2026, 10, 7).date())
    assert is_workday(at(2026, 10, 10).date())  # Saturday, 调休 working day
    assert is_workday(at(2026, 2, 14).date())  # Saturday before 春节, 调休
    assert not is_workday(at(2026, 2, 17).date())  # 春节
    assert is_workday(at(2026, 2, 28).date())  # Saturday after 春节, 调休
    assert not is_workday(at(2026, 11, 28).date())  # an ordinary Saturday


def test_unknown_year_falls_back_to_weekdays_and_warns() -> None:
    year = 2099
    assert not known_year(year)
    assert is_workday(datetime(year, 1, 1).date()) is (datetime(year, 1, 1).weekday() < 5)
    assert calendar_warning(at(2026, 6, 1)) is None
    last = max(y for y in range(2020, 2100) if known_year(y))
    warning = calendar_warning(at(last, 12, 1))
    assert warning is not None and str(last + 1) in warning


# --- the arithmetic ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("start", "amount", "due"), [
    (at(2026, 11, 24, 10), 2 * H, at(2026, 11, 24, 12)),  # inside one day
    (at(2026, 11, 24, 9), DAY9, at(2026, 11, 24, 18)),  # exactly a day: the evening, not next morning
    (at(2026, 11, 24, 22), H, at(2026, 11, 25, 10)),  # at night: from the next morning
    (at(2026, 11, 24, 6), H, at(2026, 11, 24, 10)),  # early: from nine
    (at(2026, 11, 27, 15), DAY9, at(2026, 11, 30, 15)),  # Friday 15:00 + 1 day = Monday 15:00
    (at(2026, 11, 28, 10), DAY9, at(2026, 11, 30, 18)),  # Saturday: the whole of Monday
    (at(2026, 9, 30, 15), DAY9, at(2026, 10, 8, 15)),  # across 国庆 (1–7 Oct)
    # 5 working days from 30 Sep 15:00: 30 Sep 3 h, 8 Oct, 9 Oct, Sat 10 Oct (调休), Mon 12 Oct, 6 h of 13 Oct
    (at(2026, 9, 30, 15), 5 * DAY9, at(2026, 10, 13, 15)),
    # 春节: Fri 13 Feb 17:00 + 2 days: 1 h, Sat 14 Feb (调休) 9 h, 15–23 Feb off, 8 h of Tue 24 Feb
    (at(2026, 2, 13, 17), 2 * DAY9, at(2026, 2, 24, 17)),
    (at(2026, 2, 27, 18), DAY9, at(2026, 2, 28, 18)),  # Saturday 28 Feb is a working day
    (at(2026, 10, 3, 12), timedelta(0), at(2026, 10, 8, 9)),  # nothing to add on a holiday: the next working moment
])
def test_add_working_time(start: datetime, amount: timedelta, due: datetime) -> None:
    assert add_working_time(start, amount) == due
    assert working_time_between(start, due) == amount


def test_a_lunch_free_custom_day_and_bad_input() -> None:
    short = (time(8, 30), time(12, 0))
    assert add_working_time(at(2026, 11, 24, 11), 2 * H, hours=short) == at(2026, 11, 25, 9, 30)
    with pytest.raises(ValueError):
        add_working_time(at(2026, 11, 24, 11), -H)
    with pytest.raises(ValueError):
        add_working_time(datetime(2026, 11, 24, 11), H)  # naive


@settings(max_examples=200, deadline=None)
@given(start=st.datetimes(min_value=datetime(2025, 1, 1), max_value=datetime(2026, 12, 1)),
       minutes=st.integers(min_value=0, max_value=60 * 200))
def test_adding_then_measuring_gives_the_same_working_time(start: datetime, minutes: int) -> None:
    begin = start.replace(tzinfo=SHANGHAI)
    due = add_working_time(begin, timedelta(minutes=minutes))
    assert due >= begin
    assert working_time_between(begin, due) == timedelta(minutes=minutes)
    assert minutes == 0 or is_workday(due.date())


def test_deadline_by_unit_and_emergency() -> None:
    start = at(2026, 9, 30, 15)
    assert deadline(start, TimeLimit(24), DAY) == start + 24 * H  # wall-clock hours stay wall-clock
    assert deadline(start, TimeLimit(5, LimitUnit.WORKING_DAYS), DAY) == at(2026, 10, 13, 15)
    assert deadline(start, TimeLimit(4, LimitUnit.WORKING_HOURS), DAY) == at(2026, 10, 8, 10)
    assert deadline(start, TimeLimit(5, LimitUnit.WORKING_DAYS), DAY, emergency=True) == start + 5 * 24 * H
    assert deadline(start, TimeLimit(2, LimitUnit.WORKING_HOURS), DAY, emergency=True) == start + 2 * H


# --- the community file -----------------------------------------------------------------------------------


def test_community_file_working_time_and_its_mistakes() -> None:
    plain = wall_clock_sample()
    assert plain.time_limit("welfare") == TimeLimit(168) and plain.sign_limit() == TimeLimit(2)
    c = community_with(day="08:30-17:30", days={"welfare": 5}, hours={"legal": 16}, sign_hours=2)
    assert c.time_limit("welfare") == TimeLimit(5, LimitUnit.WORKING_DAYS)
    assert c.time_limit("legal") == TimeLimit(16, LimitUnit.WORKING_HOURS)
    assert c.time_limit("parking") == TimeLimit(72)  # the unit's own wall-clock limit
    assert c.sign_limit() == TimeLimit(2, LimitUnit.WORKING_HOURS)
    assert c.working_time.day == (time(8, 30), time(17, 30))
    for working, says in (
        ({"days": {"welfare": 5}, "hours": {"welfare": 3}}, "working_time.hours.welfare"),
        ({"days": {"noodles": 5}}, "working_time.days"),
        ({"days": {"welfare": 0}}, "working_time.days.welfare"),
        ({"day": "18:00-09:00"}, "working_time.day"),
        ({"sign_hours": 0}, "working_time.sign_hours"),
        ({"weekends": True}, "working_time"),
        ({"days": {"dispute": 5}}, "limits.dispute"),  # the sample's [limits] gives dispute 120 hours already
    ):
        with pytest.raises(CommunityFileError, match=says.replace(".", r"\.")):
            community_with(**working)


# --- hooked where deadlines are set, and in reports -------------------------------------------------------


async def _open(db: Database, community, when: datetime, category: str = "welfare") -> Ticket:
    async with db.transaction() as s:
        r = await get_or_create_resident(s, tg_user_id=int(when.timestamp()) % 100000, name="居民", now=when)
        return await open_dispatched(s, resident=r, category=category, text="低保申请", location=None, photos=[],
                                     community=community, now=when)


def test_the_community_file_lists_a_year_the_package_does_not_know_yet() -> None:
    """2027's holidays (as the State Council publishes them in December) written into the file: New Year's Day off,
    a Sunday worked; the start-up warning no longer names 2027."""
    from datetime import date

    c = community_with(days={"welfare": 2}, holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 3)])
    workday = calendar(c.working_time)
    assert not workday(date(2027, 1, 1)) and workday(date(2027, 1, 3)) and workday(date(2027, 1, 4))
    assert not workday(date(2027, 1, 2))  # an ordinary Saturday stays off
    assert workday(date(2026, 10, 9)) == is_workday(date(2026, 10, 9))  # a known year: the package decides
    # opened Thursday 31 Dec 2026 17:00 with two working days: Thu 1 h, Fri 1 Jan off, Sat off, Sun 3 Jan worked
    # (9 h), Mon 4 Jan 09:00 + 8 h = 17:00
    due = deadline(at(2026, 12, 31, 17), TimeLimit(2, LimitUnit.WORKING_DAYS), c.working_time)
    assert due == at(2027, 1, 4, 17)
    assert "2027" not in (calendar_warning(at(2026, 12, 1), working=c.working_time) or "")
    if not known_year(2027):  # without the file's dates it still warns (until the package learns 2027)
        assert "2027" in (calendar_warning(at(2026, 12, 1)) or "")
    with pytest.raises(CommunityFileError, match="既是放假日又是调休上班日"):
        community_with(holidays=[date(2027, 1, 1)], workdays=[date(2027, 1, 1)])


async def test_opening_and_reassigning_use_working_time(db: Database) -> None:
    c = community_with(days={"welfare": 5}, sign_hours=2)
    ticket = await _open(db, c, at(2026, 9, 30, 17, 30))
    assert ticket.sign_due_at == at(2026, 10, 8, 10, 30)  # 30 min on 30 Sep, 90 min after 国庆
    assert ticket.due_at == at(2026, 10, 13, 17, 30)  # 5 × 9 h: 0.5 h, 8/9/10 (调休)/12 Oct, 8.5 h of 13 Oct
    async with db.transaction() as s:
        t = await s.get(Ticket, ticket.id)
        assert (await reassign(s, t, unit="wuye", reason="转物业", actor=staff_actor(1), now=at(2026, 10, 9, 17),
                               community=c)).ok
        assert t.sign_due_at == at(2026, 10, 10, 10)  # 1 h on Friday, then Saturday 10 Oct is a working day
        assert t.due_at == ticket.due_at  # the resident's deadline stands
    plain = wall_clock_sample()
    unchanged = await _open(db, plain, at(2026, 9, 30, 17, 30))
    assert unchanged.due_at - unchanged.created_at == 168 * H and unchanged.sign_due_at == at(2026, 9, 30, 19, 30)


async def test_an_emergency_keeps_the_wall_clock(db: Database) -> None:
    c = community_with(hours={"safety": 2}, sign_hours=2)
    when = at(2026, 10, 1, 22)  # night of a holiday
    async with db.transaction() as s:
        r = await get_or_create_resident(s, tg_user_id=4242, name="居民", now=when)
        sos = await open_sos(s, resident=r, text="有人打架", location=None, photos=[], community=c, now=when)
    assert sos.ticket.emergency
    assert sos.ticket.due_at == when + 2 * H and sos.ticket.sign_due_at == when + 2 * H


async def test_report_judges_a_case_spanning_a_holiday_in_working_days(db: Database) -> None:
    c = community_with(days={"welfare": 5})
    ticket = await _open(db, c, at(2026, 9, 30, 15))
    async with db.transaction() as s:
        t = await s.get(Ticket, ticket.id)
        for to, when in ((TicketStatus.SIGNED, at(2026, 9, 30, 16)), (TicketStatus.IN_PROGRESS, at(2026, 10, 8)),
                         (TicketStatus.RESOLVED, at(2026, 10, 13, 14))):  # 13 wall days, but 5 working days
            assert (await transition(s, t, to, actor=staff_actor(1), now=when, result="已发放")).ok
    async with db.session() as s:
        figs = (await figures_for(s, parse_period("2026-09"), community=c, as_of=at(2026, 11, 1)))[ALL]
    assert (figs["on_time_rate"].numerator, figs["on_time_rate"].denominator) == (1, 1)
    assert figs["median_resolve_hours"].value == pytest.approx((at(2026, 10, 13, 14) - at(2026, 9, 30, 15)) / H)


def test_the_sample_file_signs_for_in_office_hours_so_an_evening_case_waits_for_the_morning() -> None:
    """The shipped example: 签收 within two working hours of its 08:30–17:30 day, so a case sent on a Tuesday
    evening is due for signing on Wednesday at 10:30, not at 22:00 (when nobody is there and it would climb)."""
    sample = load_community(SAMPLE_COMMUNITY_FILE)
    assert sample.uses_working_time and sample.working_time.day == (time(8, 30), time(17, 30))
    assert sample.sign_limit() == TimeLimit(2, LimitUnit.WORKING_HOURS)
    evening = at(2026, 3, 17, 20)
    assert deadline(evening, sample.sign_limit(), sample.working_time) == at(2026, 3, 18, 10, 30)
    assert deadline(evening, sample.sign_limit(), sample.working_time, emergency=True) == at(2026, 3, 17, 22)
    assert [u.phone for u in sample.units if u.phone] and all(p.startswith("0571-8800-") for p in
                                                                [u.phone for u in sample.units if u.phone])
