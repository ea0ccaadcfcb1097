"""End-to-end bot benchmark: simulated residents talking to the real linli bot through the Bot API emulator.

`python benchmarks/bot_bench.py [--residents 50] [--messages 4] [--repeat 3] [--staff-chat] [--json]`

Everything runs in one process and one event loop: the emulator (aiohttp server), the bot (the application
`bot.app.build_application` wires, long polling over real HTTP, SQLite file in a temporary directory) and
N resident tasks. Each resident sends its updates one after another and waits for the bot's answer before
the next, all residents at once: a complaint (answered with a confirmation), a press on 确认提交 (answered
with the ticket number), then service questions (义剪, 积分, 办事时间, 助餐点 ...), repeated up to
`--messages` updates.

Measured, per run:
- updates handled per second: updates injected / wall time from the first injection to the last answer;
- reply latency p50/p99: from injecting an update to the emulator recording the bot's answer to it
  (`SentMessage.recorded`, the emulator's monotonic clock, same process);
- CPU time per update: the process's CPU (all threads: the bot, SQLite's driver threads, the emulator and the
  residents, which are the same in every run) from the first injection until everything owed is sent, / updates;
- Bot API calls per update (the emulator's `stats.calls`), and per resident step the calls Telegram rate-limits
  (sends and edits into the resident's chat, from the step's injection to the next one's; owed messages that
  arrive later count with the step that owed them);
- SQL statements, transactions and write transactions per update and per step (SQLAlchemy event listeners on the
  bot's engine; each statement is counted for the update whose task ran it, found through a context variable
  the update processor sets; the sender's and the jobs' statements count as background);
- the baseline, measured in the same run: the same round trips (same residents, same number of updates)
  against a trivial echo bot (a PTB Application with one MessageHandler replying with the text) that handles
  updates as concurrently as linli does (the same `PerChatUpdateProcessor`: chats in parallel, one chat in
  order), and the ratio linli / echo. The echo bot is driven twice, just before and just after linli's limiter-off
  drive, and the baseline is the better of the two on each figure (a shared machine stalls now and then; a stall
  only slows a drive, so noise never raises a ratio). `--repeat` runs the bots that many times; the ratios are
  given for each run and as a range.

Flood control: the emulator's limits are OFF (`Limits.off()`), so Telegram's simulated 429s never throttle
anything. linli is measured twice: as deployed, with its own pacing (the sender's pacer shared with the handlers'
replies: 30 requests/s, one a second per chat with bursts of three, 20/min per group), which caps its
throughput, and with that pacing left out of the bot (`build_application(..., rate_limited=False)`; nothing
else changes) to measure the handlers themselves.
By default the bot has no staff chat, so new tickets are not posted anywhere; `--staff-chat` configures
one (cards are owed and sent in the background by the sender).
Every bot is warmed up with one round trip first (jieba's dictionary loads on the first message).
"""

from __future__ import annotations

import argparse
import asyncio
import contextvars
import json
import logging
import os
import platform
import statistics
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # runnable without installing the package
    sys.path.insert(0, str(REPO))

from sqlalchemy import event  # noqa: E402
from sqlalchemy.ext.asyncio import AsyncEngine  # noqa: E402
from telegram import Update  # noqa: E402
from telegram.ext import Application, ApplicationBuilder, ContextTypes, MessageHandler, filters  # noqa: E402

from bot.app import build_application, start_polling, stop_polling  # noqa: E402
from bot.emulator import BotApiEmulator, Limits, SentMessage  # noqa: E402
from bot.processor import PerChatUpdateProcessor  # noqa: E402
from bot.sender import PACED_METHODS  # noqa: E402
from bot.settings import load_settings  # noqa: E402
from handlers import texts  # noqa: E402
from handlers.deps import KEY, Deps  # noqa: E402
from services import outbox  # noqa: E402
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
STEPS = ("complaint", "confirm", "question")
BACKGROUND = "background"  # statements no update's task ran: the sender, the jobs
BENCH = "bench"  # the benchmark's own reads (is everything sent?): not counted
STEP: contextvars.ContextVar[str] = contextvars.ContextVar("bench_step", default=BACKGROUND)
TRACE_SQL = bool(os.environ.get("BENCH_TRACE_SQL"))  # print every counted statement (to see what a step runs)
PLUMBING = frozenset({"getupdates", "getme", "setmycommands", "deletewebhook", "getwebhookinfo"})


