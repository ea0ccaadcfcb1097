"""When the next 爱心义剪 / 义诊 / 公益课堂 happens and whether the service centre is open.

Pure functions of ``now`` and a schedule (dataclasses filled from the community file). Results are
aware datetimes in Asia/Shanghai. An event still counts as "next" while it is running: at 10:00 on
the 18th the haircut window returned is today's, 09:00–11:30; from 11:30 on it is next month's.
"""

import calendar
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from services import SHANGHAI, local

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")  # index = date.weekday()


@dataclass(frozen=True)
class Window:
    """A time span [start, end) in Asia/Shanghai."""

    start: datetime
    end: datetime

    def contains(self, now: datetime) -> bool:
        return self.start <= now < self.end


@dataclass(frozen=True)
class HaircutSchedule:
    """爱心义剪: one morning a month, free from ``free_age``, ``fee_yuan`` for everyone else."""

    day_of_month: int
    start: time
    end: time
    place: str
    free_age: int = 65
    fee_yuan: int = 10
    name: str = "爱心义剪"

    def fee_for(self, age: int) -> int:
        return 0 if age >= self.free_age else self.fee_yuan


@dataclass(frozen=True)
class ClinicSchedule:
    """义诊: the ``nth`` ``weekday`` of each month (e.g. 2nd Saturday; -1 = last) and/or fixed dates."""

    start: time
    end: time
    place: str
    weekday: int | None = None
    nth: tuple[int, ...] = ()
    dates: tuple[date, ...] = ()
    name: str = "义诊"
    note: str = ""


@dataclass(frozen=True)
class ClassSession:
    weekday: int
    start: time
    end: time
    subject: str


@dataclass(frozen=True)
class ClassSchedule:
    """公益课堂: weekly sessions (usually weekends), each with its subject."""

    place: str
    sessions: tuple[ClassSession, ...]
    name: str = "公益课堂"


@dataclass(frozen=True)
class ClassOccurrence:
    window: Window
    subject: str
    place: str


@dataclass(frozen=True)
class CentreHours:
    """Service-centre opening hours; ``None`` means closed on those days."""

    weekday: tuple[time, time] | None
    weekend: tuple[time, time] | None
    windows: tuple[str, ...] = ()
    closed_dates: tuple[date, ...] = ()
    address: str = ""
    phone: str = ""

    def hours_on(self, day: date) -> tuple[time, time] | None:
        if day in self.closed_dates:
            return None
        return self.weekend if day.weekday() >= 5 else self.weekday


def _window(day: date, start: time, end: time) -> Window:
    return Window(datetime.combine(day, start, SHANGHAI), datetime.combine(day, end, SHANGHAI))


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


def next_haircut(now: datetime, schedule: HaircutSchedule) -> Window:
    """This month's session unless it has already ended, otherwise next month's (Dec → Jan)."""
    here = local(now)
    for months_ahead in range(13):
        year, month = _add_months(here.year, here.month, months_ahead)
        if schedule.day_of_month > calendar.monthrange(year, month)[1]:
            continue  # a day_of_month past 28 is skipped in short months
        window = _window(date(year, month, schedule.day_of_month), schedule.start, schedule.end)
        if here < window.end:
            return window
    raise ValueError(f"day_of_month {schedule.day_of_month} never occurs")


def nth_weekday(year: int, month: int, weekday: int, nth: int) -> date | None:
    """The ``nth`` given weekday of a month (1-based; -1 = last), or None if the month has none."""
    last = calendar.monthrange(year, month)[1]
    days = [date(year, month, d) for d in range(1, last + 1) if date(year, month, d).weekday() == weekday]
    if nth == -1:
        return days[-1]
    return days[nth - 1] if 1 <= nth <= len(days) else None


def next_clinic(now: datetime, schedule: ClinicSchedule) -> Window | None:
    """Earliest clinic window not yet over, from the monthly rule and the fixed dates; None if none."""
    here = local(now)
    candidates = [d for d in schedule.dates if d >= here.date()]
    if schedule.weekday is not None:
        for months_ahead in range(3):
            year, month = _add_months(here.year, here.month, months_ahead)
            for n in schedule.nth:
                day = nth_weekday(year, month, schedule.weekday, n)
                if day is not None and day >= here.date():
                    candidates.append(day)
    windows = [_window(d, schedule.start, schedule.end) for d in sorted(set(candidates))]
    return next((w for w in windows if here < w.end), None)


def next_class(now: datetime, schedule: ClassSchedule) -> ClassOccurrence | None:
    """The next (or running) class session within the coming week; None if there are no sessions."""
    here = local(now)
    found: list[ClassOccurrence] = []
    for days_ahead in range(8):
        day = here.date() + timedelta(days=days_ahead)
        for session in schedule.sessions:
            if session.weekday == day.weekday():
                window = _window(day, session.start, session.end)
                if here < window.end:
                    found.append(ClassOccurrence(window, session.subject, schedule.place))
    return min(found, key=lambda occ: occ.window.start, default=None)


def is_open(now: datetime, centre: CentreHours) -> bool:
    """Whether the service centre is open at ``now`` (closing time itself counts as closed)."""
    here = local(now)
    hours = centre.hours_on(here.date())
    return hours is not None and hours[0] <= here.time().replace(tzinfo=None) < hours[1]


def next_opening(now: datetime, centre: CentreHours) -> Window | None:
    """The current opening window if open, else the next one within two weeks."""
    here = local(now)
    for days_ahead in range(15):
        day = here.date() + timedelta(days=days_ahead)
        hours = centre.hours_on(day)
        if hours is not None:
            window = _window(day, *hours)
            if here < window.end:
                return window
    return None


def weekday_index(name: str) -> int:
    """``"sat"``/``"saturday"``/``"周六"``/``"星期六"`` → 5. Raises ValueError on anything else."""
    key = name.strip().lower()
    if key[:3] in WEEKDAYS and (len(key) == 3 or key in _LONG_NAMES):
        return WEEKDAYS.index(key[:3])
    for prefix in ("星期", "周", "礼拜"):
        if key.startswith(prefix) and key[len(prefix) :] in _CN_DAYS:
            return _CN_DAYS[key[len(prefix) :]]
    raise ValueError(f"unknown weekday {name!r}")


_LONG_NAMES = frozenset({"monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"})
_CN_DAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}

__all__ = [
    "CentreHours",
    "ClassOccurrence",
    "ClassSchedule",
    "ClassSession",
    "ClinicSchedule",
    "HaircutSchedule",
    "Window",
    "is_open",
    "next_class",
    "next_clinic",
    "next_haircut",
    "next_opening",
    "nth_weekday",
    "weekday_index",
]
