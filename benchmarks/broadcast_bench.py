"""Broadcast benchmark: one confirmed notice to N residents, delivered by the real sender through the emulator.

`python benchmarks/broadcast_bench.py [--sizes 3000 20000] [--json]`

For each size N, in one process and one event loop: a fresh SQLite file (migrated as the bot does), N
residents inserted directly (one executemany per 5,000 rows), a community notice created and confirmed with
``services.notices.broadcast`` (one delivery row per resident), and ``bot.sender.run_once(app)`` on an
application wired by ``bot.app.build_application`` (not polling: the sender needs only its Deps and token).
The emulator knows every resident as a user.

Limits in force:
- N ≤ 3,000 (and any size below 20,000): Telegram's (emulator ``Limits()``: 30 msg/s overall, burst 30),
  the sender at its shipped pace (``Pacer()``: 30/s overall, 1 s per chat);
- N ≥ 20,000: the emulator's limits raised tenfold (``Limits().scaled(10)``: 300/s) and the sender's
  pace raised tenfold too, through its own knob: ``app.bot_data[notice_sender.PACER_KEY] =
  Pacer(per_second=300, chat_interval=0.1)`` (the same knob the e2e tests use; no monkeypatching).

The sender runs ``notice_sender.sender_tasks(pace)`` sender tasks (1 at 30/s, 4 at 300/s), which is also
the most recipients a crash mid-broadcast could give a second copy; both are printed.

Measured: messages/s achieved (sent / wall time of ``run_once``) against the limit in force (goal ≥ 95 %),
429s and 403s the emulator answered, time to completion, the process's peak RSS (``ru_maxrss``; it is a
high-water mark for the whole process, so a later size includes the earlier ones), and whether every
recipient got exactly one copy (the emulator's per-chat delivery counts).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlmodel import func, select

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))

from bot import sender as notice_sender  # noqa: E402
from bot.app import build_application  # noqa: E402
from bot.emulator import BotApiEmulator, Limits  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers.deps import KEY, Deps  # noqa: E402
from services.notices import broadcast as notices  # noqa: E402
from storage.models import AudienceKind, DeliveryStatus, NoticeDelivery, NoticeKind, Resident  # noqa: E402

TOKEN = "123456:BENCH-TOKEN"
AUTHOR = 9001
FIRST_USER = 1_000_000
TENFOLD_FROM = 20_000  # sizes from here up run with limits and pace raised tenfold
CHUNK = 5_000


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


async def prepare(d: Deps, users: list[int], now: datetime) -> int:
    """Residents inserted directly, then a community notice created and confirmed; returns its id."""
    await d.db.migrate_async()
    table: Any = Resident.__table__
    async with d.db.transaction() as s:
        for start in range(0, len(users), CHUNK):
            rows = [{"tg_user_id": uid, "name": f"居民{uid}", "created_at": now, "updated_at": now}
                    for uid in users[start:start + CHUNK]]
            conn = await s.connection()
            await conn.execute(table.insert(), rows)
    async with d.db.transaction() as s:
        notice = await notices.create_draft(s, author_tg_id=AUTHOR, kind=NoticeKind.GENERAL,
                                            text="本周六上午9点小区广场义诊，请相互转告", now=now,
                                            audience_kind=AudienceKind.COMMUNITY)
        assert notice.id is not None
        count = await notices.confirm(s, notice.id, now)
    assert count == len(users), (count, len(users))
    return notice.id


async def run_size(n: int) -> dict[str, Any]:
    tenfold = n >= TENFOLD_FROM
    limits = Limits().scaled(10) if tenfold else Limits()
    pacer = (notice_sender.Pacer(per_second=notice_sender.GLOBAL_PER_SECOND * 10,
                                 chat_interval=notice_sender.CHAT_INTERVAL / 10)
             if tenfold else notice_sender.Pacer())
    users = list(range(FIRST_USER, FIRST_USER + n))
    emu = BotApiEmulator(limits=limits)
    await emu.start()
    with tempfile.TemporaryDirectory(prefix="linli-broadcast-") as tmp:
        settings = load_settings(
            _env_file=None, bot_token=TOKEN, bot_api_url=emu.base_url, bot_file_url=emu.base_file_url,
            database_url=f"sqlite+aiosqlite:///{Path(tmp) / 'linli.db'}", staff_chat_id=None,
            community_file=None, taxonomy_file=None, intents_floor=None, intents_margin=None,
            callback_secret=None,
        )
        app = build_application(settings)
        d: Deps = app.bot_data[KEY]
        try:
            for uid in users:
                emu.user(uid, f"居民{uid}")
            t_setup = time.perf_counter()
            notice_id = await prepare(d, users, datetime.now(UTC))
            setup_s = time.perf_counter() - t_setup
            app.bot_data[notice_sender.PACER_KEY] = pacer
            started = time.perf_counter()
            sent = await notice_sender.run_once(app)
            elapsed = time.perf_counter() - started
            async with d.db.session() as s:
                p = await notices.progress(s, notice_id)
                pending = (await s.exec(select(func.count()).select_from(NoticeDelivery).where(
                    NoticeDelivery.status == DeliveryStatus.PENDING))).one()
        finally:
            await notice_sender.close(app)
            await d.db.dispose()
            await emu.stop()
    delivered = emu.stats.delivered
    copies = [delivered[uid] for uid in users]
    limit = limits.global_per_second
    rate = sent / elapsed if elapsed else 0.0
    assert p is not None
    return {
        "residents": n,
        "limits": "Limits().scaled(10)" if tenfold else "Limits()",
        "limit_per_s": limit,
        "sender_pace_per_s": pacer.per_second,
        "sender_tasks": notice_sender.sender_tasks(pacer.per_second),
        "sent": sent,
        "msgs_per_s": round(rate, 2),
        "pct_of_limit": round(100 * rate / limit, 1),
        "goal_95_met": rate >= 0.95 * limit,
        "http_429": emu.stats.too_many_requests,
        "http_403": emu.stats.forbidden_total,
        "seconds": round(elapsed, 2),
        "setup_seconds": round(setup_s, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "exactly_one_each": all(c == 1 for c in copies),
        "missing": sum(1 for c in copies if c == 0),
        "duplicates": sum(c - 1 for c in copies if c > 1),
        "db_sent": p.sent, "db_pending": int(pending), "db_failed": p.failed, "status": str(p.status),
    }


def show(r: dict[str, Any]) -> None:
    print(f"N={r['residents']:>6}  {r['limits']:<20} limit {r['limit_per_s']:.0f}/s, sender pace "
          f"{r['sender_pace_per_s']:.0f}/s, {r['sender_tasks']} sender task(s) (crash duplicate bound "
          f"{r['sender_tasks']})")
    print(f"  achieved {r['msgs_per_s']:.1f} msg/s = {r['pct_of_limit']:.1f} % of limit "
          f"(goal ≥ 95 %: {'met' if r['goal_95_met'] else 'NOT met'})")
    print(f"  429s {r['http_429']}, 403s {r['http_403']}, completed in {r['seconds']:.1f} s "
          f"(setup {r['setup_seconds']:.1f} s), peak RSS {r['peak_rss_mb']:.1f} MB")
    print(f"  exactly one copy each: {r['exactly_one_each']} (missing {r['missing']}, duplicates "
          f"{r['duplicates']}); db: sent {r['db_sent']}, pending {r['db_pending']}, failed {r['db_failed']}, "
          f"notice {r['status']}")


async def main_async(sizes: list[int], as_json: bool) -> int:
    results = []
    for n in sizes:
        r = await run_size(n)
        results.append(r)
        if not as_json:
            show(r)
    if as_json:
        print(json.dumps({"python": platform.python_version(), "results": results}, ensure_ascii=False, indent=2))
    return 0 if all(r["exactly_one_each"] for r in results) else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[3000, 20000])
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    return asyncio.run(main_async(args.sizes, args.json))


if __name__ == "__main__":
    sys.exit(main())