@dataclass
class Step:
    kind: str  # "complaint", "confirm" (press 确认提交 on the last confirmation) or "question"
    text: str = ""
    answer: Callable[[SentMessage], bool] = field(default=lambda m: True)


def linli_script(index: int, updates: int) -> list[Step]:
    """A resident's updates: complaint, 确认, two questions, and again with other words."""
    steps: list[Step] = []
    round_ = 0
    while len(steps) < updates:
        complaint = COMPLAINTS[(index + round_) % len(COMPLAINTS)]
        steps += [
            Step("complaint", complaint, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons)),
            Step("confirm", answer=lambda m: "LL-" in m.body),
            Step("question", QUESTIONS[(index + 2 * round_) % len(QUESTIONS)]),
            Step("question", QUESTIONS[(index + 2 * round_ + 1) % len(QUESTIONS)]),
        ]
        round_ += 1
    return steps[:updates]


def echo_script(index: int, updates: int) -> list[Step]:
    return [Step(s.kind if s.kind != "confirm" else "question", s.text or "确认") for s in linli_script(index, updates)]


def step_of(update: object) -> str:
    """Which step of the script an update is (the benchmark knows what it sent)."""
    if not isinstance(update, Update):
        return BACKGROUND
    if update.callback_query is not None:
        return "confirm"
    text = update.effective_message.text if update.effective_message else None
    if text in COMPLAINTS:
        return "complaint"
    if text in QUESTIONS or text == "确认":
        return "question"
    return "warm-up"


def tag_updates(app: Application) -> None:
    """Each update's task carries its step in ``STEP``: what it runs (SQL included) is counted for that step."""
    processor = app.update_processor
    inner = processor.do_process_update

    async def do_process_update(update: object, coroutine: Awaitable[Any]) -> None:
        STEP.set(step_of(update))  # the task handles this one update (PTB makes a task per update)
        await inner(update, coroutine)

    processor.do_process_update = do_process_update  # type: ignore[method-assign]


class SqlMeter:
    """SQL statements, transactions and write transactions on one engine, by ``STEP``.

    A transaction starts at SQLAlchemy's ``begin`` and ends at ``commit`` or ``rollback``; it is a write
    transaction when it began IMMEDIATE (linli's ``Database.transaction``: the write lock taken up front) or ran
    an INSERT, UPDATE or DELETE. ``BEGIN`` itself is not counted as a statement."""

    def __init__(self, engine: AsyncEngine) -> None:
        self.counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
        self.on = False
        sync = engine.sync_engine
        event.listen(sync, "begin", self._begin)
        event.listen(sync, "before_cursor_execute", self._statement)
        event.listen(sync, "commit", self._end)
        event.listen(sync, "rollback", self._end)

    def _begin(self, conn: Any) -> None:
        immediate = conn.get_execution_options().get("linli_sqlite_begin") == "IMMEDIATE"
        conn.info["bench_tx"] = [STEP.get(), immediate]

    def _statement(self, conn: Any, cursor: Any, statement: str, *_: Any) -> None:
        word = statement.lstrip()[:7].upper()
        if word.startswith("BEGIN") or not self.on or STEP.get() == BENCH:
            return
        self.counts[STEP.get()]["statements"] += 1
        if TRACE_SQL:
            print(f"[{STEP.get()}] {' '.join(statement.split())[:160]}", file=sys.stderr)
        tx = conn.info.get("bench_tx")
        if tx is not None and word.startswith(("INSERT", "UPDATE", "DELETE", "REPLACE")):
            tx[1] = True

    def _end(self, conn: Any) -> None:
        try:
            tx = conn.info.pop("bench_tx", None)
        except Exception:  # an invalidated connection (a task cancelled at shutdown): nothing to count
            return
        if tx is None or not self.on or tx[0] == BENCH:
            return
        self.counts[tx[0]]["transactions"] += 1
        if tx[1]:
            self.counts[tx[0]]["write_transactions"] += 1


