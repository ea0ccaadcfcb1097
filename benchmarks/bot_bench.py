"""End-to-end bot benchmark: simulated residents talking to the real linli bot through the Bot API emulator.

`python benchmarks/bot_bench.py [--residents 50] [--messages 4] [--staff-chat] [--json]`

Everything runs in one process and one event loop: the emulator (aiohttp server), the bot (the application
`bot.app.build_application` wires, long polling over real HTTP, SQLite file in a temporary directory) and
N resident tasks. Each resident sends its updates one after another and waits for the bot's answer before
the next, all residents at once: a complaint (answered with a confirmation), a press on 确认提交 (answered
with the ticket number), then service questions (义剪, 积分, 办事时间, 助餐点 ...), repeated up to
`--messages` updates.

Measured:
- updates handled per second: updates injected / wall time from the first injection to the last answer;
- reply latency p50/p99: from injecting an update to the emulator recording the bot's answer to it
  (`SentMessage.recorded`, the emulator's monotonic clock, same process);
- the baseline, measured in the same run: the same round trips (same residents, same number of updates)
  against a trivial echo bot (a PTB Application with one MessageHandler replying with the text), and the
  ratio linli / echo.

Flood control: the emulator's limits are OFF (`Limits.off()`), so Telegram's simulated 429s never throttle
anything. linli is measured twice: as deployed, with its own PTB `AIORateLimiter` (30 requests/s carrying a
chat id, 20/min per group), which caps its throughput, and with that limiter left out of the bot
(`build_application(..., rate_limited=False)`; nothing else changes) to measure the handlers themselves.
By default the bot has no staff chat, so new tickets are not posted anywhere; `--staff-chat` configures
one, and then the 20-posts-a-minute group limit shows up in every resident's latency (the handler awaits
the staff post while updates are handled one at a time).
Every bot is warmed up with one round trip first (jieba's dictionary loads on the first message).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))

from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import build_application, start_polling, stop_polling  # noqa: E402
from bot.emulator import BotApiEmulator, Limits, SentMessage  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers import texts  # noqa: E402
from services.cases.tickets import find_ticket_number  # noqa: E402

TOKEN = "123456:BENCH-TOKEN"
STAFF_CHAT_ID = -100900
FIRST_USER = 500_000
WAIT = 120.0  # per answer; only reached if the bot is stuck
COMPLAINTS = [
    "楼上天天装修，吵死了，9号楼",
    "小区门口乱停车",
    "9号楼电梯坏了，停在半路不动",
    "9号楼楼道灯坏了",
    "9号楼门口垃圾堆了三天没人收",
]
DISTINCT = [  # ten kinds of problem, each in twenty buildings: 200 cases that are no duplicates of each other
    "楼上天天装修吵得睡不着", "楼道灯坏了好几天", "门口垃圾堆了三天没人收", "门口有车乱停堵住消防通道",
    "家里停水一上午了",
    "物业费乱涨价", "有人在楼道里飞线充电", "一楼住户私搭乱建占了绿地", "想问问低保怎么申请", "和邻居因为漏水吵起来了",
]
QUESTIONS = ["下次义剪是哪天", "我的积分", "服务中心几点开门", "助餐点在哪", "积分能换什么", "义诊什么时候"]


@dataclass
class Step:
    kind: str  # "text" or "confirm" (press 确认提交 on the last confirmation)
    text: str = ""
    answer: Callable[[SentMessage], bool] = field(default=lambda m: True)


def linli_script(index: int, updates: int) -> list[Step]:
    """A resident's updates: complaint, 确认, two questions, and again with other words."""
    steps: list[Step] = []
    round_ = 0
    while len(steps) < updates:
        complaint = COMPLAINTS[(index + round_) % len(COMPLAINTS)]
        steps += [
            Step("text", complaint, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons)),
            Step("confirm", answer=lambda m: "LL-" in m.body),
            Step("text", QUESTIONS[(index + 2 * round_) % len(QUESTIONS)]),
            Step("text", QUESTIONS[(index + 2 * round_ + 1) % len(QUESTIONS)]),
        ]
        round_ += 1
    return steps[:updates]


