"""Report periods in local (Asia/Shanghai) dates: a week (2026-W48), a month (2026-11), a quarter (2026Q4) or any
from–to range of days, each turned into a half-open UTC interval ``[since, until)`` and able to name the period
before it (the 环比 comparison).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from enum import StrEnum

from services import SHANGHAI, local


class PeriodKind(StrEnum):
    WEEK = "week"
    MONTH = "month"
    QUARTER = "quarter"
    RANGE = "range"


class ReportError(ValueError):
    """A report cannot be made as asked; the message is one Chinese line for the person who asked."""


class PeriodError(ReportError):
    """Input that names no period (or a period that cannot be reported yet)."""


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last`` inclusive."""

    kind: PeriodKind
    first: date
    last: date

    @property
    def since(self) -> datetime:
        return datetime.combine(self.first, time(0), SHANGHAI)

    @property
    def until(self) -> datetime:
        """Exclusive end: local midnight after ``last``."""
        return datetime.combine(self.last + timedelta(days=1), time(0), SHANGHAI)

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def label(self) -> str:
        """The stable key of the period: 2026-W48, 2026-11, 2026Q4, 2026-11-01..2026-11-30."""
        if self.kind is PeriodKind.WEEK:
            year, week, _ = self.first.isocalendar()
            return f"{year}-W{week:02d}"
        if self.kind is PeriodKind.MONTH:
            return f"{self.first:%Y-%m}"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.first.year}Q{(self.first.month - 1) // 3 + 1}"
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @property
    def title(self) -> str:
        """Chinese name of the period, for text and charts."""
        if self.kind is PeriodKind.WEEK:
            year, week, _ = self.first.isocalendar()
            return f"{year}年第{week}周（{self.first:%m.%d}–{self.last:%m.%d}）"
        if self.kind is PeriodKind.MONTH:
            return f"{self.first.year}年{self.first.month}月"
        if self.kind is PeriodKind.QUARTER:
            return f"{self.first.year}年第{(self.first.month - 1) // 3 + 1}季度"
        return f"{self.first.isoformat()} 至 {self.last.isoformat()}"

    def previous(self) -> Period:
        """The period just before: last week, last month, last quarter, or the same number of days before."""
        if self.kind is PeriodKind.WEEK:
            return week_of(self.first - timedelta(days=7))
        if self.kind is PeriodKind.MONTH:
            return month_of(self.first - timedelta(days=1))
        if self.kind is PeriodKind.QUARTER:
            return quarter_of(self.first - timedelta(days=1))
        return Period(PeriodKind.RANGE, self.first - timedelta(days=self.days), self.first - timedelta(days=1))

    def next(self) -> Period:
        if self.kind is PeriodKind.WEEK:
            return week_of(self.last + timedelta(days=1))
        if self.kind is PeriodKind.MONTH:
            return month_of(self.last + timedelta(days=1))
        if self.kind is PeriodKind.QUARTER:
            return quarter_of(self.last + timedelta(days=1))
        return Period(PeriodKind.RANGE, self.last + timedelta(days=1), self.last + timedelta(days=self.days))


def week_of(day: date) -> Period:
    monday = day - timedelta(days=day.weekday())
    return Period(PeriodKind.WEEK, monday, monday + timedelta(days=6))


def month_of(day: date) -> Period:
    first = day.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return Period(PeriodKind.MONTH, first, following - timedelta(days=1))


def quarter_of(day: date) -> Period:
    first = date(day.year, (day.month - 1) // 3 * 3 + 1, 1)
    following = (first + timedelta(days=95)).replace(day=1)
    return Period(PeriodKind.QUARTER, first, following - timedelta(days=1))


def current(kind: PeriodKind | str, now: datetime) -> Period:
    """The week, month or quarter ``now`` falls in (local date)."""
    today = local(now).date()
    return {"week": week_of, "month": month_of, "quarter": quarter_of}[PeriodKind(kind).value](today)


_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_WEEK = re.compile(r"^(\d{4})-?W(\d{1,2})$", re.IGNORECASE)
_QUARTER = re.compile(r"^(\d{4})-?Q([1-4])$", re.IGNORECASE)


def parse_period(text: str) -> Period:
    """``2026-11`` (month), ``2026-W48`` (ISO week), ``2026Q4`` (quarter); PeriodError otherwise."""
    value = text.strip()
    try:
        if m := _MONTH.match(value):
            return month_of(date(int(m[1]), int(m[2]), 1))
        if m := _WEEK.match(value):
            monday = date.fromisocalendar(int(m[1]), int(m[2]), 1)
            return week_of(monday)
        if m := _QUARTER.match(value):
            return quarter_of(date(int(m[1]), (int(m[2]) - 1) * 3 + 1, 1))
    except ValueError:
        pass
    raise PeriodError(f"无法识别的时间段 {text!r}：月份写 2026-11，周写 2026-W48，季度写 2026Q4")


def parse_day(text: str, what: str) -> date:
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise PeriodError(f"{what} 日期 {text!r} 无法识别：请写 2026-11-01 这样的日期") from None


def date_range(first: str, last: str) -> Period:
    """``--from``/``--to`` (inclusive local days)."""
    start, end = parse_day(first, "--from"), parse_day(last, "--to")
    if end < start:
        raise PeriodError(f"--to {end} 早于 --from {start}")
    return Period(PeriodKind.RANGE, start, end)


def check_not_future(period: Period, now: datetime) -> Period:
    """A period that has not begun yet has nothing to report: refuse it (a period under way is fine)."""
    today = local(now).date()
    if period.first > today:
        raise PeriodError(f"时间段 {period.label} 还没有开始（今天是 {today}）")
    return period


__all__ = [
    "Period",
    "PeriodError",
    "PeriodKind",
    "ReportError",
    "check_not_future",
    "current",
    "date_range",
    "month_of",
    "parse_day",
    "parse_period",
    "quarter_of",
    "week_of",
]