@dataclass
class Run:
    name: str
    updates: int
    wall_s: float
    latencies_ms: list[float]
    cpu_s: float = 0.0
    calls: Counter[str] = field(default_factory=Counter)
    step_counts: Counter[str] = field(default_factory=Counter)  # updates of each step
    step_paced: Counter[str] = field(default_factory=Counter)  # rate-limited calls into residents' chats
    sql: dict[str, Counter[str]] = field(default_factory=dict)

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_ms)
        per_update = {m: round(n / self.updates, 3) for m, n in sorted(self.calls.items()) if m not in PLUMBING}
        out: dict[str, Any] = {
            "updates": self.updates,
            "wall_s": round(self.wall_s, 3),
            "updates_per_s": round(self.updates / self.wall_s, 1),
            "p50_ms": round(percentile(lat, 50), 1),
            "p99_ms": round(percentile(lat, 99), 1),
            "max_ms": round(lat[-1], 1),
            "mean_ms": round(statistics.fmean(lat), 1),
            "cpu_ms_per_update": round(self.cpu_s * 1000 / self.updates, 2),
            "api_calls_per_update": per_update,
            "paced_calls_per_update": round(sum(n for m, n in self.calls.items() if m in PACED_METHODS)
                                            / self.updates, 3),
            "paced_calls_per_step": {k: round(self.step_paced[k] / n, 2) for k, n in self.step_counts.items()},
        }
        if self.sql:
            total = Counter[str]()  # the updates' own statements (the sender's and the jobs' are given apart)
            for step, counts in self.sql.items():
                if step != BACKGROUND:
                    total.update(counts)
            out["sql_per_update"] = {k: round(total[k] / self.updates, 2)
                                     for k in ("statements", "transactions", "write_transactions")}
            out["sql_per_step"] = {
                step: {k: round(self.sql.get(step, Counter())[k] / n, 2)
                       for k in ("statements", "transactions", "write_transactions")}
                for step, n in self.step_counts.items()
            }
            background = self.sql.get(BACKGROUND, Counter())
            out["sql_background_per_update"] = {k: round(background[k] / self.updates, 2)
                                                for k in ("statements", "transactions", "write_transactions")}
        return out


