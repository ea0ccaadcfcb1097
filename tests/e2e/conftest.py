"""Fixtures for driving the bot through the local Bot API emulator (bot.emulator).

`emulator` is a bare emulator. `bot` is the real linli application (``build_application``) long-polling
that emulator over HTTP, with a SQLite file under tmp_path, a staff group and a controllable clock.
`desk` is the bot with unit and escalation chats configured and staff granted their roles (limits off on
both sides). `Person` drives one simulated Telegram user; every wait starts from an emulator cursor taken *before*
the injection, so a fast reply can never be missed.
"""

from __future__ import annotations

import asyncio
import os
import re
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import col, select
from telegram.ext import Application, SimpleUpdateProcessor

from bot import jobs
from bot.app import build_application, start_polling, stop_polling
from bot.emulator import BotApiEmulator, CallbackAnswer, Limits, SentMessage
from bot.processor import PerChatUpdateProcessor
from bot.settings import Settings, load_settings
from handlers import texts
from handlers.deps import KEY, Deps
from services import SHANGHAI, inbox, outbox
from services.community.model import SAMPLE_COMMUNITY_FILE
from storage.db import Database
from storage.models import Draft, PointsEntry, Resident, Ticket, TicketEvent, TicketEventKind

TOKEN = "123456:TEST-TOKEN-xyz"
STAFF_CHAT_ID = -100500
PROBE_USER = 999_999  # a bystander whose /help round trip proves every earlier update was handled
TICKET_NUMBER = re.compile(r"LL-(\d{8})-(\d{4})")
WAIT = 10.0  # seconds; generous for a loaded CI box, only ever reached when a test is failing

Predicate = Callable[[SentMessage], bool] | str | None

# Test modules import these helpers as `from linli_e2e import ...`: a conftest has no import name that
# works under every way of running pytest (`pytest`, `python -m pytest`, --import-mode=importlib).
sys.modules.setdefault("linli_e2e", sys.modules[__name__])


@pytest.fixture
async def emulator() -> AsyncIterator[BotApiEmulator]:
    """A started emulator on a free port with Telegram's default flood limits; stopped afterwards."""
    emu = BotApiEmulator(bot_username="linli_bot")
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


class Clock:
    """The bot's clock, set by the test: ``clock.set(2026, 3, 18, 11, 31)`` (Asia/Shanghai)."""

    def __init__(self, now: datetime) -> None:
        self.value = now

    def now(self) -> datetime:
        return self.value

    __call__ = now

    def set(self, year: int, month: int, day: int, hour: int = 10, minute: int = 0) -> datetime:
        self.value = datetime(year, month, day, hour, minute, tzinfo=SHANGHAI)
        return self.value

    def advance(self, **delta: float) -> datetime:
        self.value += timedelta(**delta)
        return self.value


@pytest.fixture
def clock() -> Clock:
    """Tuesday 17 March 2026, 10:00 in Shanghai, until a test moves it."""
    return Clock(datetime(2026, 3, 17, 10, 0, tzinfo=SHANGHAI))


def bot_settings(emulator: BotApiEmulator, db_file: Path, **overrides: Any):
    """Settings for a bot against `emulator`, ignoring any .env and LINLI-related environment."""
    values: dict[str, Any] = {
        "_env_file": None,
        "bot_token": TOKEN,
        "bot_api_url": emulator.base_url,
        "bot_file_url": emulator.base_file_url,
        "database_url": f"sqlite+aiosqlite:///{db_file}",
        "staff_chat_id": STAFF_CHAT_ID,
        "community_file": None,
        "taxonomy_file": None,
        "intents_floor": None,
        "intents_margin": None,
        "callback_secret": None,
        "flood_messages": 0,  # flood control off, as the emulator's limits are: tests/e2e/test_flood.py turns it on
        "flood_drafts": 0,
    }
    values.update(overrides)
    return load_settings(**values)


