"""Times typed by staff ("2026-11-25 14:00", "11-25 8:00", "20:00"), read as Shanghai local time.

One parser for every place a person types a time (a scheduled notice, a mediation meeting), so they all
accept the same forms: full date, month-day (this year, or next year once it has passed), or a bare time
(today, or tomorrow once it has passed). Full-width digits and colons are accepted as typed on phones.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from services import SHANGHAI, local

_FULL_WIDTH = str.maketrans("０１２３４５６７８９：－／", "0123456789:-/")
_WHEN = re.compile(
    r"^(?:(?:(?P<y>\d{4})[-/年])?(?P<m>\d{1,2})[-/月](?P<d>\d{1,2})日?\s*)?(?P<H>\d{1,2})[:点](?P<M>\d{2})?分?\s*"
)


def parse_prefix(text: str, now: datetime) -> tuple[datetime | None, str]:
    """(the time at the start of ``text``, the rest); (None, text) when it does not start with a valid time.

    A form without a year or date means the next such moment after ``now``; a full date is taken as given
    (the caller decides whether the past is allowed)."""
    normal = text.strip().translate(_FULL_WIDTH)
    m = _WHEN.match(normal)
    if m is None or (m["M"] is None and "点" not in m.group(0)):
        return None, text.strip()
    today = local(now)
    try:
        hour, minute = int(m["H"]), int(m["M"] or 0)
        if m["m"] is None:
            at = today.replace(hour=hour, minute=minute, second=0, microsecond=0)
            if at <= today:
                at += timedelta(days=1)
        elif m["y"] is None:
            at = datetime(today.year, int(m["m"]), int(m["d"]), hour, minute, tzinfo=SHANGHAI)
            if at <= today:
                at = at.replace(year=today.year + 1)
        else:
            at = datetime(int(m["y"]), int(m["m"]), int(m["d"]), hour, minute, tzinfo=SHANGHAI)
    except ValueError:  # 2 月 30 日, 25:00
        return None, text.strip()
    return at, normal[m.end():].strip()


def parse(text: str, now: datetime) -> datetime | None:
    """The time ``text`` names, nothing else; None when it is not exactly a time."""
    at, rest = parse_prefix(text, now)
    return at if at is not None and not rest else None


__all__ = ["parse", "parse_prefix"]