def echo_script(index: int, updates: int) -> list[Step]:
    return [Step("text", s.text or "确认") for s in linli_script(index, updates)]


@dataclass
class Run:
    name: str
    updates: int
    wall_s: float
    latencies_ms: list[float]

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        return {
            "updates": self.updates,
            "wall_s": round(self.wall_s, 3),
            "updates_per_s": round(self.updates / self.wall_s, 1),
            "p50_ms": round(percentile(lat, 50), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(lat[-1], 1),
            "mean_ms": round(statistics.fmean(lat), 1),
        }


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


async def drive(emu: BotApiEmulator, name: str, residents: int, updates: int,
                script: Callable[[int, int], list[Step]]) -> Run:
    """All residents at once, each one update at a time; latency per update from the emulator's records."""
    latencies: list[float] = []

    async def resident(index: int) -> None:
        uid = FIRST_USER + index
        last_confirmation: SentMessage | None = None
        for step in script(index, updates):
            cursor = emu.cursor()
            injected = time.monotonic()
            if step.kind == "confirm":
                assert last_confirmation is not None
                await emu.press(uid, last_confirmation.message_id, last_confirmation.buttons[0].callback_data)
            else:
                await emu.send_text(uid, step.text)
            answer = await emu.wait_for(uid, step.answer, after=cursor, timeout=WAIT)
            latencies.append((answer.recorded - injected) * 1000)
            if answer.buttons:
                last_confirmation = answer

    for index in range(residents):
        emu.user(FIRST_USER + index, f"居民{index}")
    started = time.monotonic()
    await asyncio.gather(*(resident(i) for i in range(residents)))
    return Run(name, residents * updates, time.monotonic() - started, latencies)


async def warm_up(emu: BotApiEmulator, text: str) -> None:
    emu.user(FIRST_USER - 1, "预热")
    cursor = emu.cursor()
    await emu.send_text(FIRST_USER - 1, text)
    await emu.wait_for(FIRST_USER - 1, after=cursor, timeout=WAIT)


async def with_bot(app: Application, emu: BotApiEmulator, work: Callable[[], Awaitable[Run]]) -> Run:
    since = emu.polls
    await start_polling(app)
    try:
        await emu.wait_for_poll(since=since, timeout=WAIT)
        return await work()
    finally:
        await stop_polling(app)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    await update.effective_message.reply_text(update.effective_message.text)


def echo_application(emu: BotApiEmulator) -> Application:
    app = ApplicationBuilder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url).build()
    app.add_handler(MessageHandler(filters.TEXT, echo))
    return app


def linli_application(emu: BotApiEmulator, db_file: Path, staff_chat: bool, limiter: bool) -> Application:
    emu.group(STAFF_CHAT_ID, "工作人员群")
    settings = load_settings(
        _env_file=None, bot_token=TOKEN, bot_api_url=emu.base_url, bot_file_url=emu.base_file_url,
        database_url=f"sqlite+aiosqlite:///{db_file}", staff_chat_id=STAFF_CHAT_ID if staff_chat else None,
        community_file=None, taxonomy_file=None, callback_secret=None,
    )
    return build_application(settings, rate_limited=limiter)  # off: measure the handlers, not the limiter


RUNS = {
    "linli": "linli, as deployed",
    "linli_no_limiter": "linli, bot limiter off",
    "echo": "echo baseline",
}