@dataclass
class Bot:
    """The running bot plus what tests need around it: emulator, clock, database, staff chat."""

    app: Application
    emulator: BotApiEmulator
    clock: Clock
    staff_chat_id: int = STAFF_CHAT_ID
    _people: dict[int, Person] = field(default_factory=dict)

    @property
    def deps(self) -> Deps:
        return self.app.bot_data[KEY]

    @property
    def db(self) -> Database:
        return self.deps.db

    def person(self, user_id: int, first_name: str | None = None) -> Person:
        if user_id not in self._people:
            self.emulator.user(user_id, first_name)
            self._people[user_id] = Person(self, user_id)
        return self._people[user_id]

    async def barrier(self) -> None:
        """Return once every update injected so far has been handled, case cards included.

        The bot handles chats concurrently (one chat in order), so a bystander's round trip alone
        proves nothing: after it, wait until no handler is running and no card is still being posted.
        """
        probe = self.person(PROBE_USER, "探针")
        await probe.say("/help")
        await self.emulator.wait_for_updates_consumed()
        processor = self.app.update_processor
        async with asyncio.timeout(WAIT):  # every update stored in the inbox handled (the bot polls through it)
            while True:
                async with self.db.session() as s:
                    if not (await inbox.lag(s, datetime.now(UTC))).pending:
                        break
                await asyncio.sleep(0.02)
        if isinstance(processor, PerChatUpdateProcessor):
            async with asyncio.timeout(WAIT):
                await processor.wait_idle()
        # what the handlers owed (cards, numbers, relays) is sent by the sender: wait until the outbox is empty
        async with asyncio.timeout(WAIT):
            while True:
                async with self.db.session() as s:
                    if not await outbox.pending(s):
                        break
                await asyncio.sleep(0.02)

    async def staff_message(self, predicate: Predicate = None, *, after: int) -> SentMessage:
        return await self.emulator.wait_for(self.staff_chat_id, predicate, after=after, timeout=WAIT)

    def staff_messages(self, after: int = 0) -> list[SentMessage]:
        return self.emulator.messages_after(self.staff_chat_id, after)

    # -- database ------

    async def grant(self, user_id: int, role: str, scope: str = "") -> None:
        """Give a user a role, as an admin's /grant would (staff must hold one to work the desk)."""
        from services.people import roles
        from storage.models import RoleName

        async with self.db.transaction() as s:
            await roles.grant(s, tg_user_id=user_id, role=RoleName(role), scope=scope, granted_by=None,
                              now=self.clock.now())

    async def resident(self, user_id: int) -> Resident | None:
        async with self.db.session() as s:
            return (await s.exec(select(Resident).where(Resident.tg_user_id == user_id))).first()

    async def tickets(self, user_id: int | None = None) -> list[Ticket]:
        async with self.db.session() as s:
            stmt = select(Ticket).order_by(Ticket.id)
            if user_id is not None:
                stmt = stmt.join(Resident, Resident.id == Ticket.resident_id).where(Resident.tg_user_id == user_id)
            return list((await s.exec(stmt)).all())

    async def draft(self, user_id: int) -> Draft | None:
        resident = await self.resident(user_id)
        if resident is None:
            return None
        async with self.db.session() as s:
            return await s.get(Draft, resident.id)

    async def count(self, model: type) -> int:
        async with self.db.session() as s:
            return int((await s.exec(select(func.count()).select_from(model))).one())

    async def balance(self, user_id: int) -> int:
        resident = await self.resident(user_id)
        assert resident is not None
        async with self.db.session() as s:
            stmt = select(func.coalesce(func.sum(PointsEntry.delta), 0)).where(PointsEntry.resident_id == resident.id)
            return int((await s.exec(stmt)).one())

    async def counts(self) -> dict[str, int]:
        """Rows per table a resident's actions can write: compared before/after bad input."""
        from storage.models import DailyCounter, TicketEvent

        return {m.__tablename__: await self.count(m) for m in (Ticket, TicketEvent, Draft, PointsEntry, DailyCounter)}


class Person:
    """One Telegram user talking to the bot in their private chat."""

    def __init__(self, bot: Bot, user_id: int) -> None:
        self.bot = bot
        self.emu = bot.emulator
        self.id = user_id

    async def send(self, text: str) -> int:
        """Type `text`; returns the cursor taken just before, for waiting on what follows."""
        cursor = self.emu.cursor()
        await self.emu.send_text(self.id, text)
        return cursor

    async def say(self, text: str, predicate: Predicate = None) -> SentMessage:
        """Type `text` and return the bot's first reply (matching `predicate`, if given)."""
        cursor = await self.send(text)
        return await self.reply(predicate, after=cursor)

    async def reply(self, predicate: Predicate = None, *, after: int | SentMessage) -> SentMessage:
        """The first message to this chat after `after` that matches `predicate`."""
        return await self.emu.wait_for(self.id, predicate, after=after, timeout=WAIT)

    def replies(self, after: int) -> list[SentMessage]:
        return self.emu.messages_after(self.id, after)

    async def press(self, message: SentMessage, label: str, *, forge_data: str | None = None) -> Pressed:
        """Press the button whose text is `label` (or starts with it); returns the press for waiting."""
        current = self.emu.message(self.id, message.message_id) or message
        if forge_data is not None:
            data = forge_data
        else:
            button = next((b for b in current.buttons if b.text == label), None) or next(
                (b for b in current.buttons if b.text.startswith(label)), None
            )
            assert button is not None, f"no button {label!r} on message: {[b.text for b in current.buttons]}"
            data = button.callback_data
        cursor = self.emu.cursor()
        query_id = await self.emu.press(self.id, message.message_id, data, forge=forge_data is not None)
        return Pressed(self, query_id, cursor, message.message_id)

    async def click(self, message: SentMessage, label: str, predicate: Predicate = None) -> SentMessage:
        """Press a button and return the next message the bot sends to this chat."""
        pressed = await self.press(message, label)
        return await pressed.reply(predicate)

    async def confirm(self, draft: SentMessage, predicate: Predicate = "LL-") -> SentMessage:
        """Press 确认提交 on a draft and return the receipt: the draft itself, edited into the case's number (one
        message for the press, sent through the outbox)."""
        pressed = await self.press(draft, texts.BTN_CONFIRM)
        return await pressed.edit(predicate)


