"""Flood control: how many messages a resident may send in a window, and how many complaints they may confirm.

Two rules, kept apart on purpose because they live in different places:

- ``FloodWindow``: a per-process sliding window of a user's messages (``check``). It is *safe to lose* state:
  a restart forgets it, and when updates of one resident land on several worker processes each keeps its own
  window, so a flood may get through up to once per worker. Nothing that must hold depends on it; it only keeps
  one busy chat from taking the bot's time and rate budget from everybody else.
- ``confirmed_since``: the cap that must hold whatever the number of workers is counted in the database, from the
  cases a resident opened (or joined) in the window. A resident's updates are handled one at a time (one chat in
  order, in one process or across workers), so a count read just before the 确认 that would open the next case
  cannot be outrun by another 确认 of the same resident.

Time is a parameter: the window runs on the message's own time (Telegram's ``date``, the same on every worker and
however late the update is handled), the database count on the domain clock the case rows are written with.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import BigInteger, BindParameter, bindparam, func, select
from sqlmodel.ext.asyncio.session import AsyncSession

from services import require_aware
from storage.models import Channel, Resident, Ticket, TicketFollower

SPLIT_LENGTH = 4000  # a text this long was most likely split by the client (Telegram's limit is 4096)
SPLIT_GAP = 3.0  # seconds: the next piece of a split text arrives this soon after the previous one
SPLIT_PIECES = 4  # at most this many pieces ride on one count (a 16,000-character paste)
ALBUMS_KEPT = 8  # album ids remembered per user


@dataclass(frozen=True)
class FloodLimits:
    """The settings: ``messages`` per ``window`` seconds (0: off), ``drafts`` confirmed per window (0: no cap);
    staff and grid workers get ``staff_factor`` times the messages."""

    messages: int = 8
    window: float = 10.0
    drafts: int = 3
    staff_factor: int = 10

    @property
    def on(self) -> bool:
        return self.messages > 0


class Verdict(StrEnum):
    PASS = "pass"
    WARN = "warn"  # the first message dropped in this flood: say once, kindly, to slow down
    DROP = "drop"  # dropped without a word (already told)


@dataclass
class _User:
    times: deque[float] = field(default_factory=deque)  # messages let through in the window
    last_seen: float = float("-inf")  # any message, let through or not: a flood ends after a quiet window
    warned: bool = False
    staff: bool | None = None  # None: not looked up in this flood
    albums: OrderedDict[str, bool] = field(default_factory=OrderedDict)  # media_group_id -> let through
    long_at: float | None = None  # time of the last long text let through (the next piece may follow)
    pieces: int = 0


class FloodWindow:
    """Messages per user in a sliding window; one warning per flood. Per process and safe to lose (see the module).

    Memory is bounded: users quiet for a window are forgotten first, and never more than ``max_users`` are kept."""

    def __init__(self, limits: FloodLimits, max_users: int = 20_000) -> None:
        self.limits = limits
        self.max_users = max_users
        self._users: OrderedDict[int, _User] = OrderedDict()

    def __len__(self) -> int:
        return len(self._users)

    def _user(self, user_id: int, now: float) -> _User:
        st = self._users.pop(user_id, None) or _User()
        self._users[user_id] = st  # most recent last
        while self._users:
            oldest_id, oldest = next(iter(self._users.items()))
            if oldest_id == user_id:
                break
            if now - oldest.last_seen <= self.limits.window and len(self._users) <= self.max_users:
                break
            del self._users[oldest_id]
        return st

    def check(self, user_id: int, now: float, *, album: str | None = None, length: int = 0) -> Verdict:
        """Whether this message of ``user_id`` at ``now`` (seconds) goes on. An album's photos count once (they
        share the first photo's fate); the pieces of a text the client split count once too."""
        st = self._user(user_id, now)
        window = self.limits.window
        if now - st.last_seen > window:  # quiet for a whole window: a new start, a new warning if need be
            st.warned = False
            st.staff = None
        st.last_seen = max(st.last_seen, now)
        if album is not None and album in st.albums:
            return Verdict.PASS if st.albums[album] else Verdict.DROP
        if st.long_at is not None and now - st.long_at <= SPLIT_GAP and st.pieces < SPLIT_PIECES:
            st.pieces += 1  # the next piece of a long text split by the client
            st.long_at = now if length >= SPLIT_LENGTH else None
            return Verdict.PASS
        while st.times and st.times[0] <= now - window:
            st.times.popleft()
        limit = self.limits.messages * (self.limits.staff_factor if st.staff else 1)
        passed = len(st.times) < limit
        if album is not None:
            st.albums[album] = passed
            while len(st.albums) > ALBUMS_KEPT:
                st.albums.popitem(last=False)
        if passed:
            st.times.append(now)
            st.long_at, st.pieces = (now, 0) if length >= SPLIT_LENGTH else (None, 0)
            return Verdict.PASS
        if st.warned:
            return Verdict.DROP
        st.warned = True
        return Verdict.WARN

    def staff_known(self, user_id: int) -> bool | None:
        """Whether this user was found to be staff in the current flood (None: not looked up yet)."""
        st = self._users.get(user_id)
        return st.staff if st is not None else None

    def set_staff(self, user_id: int, staff: bool) -> None:
        """Remember the lookup until the flood ends; staff count against ``staff_factor`` times the limit."""
        st = self._users.get(user_id)
        if st is not None:
            st.staff = staff

    def admit(self, user_id: int, now: float, refused: Verdict, *, album: str | None = None) -> None:
        """Let a message that ``check`` refused go on after all (staff, an emergency): counted as let through,
        its album with it, and the warning it would have had still to give."""
        st = self._users.get(user_id)
        if st is None:
            return
        st.times.append(now)
        if album is not None:
            st.albums[album] = True
        if refused is Verdict.WARN:
            st.warned = False


