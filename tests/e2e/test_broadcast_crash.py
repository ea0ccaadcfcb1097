"""A bot process killed (SIGKILL) a third of the way through a broadcast resumes it after a restart.

The bot runs as deployed (``bot run`` with settings from the environment) as a child process against the
in-process emulator. 2,000 residents and a confirmed community notice are written to its SQLite file by
the test through ``services.notices.broadcast`` before the child starts; the child's notice job picks the notice up.

Three constants of the shipped sender would make this a minutes-long test, so the child is started through
a small bootstrap (``BOOT``: patch, then ``runpy`` the ``bot`` package exactly as ``python -m bot run``):

- ``notice_sender.SEND_EVERY`` 15 s → 0.5 s: the job's *first* run is one interval after start
  (``run_repeating(first=SEND_EVERY)``), so every start would otherwise wait 15 s before sending;
- ``services.notices.broadcast.LEASE`` 2 min → 3 s: rows claimed by the killed process are only claimed again once
  their lease runs out (a batch of 50 at 300/s takes ~0.2 s, well inside 3 s);
- the sender's pace ×10 (``Pacer(per_second=PACE, chat_interval=0.1)``, PACE = 300), matching the
  emulator's limits raised tenfold (``Limits().scaled(10)``): at the shipped 30/s, 2,000 sends alone take
  67 s.

Duplicate bound: ``notice_sender.sender_tasks(PACE)`` = 4. ``run_once`` holds a per-application lock (one
run per process) and at this pace runs 4 sender tasks; each has at most one row in flight: it sends, waits
until that row's "sent" mark is committed (group commit with the other tasks' marks), and only then takes
its next row. So at the kill at most one accepted send per task can lack its committed mark; every other
claimed row is re-sent only if it never reached the emulator. One kill, 4 tasks: at most 4 recipients get a
second copy (at Telegram's real 30/s the sender runs one task, and the bound is 1).
"""

from __future__ import annotations

import asyncio
import signal
import time
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from linli_e2e import STAFF_CHAT_ID, Spawn, bot_processes
from sqlalchemy import func
from sqlmodel import select

from bot import sender as notice_sender
from bot.emulator import BotApiEmulator, Limits
from services.notices import broadcast as notices
from storage.db import Database
from storage.models import AudienceKind, DeliveryStatus, Notice, NoticeDelivery, NoticeKind, NoticeStatus, Resident

ADMIN = 9001
RESIDENTS = list(range(600_001, 602_001))  # 2,000
PACE = 300.0  # the child sender's msg/s (BOOT)
IN_FLIGHT_BOUND = notice_sender.sender_tasks(PACE)  # one row in flight per sender task, one kill (module doc)
DELIVERY_TIMEOUT = 40.0

BOOT = f"""
import functools, runpy, sys
from datetime import timedelta
from bot import sender as notice_sender
from services.notices import broadcast as notices
notice_sender.SEND_EVERY = timedelta(seconds=0.5)
notices.LEASE = timedelta(seconds=3)
notice_sender.Pacer = functools.partial(notice_sender.Pacer, per_second={PACE}, chat_interval=0.1)
sys.argv = ["bot", "run"]
runpy.run_module("bot", run_name="__main__", alter_sys=True)
"""


@pytest.fixture
async def spawn(emulator: BotApiEmulator, tmp_path: Path) -> AsyncIterator[Spawn]:
    async with bot_processes(emulator, tmp_path, ["-c", BOOT], LINLI_ADMINS=str(ADMIN)) as start:
        yield start


async def until(check: Callable[[], bool], limit: float, what: str) -> None:
    deadline = time.monotonic() + limit
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {limit:.0f}s waiting for {what}")
        await asyncio.sleep(0.005)


async def prepare(db_file: Path) -> int:
    """Residents and a confirmed community notice to all of them, written through services."""
    db = Database(f"sqlite+aiosqlite:///{db_file}")
    now = datetime.now(UTC)
    try:
        await db.migrate_async()
        async with db.transaction() as s:
            conn = await s.connection()
            await conn.execute(Resident.__table__.insert(), [  # type: ignore[attr-defined]
                {"tg_user_id": uid, "name": f"居民{uid}", "created_at": now, "updated_at": now}
                for uid in RESIDENTS])
        async with db.transaction() as s:
            notice = await notices.create_draft(s, author_tg_id=ADMIN, kind=NoticeKind.GENERAL,
                                                text="明天上午小区消防演练，请勿惊慌", now=now,
                                                audience_kind=AudienceKind.COMMUNITY)
            assert notice.id is not None
            assert await notices.confirm(s, notice.id, now) == len(RESIDENTS)
            return notice.id
    finally:
        await db.dispose()


async def final_state(db_file: Path, notice_id: int) -> tuple[NoticeStatus, dict[DeliveryStatus, int]]:
    db = Database(f"sqlite+aiosqlite:///{db_file}")
    try:
        async with db.session() as s:
            notice = await s.get(Notice, notice_id)
            assert notice is not None
            counts = dict((await s.exec(select(NoticeDelivery.status, func.count())
                                        .group_by(NoticeDelivery.status))).all())
            return notice.status, counts
    finally:
        await db.dispose()


async def test_a_broadcast_killed_midway_resumes_within_the_in_flight_bound(
    emulator: BotApiEmulator, tmp_path: Path, spawn: Spawn
) -> None:
    emulator.set_limits(Limits().scaled(10))
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    emulator.user(ADMIN, "社区书记")
    for uid in RESIDENTS:
        emulator.user(uid, f"居民{uid}")
    db_file = tmp_path / "linli.db"
    notice_id = await prepare(db_file)
    delivered = emulator.stats.delivered
    third = len(RESIDENTS) // 3

    first = await spawn("first")
    await until(lambda: delivered.total() >= third, DELIVERY_TIMEOUT, "a third of the deliveries")
    first.send_signal(signal.SIGKILL)
    assert await first.wait() == -signal.SIGKILL
    at_kill = delivered.total()
    assert at_kill < len(RESIDENTS), "the broadcast finished before the kill"

    await spawn("second")
    await until(lambda: all(delivered[uid] for uid in RESIDENTS), DELIVERY_TIMEOUT, "every resident's copy")
    status: NoticeStatus | None = None

    async def done() -> None:
        nonlocal status
        deadline = time.monotonic() + 10
        while (status := (await final_state(db_file, notice_id))[0]) is not NoticeStatus.DONE:
            assert time.monotonic() < deadline, f"notice still {status}"
            await asyncio.sleep(0.1)

    await done()
    _, counts = await final_state(db_file, notice_id)
    copies = [delivered[uid] for uid in RESIDENTS]
    duplicates = sum(c - 1 for c in copies if c > 1)
    print(f"killed at {at_kill}/{len(RESIDENTS)} delivered; duplicates {duplicates} (bound {IN_FLIGHT_BOUND}); "
          f"429s {emulator.stats.too_many_requests}")
    assert min(copies) >= 1
    assert duplicates <= IN_FLIGHT_BOUND, (duplicates, at_kill)
    assert counts == {DeliveryStatus.SENT: len(RESIDENTS)}
    assert emulator.stats.forbidden_total == 0