@dataclass
class Pressed:
    person: Person
    query_id: str
    cursor: int
    message_id: int

    async def answer(self) -> CallbackAnswer:
        return await self.person.emu.wait_for_answer(self.query_id, timeout=WAIT)

    async def reply(self, predicate: Predicate = None) -> SentMessage:
        return await self.person.reply(predicate, after=self.cursor)

    async def edit(self, predicate: Predicate = None) -> SentMessage:
        return await self.person.emu.wait_for_edit(
            self.person.id, self.message_id, predicate, after=self.cursor, timeout=WAIT
        )


@asynccontextmanager
async def running_bot(
    emulator: BotApiEmulator, db_file: Path, clock: Clock, *, concurrent_updates: int | None = None,
    paced: bool = False, **settings: Any,
) -> AsyncIterator[Bot]:
    """The real linli application polling `emulator` until the block ends.

    `concurrent_updates` swaps PTB's update processor before start (the shipped bot handles updates
    one at a time); only the concurrency tests use it. `settings` override ``bot_settings``' values.
    """
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    # pacing off as the emulator's limits are: behaviour is tested here (``paced``: the bot keeps Telegram's limits)
    app = build_application(bot_settings(emulator, db_file, **settings), clock=clock, rate_limited=paced)
    if concurrent_updates is not None:
        app._update_processor = SimpleUpdateProcessor(concurrent_updates)
    since = emulator.polls
    await start_polling(app)
    try:
        await emulator.wait_for_poll(since=since, timeout=WAIT)
        yield Bot(app, emulator, clock)
    finally:
        await stop_polling(app)


@pytest.fixture
async def bot(emulator: BotApiEmulator, tmp_path: Path, clock: Clock) -> AsyncIterator[Bot]:
    """The real linli bot polling the emulator (flood limits off: behaviour, not throttling, is tested)."""
    async with running_bot(emulator, tmp_path / "linli.db", clock) as running:
        yield running


def ticket_number(text: str) -> str:
    match = TICKET_NUMBER.search(text)
    assert match, f"no ticket number in {text!r}"
    return match.group(0)


# -- the bot as a separate process (restart and crash tests) ------

START_TIMEOUT = 30.0  # a cold child imports jieba and migrates before its first poll

Spawn = Callable[[str], Awaitable[asyncio.subprocess.Process]]


