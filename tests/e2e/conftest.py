"""Fixtures for driving the bot through the local Bot API emulator (bot.emulator).

`emulator` is a bare emulator. `bot` is the real linli application (``build_application``) long-polling
that emulator over HTTP, with a SQLite file under tmp_path, a staff group and a controllable clock.
`Person` drives one simulated Telegram user; every wait starts from an emulator cursor taken *before*
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
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func
from sqlmodel import select
from telegram.ext import Application, SimpleUpdateProcessor

from bot.app import build_application, start_polling, stop_polling
from bot.emulator import BotApiEmulator, CallbackAnswer, Limits, SentMessage
from bot.processor import PerChatUpdateProcessor
from bot.settings import Settings, load_settings
from handlers.deps import KEY, Deps
from services import SHANGHAI
from storage.db import Database
from storage.models import Draft, PointsEntry, Resident, Ticket

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
        """Return once every update injected so far has been handled.

        The bot handles chats concurrently (one chat in order), so a bystander's round trip alone
        proves nothing: after it, wait until no handler is running.
        """
        probe = self.person(PROBE_USER, "探针")
        await probe.say("/help")
        await self.emulator.wait_for_updates_consumed()
        processor = self.app.update_processor
        if isinstance(processor, PerChatUpdateProcessor):
            async with asyncio.timeout(WAIT):
                await processor.wait_idle()

    async def staff_message(self, predicate: Predicate = None, *, after: int) -> SentMessage:
        return await self.emulator.wait_for(self.staff_chat_id, predicate, after=after, timeout=WAIT)

    def staff_messages(self, after: int = 0) -> list[SentMessage]:
        return self.emulator.messages_after(self.staff_chat_id, after)

    # -- database ------

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
    emulator: BotApiEmulator, db_file: Path, clock: Clock, *, concurrent_updates: int | None = None
) -> AsyncIterator[Bot]:
    """The real linli application polling `emulator` until the block ends.

    `concurrent_updates` swaps PTB's update processor before start (the shipped bot handles updates
    one at a time); only the concurrency tests use it.
    """
    emulator.set_limits(Limits.off())
    emulator.group(STAFF_CHAT_ID, "金桂社区工作人员群")
    app = build_application(bot_settings(emulator, db_file), clock=clock)
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
