"""Schedules: next haircut / clinic / class and centre opening, especially at the boundaries."""

from datetime import UTC, date, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services import SHANGHAI
from services.community.schedule import (
    CentreHours,
    ClassSchedule,
    ClassSession,
    ClinicSchedule,
    HaircutSchedule,
    is_open,
    next_class,
    next_clinic,
    next_haircut,
    next_opening,
    nth_weekday,
    weekday_index,
)

HAIRCUT = HaircutSchedule(day_of_month=18, start=time(9, 0), end=time(11, 30), place="活动室")
CLINIC = ClinicSchedule(start=time(8, 30), end=time(11, 0), place="卫生站", weekday=5, nth=(2,))
CLASSES = ClassSchedule(
    place="三楼教室",
    sessions=(
        ClassSession(5, time(9, 30), time(11, 0), "智能手机使用"),
        ClassSession(5, time(14, 0), time(15, 30), "少儿书法"),
        ClassSession(6, time(9, 30), time(11, 0), "太极拳"),
    ),
)
CENTRE = CentreHours(weekday=(time(8, 30), time(17, 30)), weekend=(time(9, 0), time(12, 0)))


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SHANGHAI)


# --- haircut ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected_day"),
    [
        (sh(2026, 11, 1, 8), date(2026, 11, 18)),
        (sh(2026, 11, 17, 23, 59), date(2026, 11, 18)),
        (sh(2026, 11, 18, 0, 0), date(2026, 11, 18)),
        (sh(2026, 11, 18, 8, 59), date(2026, 11, 18)),
        (sh(2026, 11, 18, 10, 0), date(2026, 11, 18)),  # running now: still this one
        (sh(2026, 11, 18, 11, 29), date(2026, 11, 18)),
        (sh(2026, 11, 18, 11, 30), date(2026, 12, 18)),  # ended exactly now
        (sh(2026, 11, 18, 11, 31), date(2026, 12, 18)),
        (sh(2026, 11, 19, 9), date(2026, 12, 18)),
        (sh(2027, 1, 31, 12), date(2027, 2, 18)),  # the 31st
        (sh(2026, 10, 31, 23, 59), date(2026, 11, 18)),
        (sh(2026, 12, 18, 11, 30), date(2027, 1, 18)),  # December → January
        (sh(2026, 12, 31, 23, 59), date(2027, 1, 18)),
        (sh(2026, 12, 5), date(2026, 12, 18)),
    ],
)
def test_next_haircut(now: datetime, expected_day: date) -> None:
    window = next_haircut(now, HAIRCUT)
    assert window.start == datetime.combine(expected_day, time(9, 0), SHANGHAI)
    assert window.end == datetime.combine(expected_day, time(11, 30), SHANGHAI)


def test_next_haircut_reads_utc_now_in_shanghai() -> None:
    assert next_haircut(datetime(2026, 11, 18, 3, 29, tzinfo=UTC), HAIRCUT).start.date() == date(2026, 11, 18)
    assert next_haircut(datetime(2026, 11, 18, 3, 30, tzinfo=UTC), HAIRCUT).start.date() == date(2026, 12, 18)
    # 17 Nov 20:00 UTC is already the 18th, 04:00 in Shanghai
    assert next_haircut(datetime(2026, 11, 17, 20, 0, tzinfo=UTC), HAIRCUT).start.date() == date(2026, 11, 18)


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        next_haircut(datetime(2026, 11, 18, 10), HAIRCUT)


def test_window_contains_and_fee() -> None:
    window = next_haircut(sh(2026, 11, 18, 10), HAIRCUT)
    assert window.contains(sh(2026, 11, 18, 10))
    assert not window.contains(sh(2026, 11, 18, 11, 30))
    assert HAIRCUT.fee_for(65) == 0
    assert HAIRCUT.fee_for(64) == 10


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 12, 31), timezones=st.just(UTC)))
def test_next_haircut_properties(now: datetime) -> None:
    window = next_haircut(now, HAIRCUT)
    assert window.start.day == 18
    assert window.end > now
    assert window.end - now <= timedelta(days=32)
    previous = window.start - timedelta(days=28)
    assert next_haircut(previous.replace(day=18, hour=11, minute=30), HAIRCUT) == window


# --- clinic -----------------------------------------------------------------------------------------