def percentile(sorted_values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    rank = max(1, -(-len(sorted_values) * p // 100))
    return sorted_values[int(rank) - 1]


async def drain(app: Application) -> None:
    """Until no update is being handled and (linli) nothing owed is left to send (its own reads not counted)."""
    token = STEP.set(BENCH)
    try:
        await _drain(app)
    finally:
        STEP.reset(token)


async def _drain(app: Application) -> None:
    processor = app.update_processor
    if isinstance(processor, PerChatUpdateProcessor):
        await asyncio.wait_for(processor.wait_idle(), WAIT)
    d: Deps | None = app.bot_data.get(KEY)
    if d is None:
        return
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        async with d.db.session() as s:
            if not await outbox.pending(s):
                return
        await asyncio.sleep(0.01)


async def drive(emu: BotApiEmulator, app: Application, name: str, residents: int, updates: int,
                script: Callable[[int, int], list[Step]], meter: SqlMeter | None) -> Run:
    """All residents at once, each one update at a time; latency per update from the emulator's records."""
    latencies: list[float] = []
    marks: dict[int, list[tuple[str, int]]] = {}  # resident -> (step, cursor before its injection)

    async def resident(index: int) -> None:
        uid = FIRST_USER + index
        last_confirmation: SentMessage | None = None
        mine = marks.setdefault(uid, [])
        for step in script(index, updates):
            cursor = emu.cursor()
            mine.append((step.kind, cursor))
            injected = time.monotonic()
            if step.kind == "confirm":
                assert last_confirmation is not None
                await emu.press(uid, last_confirmation.message_id, last_confirmation.buttons[0].callback_data)
            else:
                await emu.send_text(uid, step.text)
            answer, at = await answer_to(emu, uid, step, cursor, last_confirmation)
            latencies.append((at - injected) * 1000)
            if answer.buttons:
                last_confirmation = answer

    for index in range(residents):
        emu.user(FIRST_USER + index, f"居民{index}")
    calls_before = Counter(emu.stats.calls)
    if meter is not None:
        meter.counts.clear()
        meter.on = True
    cpu = time.process_time()
    started = time.monotonic()
    await asyncio.gather(*(resident(i) for i in range(residents)))
    wall = time.monotonic() - started
    await drain(app)
    cpu = time.process_time() - cpu
    if meter is not None:
        meter.on = False
    end = emu.cursor()
    run = Run(name, residents * updates, wall, latencies, cpu_s=cpu, calls=Counter(emu.stats.calls) - calls_before,
              sql={k: Counter(v) for k, v in meter.counts.items()} if meter else {})
    for uid, steps in marks.items():
        bounds = [c for _, c in steps[1:]] + [end]
        for (kind, start), stop in zip(steps, bounds, strict=True):
            run.step_counts[kind] += 1
            run.step_paced[kind] += sum(1 for e in emu.events_after(start)[: stop - start]
                                        if e.chat_id == uid and e.kind in ("send", "edit"))
    return run


async def answer_to(emu: BotApiEmulator, uid: int, step: Step, cursor: int,
                    pressed: SentMessage | None) -> tuple[SentMessage, float]:
    """The bot's answer to a step and when it came: a new message into the resident's chat, or (a confirm) the
    draft pressed edited into the case's number. An edit's time is when this task saw it (the emulator stamps
    sends only), a little later than it happened: it counts against linli, not for it. Only this chat's messages
    are looked at (the emulator indexes them), so waiting costs the same at any number of residents."""
    if step.kind != "confirm" or pressed is None:
        answer = await emu.wait_for(uid, step.answer, after=cursor, timeout=WAIT)
        return answer, answer.recorded
    deadline = time.monotonic() + WAIT
    while True:
        edited = emu.message(uid, pressed.message_id)
        if edited is not None and any(v.seq > cursor for v in edited.history[1:]) and step.answer(edited):
            return edited, time.monotonic()
        sent = next((m for m in emu.messages_after(uid, cursor) if step.answer(m)), None)
        if sent is not None:
            return sent, sent.recorded
        await asyncio.wait_for(emu.activity(uid), max(0.0, deadline - time.monotonic()))


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
    """The baseline: PTB and one handler, with linli's concurrency (chats in parallel, one chat in order)."""
    app = (ApplicationBuilder().token(TOKEN).base_url(emu.base_url).base_file_url(emu.base_file_url)
           .concurrent_updates(PerChatUpdateProcessor()).build())
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
    "echo": "echo baseline",
    "linli_no_limiter": "linli, bot limiter off",
    "echo_after": "echo baseline, again",
    "linli": "linli, as deployed",
}
LINLI_RUNS = ("linli_no_limiter", "linli")
ECHO_RUNS = ("echo", "echo_after")  # the baseline brackets linli's limiter-off drive: the better of the two


def baseline(results: dict[str, dict[str, Any]]) -> dict[str, float]:
    """The echo bot's figures from its drive before and its drive after linli's, the better of the two on each
    figure: on a shared machine a stall only ever slows a drive, so the better one is closer to what echo does, and
    a stall during linli's own drive only lowers linli's ratio. Conservative: a ratio is never raised by noise."""
    best = {"updates_per_s": max, "p50_ms": min, "p99_ms": min, "cpu_ms_per_update": min}
    return {key: pick(results[name][key] for name in ECHO_RUNS) for key, pick in best.items()}


async def one_round(tmp: Path, round_: int, residents: int, updates: int, staff_chat: bool) -> dict[str, Any]:
    """The bots one after another, each against a fresh emulator (and a fresh database): echo, linli with its
    limiter off, echo again, linli as deployed."""
    results: dict[str, dict[str, Any]] = {}
    for name in RUNS:
        emu = BotApiEmulator(token=TOKEN, limits=Limits.off())
        await emu.start()
        try:
            meter = None
            if name in ECHO_RUNS:
                app, script, warm = echo_application(emu), echo_script, "预热"
            else:
                db_file = tmp / f"{name}-{round_}.db"
                app = linli_application(emu, db_file, staff_chat, limiter=name == "linli")
                meter = SqlMeter(app.bot_data[KEY].db.engine)
                script, warm = linli_script, "你好"
            tag_updates(app)

            async def work(emu=emu, app=app, name=name, script=script, warm=warm, meter=meter) -> Run:
                await warm_up(emu, warm)
                await drain(app)
                return await drive(emu, app, name, residents, updates, script, meter)

            results[name] = (await with_bot(app, emu, work)).summary()
        finally:
            await emu.stop()
    base = baseline(results)
    ratios = {
        name: {
            "throughput": round(results[name]["updates_per_s"] / base["updates_per_s"], 3),
            "p50_latency": round(results[name]["p50_ms"] / base["p50_ms"], 2),
            "p99_latency": round(results[name]["p99_ms"] / base["p99_ms"], 2),
            "cpu_per_update": round(results[name]["cpu_ms_per_update"] / base["cpu_ms_per_update"], 2),
        }
        for name in LINLI_RUNS
    }
    return {"results": results, "ratio_to_echo": ratios}


async def bench(residents: int, updates: int, staff_chat: bool, repeat: int = 1) -> dict[str, Any]:
    rounds = []
    with tempfile.TemporaryDirectory(prefix="linli-bench-") as tmp:
        for round_ in range(repeat):
            rounds.append(await one_round(Path(tmp), round_, residents, updates, staff_chat))
    ranges = {
        name: {key: [min(r["ratio_to_echo"][name][key] for r in rounds),
                     max(r["ratio_to_echo"][name][key] for r in rounds)]
               for key in ("throughput", "p50_latency", "p99_latency", "cpu_per_update")}
        for name in LINLI_RUNS
    }
    return {
        "config": {
            "residents": residents,
            "updates_per_resident": updates,
            "repeat": repeat,
            "staff_chat": staff_chat,
            "emulator_limits": "off",
            "database": "SQLite file (WAL)",
            "python": platform.python_version(),
            "cpus": os.cpu_count(),
        },
        "rounds": rounds,
        "ratio_ranges": ranges,
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

                async def told_at(uid: int) -> tuple[float, str]:
                    """When the resident's number arrived: the draft edited into it (as the bot answers a 确认), or
                    a message of its own; an edit is stamped when seen here, so a little late (against linli)."""
                    deadline = time.monotonic() + WAIT
                    while True:  # looked and then waited with no await between: nothing slips past
                        edited = emu.message(uid, drafts[uid].message_id)
                        if edited is not None and "LL-" in edited.body:
                            return time.monotonic() - started, edited.body
                        sent = next((m for m in emu.messages_after(uid, cursor) if "LL-" in m.body), None)
                        if sent is not None:
                            return sent.recorded - started, sent.body
                        await asyncio.wait_for(emu.activity(uid), max(0.0, deadline - time.monotonic()))

                answers = await asyncio.gather(*(told_at(uid) for uid in uids))
                told = [at for at, _ in answers]
                numbers = {find_ticket_number(body) for _, body in answers}
                deadline = time.monotonic() + WAIT
                while time.monotonic() < deadline:
                    on_cards = {n for n in numbers for m in emu.messages_after(STAFF_CHAT_ID, cursor)
                                if n in m.body and m.buttons}
                    if on_cards == numbers:
                        break
                    await asyncio.sleep(0.2)
                numbers_seen.update(numbers)
                after_press.append(sum(1 for e in emu.events_after(cursor) if e.kind in ("send", "edit")))
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
            f"{r['messages_after_confirm']} messages sent or edited after the presses "
            f"({r['messages_sent']} in the whole run): Telegram's 30 msg/s puts a floor of {r['floor_s']} s under them")


def report(result: dict[str, Any]) -> str:
    cfg = result["config"]
    lines = [
        f"{cfg['residents']} residents x {cfg['updates_per_resident']} updates, {cfg['repeat']} run(s), emulator "
        f"limits off, staff chat {'on' if cfg['staff_chat'] else 'off'}, SQLite, Python {cfg['python']}, "
        f"{cfg['cpus']} CPUs",
    ]
    for i, rnd in enumerate(result["rounds"], 1):
        lines += [f"run {i}",
                  f"  {'bot':<24}{'updates/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'wall s':>8}"
                  f"{'CPU ms/upd':>11}{'vs echo':>9}"]
        for name, label in RUNS.items():
            r = rnd["results"][name]
            ratio = rnd["ratio_to_echo"].get(name, {}).get("throughput", 1.0)
            lines.append(f"  {label:<24}{r['updates_per_s']:>10}{r['p50_ms']:>9}{r['p99_ms']:>9}{r['max_ms']:>9}"
                         f"{r['wall_s']:>8}{r['cpu_ms_per_update']:>11}{ratio:>8}x")
    last = result["rounds"][-1]["results"]["linli_no_limiter"]
    lines.append("linli, limiter off (last run), per update: SQL " + ", ".join(
        f"{k} {v}" for k, v in last["sql_per_update"].items()) + "; in the background (sender): " + ", ".join(
        f"{k} {v}" for k, v in last["sql_background_per_update"].items()))
    for step, counts in last["sql_per_step"].items():
        lines.append(f"  {step:<10} statements {counts['statements']:>5}  transactions {counts['transactions']:>5}"
                     f"  write {counts['write_transactions']:>5}  rate-limited calls into the chat "
                     f"{last['paced_calls_per_step'].get(step, 0):>5}")
    calls = last["api_calls_per_update"]
    lines.append("  Bot API calls per update: " + ", ".join(f"{m} {n}" for m, n in calls.items()))
    for name in LINLI_RUNS:
        rng = result["ratio_ranges"][name]
        lines.append(f"{RUNS[name]}: throughput vs echo {rng['throughput'][0]}–{rng['throughput'][1]}x, "
                     f"CPU per update vs echo {rng['cpu_per_update'][0]}–{rng['cpu_per_update'][1]}x")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--residents", type=int, default=50, help="simulated residents (default 50)")
    ap.add_argument("--messages", type=int, default=4, help="updates per resident (default 4)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of the bots, for ranges (default 3)")
    ap.add_argument("--staff-chat", action="store_true", help="post new tickets to a staff group")
    ap.add_argument("--json", action="store_true", help="print the result as JSON")
    ap.add_argument("--intake", action="store_true",
                    help="every resident confirms a complaint at once, as deployed: apologies, locks, time to tell all")
    args = ap.parse_args(argv)
    if args.residents < 1 or args.messages < 1 or args.repeat < 1:
        ap.error("--residents, --messages and --repeat must be positive")
    if args.intake:
        result = asyncio.run(intake_bench(args.residents))
        print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else intake_report(result))
        return 0
    result = asyncio.run(bench(args.residents, args.messages, args.staff_chat, args.repeat))
    print(json.dumps(result, ensure_ascii=False, indent=2) if args.json else report(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
