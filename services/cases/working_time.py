"""Working time: deadlines counted in working hours or working days (12345 practice), skipping nights, weekends and
Chinese public holidays while counting the make-up working days (调休) — from the maintained ``chinese-calendar``
package, which knows each year once the State Council has published it.

Pure functions of a start, a duration and a calendar. A working day is one span of local time (default 09:00–18:00,
``[working_time] day`` in the community file); *n* working days are *n* such spans, so a case received on Friday at
15:00 with one working day is due on Monday at 15:00, and one received on Saturday is due at the end of Monday.
Emergencies keep wall-clock limits (:func:`deadline` with ``emergency=True``).

For a year the package does not know yet, Monday–Friday are taken as working days (no holidays) and
:func:`calendar_warning` says so at start-up, before a deadline can reach into it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from functools import lru_cache

import chinese_calendar

from services import local, require_aware
from services.community.model import LimitUnit, TimeLimit, WorkingTime

log = logging.getLogger(__name__)

IsWorkday = Callable[[date], bool]
WARNING_HORIZON = timedelta(days=45)  # longer than any deadline in working days the file is likely to set
_MAX_DAYS = 3660  # no deadline walks further than ten years (a calendar with no working day at all)


@lru_cache(maxsize=64)
def known_year(year: int) -> bool:
    """Whether ``chinese-calendar`` has the holidays and make-up days of ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_workday(day: date) -> bool:
    """China's working days: holidays off, 调休 weekend days on; Monday–Friday for a year not known yet."""
    if known_year(day.year):
        return bool(chinese_calendar.is_workday(day))
    return day.weekday() < 5


def calendar(working: WorkingTime) -> IsWorkday:
    """The community's working days: the dates its file lists as holidays or 调休 working days first (a year the
    package does not know yet, once the State Council has published it), then :func:`is_workday`."""
    off, on = frozenset(working.holidays), frozenset(working.workdays)
    if not off and not on:
        return is_workday

    def workday(day: date) -> bool:
        return False if day in off else True if day in on else is_workday(day)

    return workday


def calendar_warning(now: datetime, horizon: timedelta = WARNING_HORIZON,
                     working: WorkingTime | None = None) -> str | None:
    """A start-up warning when a year a deadline may reach (from ``now`` to ``now + horizon``) is unknown, to the
    package and to the community file (``[working_time] holidays``)."""
    first, last = local(now).year, local(now + horizon).year
    listed = {d.year for d in (*working.holidays, *working.workdays)} if working is not None else set()
    missing = [y for y in range(first, last + 1) if not known_year(y) and y not in listed]
    if not missing:
        return None
    years = "、".join(map(str, missing))
    version = getattr(chinese_calendar, "__version__", "")
    return (f"chinesecalendar {version} 还不知道 {years} 年的法定节假日和调休：这些年份按周一至周五上班计算"
            "工作日时限。请升级 chinesecalendar（pip install -U chinesecalendar），或在社区配置文件 [working_time] "
            "里写上国务院公布的放假日 holidays 和调休上班日 workdays。")


def next_year_unknown(now: datetime, working: WorkingTime | None = None) -> int | None:
    """In December, next year when its holidays are known neither to ``chinese-calendar`` nor to the community file
    (no ``holidays``/``workdays`` of that year listed): deadlines in working days would soon count its holidays as
    working days. None otherwise (another month, or the year is known)."""
    today = local(now)
    if today.month != 12:
        return None
    year = today.year + 1
    listed = {d.year for d in (*working.holidays, *working.workdays)} if working is not None else set()
    return None if known_year(year) or year in listed else year


def calendar_version() -> str:
    """The installed ``chinese-calendar``'s version, for what staff are told to upgrade."""
    return str(getattr(chinese_calendar, "__version__", ""))


def _span(day: date, hours: tuple[time, time], tz: object) -> tuple[datetime, datetime]:
    start, end = hours
    return datetime.combine(day, start, tz), datetime.combine(day, end, tz)  # type: ignore[arg-type]


def add_working_time(start: datetime, duration: timedelta, *, hours: tuple[time, time] = (time(9), time(18)),
                     workday: IsWorkday = is_workday) -> datetime:
    """The moment ``duration`` of working time has passed since ``start`` (aware; the result is in local time).

    Time outside the working spans does not count: a start at night, on a weekend or holiday begins at the next
    working span's start; a deadline falling exactly at a span's end stays there (not the next morning)."""
    require_aware(start)
    if duration < timedelta(0):
        raise ValueError("duration must not be negative")
    t = local(start)
    remaining = duration
    for _ in range(_MAX_DAYS):
        day_start, day_end = _span(t.date(), hours, t.tzinfo)
        if workday(t.date()) and t < day_end:
            t = max(t, day_start)
            available = day_end - t
            if remaining <= available:
                return t + remaining
            remaining -= available
        t = _span(t.date() + timedelta(days=1), hours, t.tzinfo)[0]
    raise ValueError("no working day found within ten years")


def working_time_between(a: datetime, b: datetime, *, hours: tuple[time, time] = (time(9), time(18)),
                         workday: IsWorkday = is_workday) -> timedelta:
    """Working time from ``a`` to ``b`` (zero when ``b`` is not after ``a``); inverse of :func:`add_working_time`."""
    a, b = local(require_aware(a)), local(require_aware(b))
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        if workday(day):
            start, end = _span(day, hours, a.tzinfo)
            overlap = min(end, b) - max(start, a)
            total += max(overlap, timedelta(0))
        day += timedelta(days=1)
    return total


def day_length(working: WorkingTime) -> timedelta:
    assert working.day is not None
    start, end = working.day
    return datetime.combine(date.min, end) - datetime.combine(date.min, start)


def deadline(start: datetime, limit: TimeLimit, working: WorkingTime, *, emergency: bool = False,
             workday: IsWorkday | None = None) -> datetime:
    """When a limit given in the community file runs out for something started at ``start``.

    Wall-clock hours are added as they are; working hours and working days skip non-working time, except for an
    emergency, whose limit always runs on the wall clock (as many hours as the limit names, a day counting 24)."""
    require_aware(start)
    if limit.unit is LimitUnit.HOURS:
        return start + timedelta(hours=limit.amount)
    if emergency:
        per = timedelta(hours=24) if limit.unit is LimitUnit.WORKING_DAYS else timedelta(hours=1)
        return start + limit.amount * per
    assert working.day is not None
    amount = limit.amount * (day_length(working) if limit.unit is LimitUnit.WORKING_DAYS else timedelta(hours=1))
    return add_working_time(start, amount, hours=working.day, workday=workday or calendar(working))


__all__ = [
    "WARNING_HORIZON",
    "add_working_time",
    "calendar",
    "calendar_version",
    "calendar_warning",
    "day_length",
    "deadline",
    "is_workday",
    "known_year",
    "next_year_unknown",
    "working_time_between",
]
