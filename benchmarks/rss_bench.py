"""Memory of the running bot: `linli run` (a child process, as deployed) over a database of 100,000 tickets.

`python benchmarks/rss_bench.py [--tickets 100000] [--residents 50] [--messages 8] [--json]`

The database is built as ``dup_bench.py`` builds it (the real schema, ``--tickets`` tickets over three years, the
last 72 hours' 600 of them at the sample community's buildings). The Bot API emulator runs in this process; the bot
is ``python -m bot run`` in a child process (web side on a free port), exactly as a deployment starts it. Once it
polls, N residents talk to it at once (a complaint, 确认提交, 我的诉求 and service questions, ``--messages`` updates
each), and the child's resident set size is read from ``/proc/<pid>/status``: after start (``VmRSS``), after the
residents (``VmRSS``) and its peak over the whole run (``VmHWM``). The same run over an empty database is the
baseline: what tickets add to the bot's memory.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import dup_bench  # noqa: E402

from bot.emulator import BotApiEmulator, Limits  # noqa: E402
from bot.settings import Settings  # noqa: E402
from handlers import texts  # noqa: E402
from storage.db import Database  # noqa: E402

TOKEN = "123456:RSS-BENCH-TOKEN"
STAFF_CHAT_ID = -100900
FIRST_USER = 700_000
WAIT = 120.0
STEPS = ["9号楼楼上天天装修，吵死了", None, texts.MENU_TICKETS, "下次义剪是哪天", "9号楼门口垃圾堆了三天没人收", None,
         "我的积分", "助餐点在哪"]


def status(pid: int) -> dict[str, int]:
    """VmRSS and VmHWM (peak) of a process, in kB."""
    out = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0])
    return out


def child_env(emu: BotApiEmulator, db_file: Path, extra: dict[str, str]) -> dict[str, str]:
    settings = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in settings}
    env.update(BOT_TOKEN=TOKEN, BOT_API_URL=emu.base_url, BOT_FILE_URL=emu.base_file_url,
               DATABASE_URL=f"sqlite+aiosqlite:///{db_file}", STAFF_CHAT_ID=str(STAFF_CHAT_ID), WEB_PORT="0",
               LOG_LEVEL="WARNING", PYTHONUNBUFFERED="1", **extra)
    return env


async def talk(emu: BotApiEmulator, residents: int, messages: int) -> int:
    """N residents at once, each waiting for the bot's answer before its next update; returns updates sent."""

    async def resident(index: int) -> None:
        uid = FIRST_USER + index
        draft = None
        for i in range(messages):
            text = STEPS[i % len(STEPS)]
            cursor = emu.cursor()
            if text is None:  # 确认提交 on the draft shown: the draft is edited into the number
                assert draft is not None
                button = next(b for b in draft.buttons if b.text == texts.BTN_CONFIRM)
                await emu.press(uid, draft.message_id, button.callback_data)
                await emu.wait_for_edit(uid, draft.message_id, "LL-", after=cursor, timeout=WAIT)
                continue
            await emu.send_text(uid, text)
            answer = await emu.wait_for(uid, after=cursor, timeout=WAIT)
            if any(b.text == texts.BTN_CONFIRM for b in answer.buttons):
                draft = answer

    for index in range(residents):
        emu.user(FIRST_USER + index, f"居民{index}")
    await asyncio.gather(*(resident(i) for i in range(residents)))
    return residents * messages


async def one(db_file: Path, residents: int, messages: int, extra: dict[str, str]) -> dict[str, Any]:
    emu = BotApiEmulator(token=TOKEN, limits=Limits.off())
    await emu.start()
    emu.group(STAFF_CHAT_ID, "工作人员群")
    log = db_file.with_suffix(".log")
    try:
        since = emu.polls
        with log.open("wb") as out:
            child = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "bot", "run", cwd=REPO, env=child_env(emu, db_file, extra),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT)
        try:
            await emu.wait_for_poll(since=since, timeout=WAIT)
            await asyncio.sleep(2.0)  # the start-up jobs (first sweep, purges) run
            started = status(child.pid)
            t0 = time.monotonic()
            updates = await talk(emu, residents, messages)
            wall = time.monotonic() - t0
            await asyncio.sleep(2.0)  # owed cards go out
            after = status(child.pid)
        finally:
            child.kill()
            await child.wait()
    finally:
        await emu.stop()
    return {"rss_start_mb": round(started["VmRSS"] / 1024, 1), "rss_after_mb": round(after["VmRSS"] / 1024, 1),
            "rss_peak_mb": round(after["VmHWM"] / 1024, 1), "updates": updates, "wall_s": round(wall, 2)}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tickets", type=int, default=100_000)
    ap.add_argument("--residents", type=int, default=50)
    ap.add_argument("--messages", type=int, default=8)
    ap.add_argument("--env", action="append", default=[], metavar="KEY=VALUE",
                    help="more environment for the bot (e.g. MALLOC_ARENA_MAX=2)")
    ap.add_argument("--json", action="store_true")
    args = ap.parse_args(argv)
    extra = dict(e.split("=", 1) for e in args.env)
    results = {}
    with tempfile.TemporaryDirectory(prefix="linli-rss-") as tmp:
        empty = Path(tmp) / "empty.db"
        Database(f"sqlite+aiosqlite:///{empty}").migrate()
        full = Path(tmp) / "full.db"
        dup_bench.build(full, args.tickets, min(600, args.tickets), seed=0)
        for name, path in (("empty", empty), (f"{args.tickets}_tickets", full)):
            results[name] = asyncio.run(one(path, args.residents, args.messages, extra))
    print(f"python {platform.python_version()}, {args.residents} residents x {args.messages} updates,"
          f" `python -m bot run` as a child process, SQLite{', ' + ' '.join(args.env) if args.env else ''}")
    print(f"{'database':<18}{'RSS start MB':>14}{'RSS after MB':>14}{'peak MB':>9}{'wall s':>8}")
    for name, r in results.items():
        print(f"{name:<18}{r['rss_start_mb']:>14}{r['rss_after_mb']:>14}{r['rss_peak_mb']:>9}{r['wall_s']:>8}")
    if args.json:
        print(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