def confirmed_count(resident_id: Any, since: datetime | BindParameter[datetime]) -> Any:
    """:func:`confirmed_since` as an SQL expression for ``resident_id`` (a column or a subquery), so a read made
    anyway (``services.people.speakers``) can carry it. ``since``: a time, or a bound parameter (``since_param``)
    for a statement built once."""
    if isinstance(since, datetime):
        since = require_aware(since)
    t, f = Ticket.__table__, TicketFollower.__table__  # type: ignore[attr-defined]
    opened = (select(func.count()).select_from(t)
              .where(t.c.resident_id == resident_id, t.c.created_at >= since, t.c.channel == Channel.TELEGRAM,
                     t.c.recorded_by.is_(None), t.c.emergency.is_(False))
              .scalar_subquery())
    joined = (select(func.count()).select_from(f)
              .where(f.c.resident_id == resident_id, f.c.linked_at >= since)
              .scalar_subquery())
    return opened + joined


def since_param(name: str = "since") -> BindParameter[datetime]:
    """The bound parameter :func:`confirmed_count` takes in a statement built once: typed as the columns it is
    compared with (aware in Python, naive UTC in the database, the same on SQLite and PostgreSQL)."""
    return bindparam(name, type_=Ticket.__table__.c.created_at.type)  # type: ignore[attr-defined]


_R = Resident.__table__  # type: ignore[attr-defined]
_CONFIRMED = select(confirmed_count(select(_R.c.id).where(_R.c.tg_user_id == bindparam("tg", type_=BigInteger))
                                    .scalar_subquery(), since_param()))  # built once: only the values change


async def confirmed_since(session: AsyncSession, tg_user_id: int, since: datetime) -> int:
    """How many complaints this Telegram user confirmed since ``since``: cases they opened in the bot (not cases
    recorded for them by staff, not emergencies) and open cases their complaint joined. One statement."""
    params = {"tg": tg_user_id, "since": require_aware(since)}
    return int((await session.exec(_CONFIRMED, params=params)).scalar_one())  # type: ignore[call-overload]


__all__ = ["FloodLimits", "FloodWindow", "Verdict", "confirmed_count", "confirmed_since", "since_param"]