def child_env(emulator: BotApiEmulator, db_file: Path, **extra: str) -> dict[str, str]:
    """The parent's environment minus every linli setting, plus the ones this bot must use."""
    settings = {name.upper() for name in Settings.model_fields}
    env = {k: v for k, v in os.environ.items() if k.upper() not in settings}
    env.update(
        BOT_TOKEN=TOKEN,
        BOT_API_URL=emulator.base_url,
        BOT_FILE_URL=emulator.base_file_url,
        DATABASE_URL=f"sqlite+aiosqlite:///{db_file}",
        STAFF_CHAT_ID=str(STAFF_CHAT_ID),
        LOG_LEVEL="WARNING",
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


@asynccontextmanager
async def bot_processes(emulator: BotApiEmulator, workdir: Path, argv: list[str],
                        **extra_env: str) -> AsyncIterator[Spawn]:
    """Start bot children (`python <argv>` in `workdir`, database `workdir/linli.db`), each returned once
    it long-polls the emulator; every one is killed on exit, whatever the test did."""
    children: list[asyncio.subprocess.Process] = []

    async def start(name: str) -> asyncio.subprocess.Process:
        log = workdir / f"{name}.log"
        since = emulator.polls
        with log.open("wb") as out:
            child = await asyncio.create_subprocess_exec(
                sys.executable, *argv, cwd=workdir, env=child_env(emulator, workdir / "linli.db", **extra_env),
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
            )
        children.append(child)
        try:
            await emulator.wait_for_poll(since=since, timeout=START_TIMEOUT)
        except TimeoutError:
            raise AssertionError(f"{name} never polled; its log:\n{log.read_text(errors='replace')}") from None
        return child

    try:
        yield start
    finally:
        for child in children:
            if child.returncode is None:
                child.kill()
            await child.wait()


# -- the staff desk: unit and escalation chats, staff with roles ------

UNIT_CHATS = {"wuye": -100601, "juweihui": -100602}
LEVEL_CHATS = {"grid": -100701, "community": -100702, "street": -100703}
JUWEIHUI = UNIT_CHATS["juweihui"]  # takes noise complaints
OTHER_GROUP = -100999  # a group the bot is in that is no desk
NOISE = "楼上天天装修，吵死了，9号楼"
CARD_BUTTONS = [texts.BTN_SIGN, texts.BTN_REASSIGN, texts.BTN_NEED_INFO, texts.BTN_RESOLVE, texts.BTN_ESCALATE]
SIGNED_BUTTONS = CARD_BUTTONS[1:]
ZHANG, LI = 3001, 3002  # staff of the residents' committee
WANG = 3003  # staff of the property company (物业)


def community_with_chats(tmp_path: Path) -> Path:
    """The sample community file with group chat ids for two units and every escalation level."""
    text = SAMPLE_COMMUNITY_FILE.read_text(encoding="utf-8")
    for code, chat in UNIT_CHATS.items():
        text, n = re.subn(rf'(code = "{code}"\nname = "[^"\n]*"\n)', rf"\g<1>chat_id = {chat}\n", text)
        assert n == 1, code
    for level, chat in LEVEL_CHATS.items():
        text, n = re.subn(rf'(\[escalation\.{level}\]\nname = "[^"\n]*"\n)', rf"\g<1>chat_id = {chat}\n", text)
        assert n == 1, level
    path = tmp_path / "community.toml"
    path.write_text(text, encoding="utf-8")
    return path




def community_with(tmp_path: Path, *, workers: dict[str, int] | None = None, duty: int | None = None,
                   unit_chats: dict[str, int] | None = None) -> Path:
    """The desk community file, plus grid workers' Telegram ids, a duty group, and chats for more units."""
    path = community_with_chats(tmp_path)
    text = path.read_text(encoding="utf-8")
    if duty is not None:
        text = text.replace("# duty_chat_id = -1001234567890", f"duty_chat_id = {duty}")
    for code, chat in (unit_chats or {}).items():
        text, n = re.subn(rf'(code = "{code}"\nname = "[^"\n]*"\n)', rf"\g<1>chat_id = {chat}\n", text)
        assert n == 1, code
    for grid, user in (workers or {}).items():
        text, n = re.subn(rf'(code = "{grid}"\nname = "[^"\n]*"\n)', rf"\g<1>worker_tg_id = {user}\n", text)
        assert n == 1, grid
    path.write_text(text, encoding="utf-8")
    return path


@asynccontextmanager
async def running_desk(emulator: BotApiEmulator, tmp_path: Path, clock: Clock, *, community_file: Path | None = None,
                       concurrent_updates: int | None = None) -> AsyncIterator[Bot]:
    """The real bot with unit and escalation chats configured; the bot is admin in every group."""
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群", bot_is_admin=True)
    for chat in (*UNIT_CHATS.values(), *LEVEL_CHATS.values(), OTHER_GROUP):
        emulator.group(chat, f"群{chat}", bot_is_admin=True)
    emulator.user(ZHANG, "张主任")
    emulator.user(LI, "李干事")
    emulator.user(WANG, "王经理")
    settings = bot_settings(emulator, tmp_path / "linli.db",
                            community_file=community_file or community_with_chats(tmp_path))
    app = build_application(settings, clock=clock, rate_limited=False)  # the emulator's limits are off too
    if concurrent_updates:
        app._update_processor = SimpleUpdateProcessor(concurrent_updates)
    since = emulator.polls
    await start_polling(app)
    for job in app.job_queue.get_jobs_by_name(jobs.DESK_JOB):
        job.schedule_removal()  # ticks are run by the tests, at the clock they set
    try:
        await emulator.wait_for_poll(since=since, timeout=WAIT)
        bot = Bot(app, emulator, clock)
        for user, unit in ((ZHANG, "juweihui"), (LI, "juweihui"), (WANG, "wuye")):
            await bot.grant(user, "staff", unit)
        yield bot
    finally:
        await stop_polling(app)


@pytest.fixture
async def desk(emulator: BotApiEmulator, tmp_path: Path, clock: Clock,
               request: pytest.FixtureRequest) -> AsyncIterator[Bot]:
    """The real bot with unit and escalation chats configured; the bot is admin in every group.

    Parametrised indirectly with a number, it handles that many updates at once (as the concurrency
    tests do); by default one at a time, like the shipped bot."""
    async with running_desk(emulator, tmp_path, clock,
                            concurrent_updates=getattr(request, "param", None)) as running:
        yield running


# -- helpers ------


def record_webhook_posts(emulator: BotApiEmulator) -> list[dict[str, Any]]:
    """Every update the emulator POSTs to the webhook from now on, in order (to deliver the same ones again)."""
    seen: list[dict[str, Any]] = []
    real_post = emulator._post_update

    async def recording(session, url, headers, update):  # type: ignore[no-untyped-def]
        seen.append(update)
        return await real_post(session, url, headers, update)

    emulator._post_update = recording  # type: ignore[method-assign]
    return seen


async def registered(bot: Bot, user_id: int, name: str = "王阿姨") -> Person:
    person = bot.person(user_id, name)
    grid = bot.deps.community.grid("A03")
    await person.say("/start g-A03", texts.bound_grid(grid.name, grid.worker_name))
    return person


async def open_case(bot: Bot, person: Person, text: str = NOISE,
                    unit_chat: int = JUWEIHUI) -> tuple[str, SentMessage, SentMessage]:
    """Complaint → 确认提交 → (number, the resident's receipt, the card in the unit's chat)."""
    confirmation = await person.say(text, lambda m: any(b.text == texts.BTN_CONFIRM for b in m.buttons))
    cursor = bot.emulator.cursor()
    receipt = await person.confirm(confirmation)
    number = ticket_number(receipt.body)
    card = await bot.emulator.wait_for(unit_chat, number, after=cursor, timeout=WAIT)
    await bot.barrier()  # the card's TicketPost row is written after the send
    return number, receipt, card


def data_of(message: SentMessage, label: str) -> str:
    """Callback data of a button the message has now (the emulator keeps messages current through edits)."""
    return next(b.callback_data for b in message.buttons if b.text == label)


def first_data(message: SentMessage, label: str) -> str:
    """Callback data of a button as the message was first sent (a card someone kept looking at)."""
    rows = (message.history[0].reply_markup or {}).get("inline_keyboard") or []
    return next(b["callback_data"] for row in rows for b in row if b["text"] == label)


async def press(bot: Bot, user_id: int, chat_id: int, message: SentMessage, label: str) -> CallbackAnswer:
    current = bot.emulator.message(chat_id, message.message_id) or message
    query = await bot.emulator.press(user_id, message.message_id, data_of(current, label), chat_id=chat_id)
    answer = await bot.emulator.wait_for_answer(query, timeout=WAIT)
    await bot.barrier()  # the cards are redrawn after the answer
    return answer


async def say_in(bot: Bot, user_id: int, chat_id: int, text: str, *, reply_to: SentMessage | None = None,
                 expect: str | None = None) -> SentMessage:
    """A staff member writes in a group (optionally as a reply); returns the bot's answer there."""
    cursor = bot.emulator.cursor()
    await bot.emulator.send_text(user_id, text, chat_id, reply_to=reply_to.message_id if reply_to else None)
    return await bot.emulator.wait_for(chat_id, expect, after=cursor, timeout=WAIT)


async def ticket(bot: Bot, number: str) -> Ticket:
    async with bot.db.session() as s:
        return (await s.exec(select(Ticket).where(Ticket.number == number))).one()


async def events(bot: Bot, number: str, kind: TicketEventKind | None = None) -> list[TicketEvent]:
    t = await ticket(bot, number)
    async with bot.db.session() as s:
        stmt = select(TicketEvent).where(TicketEvent.ticket_id == t.id).order_by(col(TicketEvent.id))
        rows = list((await s.exec(stmt)).all())
    return [e for e in rows if kind is None or e.kind == kind]


def button_labels(bot: Bot, chat_id: int, message: SentMessage) -> list[str]:
    return [b.text for b in (bot.emulator.message(chat_id, message.message_id) or message).buttons]


def desk_messages(bot: Bot, after: int) -> list[SentMessage]:
    chats = (STAFF_CHAT_ID, *UNIT_CHATS.values(), *LEVEL_CHATS.values())
    return [m for c in chats for m in bot.emulator.messages_after(c, after)]
