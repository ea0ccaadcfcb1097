"""Rate limits for the public form: how many posts one address (or one grid's page) may make in a window.

Kept in memory (one process serves the web), as a sliding window of timestamps per key; the time is a
parameter, so tests move it instead of sleeping. A refusal says when the oldest post leaves the window
(``Retry-After``). Keys are forgotten once their window is empty, so memory follows recent traffic only.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from services import require_aware


@dataclass(frozen=True)
class Rule:
    count: int
    window: timedelta


@dataclass
class Limiter:
    """At most ``rule.count`` hits per key within ``rule.window``."""

    rule: Rule
    _hits: dict[str, deque[datetime]] = field(default_factory=dict)
    _swept: datetime | None = None

    def retry_after(self, key: str, now: datetime) -> float | None:
        """None when a hit is allowed now, else the seconds to wait; a look, nothing recorded."""
        hits = self._fresh(key, require_aware(now))
        if len(hits) < self.rule.count:
            return None
        return max(1.0, (hits[0] + self.rule.window - now).total_seconds())

    def hit(self, key: str, now: datetime) -> None:
        self._hits.setdefault(key, deque()).append(require_aware(now))
        self._sweep(now)

    def unhit(self, key: str) -> None:
        """Take back the newest hit of ``key`` (a post that turned out to cost nothing)."""
        hits = self._hits.get(key)
        if hits:
            hits.pop()

    def _fresh(self, key: str, now: datetime) -> deque[datetime]:
        hits = self._hits.get(key)
        if hits is None:
            return deque()
        while hits and hits[0] <= now - self.rule.window:
            hits.popleft()
        if not hits:
            del self._hits[key]
        return hits

    def _sweep(self, now: datetime) -> None:
        """Forget keys whose window is empty, at most once a window."""
        if self._swept is not None and now - self._swept < self.rule.window:
            return
        self._swept = now
        for key in list(self._hits):
            self._fresh(key, now)


@dataclass
class Limits:
    """Several rules checked together: a post is let through only if every rule allows it, and then counts
    against each (a refused post counts against none)."""

    limiters: list[tuple[str, Limiter]]

    @classmethod
    def of(cls, **rules: Rule | None) -> Limits:
        return cls([(name, Limiter(rule)) for name, rule in rules.items() if rule is not None])

    def check(self, keys: dict[str, str], now: datetime) -> float | None:
        """None if allowed (and counted), else the seconds until the strictest refusal lifts."""
        waits = [w for name, lim in self.limiters if name in keys
                 and (w := lim.retry_after(keys[name], now)) is not None]
        if waits:
            return max(waits)
        for name, lim in self.limiters:
            if name in keys:
                lim.hit(keys[name], now)
        return None

    def refund(self, keys: dict[str, str]) -> None:
        """Take back a post ``check`` let through and counted: one refused for its own mistakes (a short text, a
        phone number one digit short) costs nothing, and a resident correcting them must not be locked out."""
        for name, lim in self.limiters:
            if name in keys:
                lim.unhit(keys[name])


__all__ = ["Limiter", "Limits", "Rule"]