async def bench(residents: int, updates: int, staff_chat: bool) -> dict[str, Any]:
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
        for name in RUNS:
            emu = BotApiEmulator(token=TOKEN, limits=Limits.off())
            await emu.start()
            try:
                if name == "echo":
                    app, script, warm = echo_application(emu), echo_script, "预热"
                else:
                    db_file = Path(tmp) / f"{name}.db"
                    app = linli_application(emu, db_file, staff_chat, limiter=name == "linli")
                    script, warm = linli_script, "你好"

                async def work(emu=emu, name=name, script=script, warm=warm) -> Run:
                    await warm_up(emu, warm)
                    return await drive(emu, name, residents, updates, script)

                results[name] = (await with_bot(app, emu, work)).summary()
            finally:
                await emu.stop()
    base = results["echo"]
    ratios = {
        name: {
            "throughput": round(results[name]["updates_per_s"] / base["updates_per_s"], 3),
            "p50_latency": round(results[name]["p50_ms"] / base["p50_ms"], 2),
            "p99_latency": round(results[name]["p99_ms"] / base["p99_ms"], 2),
        }
        for name in ("linli", "linli_no_limiter")
    }
    return {
        "config": {
            "residents": residents,
            "updates_per_resident": updates,
            "staff_chat": staff_chat,
            "emulator_limits": "off",
            "database": "SQLite file (WAL)",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "results": results,
        "ratio_to_echo": ratios,
    }


class _Counter(logging.Handler):
    """Counts log records whose message contains ``needle`` (e.g. "database is locked")."""

    def __init__(self, needle: str) -> None:
        super().__init__(logging.DEBUG)
        self.needle, self.count = needle, 0

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage() + (logging.Formatter().formatException(record.exc_info) if record.exc_info else "")
        if self.needle in text:
            self.count += 1


async def intake_bench(residents: int) -> dict[str, Any]:
    """`--intake`: N residents confirm a complaint at once, as deployed (the bot's own pacing on, the emulator's
    Telegram limits on, a staff group receiving the cards). Counted: apologies, "database is locked", and the
    time until every resident has their number and every case is on a card (combined ones count), beside the
    floor Telegram's 30 messages a second puts under the messages that were needed."""
    locked = _Counter("database is locked")
    logging.getLogger().addHandler(locked)
    emu = BotApiEmulator(token=TOKEN, limits=Limits())
    await emu.start()
    try:
        with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
            app = linli_application(emu, Path(tmp) / "intake.db", staff_chat=True, limiter=True)
            uids = [FIRST_USER + i for i in range(residents)]
            numbers_seen: set[str] = set()
            after_press: list[int] = []
            for i, uid in enumerate(uids):
                emu.user(uid, f"居民{i}")

            async def work() -> Run:
                await warm_up(emu, "你好")
                drafts: dict[int, SentMessage] = {}

                async def draft(i: int, uid: int) -> None:
                    cursor = emu.cursor()
                    await emu.send_text(uid, f"{i % 20 + 1}号楼{DISTINCT[(i // 20) % len(DISTINCT)]}")
                    drafts[uid] = await emu.wait_for(uid, lambda m: any(b.text == texts.BTN_CONFIRM
                                                                         for b in m.buttons), after=cursor,
                                                     timeout=WAIT)

                await asyncio.gather(*(draft(i, uid) for i, uid in enumerate(uids)))
                cursor = emu.cursor()
                started = time.monotonic()
                await asyncio.gather(*(emu.press(uid, drafts[uid].message_id, next(
                    b for b in drafts[uid].buttons if b.text == texts.BTN_CONFIRM).callback_data) for uid in uids))
                told: list[float] = []
                for uid in uids:
                    answer = await emu.wait_for(uid, lambda m: "LL-" in m.body, after=cursor, timeout=WAIT)
                    told.append(answer.recorded - started)
                numbers = {find_ticket_number(m.body) for uid in uids for m in emu.messages_after(uid, cursor)
                           if "LL-" in m.body}
                deadline = time.monotonic() + WAIT
                while time.monotonic() < deadline:
                    on_cards = {n for n in numbers for m in emu.messages_after(STAFF_CHAT_ID, cursor)
                                if n in m.body and m.buttons}
                    if on_cards == numbers:
                        break
                    await asyncio.sleep(0.2)
                numbers_seen.update(numbers)
                after_press.append(len(emu.messages_after(None, cursor)))
                last_card = max((m.recorded for m in emu.messages_after(STAFF_CHAT_ID, cursor) if m.buttons),
                                default=started)
                return Run("intake", residents, time.monotonic() - started,
                           [told_s * 1000 for told_s in told] + [(last_card - started) * 1000])

            run = await with_bot(app, emu, work)
            apologies = sum(1 for uid in uids for m in emu.messages_to(uid) if m.body == texts.ERROR)
            cards = [m for m in emu.messages_to(STAFF_CHAT_ID) if m.buttons]
            sent = sum(emu.stats.delivered.values())
    finally:
        await emu.stop()
        logging.getLogger().removeHandler(locked)
    told_ms = sorted(run.latencies_ms[:-1])
    return {
        "config": {"residents": residents, "emulator_limits": "Telegram's (30/s, 1/s a chat, 20/min a group)",
                   "bot_pacing": "on", "database": "SQLite file (WAL)", "python": platform.python_version(),
                   "cpus": os.cpu_count()},
        "apologies": apologies,
        "database_locked": locked.count,
        "all_told_s": round(told_ms[-1] / 1000, 2),
        "told_p50_s": round(percentile(told_ms, 50) / 1000, 2),
        "all_cards_s": round(run.latencies_ms[-1] / 1000, 2),
        "card_messages": len(cards),
        "cases": len(numbers_seen),
        "messages_sent": sent,
        "messages_after_confirm": after_press[0],
        "floor_s": round(after_press[0] / 30.0, 2),
        "too_many_requests": emu.stats.too_many_requests,
    }


def intake_report(r: dict[str, Any]) -> str:
    return (f"{r['config']['residents']} residents confirm at once, Telegram's limits on both sides, SQLite\n"
            f"apologies {r['apologies']}, 'database is locked' {r['database_locked']}, 429s {r['too_many_requests']}\n"
            f"every resident told their number in {r['all_told_s']} s (p50 {r['told_p50_s']} s); every case on a "
            f"card in {r['all_cards_s']} s ({r['cases']} cases on {r['card_messages']} card messages)\n"
            f"{r['messages_after_confirm']} messages sent after the presses ({r['messages_sent']} in the whole run): "
            f"Telegram's 30 msg/s puts a floor of {r['floor_s']} s under them")


def report(result: dict[str, Any]) -> str:
    cfg = result["config"]
    lines = [
        f"{cfg['residents']} residents x {cfg['updates_per_resident']} updates, emulator limits off, "
        f"staff chat {'on' if cfg['staff_chat'] else 'off'}, SQLite, Python {cfg['python']}, {cfg['cpus']} CPUs",
        f"{'bot':<24}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'wall s':>8}{'vs echo':>9}",
    ]
    for name, label in RUNS.items():
        r = result["results"][name]
        ratio = result["ratio_to_echo"].get(name, {}).get("throughput", 1.0)
        lines.append(f"{label:<24}{r['updates_per_s']:>10}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}"
                     f"{r['wall_s']:>8}{ratio:>8}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=50, help="simulated residents (default 50)")
    ap.add_argument("--messages", type=int, default=4, help="updates per resident (default 4)")
    ap.add_argument("--staff-chat", action="store_true", help="post new tickets to a staff group")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--intake", action="store_true",
                    help="every resident confirms a complaint at once, as deployed: apologies, locks, time to tell all")
    args = ap.parse_args(argv)
    if args.residents < 1 or args.messages < 1:
        ap.error("--residents and --messages must be positive")
    if args.intake:
        result = asyncio.run(intake_bench(args.residents))
        print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else intake_report(result))
        return 0
    result = asyncio.run(bench(args.residents, args.messages, args.staff_chat))
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