def test_nth_weekday() -> None:
    assert nth_weekday(2026, 11, 5, 2) == date(2026, 11, 14)  # 2nd Saturday of Nov 2026
    assert nth_weekday(2026, 11, 5, -1) == date(2026, 11, 28)
    assert nth_weekday(2026, 11, 0, 5) == date(2026, 11, 30)  # five Mondays
    assert nth_weekday(2026, 11, 1, 5) is None  # only four Tuesdays


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (sh(2026, 11, 1), date(2026, 11, 14)),
        (sh(2026, 11, 14, 10, 59), date(2026, 11, 14)),
        (sh(2026, 11, 14, 11, 0), date(2026, 12, 12)),
        (sh(2026, 12, 20), date(2027, 1, 9)),  # over the year end
    ],
)
def test_next_clinic_second_saturday(now: datetime, expected: date) -> None:
    window = next_clinic(now, CLINIC)
    assert window is not None
    assert window.start == datetime.combine(expected, time(8, 30), SHANGHAI)


def test_next_clinic_fixed_dates() -> None:
    clinic = ClinicSchedule(
        start=time(9, 0), end=time(11, 0), place="p", dates=(date(2026, 12, 5), date(2027, 3, 6))
    )
    assert next_clinic(sh(2026, 11, 1), clinic).start.date() == date(2026, 12, 5)
    assert next_clinic(sh(2026, 12, 5, 11), clinic).start.date() == date(2027, 3, 6)
    assert next_clinic(sh(2027, 3, 7), clinic) is None
    both = ClinicSchedule(
        start=time(8, 30), end=time(11, 0), place="p", weekday=5, nth=(2,), dates=(date(2026, 11, 3),)
    )
    assert next_clinic(sh(2026, 11, 1), both).start.date() == date(2026, 11, 3)


# --- classes ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "start", "subject"),
    [
        (sh(2026, 11, 21, 9, 0), sh(2026, 11, 21, 9, 30), "智能手机使用"),  # Saturday morning
        (sh(2026, 11, 21, 10, 59), sh(2026, 11, 21, 9, 30), "智能手机使用"),  # running
        (sh(2026, 11, 21, 11, 0), sh(2026, 11, 21, 14, 0), "少儿书法"),
        (sh(2026, 11, 22, 8, 0), sh(2026, 11, 22, 9, 30), "太极拳"),  # Sunday
        (sh(2026, 11, 22, 11, 0), sh(2026, 11, 28, 9, 30), "智能手机使用"),  # next weekend
        (sh(2026, 11, 25, 12, 0), sh(2026, 11, 28, 9, 30), "智能手机使用"),  # Wednesday
    ],
)
def test_next_class(now: datetime, start: datetime, subject: str) -> None:
    occurrence = next_class(now, CLASSES)
    assert occurrence is not None
    assert (occurrence.window.start, occurrence.subject, occurrence.place) == (start, subject, "三楼教室")


def test_next_class_without_sessions() -> None:
    assert next_class(sh(2026, 11, 21), ClassSchedule(place="p", sessions=())) is None


# --- centre -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "open_"),
    [
        (sh(2026, 11, 23, 8, 29), False),  # Monday
        (sh(2026, 11, 23, 8, 30), True),
        (sh(2026, 11, 23, 17, 29), True),
        (sh(2026, 11, 23, 17, 30), False),
        (sh(2026, 11, 21, 8, 59), False),  # Saturday
        (sh(2026, 11, 21, 9, 0), True),
        (sh(2026, 11, 22, 11, 59), True),  # Sunday
        (sh(2026, 11, 22, 12, 0), False),
    ],
)
def test_is_open(now: datetime, open_: bool) -> None:
    assert is_open(now, CENTRE) is open_


def test_closed_dates_and_closed_weekends() -> None:
    holiday = CentreHours(
        weekday=(time(8, 30), time(17, 30)), weekend=None, closed_dates=(date(2026, 11, 23),)
    )
    assert not is_open(sh(2026, 11, 23, 10), holiday)
    assert not is_open(sh(2026, 11, 22, 10), holiday)
    assert next_opening(sh(2026, 11, 21, 10), holiday).start == sh(2026, 11, 24, 8, 30)
    assert next_opening(sh(2026, 11, 24, 10), holiday).start == sh(2026, 11, 24, 8, 30)


def test_weekday_names() -> None:
    assert weekday_index("sat") == 5
    assert weekday_index("Saturday") == 5
    assert weekday_index("周六") == 5
    assert weekday_index("星期日") == 6
    assert weekday_index("周天") == 6
    with pytest.raises(ValueError):
        weekday_index("someday")
