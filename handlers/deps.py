"""What every handler needs, built once by `bot.app` and kept in `application.bot_data`.

Handlers read it through `deps(context)`; time comes from `clock`, so tests can run the real bot on a
fixed date without patching anything.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from telegram.ext import ContextTypes

from intents import Engine
from services.community.model import Community
from services.flood import FloodLimits
from storage.db import Database

KEY = "linli"


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class Deps:
    db: Database
    community: Community
    engine: Engine
    callback_secret: bytes
    staff_chat_id: int | None = None
    admins: frozenset[int] = frozenset()  # LINLI_ADMINS: admins before anyone is granted the role
    clock: Callable[[], datetime] = field(default=utc_now)
    wake_sender: Callable[[], None] = field(default=lambda: None)  # bot wiring: send what was just owed
    followup_delay: timedelta = timedelta(hours=1)  # 办结 → the rating request (settings: FOLLOWUP_DELAY_MINUTES)
    rating_window: timedelta = timedelta(days=3)  # unanswered → 未评价 (settings: RATING_WINDOW_HOURS)
    correction_window: timedelta = timedelta(minutes=30)  # filed → a place corrected (CORRECTION_WINDOW_MINUTES)
    answer_window: timedelta = timedelta(minutes=10)  # 需补充 answered → more words to the case (ANSWER_WINDOW_MINUTES)
    flood: FloodLimits = field(default_factory=FloodLimits)  # settings: FLOOD_MESSAGES, …_WINDOW_SECONDS, …_DRAFTS

    def now(self) -> datetime:
        return self.clock()


def deps(context: ContextTypes.DEFAULT_TYPE) -> Deps:
    return context.application.bot_data[KEY]
