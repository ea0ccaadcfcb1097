"""Telegram's flood limits as token buckets, so a bot that sends too fast meets a 429 here too.

Telegram documents roughly 30 messages per second overall, one message per second in a chat
(short bursts are tolerated) and 20 messages per minute in a group. The numbers are approximate
in reality; here they are exact and configurable so benchmarks can reason about them.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class Limits:
    """Rates are per second except `group_per_minute`; bursts are bucket capacities."""

    global_per_second: float = 30.0
    global_burst: int = 30
    chat_per_second: float = 1.0
    chat_burst: int = 5
    group_per_minute: float = 20.0
    group_burst: int = 20
    enabled: bool = True

    def scaled(self, factor: float) -> Limits:
        """Every rate and burst multiplied by `factor` (a benchmark raising limits tenfold uses 10)."""
        if factor <= 0:
            raise ValueError("scale factor must be positive")
        return replace(
            self,
            global_per_second=self.global_per_second * factor,
            global_burst=max(1, round(self.global_burst * factor)),
            chat_per_second=self.chat_per_second * factor,
            chat_burst=max(1, round(self.chat_burst * factor)),
            group_per_minute=self.group_per_minute * factor,
            group_burst=max(1, round(self.group_burst * factor)),
        )

    @classmethod
    def off(cls) -> Limits:
        """No flood control at all, for tests that only care about behaviour."""
        return cls(enabled=False)


@dataclass(slots=True)
class TokenBucket:
    """Classic token bucket; `tokens` refill continuously at `rate` up to `capacity`."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    def refill(self, now: float) -> None:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now

    def wait_time(self, now: float) -> float:
        """Seconds until one token is available (0 when one is available now)."""
        self.refill(now)
        return 0.0 if self.tokens >= 1 else (1 - self.tokens) / self.rate

    def take(self) -> None:
        self.tokens -= 1


class RateLimiter:
    """Decides whether one more message may be sent now; consumes tokens only when it may."""

    def __init__(self, limits: Limits, clock: Clock = time.monotonic) -> None:
        self.limits = limits
        self._clock = clock
        self._global = self._bucket(limits.global_per_second, limits.global_burst)
        self._chats: dict[int, TokenBucket] = {}
        self._groups: dict[int, TokenBucket] = {}

    def _bucket(self, rate: float, burst: int) -> TokenBucket:
        return TokenBucket(rate=rate, capacity=burst, tokens=burst, stamp=self._clock())

    def _buckets_for(self, chat_id: int, is_group: bool) -> list[TokenBucket]:
        lim = self.limits
        buckets = [self._global]
        if chat_id not in self._chats:
            self._chats[chat_id] = self._bucket(lim.chat_per_second, lim.chat_burst)
        buckets.append(self._chats[chat_id])
        if is_group:
            if chat_id not in self._groups:
                self._groups[chat_id] = self._bucket(lim.group_per_minute / 60, lim.group_burst)
            buckets.append(self._groups[chat_id])
        return buckets

    def acquire(self, chat_id: int, *, is_group: bool = False) -> int | None:
        """None if the message may go (tokens taken), else Telegram's integer `retry_after`."""
        if not self.limits.enabled:
            return None
        now = self._clock()
        buckets = self._buckets_for(chat_id, is_group)
        wait = max(bucket.wait_time(now) for bucket in buckets)
        if wait > 0:
            return max(1, math.ceil(wait))
        for bucket in buckets:
            bucket.take()
        return None
