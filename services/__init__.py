"""Business rules of linli. No Telegram, no handlers: plain functions over storage sessions.

Every function that depends on the clock takes ``now`` (timezone-aware) so tests never patch time.
Results are values and reason enums, never user-facing text.
"""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

try:
    SHANGHAI = ZoneInfo("Asia/Shanghai")
except ZoneInfoNotFoundError:  # no tz database on the machine; China has had no DST since 1991
    SHANGHAI = timezone(timedelta(hours=8), "Asia/Shanghai")  # type: ignore[assignment]


def require_aware(now: datetime) -> datetime:
    """Reject naive datetimes early: a naive ``now`` would silently mean the server's zone."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware")
    return now


def local(now: datetime) -> datetime:
    """``now`` in Asia/Shanghai, the zone residents read dates in."""
    return require_aware(now).astimezone(SHANGHAI)


__all__ = ["SHANGHAI", "local", "require_aware"]
